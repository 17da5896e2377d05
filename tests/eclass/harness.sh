# A small PMS (EAPI 8) phase runner for the eclass tests (sourced after tests/lib.sh). Each phase
# runs in a fresh bash process with a clean environment (env -i), the PMS variables of that
# phase (D/ED only from src_install, ROOT/EROOT only in pkg_* phases, MERGE_TYPE, ...), the
# helpers of tests/eclass/pms.sh, and the environment saved by the previous phase, as Portage
# does: a binary package carries that environment, and its pkg_* phases run from it, never from
# the ebuild. Nothing runs as a side effect of sourcing this file.
#
#   pms_init EBUILD CATEGORY    a package context (the build directory under $PMS_BASE)
#   pms_phase PHASE             runs one phase; fails when it dies
#   pms_required_use            REQUIRED_USE against the effective USE (Portage's check before a build)
#   pms_build_source            pms_required_use, then pkg_pretend .. src_install in Portage's
#                               order (src_test with PMS_TEST=1)
#   pms_merge                   pkg_preinst, ${D} merged into ${PMS_ROOT}, pkg_postinst
#   pms_unmerge                 pkg_prerm, the package's files removed from ${PMS_ROOT}, pkg_postrm
#   pms_pack FILE / pms_init_binary FILE CATEGORY    a binary package (image + environment)
#   pms_fetch                   SRC_URI's files (under the effective USE) into DISTDIR, as emerge
#                               fetches them; A for the phases from then on
#   pms_metadata                the package's metadata (SLOT, KEYWORDS, SRC_URI, *DEPEND, USE) as PMS_META_*
#   pms_record                  what a merge records in ${PMS_ROOT}'s package database, without
#                               building (dependency tests; replaces the package in the same slot)
#   pms_world_problems          what emerge would find in ${PMS_ROOT}: unsatisfied run-time
#                               dependencies (with a single-slot package, a slot conflict) and
#                               packages to rebuild for a changed subslot (:=)
#
# Merging and unmerging follow Portage's defaults (cnf/make.globals): CONFIG_PROTECT="/etc"
# with CONFIG_PROTECT_MASK="/etc/env.d" (a merged file that would replace a different existing
# one there is written as ._cfg0000_NAME beside it); UNINSTALL_IGNORE="/lib/modules/*" (unmerge
# leaves every path matching it, fnmatch-style: * crosses /); unmerge also leaves a file or link
# whose mtime differs from the one recorded at merge (Portage's "!mtime") and a file whose md5
# differs ("!md5"). PMS_UNINSTALL_IGNORE, PMS_CONFIG_PROTECT and PMS_CONFIG_PROTECT_MASK change
# them as make.conf would.
#
# Settings (the test sets them like make.conf and the command line would): PMS_BASE (where build
# directories go), PMS_ROOT (ROOT of the pkg_* phases), PMS_USE (USE tokens over IUSE defaults),
# PMS_ECLASSDIRS (eclass directories, later ones win, like an overlay over its master),
# PMS_CONFIGROOT, PMS_SYSROOT, PMS_MAKE_CONF (extra NAME=VALUE words for the phase environment),
# PMS_ARCH (the profile's ARCH, amd64 by default). PMS_USE_TRACE (a file) records every question a
# phase asks about USE (use and the helpers built on it, in_iuse) as "use FLAG 1|0" and
# "in_iuse FLAG 1|0" lines: what a phase's behaviour can depend on among the USE flags.
# PMS_BUILD_LOCK (a file): src_compile, src_test and src_install run holding a lock on it (a build
# directory that other tests use at the same time).

PMS_HELPERS=$DK_SOURCE_ROOT/tests/eclass/pms.sh
# shellcheck source=pmsdep.sh
source "$DK_SOURCE_ROOT/tests/eclass/pmsdep.sh"

