# Package atoms and dependency strings as PMS (EAPI 8) defines them, far enough for the eclass
# tests: version comparison (PMS 3.3), atom matching with the version operators, slots, subslots
# and the := operator (PMS 8.3), and the evaluation of a dependency string with USE conditionals,
# all-of and any-of groups (PMS 8.2) against the packages installed in a root's package database
# (ROOT/var/db/pkg/CATEGORY/PF with SLOT, USE, RDEPEND, PDEPEND files, as Portage keeps them).
# Sourced by pms.sh (has_version, best_version) and harness.sh (what a merge records, what
# emerge would find unsatisfied or in need of a rebuild). Not a resolver: no blockers' effects,
# no USE dependencies ([flag] is ignored), no profiles.
# shellcheck shell=bash

# pmsdep_split VERSION: sets _pmsdep_parts to the comparable parts of VERSION: the numbers, the
# letter, the suffixes as rank:number (alpha 1, beta 2, pre 3, rc 4, none 5, p 6), the revision.
pmsdep_split() {
	local v=$1 rev=0
	[[ ${v} =~ ^(.*)-r([0-9]+)$ ]] && { v=${BASH_REMATCH[1]}; rev=${BASH_REMATCH[2]}; }
	[[ ${v} =~ ^([0-9]+(\.[0-9]+)*)([a-z]?)((_(alpha|beta|pre|rc|p)[0-9]*)*)$ ]] || return 1
	local nums=${BASH_REMATCH[1]} letter=${BASH_REMATCH[3]} suffixes=${BASH_REMATCH[4]} s rank
	IFS=. read -r -a _pmsdep_nums <<< "${nums}"
	_pmsdep_letter=${letter}
	_pmsdep_suffixes=()
	for s in ${suffixes//_/ }; do
		case ${s} in
			alpha*) rank=1 s=${s#alpha} ;; beta*) rank=2 s=${s#beta} ;; pre*) rank=3 s=${s#pre} ;;
			rc*) rank=4 s=${s#rc} ;; p*) rank=6 s=${s#p} ;;
		esac
		_pmsdep_suffixes+=( "${rank}:${s:-0}" )
	done
	_pmsdep_rev=${rev}
}

# pmsdep_vercmp A B: prints -1, 0 or 1. Numeric components compare as integers (PMS compares
# components with leading zeros as strings; no ebuild here has one).
pmsdep_vercmp() {
	local an as al ar bn bs bl br i x y
	pmsdep_split "$1" || return 1
	an=( "${_pmsdep_nums[@]}" ) al=${_pmsdep_letter} as=( "${_pmsdep_suffixes[@]}" ) ar=${_pmsdep_rev}
	pmsdep_split "$2" || return 1
	bn=( "${_pmsdep_nums[@]}" ) bl=${_pmsdep_letter} bs=( "${_pmsdep_suffixes[@]}" ) br=${_pmsdep_rev}
	for (( i = 0; i < ${#an[@]} || i < ${#bn[@]}; i++ )); do
		[[ -z ${an[i]} ]] && { echo -1; return; }
		[[ -z ${bn[i]} ]] && { echo 1; return; }
		(( 10#${an[i]} < 10#${bn[i]} )) && { echo -1; return; }
		(( 10#${an[i]} > 10#${bn[i]} )) && { echo 1; return; }
	done
	[[ ${al} < "${bl}" ]] && { echo -1; return; }
	[[ ${al} > "${bl}" ]] && { echo 1; return; }
	for (( i = 0; i < ${#as[@]} || i < ${#bs[@]}; i++ )); do
		x=${as[i]:-5:0} y=${bs[i]:-5:0}
		(( ${x%:*} < ${y%:*} )) && { echo -1; return; }
		(( ${x%:*} > ${y%:*} )) && { echo 1; return; }
		(( ${x#*:} < ${y#*:} )) && { echo -1; return; }
		(( ${x#*:} > ${y#*:} )) && { echo 1; return; }
	done
	(( ar < br )) && { echo -1; return; }
	(( ar > br )) && { echo 1; return; }
	echo 0
}

# pmsdep_parse ATOM: sets _pmsdep_op, _pmsdep_cp, _pmsdep_ver, _pmsdep_slot, _pmsdep_sub,
# _pmsdep_slotop ("=" for := or :SLOT/SUB=).
pmsdep_parse() {
	local a=${1%%[[]*}
	_pmsdep_slot='' _pmsdep_sub='' _pmsdep_slotop='' _pmsdep_ver='' _pmsdep_op=''
	if [[ ${a} == *:* ]]; then
		local s=${a#*:}
		a=${a%%:*}
		[[ ${s} == *= ]] && { _pmsdep_slotop="="; s=${s%=}; }
		_pmsdep_slot=${s%%/*}
		[[ ${s} == */* ]] && _pmsdep_sub=${s#*/}
	fi
	[[ ${a} =~ ^(~|=|>=|<=|>|<)?(.*)$ ]]
	_pmsdep_op=${BASH_REMATCH[1]} a=${BASH_REMATCH[2]}
	if [[ -n ${_pmsdep_op} ]]; then
		[[ ${a} =~ ^(.+)-([0-9][^-]*(-r[0-9]+)?\*?)$ ]] || return 1
		_pmsdep_cp=${BASH_REMATCH[1]} _pmsdep_ver=${BASH_REMATCH[2]}
	else
		_pmsdep_cp=${a}
	fi
}

# pmsdep_match ATOM CP PVR SLOT: whether the package CP-PVR in SLOT ("0" or "0/sub") matches.
pmsdep_match() {
	pmsdep_parse "$1" || return 1
	[[ ${_pmsdep_cp} == "$2" ]] || return 1
	local slot=${4%%/*} sub=${4#*/}
	[[ $4 == */* ]] || sub=${slot}
	[[ -z ${_pmsdep_slot} || ${_pmsdep_slot} == "${slot}" ]] || return 1
	[[ -z ${_pmsdep_sub} || ${_pmsdep_sub} == "${sub}" ]] || return 1
	[[ -z ${_pmsdep_op} ]] && return 0
	local want=${_pmsdep_ver} c
	case ${_pmsdep_op} in
		'~') [[ ${3%-r[0-9]*} == "${want}" ]]; return ;;
		=) if [[ ${want} == *\* ]]; then [[ $3 == "${want%\*}"* ]]; return; fi ;;
	esac
	c=$(pmsdep_vercmp "$3" "${want}") || return 1
	case ${_pmsdep_op} in
		=) [[ ${c} == 0 ]] ;; '>=') [[ ${c} != -1 ]] ;; '<=') [[ ${c} != 1 ]] ;;
		'>') [[ ${c} == 1 ]] ;; '<') [[ ${c} == -1 ]] ;;
	esac
}

# pmsdep_installed ROOT: one line per installed package: CP PVR SLOT (from ROOT's package
# database).
pmsdep_installed() {
	local dir cat pf
	for dir in "${1%/}"/var/db/pkg/*/*; do
		[[ -f ${dir}/SLOT ]] || continue
		cat=${dir%/*} cat=${cat##*/} pf=${dir##*/}
		[[ ${pf} =~ ^(.+)-([0-9][^-]*(-r[0-9]+)?)$ ]] || continue
		echo "${cat}/${BASH_REMATCH[1]} ${BASH_REMATCH[2]} $(< "${dir}/SLOT")"
	done
}

# pmsdep_best ROOT ATOM: prints "CP PVR SLOT" of the highest installed match; 1 when none.
pmsdep_best() {
	local cp pvr slot best='' bestv=''
	while read -r cp pvr slot; do
		pmsdep_match "$2" "${cp}" "${pvr}" "${slot}" || continue
		if [[ -z ${best} || $(pmsdep_vercmp "${pvr}" "${bestv}") == 1 ]]; then
			best="${cp} ${pvr} ${slot}" bestv=${pvr}
		fi
	done < <(pmsdep_installed "$1")
	[[ -n ${best} ]] && echo "${best}"
}

# pmsdep_unsatisfied ROOT USE DEPSTRING: prints each atom of DEPSTRING (USE conditionals
# evaluated with the words of USE) that nothing installed in ROOT satisfies, an any-of group as
# "|| ( ... )"; returns 1 when there is one. A := atom recorded with its slot and subslot
# (:0/6.1=) whose subslot is no longer installed prints "REBUILD atom" and counts as satisfied:
# emerge rebuilds the package then. Packages named in PMSDEP_ASSUME_INSTALLED (CAT/PN words:
# ::gentoo's, which the tests do not record) count as installed in any version.
pmsdep_unsatisfied() {
	_pmsdep_root=$1 _pmsdep_use=" $2 " _pmsdep_pos=0
	read -r -a _pmsdep_t <<< "$3"
	local status=0
	_pmsdep_group all || status=$?
	[[ -n ${_pmsdep_r} ]] && printf '%s\n' "${_pmsdep_r%$'\n'}"
	return "${status}"
}

# _pmsdep_group all|any|skip: evaluates _pmsdep_t from _pmsdep_pos to the closing ")" (or the
# end); leaves the lines to print in _pmsdep_r; returns 1 when the group is unsatisfied.
_pmsdep_group() {
	local kind=$1 tok flag status ok_any=0 bad=0 out="" rebuild=""
	while (( _pmsdep_pos < ${#_pmsdep_t[@]} )); do
		tok=${_pmsdep_t[_pmsdep_pos]}
		_pmsdep_pos=$((_pmsdep_pos + 1))
		status=0
		case ${tok} in
			')') break ;;
			'||') _pmsdep_pos=$((_pmsdep_pos + 1)); _pmsdep_group any || status=1 ;;
			'(') _pmsdep_group all || status=1 ;;
			*\?)
				flag=${tok%\?}
				_pmsdep_pos=$((_pmsdep_pos + 1))
				if [[ ${flag} == !* && ${_pmsdep_use} != *" ${flag#!} "* ]] ||
					[[ ${flag} != !* && ${_pmsdep_use} == *" ${flag} "* ]]; then
					_pmsdep_group all || status=1
				else
					_pmsdep_group skip
				fi ;;
			!*) _pmsdep_r="" ;; # blockers are not modelled
			*) _pmsdep_atom "${tok}" || status=1 ;;
		esac
		[[ ${kind} == skip ]] && continue
		if (( status == 0 )); then
			ok_any=1
			rebuild+=${_pmsdep_r}
		else
			bad=1
			out+=${_pmsdep_r}
		fi
	done
	_pmsdep_r=""
	[[ ${kind} == skip ]] && return 0
	if [[ ${kind} == any ]]; then
		if (( ok_any )); then _pmsdep_r=${rebuild}; return 0; fi
		out=${out%$'\n'}
		_pmsdep_r="|| ( ${out//$'\n'/ } )"$'\n'
		return 1
	fi
	_pmsdep_r=${rebuild}${out}
	return "${bad}"
}

# _pmsdep_atom ATOM: one atom against _pmsdep_root; the line to print in _pmsdep_r.
_pmsdep_atom() {
	local atom=$1
	_pmsdep_r=""
	pmsdep_parse "${atom}" || { _pmsdep_r="${atom} (not an atom)"$'\n'; return 1; }
	[[ " ${PMSDEP_ASSUME_INSTALLED-} " == *" ${_pmsdep_cp} "* ]] && return 0
	if [[ ${_pmsdep_slotop} == = && -n ${_pmsdep_sub} ]]; then
		local plain=${atom%%:*}
		pmsdep_best "${_pmsdep_root}" "${plain}:${_pmsdep_slot}/${_pmsdep_sub}" >/dev/null && return 0
		if pmsdep_best "${_pmsdep_root}" "${plain}:${_pmsdep_slot}" >/dev/null; then
			_pmsdep_r="REBUILD ${atom}"$'\n'
			return 0
		fi
		_pmsdep_r="${atom}"$'\n'
		return 1
	fi
	pmsdep_best "${_pmsdep_root}" "${atom%:=}" >/dev/null && return 0
	_pmsdep_r="${atom}"$'\n'
	return 1
}

# pmsdep_record_slotops ROOT DEPSTRING: DEPSTRING with each := atom written as
# :SLOT/SUBSLOT= of the best installed match in ROOT, as Portage records it at merge time.
pmsdep_record_slotops() {
	local root=$1 tok out=() best slot
	for tok in $2; do
		if [[ ${tok} == *:= ]] && best=$(pmsdep_best "${root}" "${tok%:=}"); then
			slot=${best##* }
			[[ ${slot} == */* ]] || slot+="/${slot}"
			tok="${tok%:=}:${slot}="
		fi
		out+=( "${tok}" )
	done
	echo "${out[*]}"
}
