#!/usr/bin/env bash
# Every USE combination the overlay's gentoo-kernel and vanilla-kernel allow on amd64, through
# src_unpack, src_prepare and the real src_configure (the real eclass, distkernel-config and the
# real 6.1 tree's Kconfig, make olddefconfig), and the final .config holds exactly the fragments
# that combination must apply.
#
# The ebuilds' archives (linux 6.18, Fedora's configs, gentoo-kernel-config, genpatches) are not
# here: each ebuild runs through tests/fixtures/eclass/standin-kernel, a wrapper that sources the
# overlay's ebuild file as it is and replaces only src_unpack and src_prepare: the 6.1 tree as
# ${S}, Debian's config at the path of the base config, and at every fragment path the ebuild
# names a small fragment of the test's own with the same name, each turning off one module
# Debian builds (its telling symbol): "# CONFIG_X is not set" in the final .config says the
# fragment was applied, CONFIG_X=m that it was not. The wrapper is named after the tree's
# version, so src_configure's check of the kernel release stays the real one. A saved config
# (sys-kernel/PN, one telling symbol of its own) is always present; USE=modules-sign shows as
# the eclass's CONFIG_MODULE_SIG_ALL=y (Debian's config leaves it unset), USE=hardened as
# -hardened in CONFIG_LOCALVERSION and the release. Besides the 2 x 128 combinations: one with
# CC=clang in make.conf (hardened: no GCC-plugins fragment) and one whose gentoo-kernel-config
# stand-in has no hardened-amd64.config (hardened: none merged, and said).
#
# Sharing: every combination runs src_unpack and src_prepare itself (its first phase sources the
# ebuild under its USE; pkg_pretend and pkg_setup of every combination are eclass-use's);
# src_configure runs once per set of answers it gives to the USE questions src_configure asks. The harness records the questions a phase asks
# (PMS_USE_TRACE: use, usev, usex, in_iuse, ... with their answers); src_configure's other inputs
# are the same for every combination of one ebuild and make.conf, and the eclass and the ebuilds
# never read ${USE} directly (checked here). A combination whose answers to every question a
# configured combination's src_configure asked are the same would take the same path through
# it, so it is checked against that configure's .config and log; any other combination gets a
# src_configure run of its own. That is 32 configure runs per ebuild (debug, hardened,
# modules-sign, savedconfig, secureboot) instead of 128. With ccache's compiler links (as Portage's
# FEATURES=ccache), Kconfig's host programs are compiled once into the test's own cache.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
# About 20 minutes on one core (66 real configure runs): only with DISTKERNEL_LONG=1.
[[ ${DISTKERNEL_LONG:-} == 1 ]] || dk_skip "66 real configure runs, about 20 minutes: set DISTKERNEL_LONG=1"
dk_real_test_start distkernel-config distkernel-stage
requse=$DK_SOURCE_ROOT/tests/eclass/requse.py

# The USE questions are the only way a combination reaches src_configure: no ${USE} read.
if grep -nE '^[^#]*\$\{?USE([^A-Za-z0-9_]|$)' "$DK_SOURCE_ROOT"/eclass/*.eclass "$DK_SOURCE_ROOT"/ebuilds/sys-kernel/*/*.ebuild; then
	dk_fail "the lines above read \${USE} directly: src_configure runs cannot be shared by their USE questions"
fi

# --- the stand-ins -------------------------------------------------------------------------------
# name: the telling symbol (a module Debian's config builds, turned off) and when it is merged.
names=( base.config 6.12+.config no-debug.config hardened-base.config hardened-gcc-plugins.config hardened-amd64.config
	secureboot.config zboot.config savedconfig )
declare -A symbol=(
	[base.config]=USB_SERIAL_CP210X
	[6.12+.config]=USB_SERIAL_FTDI_SIO
	[no-debug.config]=USB_SERIAL_PL2303
	[hardened-base.config]=USB_SERIAL_CH341
	[hardened-gcc-plugins.config]=USB_SERIAL_KEYSPAN
	[hardened-amd64.config]=USB_SERIAL_OPTION
	[secureboot.config]=USB_SERIAL_WHITEHEAT
	[zboot.config]=USB_SERIAL_XR
	[savedconfig]=USB_SERIAL_QUALCOMM
)
fragments=$T/gentoo-kernel-config
mkdir -p "$fragments"
for name in "${!symbol[@]}"; do
	[[ $name == savedconfig ]] && continue
	printf '# the stand-in for %s (tests/eclass/use-configure.sh)\n# CONFIG_%s is not set\n' "$name" "${symbol[$name]}" > "$fragments/$name"
done
for name in "${!symbol[@]}"; do
	dk_grep "^CONFIG_${symbol[$name]}=m\$" "$DK_DEBIAN_CONFIG"