# pms_init EBUILD CATEGORY: the package's identity from the file name (PMS 3.1).
pms_init() {
	PMS_EBUILD=$(cd "$(dirname "$1")" && pwd)/${1##*/}
	PMS_CATEGORY=$2
	local name=${1##*/}
	name=${name%.ebuild}
	[[ $name =~ ^(.+)-([0-9][^-]*)(-r([0-9]+))?$ ]] || dk_fail "pms_init: not an ebuild name: $1"
	PMS_PN=${BASH_REMATCH[1]} PMS_PV=${BASH_REMATCH[2]} PMS_PR=r${BASH_REMATCH[4]:-0}
	PMS_P=$PMS_PN-$PMS_PV
	PMS_PF=$PMS_P${BASH_REMATCH[3]}
	PMS_PVR=$PMS_PV${BASH_REMATCH[3]}
	PMS_BUILDDIR=$PMS_BASE/portage/$PMS_CATEGORY/$PMS_PF
	rm -rf "$PMS_BUILDDIR"
	mkdir -p "$PMS_BUILDDIR"/{work,temp,image,homedir,distdir,empty}
	PMS_MERGE_TYPE=source
	PMS_A=
}

# The environment of one phase: PMS variables (PMS 11.1) with their phase scopes.
_pms_phase_env() {
	local phase=$1
	local builddir=$PMS_BUILDDIR
	local root=${PMS_ROOT:-/}
	root=${root%/}
	local sysroot=${PMS_SYSROOT-$root}
	sysroot=${sysroot%/}
	PMS_ENV=(
		PATH="$DK_TOOLS:$PATH" HOME="$builddir/homedir" TERM=dumb LC_ALL=C.UTF-8
		PMS_HELPERS="$PMS_HELPERS" PMS_ECLASSDIRS="$PMS_ECLASSDIRS" PMS_EBUILD="$PMS_EBUILD"
		PMS_USE="${PMS_USE-}" PMS_USE_TRACE="${PMS_USE_TRACE-}"
		CATEGORY="$PMS_CATEGORY" PN="$PMS_PN" PV="$PMS_PV" PR="$PMS_PR" P="$PMS_P" PF="$PMS_PF"
		PVR="$PMS_PVR" A="${PMS_A-}" FILESDIR="$(dirname "$PMS_EBUILD")/files" DISTDIR="$builddir/distdir"
		WORKDIR="$builddir/work" T="$builddir/temp" TMPDIR="$builddir/temp"
		EPREFIX="" BROOT="" SYSROOT="$sysroot" ESYSROOT="$sysroot"
		PORTAGE_CONFIGROOT="${PMS_CONFIGROOT:-/}"
		EBUILD_PHASE="${phase#*_}" EBUILD_PHASE_FUNC="$phase"
		CHOST="${PMS_CHOST:-x86_64-linux-gnu}" CBUILD="${PMS_CHOST:-x86_64-linux-gnu}" ARCH="${PMS_ARCH:-amd64}"
		MAKEOPTS="${MAKEOPTS:--j$(nproc)}"
	)
	local -a make_conf
	read -r -a make_conf <<< "${PMS_MAKE_CONF-}"
	PMS_ENV+=( "${make_conf[@]}" )
	case $phase in
		src_install|pkg_preinst)
			PMS_ENV+=( D="$builddir/image/" ED="$builddir/image/" ) ;;
	esac
	case $phase in
		pkg_*)
			PMS_ENV+=( ROOT="$root" EROOT="$root" MERGE_TYPE="$PMS_MERGE_TYPE" ) ;;
	esac
	case $phase in
		pkg_pretend|pkg_setup|pkg_preinst|pkg_postinst)
			PMS_ENV+=( REPLACING_VERSIONS="${PMS_REPLACING_VERSIONS-}" ) ;;
		pkg_prerm|pkg_postrm)
			PMS_ENV+=( REPLACED_BY_VERSION="${PMS_REPLACED_BY_VERSION-}" ) ;;
	esac
}

# pms_phase PHASE: runs PHASE; returns non-zero when it died.
pms_phase() {
	local phase=$1
	_pms_phase_env "$phase"
	echo ">>> ${PMS_CATEGORY}/${PMS_PF}: $phase" >&2
	local -a lock=()
	# A build directory shared between tests running at the same time (the shared test kernel):
	# the phases that run make in it hold PMS_BUILD_LOCK (two makes there at once race on
	# kbuild's generated files: one's .utsrelease.h.tmp renamed under the other, which then
	# deletes utsrelease.h). The rest of the tests runs side by side.
	case $phase in
		src_compile|src_test|src_install)
			[[ -z ${PMS_BUILD_LOCK:-} ]] || lock=(flock -o "$PMS_BUILD_LOCK") ;;
	esac
	"${lock[@]}" env -i "${PMS_ENV[@]}" bash --norc --noprofile "$DK_SOURCE_ROOT/tests/eclass/phase.sh" "$phase"
}

