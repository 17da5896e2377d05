# A small PMS (EAPI 8) phase runner for the eclass tests (sourced after tests/lib.sh). Each phase
# runs in a fresh bash process with a clean environment (env -i), the PMS variables of that
# phase (D/ED only from src_install, ROOT/EROOT only in pkg_* phases, MERGE_TYPE, ...), the
# helpers of tests/eclass/pms.sh, and the environment saved by the previous phase, as Portage
# does: a binary package carries that environment, and its pkg_* phases run from it, never from
# the ebuild. Nothing runs as a side effect of sourcing this file.
#
#   pms_init EBUILD CATEGORY    a package context (the build directory under $PMS_BASE)
#   pms_phase PHASE             runs one phase; fails when it dies
#   pms_build_source            pkg_setup .. src_install in Portage's order (src_test with PMS_TEST=1)
#   pms_merge                   pkg_preinst, ${D} merged into ${PMS_ROOT}, pkg_postinst
#   pms_unmerge                 pkg_prerm, the package's files removed from ${PMS_ROOT}, pkg_postrm
#   pms_pack FILE / pms_init_binary FILE CATEGORY    a binary package (image + environment)
#
# Settings (the test sets them like make.conf and the command line would): PMS_BASE (where build
# directories go), PMS_ROOT (ROOT of the pkg_* phases), PMS_USE (USE tokens over IUSE defaults),
# PMS_ECLASSDIRS (eclass directories, later ones win, like an overlay over its master),
# PMS_CONFIGROOT, PMS_SYSROOT, PMS_MAKE_CONF (extra NAME=VALUE words for the phase environment).

PMS_HELPERS=$DK_SOURCE_ROOT/tests/eclass/pms.sh

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
		PMS_USE="${PMS_USE-}"
		CATEGORY="$PMS_CATEGORY" PN="$PMS_PN" PV="$PMS_PV" PR="$PMS_PR" P="$PMS_P" PF="$PMS_PF"
		PVR="$PMS_PVR" A="" FILESDIR="$(dirname "$PMS_EBUILD")/files" DISTDIR="$builddir/distdir"
		WORKDIR="$builddir/work" T="$builddir/temp" TMPDIR="$builddir/temp"
		EPREFIX="" BROOT="" SYSROOT="$sysroot" ESYSROOT="$sysroot"
		PORTAGE_CONFIGROOT="${PMS_CONFIGROOT:-/}"
		EBUILD_PHASE="${phase#*_}" EBUILD_PHASE_FUNC="$phase"
		CHOST="${PMS_CHOST:-x86_64-linux-gnu}" CBUILD="${PMS_CHOST:-x86_64-linux-gnu}" ARCH=amd64
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
	env -i "${PMS_ENV[@]}" bash --norc --noprofile "$DK_SOURCE_ROOT/tests/eclass/phase.sh" "$phase"
}

pms_build_source() {
	local phase
	for phase in pkg_setup src_unpack src_prepare src_configure src_compile; do
		pms_phase "$phase" || return 1
	done
	if [[ ${PMS_TEST:-0} == 1 ]]; then pms_phase src_test || return 1; fi
	pms_phase src_install
}

# pms_merge: pkg_preinst, the image copied into ROOT (a CONTENTS list kept under
# ROOT/var/db/pkg like Portage's), pkg_postinst.
pms_merge() {
	local root=${PMS_ROOT:?} image=$PMS_BUILDDIR/image
	pms_phase pkg_preinst || return 1
	local vdb=$root/var/db/pkg/$PMS_CATEGORY/$PMS_PF
	mkdir -p "$vdb"
	echo ">>> merging ${PMS_CATEGORY}/${PMS_PF} into $root" >&2
	# Portage's CONTENTS: dir, obj and sym entries
	(cd "$image" && find . -mindepth 1 \( -type d -printf 'dir /%P\n' \) -o \( -type l -printf 'sym /%P\n' \) \
		-o -printf 'obj /%P\n') | sort -k2 > "$vdb/CONTENTS"
	cp -a "$image/." "$root/" || return 1
	cp "$PMS_BUILDDIR/temp/environment" "$vdb/environment"
	pms_phase pkg_postinst
}

# pms_unmerge: runs from the environment recorded in the package database.
pms_unmerge() {
	local root=${PMS_ROOT:?}
	local vdb=$root/var/db/pkg/$PMS_CATEGORY/$PMS_PF
	[[ -f $vdb/environment ]] || dk_fail "pms_unmerge: ${PMS_CATEGORY}/${PMS_PF} is not installed in $root"
	cp "$vdb/environment" "$PMS_BUILDDIR/temp/environment"
	pms_phase pkg_prerm || return 1
	# files and links, then the directories left empty, deepest first (as Portage unmerges)
	local type f
	while read -r type f; do
		if [[ $type != dir ]]; then rm -f "$root$f"; fi
	done < "$vdb/CONTENTS"
	while read -r type f; do
		if [[ $type == dir ]]; then rmdir "$root$f" 2>/dev/null || true; fi
	done < <(sort -r -k2 "$vdb/CONTENTS")
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