done
# The base: Debian's config with CONFIG_MODULE_SIG_ALL off, so that the modules-sign layer shows
# (Debian's 6.1 config has no line for it: its Kconfig default, y, would apply).
base=$T/debian.config
grep -vE '^(CONFIG_MODULE_SIG_ALL=|# CONFIG_MODULE_SIG_ALL is not set)' "$DK_DEBIAN_CONFIG" > "$base"
echo '# CONFIG_MODULE_SIG_ALL is not set' >> "$base"
# The same fragments without the arch's hardening file.
noarch=$T/gentoo-kernel-config-noarch
cp -r "$fragments" "$noarch"
rm "$noarch/hardened-amd64.config"

PMS_BASE=$T/pms
PMS_ROOT=$T/root
PMS_CONFIGROOT=$T/configroot
mkdir -p "$PMS_ROOT" "$PMS_CONFIGROOT/etc/portage/savedconfig/sys-kernel"
# FEATURES=ccache when ccache's links are there: Kconfig's host programs compiled once.
masq=/usr/lib/ccache
if [[ -x $masq/gcc && -x $masq/clang ]]; then
	PATH="$masq:$PATH"
	ccache_conf="CCACHE_DIR=$T/ccache"
else
	ccache_conf=
	echo "note: no ccache compiler links in $masq: every configure compiles Kconfig's host programs" >&2
fi
conf_common="STANDIN_TREE=$DK_TREE STANDIN_BASE=$base $ccache_conf"
version=$(dk_tree_version)

# mark CONFIG: what CONFIG shows was applied: the names of the stand-ins whose symbol is off
# (in the order of $names), modules-sign for the signing layer, then the release's local version
# ("lv=-..."), a word each.
mark() {
	local config=$1 name out=()
	for name in "${names[@]}"; do
		if grep -qx "# CONFIG_${symbol[$name]} is not set" "$config"; then
			out+=( "$name" )
		elif ! grep -qx "CONFIG_${symbol[$name]}=m" "$config"; then
			dk_fail "$what: CONFIG_${symbol[$name]} (the stand-in $name's) is neither off nor m in $config"
		fi
	done
	if grep -qx 'CONFIG_MODULE_SIG_ALL=y' "$config"; then
		out+=( modules-sign )
	elif ! grep -qx '# CONFIG_MODULE_SIG_ALL is not set' "$config"; then
		dk_fail "$what: CONFIG_MODULE_SIG_ALL is neither y nor off in $config"
	fi
	out+=( "lv=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$config")" )
	echo "${out[*]}"
}
# expected FLAGS CC ARCHFILE: what the combination must apply, as mark prints it: what
# gentoo-kernel-config's fragments are for (the ::gentoo kernels' use of them), not what the eclass
# does with them.
expected() {
	local flags=" $1 " cc=$2 archfile=$3 out=( base.config 6.12+.config ) lv=$localversion
	[[ $flags == *" debug "* ]] || out+=( no-debug.config )
	if [[ $flags == *" hardened "* ]]; then
		out+=( hardened-base.config )
		[[ $cc == clang ]] || out+=( hardened-gcc-plugins.config )
		[[ $archfile == no ]] || out+=( hardened-amd64.config )
		lv+=-hardened
	fi
	[[ $flags != *" secureboot "* ]] || out+=( secureboot.config zboot.config )
	[[ $flags != *" savedconfig "* ]] || out+=( savedconfig )
	[[ $flags != *" modules-sign "* ]] || out+=( modules-sign )
	out+=( "lv=$lv" )
	echo "${out[*]}"
}
# check FLAGS CC ARCHFILE: the combination's configure run ($class) against what it must apply.
check() {
	local want got
	want=$(expected "$@")
	got=$(< "$class/mark")
	[[ $got == "$want" ]] ||
		dk_fail "$what: the final .config ($class/config, log $class/log) shows [$got], want [$want]"
	grep -qx " \* Kernel release: $version${want##*lv=}" "$class/log" ||
		dk_fail "$what: src_configure did not say 'Kernel release: $version${want##*lv=}' ($class/log)"
}

# answers TRACE: whether the combination in $flags answers every question in TRACE as recorded.
answers() {
	local kind flag state want
	while read -r kind flag state; do
		want=0
		case $kind in
			use) [[ " $flags amd64 kernel_linux elibc_glibc " == *" $flag "* ]] && want=1 ;;
			in_iuse) [[ " ${iuse//+/} " == *" $flag "* ]] && want=1 ;;
			*) dk_fail "unknown line in $1: $kind $flag $state" ;;
		esac
		[[ $state == "$want" ]] || return 1
	done < "$1"
}