# pms_required_use: fails, as Portage refuses to build, when the package's effective USE (IUSE
# defaults, PMS_USE, the ARCH flag) does not satisfy its REQUIRED_USE; prints the broken clauses.
pms_required_use() {
	local broken
	pms_metadata || return 1
	broken=$(python3 "$DK_SOURCE_ROOT/tests/eclass/requse.py" check "${PMS_META_REQUIRED_USE-}" "$PMS_META_USE") && return 0
	echo ">>> ${PMS_CATEGORY}/${PMS_PF}: REQUIRED_USE constraints unsatisfied (USE=\"${PMS_META_USE% }\"): ${broken//$'\n'/; }" >&2
	return 1
}

# pms_fetch: what emerge does before the phases: every file of SRC_URI (PMS 8.2: USE-conditional
# groups under the effective USE, "URI -> NAME" renames) into DISTDIR, downloaded from its URI
# (http, https, file) unless it is there already; with RESTRICT=fetch nothing is downloaded and a
# missing file runs pkg_nofetch and fails, as Portage does. Sets PMS_A (the phases' A).
pms_fetch() {
	local distdir=$PMS_BUILDDIR/distdir files uri name missing=()
	pms_metadata || return 1
	files=$(_pms_src_uri_files "${PMS_META_SRC_URI-}" "${PMS_META_USE}") || return 1
	PMS_A=
	while read -r uri name; do
		[[ -n ${uri} ]] || continue
		PMS_A+="${PMS_A:+ }${name}"
		[[ -f ${distdir}/${name} ]] && continue
		if [[ " ${PMS_META_RESTRICT} " == *" fetch "* || ${uri} != *://* ]]; then
			missing+=( "${name}" )
			continue
		fi
		echo ">>> ${PMS_CATEGORY}/${PMS_PF}: downloading ${uri} as ${name}" >&2
		python3 - "${uri}" "${distdir}/${name}" <<-'PY' || { rm -f "${distdir}/${name}"; return 1; }
			import shutil, sys, urllib.request
			try:
			    with urllib.request.urlopen(sys.argv[1], timeout=60) as r, open(sys.argv[2], "wb") as out:
			        shutil.copyfileobj(r, out)
			except OSError as e:
			    sys.exit(f"!!! cannot fetch {sys.argv[1]}: {e}")
		PY
	done <<< "${files}"
	[[ ${#missing[@]} -eq 0 ]] && return 0
	local -a restrict
	read -r -a restrict <<< "${PMS_META_RESTRICT}"
	echo ">>> ${PMS_CATEGORY}/${PMS_PF}: not in DISTDIR and not fetchable (RESTRICT=\"${restrict[*]}\"): ${missing[*]}" >&2
	pms_phase pkg_nofetch
	return 1
}

# _pms_src_uri_files SRC_URI USE: "URI NAME" a line for each file SRC_URI asks for under USE.
_pms_src_uri_files() {
	local -a words active=( 1 )
	local word state=1 next_state='' rename='' uri=''
	read -r -a words <<< "$1"
	for word in "${words[@]}"; do
		if [[ -n ${rename} ]]; then
			[[ ${active[-1]} == 1 ]] && echo "${uri} ${word}"
			rename='' uri=''
			continue
		fi
		case ${word} in
			'->') [[ -n ${uri} ]] || { echo "SRC_URI: '->' without a URI before it" >&2; return 1; }
				rename=1; continue ;;
			'('|')'|*\?) ;;
			*) [[ -n ${uri} && ${active[-1]} == 1 ]] && echo "${uri} ${uri##*/}"
				uri=${word}; continue ;;
		esac
		[[ -n ${uri} && ${active[-1]} == 1 ]] && echo "${uri} ${uri##*/}"
		uri=''
		case ${word} in
			*\?)
				local flag=${word%\?} want=1
				[[ ${flag} == !* ]] && { want=0; flag=${flag#!}; }
				state=0
				[[ " $2 " == *" ${flag} "* ]] && state=1
				next_state=0
				[[ ${state} == "${want}" ]] && next_state=1 ;;
			'(') active+=( $(( active[-1] && ${next_state:-1} )) ); next_state='' ;;
			')') [[ ${#active[@]} -gt 1 ]] || { echo "SRC_URI: unbalanced ')'" >&2; return 1; }
				unset 'active[-1]' ;;
		esac
	done
	[[ -n ${uri} && ${active[-1]} == 1 ]] && echo "${uri} ${uri##*/}"
	[[ -z ${rename} && ${#active[@]} -eq 1 ]] || { echo "SRC_URI: unbalanced or unfinished: $1" >&2; return 1; }
}

pms_build_source() {
	local phase
	pms_required_use || return 1
	for phase in pkg_pretend pkg_setup src_unpack src_prepare src_configure src_compile; do
		pms_phase "$phase" || return 1
	done
	if [[ ${PMS_TEST:-0} == 1 ]]; then pms_phase src_test || return 1; fi
	pms_phase src_install
}

# pms_merge: pkg_preinst, the image copied into ROOT (CONFIG_PROTECT applied; a CONTENTS list
# with md5 and mtime, SLOT, USE and the run-time dependencies kept under ROOT/var/db/pkg like
# Portage's), pkg_postinst.
pms_merge() {
	local root=${PMS_ROOT:?} image=$PMS_BUILDDIR/image
	pms_phase pkg_preinst || return 1
	local vdb=$root/var/db/pkg/$PMS_CATEGORY/$PMS_PF
	echo ">>> merging ${PMS_CATEGORY}/${PMS_PF} into $root" >&2
	# CONFIG_PROTECT: an existing protected file that differs stays, the package's copy is merged
	# as ._cfg0000_NAME; everything else is copied in one pass (a kernel's image holds thousands
	# of files: no process per file).
	local f dest skip
	skip=$(mktemp) || return 1
	while IFS= read -r -d '' f; do
		f=${f#.}
		dest=$root$f
		if _pms_protected "$f" && [[ -e $dest || -L $dest ]] && ! cmp -s "$image$f" "$dest"; then
			echo ">>> CONFIG_PROTECT: $f exists and differs: merged as ._cfg0000_${f##*/}" >&2
			mkdir -p "${dest%/*}" && cp -a "$image$f" "${dest%/*}/._cfg0000_${f##*/}" || return 1
			printf '.%s\n' "$f" >> "$skip"
		fi
	done < <(cd "$image" && find . -mindepth 1 ! -type d -print0 | sort -z)
	mkdir -p "$root"
	# Through the root's links to directories (a merged-usr /lib -> usr/lib), as Portage merges.
	(cd "$image" && tar -cf - --exclude-from="$skip" .) | (cd "$root" && tar -xpf - --keep-directory-symlink) || { rm -f "$skip"; return 1; }
	_pms_write_vdb "$vdb" || { rm -f "$skip"; return 1; }
	python3 "$DK_SOURCE_ROOT/tests/eclass/vdb.py" contents "$image" "$root" "$skip" > "$vdb/CONTENTS" ||
		{ rm -f "$skip"; return 1; }
	rm -f "$skip"
	cp "$PMS_BUILDDIR/temp/environment" "$vdb/environment"
	pms_phase pkg_postinst
}

# _pms_protected PATH: whether PATH (inside ROOT) is under CONFIG_PROTECT and not its mask.
_pms_protected() {
	local p
	for p in ${PMS_CONFIG_PROTECT_MASK-/etc/env.d}; do
		[[ $1 == "$p" || $1 == "$p"/* ]] && return 1
	done
	for p in ${PMS_CONFIG_PROTECT-/etc}; do
		[[ $1 == "$p" || $1 == "$p"/* ]] && return 0
	done
	return 1
}

# _pms_write_vdb DIR: the package's metadata files in the package database (:= recorded).
_pms_write_vdb() {
	local vdb=$1
	pms_metadata || return 1
	mkdir -p "$vdb"
	echo "$PMS_META_SLOT" > "$vdb/SLOT"
	echo "$PMS_META_USE" > "$vdb/USE"
	echo "$PMS_META_KEYWORDS" > "$vdb/KEYWORDS"
	pmsdep_record_slotops "$PMS_ROOT" "$PMS_META_RDEPEND" > "$vdb/RDEPEND"
	pmsdep_record_slotops "$PMS_ROOT" "$PMS_META_PDEPEND" > "$vdb/PDEPEND"
}

# pms_metadata: sources the ebuild (with its eclasses) in a fresh process, as Portage's metadata
# generation does, and sets PMS_META_SLOT, _KEYWORDS, _IUSE, _USE (IUSE defaults and PMS_USE),
# _DEPEND, _BDEPEND, _RDEPEND, _PDEPEND, _IDEPEND, _REQUIRED_USE, _RESTRICT, _INHERITED.
pms_metadata() {
	local line out
	_pms_phase_env depend
	mkdir -p "$PMS_BUILDDIR/temp/metadata"
	out=$(env -i "${PMS_ENV[@]}" T="$PMS_BUILDDIR/temp/metadata" bash --norc --noprofile "$DK_SOURCE_ROOT/tests/eclass/phase.sh" depend) ||
		{ echo "pms_metadata: sourcing $PMS_EBUILD failed" >&2; return 1; }
	while IFS= read -r line; do
		printf -v "PMS_META_${line%%=*}" '%s' "${line#*=}"
	done <<< "$out"
}

# pms_record: the package (pms_init) recorded as installed in ${PMS_ROOT} without building or
# merging files: its metadata, as a merge would, replacing the package of the same slot.
pms_record() {
	local root=${PMS_ROOT:?} dir slot
	pms_metadata || return 1
	for dir in "$root/var/db/pkg/$PMS_CATEGORY/$PMS_PN"-[0-9]*; do
		[[ -f $dir/SLOT && ${dir##*/} =~ ^$PMS_PN-[0-9][^-]*(-r[0-9]+)?$ ]] || continue
		slot=$(< "$dir/SLOT")
		[[ ${slot%%/*} == "${PMS_META_SLOT%%/*}" ]] || continue
		echo ">>> ${PMS_CATEGORY}/${dir##*/} replaced in its slot ${slot%%/*} by ${PMS_CATEGORY}/${PMS_PF}" >&2
		rm -rf "$dir"
	done
	echo ">>> recording ${PMS_CATEGORY}/${PMS_PF} (slot $PMS_META_SLOT) in $root" >&2
	_pms_write_vdb "$root/var/db/pkg/$PMS_CATEGORY/$PMS_PF" || return 1
	: > "$root/var/db/pkg/$PMS_CATEGORY/$PMS_PF/CONTENTS"
}

# pms_world_problems: for every package installed in ${PMS_ROOT}, its RDEPEND and PDEPEND
# against what is installed: "UNSATISFIED CAT/PF ATOM" and "REBUILD CAT/PF ATOM" lines; returns 1
# when something is unsatisfied.
pms_world_problems() {
	local root=${PMS_ROOT:?} dir pkg var line status=0
	for dir in "$root"/var/db/pkg/*/*; do
		[[ -f $dir/SLOT ]] || continue
		pkg=${dir#"$root/var/db/pkg/"}
		for var in RDEPEND PDEPEND; do
			[[ -f $dir/$var ]] || continue
			while IFS= read -r line; do
				[[ -n $line ]] || continue
				if [[ $line == REBUILD* ]]; then
					echo "REBUILD $pkg ${line#REBUILD }"
				else
					echo "UNSATISFIED $pkg $line"
					status=1
				fi
			done < <(pmsdep_unsatisfied "$root" "$(cat "$dir/USE" 2>/dev/null)" "$(< "$dir/$var")")
		done
	done
	return "$status"
}

# pms_unmerge: runs from the environment recorded in the package database; removes what
# Portage's unmerge removes (see the top: UNINSTALL_IGNORE, !mtime, !md5).
pms_unmerge() {
	local root=${PMS_ROOT:?}
	local vdb=$root/var/db/pkg/$PMS_CATEGORY/$PMS_PF
	[[ -f $vdb/environment ]] || dk_fail "pms_unmerge: ${PMS_CATEGORY}/${PMS_PF} is not installed in $root"
	cp "$vdb/environment" "$PMS_BUILDDIR/temp/environment"
	pms_phase pkg_prerm || return 1
	python3 "$DK_SOURCE_ROOT/tests/eclass/vdb.py" unmerge "$root" "$vdb/CONTENTS" \
		"${PMS_UNINSTALL_IGNORE-/lib/modules/*}" || return 1
	rm -rf "$vdb"
	pms_phase pkg_postrm
}

# pms_pack FILE: the image and the saved environment, as a binary package carries them.
pms_pack() {
	mkdir -p "$PMS_BUILDDIR/binpkg"
	cp "$PMS_BUILDDIR/temp/environment" "$PMS_BUILDDIR/binpkg/environment"
	tar -C "$PMS_BUILDDIR/image" -cf "$PMS_BUILDDIR/binpkg/image.tar" . &&
		tar -C "$PMS_BUILDDIR/binpkg" -cf "$1" environment image.tar
}

# pms_init_binary FILE CATEGORY: a new build directory from a binary package (MERGE_TYPE=binary);
# then pms_phase pkg_setup and pms_merge, as Portage does for a binary package.
pms_init_binary() {
	local pkg=$1 category=$2 ebuild=$PMS_EBUILD
	pms_init "$ebuild" "$category"
	PMS_MERGE_TYPE=binary
	local tmp=$PMS_BUILDDIR/binpkg
	mkdir -p "$tmp"
	tar -C "$tmp" -xf "$pkg" || return 1
	tar -C "$PMS_BUILDDIR/image" -xf "$tmp/image.tar" || return 1
	cp "$tmp/environment" "$PMS_BUILDDIR/temp/environment"
}
