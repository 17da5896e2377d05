# The package manager side of one ebuild phase, as PMS (EAPI 8) defines it: sourced by the
# phase process that tests/eclass/harness.sh starts for every phase. It provides the helpers an
# ebuild or eclass may call and nothing else: any other command that is not on PATH is an error
# (command_not_found_handle dies), so an eclass that relies on an undefined helper fails here.
# Not a Portage: no dependency resolution, no sandbox, no QA checks beyond what is said below.
# shellcheck shell=bash disable=SC2034,SC2153

# --- output (PMS 12.3.10) ----------------------------------------------------------------------
_pms_msg() { local tag=$1; shift; printf ' %s %s\n' "${tag}" "$*" >&2; }
einfo() { _pms_msg '*' "$@"; }
einfon() { printf ' * %s' "$*" >&2; }
elog() { _pms_msg '*' "$@"; printf 'LOG %s\n' "$*" >> "${T}/pms-messages"; }
ewarn() { _pms_msg '* WARNING:' "$@"; printf 'WARN %s\n' "$*" >> "${T}/pms-messages"; }
eerror() { _pms_msg '* ERROR:' "$@"; printf 'ERROR %s\n' "$*" >> "${T}/pms-messages"; }
ebegin() { _pms_msg '*' "$* ..."; }
eend() {
	local status=${1:-0}
	shift
	[[ ${status} -eq 0 ]] || eerror "$@"
	return "${status}"
}