# run_combination FLAGS MAKE_CONF ARCHFILE CC CLASSES: src_unpack and src_prepare of the wrapper
# ($ebuild) with USE=FLAGS, then src_configure unless a run in CLASSES (a directory: one
# subdirectory per src_configure run, with its trace, log and .config) asked questions this
# combination answers alike; then the check. Sets $class (the run it was checked against).
run_combination() {
	local f phase classes=$5
	flags=$1
	mkdir -p "$classes"
	dk_use_every "$iuse" "$flags"
	PMS_MAKE_CONF="$conf_common $2"
	what="${ebuild##*/} USE=\"$flags\"${2:+ $2}"
	pms_init "$ebuild" sys-kernel
	for phase in src_unpack src_prepare; do
		pms_phase "$phase" > "$T/phase.log" 2>&1 || { tail -n 20 "$T/phase.log" >&2; dk_fail "$what: $phase died"; }
	done
	class=
	for f in "$classes"/*/; do
		[[ -f $f/trace ]] && answers "$f/trace" && { class=${f%/}; break; }
	done
	if [[ -z $class ]]; then
		class=$classes/$(find "$classes" -mindepth 1 -maxdepth 1 | wc -l)
		mkdir -p "$class"
		PMS_USE_TRACE=$class/trace pms_phase src_configure > "$class/log" 2>&1 ||
			{ tail -n 30 "$class/log" >&2; dk_fail "$what: src_configure died (log $class/log)"; }
		cp "$PMS_BUILDDIR/work/build/.config" "$class/config"
		echo "$what" > "$class/what"
		mark "$class/config" > "$class/mark"
		configured=$((configured + 1))
	fi
	check "$flags" "$4" "$3"
}

total=0 configured=0
for real in "$DK_SOURCE_ROOT"/ebuilds/sys-kernel/{gentoo,vanilla}-kernel/*.ebuild; do
	pn=${real##*/}
	pn=${pn%-[0-9]*}
	repo=$T/repo/sys-kernel/$pn
	mkdir -p "$repo"
	ebuild=$repo/$pn-$version.ebuild
	cp "$DK_ECLASS_FIXTURES/standin-kernel/standin-kernel.ebuild" "$ebuild"
	conf_common+=" STANDIN_EBUILD=$real"
	localversion=$(sed -n 's/^DIST_KERNEL_LOCALVERSION=//p' "$real")
	[[ -n $localversion ]] || dk_fail "$real sets no DIST_KERNEL_LOCALVERSION"
	printf '# the saved config (tests/eclass/use-configure.sh)\n# CONFIG_%s is not set\n' "${symbol[savedconfig]}" \
		> "$PMS_CONFIGROOT/etc/portage/savedconfig/sys-kernel/$pn"
	pms_init "$ebuild" sys-kernel
	PMS_MAKE_CONF="$conf_common STANDIN_FRAGMENTS=$fragments" pms_metadata || dk_fail "sourcing $ebuild ($real) failed"
	iuse=$PMS_META_IUSE required=${PMS_META_REQUIRED_USE-}
	n=0 before=$configured
	while read -r verdict flags; do
		[[ $flags == - ]] && flags=
		[[ $verdict == ok ]] || dk_fail "$pn: USE=\"$flags\" is refused on amd64 ($verdict)"
		run_combination "$flags" "STANDIN_FRAGMENTS=$fragments" yes gcc "$T/classes/$pn"
		n=$((n + 1))
	done < <(python3 "$requse" combinations "$required" "$iuse" amd64 | cut -f1)
	((n == 1 << $(wc -w <<< "$iuse"))) || dk_fail "$pn: $n combinations on amd64 for IUSE=\"$iuse\""
	dk_ok "$pn: all $n USE combinations on amd64 through src_configure: $((configured - before)) configure runs (one per answer set); each .config holds exactly its fragments"
	total=$((total + n))
	rm "$PMS_CONFIGROOT/etc/portage/savedconfig/sys-kernel/$pn"
	conf_common=${conf_common% STANDIN_EBUILD=*}
done

# CC=clang (LLVM=1): no GCC-plugins fragment. Runs of its own (another make.conf).
real=$(echo "$DK_SOURCE_ROOT"/ebuilds/sys-kernel/gentoo-kernel/*.ebuild)
ebuild=$T/repo/sys-kernel/gentoo-kernel/gentoo-kernel-$version.ebuild
conf_common+=" STANDIN_EBUILD=$real"
localversion=$(sed -n 's/^DIST_KERNEL_LOCALVERSION=//p' "$real")
run_combination "hardened initramfs" "STANDIN_FRAGMENTS=$fragments CC=clang" yes clang "$T/classes/clang"
dk_grep 'clang: not merging the GCC-only hardened-gcc-plugins.config' "$class/log"
grep -qx 'CONFIG_CC_IS_CLANG=y' "$class/config" || dk_fail "$what: the .config was not made with clang"
dk_ok "CC=clang, USE=hardened: hardened-base and hardened-amd64 merged, the GCC-plugins fragment not"
# No hardened-amd64.config in gentoo-kernel-config: none merged, and said.
run_combination "hardened initramfs" "STANDIN_FRAGMENTS=$noarch" no gcc "$T/classes/noarch"
dk_grep 'No hardening fragment for ARCH=amd64 \(hardened-amd64.config\)' "$class/log"
dk_ok "USE=hardened without hardened-amd64.config: hardened-base and GCC plugins merged, no arch fragment"
total=$((total + 2))
echo "USE combinations through src_configure: $total combinations, $configured configure runs, $((SECONDS - started)) s" >&2