# --- failure (PMS 12.3.8) ----------------------------------------------------------------------
# die aborts the whole phase, also from a subshell or a command substitution: there it signals
# the phase's main process, as Portage does.
die() {
	if [[ ${1} == -n ]]; then
		shift
		if [[ -n ${PMS_NONFATAL} ]]; then
			[[ $# -gt 0 ]] && eerror "$*"
			return 1
		fi
	fi
	{
		echo "ERROR: ${CATEGORY}/${PF}::pms-harness failed (${EBUILD_PHASE} phase):"
		echo "  ${*:-(no error message)}"
		local i
		echo "Call stack:"
		for (( i = 1; i < ${#FUNCNAME[@]}; i++ )); do
			echo "  ${BASH_SOURCE[i]##*/}, line ${BASH_LINENO[i-1]}: called ${FUNCNAME[i]}"
		done
	} >&2
	printf 'DIE %s\n' "$*" >> "${T}/pms-messages"
	if [[ ${BASHPID} != "${PMS_MAIN_PID}" ]]; then
		kill -s TERM "${PMS_MAIN_PID}"
	fi
	exit 1
}
nonfatal() { PMS_NONFATAL=1 "$@"; }
command_not_found_handle() {
	die "command not found: '$1' (not a PMS/EAPI ${EAPI} helper and not on PATH)"
}

# --- USE (PMS 12.3.13) -------------------------------------------------------------------------
_pms_in_iuse_effective() {
	local flag
	for flag in ${IUSE_EFFECTIVE}; do
		[[ ${flag#[+-]} == "$1" ]] && return 0
	done
	return 1
}
use() {
	local flag=$1 invert=
	[[ ${flag} == !* ]] && { invert=1; flag=${flag#!}; }
	_pms_in_iuse_effective "${flag}" || die "use: flag '${flag}' is not in IUSE (${IUSE_EFFECTIVE})"
	local f found=
	for f in ${USE}; do [[ ${f} == "${flag}" ]] && found=1; done
	_pms_trace_use use "${flag}" "${found:-0}"
	if [[ -n ${invert} ]]; then [[ -z ${found} ]]; else [[ -n ${found} ]]; fi
}
usev() { use "$1" && echo "${2:-${1#!}}"; }
usex() { if use "$1"; then echo "${2-yes}$4"; else echo "${3-no}$5"; fi; }
use_with() { if use "$1"; then echo "--with-${2:-$1}${3+=$3}"; else echo "--without-${2:-$1}"; fi; }
use_enable() { if use "$1"; then echo "--enable-${2:-$1}${3+=$3}"; else echo "--disable-${2:-$1}"; fi; }
in_iuse() {
	local f
	for f in ${IUSE}; do
		[[ ${f#[+-]} == "$1" ]] || continue
		_pms_trace_use in_iuse "$1" 1
		return 0
	done
	_pms_trace_use in_iuse "$1" 0
	return 1
}
# With PMS_USE_TRACE (a file), every question a phase asks about USE, as "use FLAG 1|0" or
# "in_iuse FLAG 1|0" lines (usev, usex, use_with and use_enable ask through use).
_pms_trace_use() {
	[[ -z ${PMS_USE_TRACE} ]] || echo "$*" >> "${PMS_USE_TRACE}" || die "cannot write ${PMS_USE_TRACE}"
}
has() {
	local needle=$1 x
	shift
	for x; do [[ ${x} == "${needle}" ]] && return 0; done
	return 1
}

# --- the package database (PMS 12.3.3) ---------------------------------------------------------
# has_version and best_version query ROOT's package database (-r, the default), SYSROOT's (-d) or
# BROOT's (-b); tests/eclass/pmsdep.sh matches the atom.
source "${PMS_HELPERS%/*}/pmsdep.sh"
_pms_db_root() {
	case $1 in
		-b) echo "${BROOT:-/}" ;; -d) echo "${ESYSROOT:-/}" ;; *) echo "${EROOT:-/}" ;;
	esac
}
has_version() {
	local root
	root=$(_pms_db_root "$1")
	[[ $1 == -[bdr] ]] && shift
	pmsdep_best "${root}" "$1" >/dev/null
}
best_version() {
	local root best
	root=$(_pms_db_root "$1")
	[[ $1 == -[bdr] ]] && shift
	best=$(pmsdep_best "${root}" "$1") || return 1
	read -r -a best <<< "${best}"
	echo "${best[0]}-${best[1]}"
}

# --- eclasses (PMS 10) -------------------------------------------------------------------------
inherit() {
	local name file dir var
	for name; do
		file=
		for dir in ${PMS_ECLASSDIRS}; do
			[[ -f ${dir}/${name}.eclass ]] && file=${dir}/${name}.eclass
		done
		[[ -n ${file} ]] || die "inherit: no ${name}.eclass in ${PMS_ECLASSDIRS}"
		[[ " ${INHERITED} " == *" ${name} "* ]] && continue
		local -A saved=()
		for var in IUSE REQUIRED_USE DEPEND BDEPEND RDEPEND PDEPEND IDEPEND PROPERTIES RESTRICT; do
			saved[${var}]=${!var}
			unset "${var}"
		done
		local prev_eclass=${ECLASS}
		ECLASS=${name}
		# shellcheck disable=SC1090
		source "${file}" || die "inherit: sourcing ${file} failed"
		ECLASS=${prev_eclass}
		# the eclass's values accumulate (PMS 10.2)
		for var in IUSE REQUIRED_USE DEPEND BDEPEND RDEPEND PDEPEND IDEPEND PROPERTIES RESTRICT; do
			# shellcheck disable=SC2004 # _PMS_E is associative (declared in phase.sh)
			_PMS_E[$var]+=" ${!var}"
			printf -v "${var}" '%s' "${saved[${var}]}"
		done
		INHERITED+=" ${name}"
	done
}
EXPORT_FUNCTIONS() {
	[[ -n ${ECLASS} ]] || die "EXPORT_FUNCTIONS outside an eclass"
	local phase
	for phase; do
		eval "${phase}() { ${ECLASS}_${phase} \"\$@\"; }"
	done
}

# --- phases' defaults (PMS 9.1) ----------------------------------------------------------------
default() {
	declare -F "default_${EBUILD_PHASE_FUNC}" >/dev/null || die "default: not valid in ${EBUILD_PHASE_FUNC}"
	"default_${EBUILD_PHASE_FUNC}"
}
default_pkg_nofetch() { :; }
# shellcheck disable=SC2086 # A and a string PATCHES are word lists
default_src_unpack() { [[ -n ${A} ]] && unpack ${A}; }
default_src_prepare() {
	if [[ $(declare -p PATCHES 2>/dev/null) == "declare -a"* ]]; then
		[[ ${#PATCHES[@]} -gt 0 ]] && eapply "${PATCHES[@]}"
	elif [[ -n ${PATCHES} ]]; then
		# shellcheck disable=SC2086
		eapply ${PATCHES}
	fi
	eapply_user
}
default_src_configure() {
	[[ -x ${ECONF_SOURCE:-.}/configure ]] && die "econf is not provided by this harness"
	return 0
}
default_src_compile() {
	if [[ -f Makefile || -f GNUmakefile || -f makefile ]]; then emake; fi
}
default_src_test() { :; }
default_src_install() {
	if [[ -f Makefile || -f GNUmakefile || -f makefile ]]; then emake DESTDIR="${D}" install; fi
}

# --- sources (PMS 12.3.15, 12.3.11) ------------------------------------------------------------
unpack() {
	local f src
	for f; do
		if [[ ${f} == ./* ]]; then src=${f}; else src=${DISTDIR}/${f}; fi
		[[ -f ${src} ]] || die "unpack: ${src} does not exist"
		case ${f} in
			*.tar|*.tar.gz|*.tgz|*.tar.xz|*.txz|*.tar.bz2|*.tbz2|*.tar.zst)
				tar -xf "${src}" || die "unpack: tar failed on ${src}" ;;
			*.xz) xz -dc "${src}" > "${f##*/}" || die ;;
			*.gz) gzip -dc "${src}" > "${f##*/}" || die ;;
			*) die "unpack: unknown format: ${f}" ;;
		esac
	done
}
eapply() {
	local opts=() f p
	while [[ $# -gt 0 && ${1} == -* ]]; do
		[[ ${1} == -- ]] && { shift; break; }
		opts+=( "$1" ); shift
	done
	[[ $# -gt 0 ]] || die "eapply: no patches"
	for f; do
		if [[ -d ${f} ]]; then
			for p in "${f}"/*.diff "${f}"/*.patch; do
				[[ -f ${p} ]] || continue
				einfo "Applying ${p##*/}"
				patch -p1 -f -g0 --no-backup-if-mismatch "${opts[@]}" < "${p}" || die "eapply: ${p} failed"
			done
		else
			einfo "Applying ${f##*/}"
			patch -p1 -f -g0 --no-backup-if-mismatch "${opts[@]}" < "${f}" || die "eapply: ${f} failed"
		fi
	done
}
eapply_user() {
	[[ ${EBUILD_PHASE_FUNC} == src_prepare ]] || die "eapply_user outside src_prepare"
	[[ -f ${T}/.eapply_user ]] && return 0
	: > "${T}/.eapply_user"
	local dir
	for dir in "${PORTAGE_CONFIGROOT%/}/etc/portage/patches/${CATEGORY}/"{"${PF}","${P}","${PN}"}; do
		if [[ -d ${dir} ]]; then eapply "${dir}"; break; fi
	done
	return 0
}
emake() {
	# shellcheck disable=SC2086
	${MAKE:-make} ${MAKEOPTS} "$@" || die -n "emake failed"
}

# --- installing into ${D} (PMS 12.3.9) -------------------------------------------------------
_pms_need_d() { [[ -n ${ED} ]] || die "$1: only in src_install (ED is not set in ${EBUILD_PHASE})"; }
into() { _pms_need_d into; PMS_DESTTREE=$1; }
insinto() { _pms_need_d insinto; PMS_INSDESTTREE=$1; }
exeinto() { _pms_need_d exeinto; PMS_EXEDESTTREE=$1; }
dodir() { _pms_need_d dodir; local d; for d; do mkdir -p "${ED%/}/${d#/}" || die -n "dodir ${d} failed"; done; }
keepdir() { dodir "$@"; local d; for d; do : > "${ED%/}/${d#/}/.keep_${CATEGORY}_${PN}-${SLOT%/*}" || die -n; done; }
doins() {
	_pms_need_d doins
	local dest=${ED%/}/${PMS_INSDESTTREE:-/}
	dest=${dest%/}
	mkdir -p "${dest}" || die -n "doins: cannot make ${dest}"
	local f r=
	[[ ${1} == -r ]] && { r=-R; shift; }
	for f; do
		[[ -e ${f} ]] || { die -n "doins: ${f} does not exist"; return 1; }
		cp ${r} -P --preserve=mode,timestamps "${f}" "${dest}/" || die -n "doins: ${f} failed"
	done
}
newins() {
	_pms_need_d newins
	[[ $# -eq 2 ]] || die "newins: want <file> <new name>"
	local tmp=${T}/.newins
	rm -rf "${tmp}" || die
	mkdir -p "${tmp}" || die
	cp -P "$1" "${tmp}/$2" || die -n "newins: $1 failed"
	doins "${tmp}/$2"
}
doexe() {
	_pms_need_d doexe
	local dest=${ED%/}/${PMS_EXEDESTTREE:-/}
	mkdir -p "${dest}" || die
	local f
	for f; do install -m 0755 "${f}" "${dest%/}/" || die -n "doexe: ${f} failed"; done
}
dosym() {
	_pms_need_d dosym
	local target=$1 link=${ED%/}/${2#/}
	[[ ${1} == -r ]] && die "dosym -r is not provided by this harness"
	mkdir -p "${link%/*}" || die
	ln -snf "${target}" "${link}" || die -n "dosym ${target} ${2} failed"
}
# Records the paths excluded from stripping; Portage's estrip itself is not run here.
dostrip() {
	_pms_need_d dostrip
	[[ ${1} == -x ]] || die "dostrip: only -x is used by the eclasses tested here"
	shift
	printf '%s\n' "$@" >> "${T}/pms-dostrip-x"
}
