#!/usr/bin/env bash
# Portage's ccache (FEATURES=ccache: ccache's compiler links first in PATH, CCACHE_DIR in the
# environment) reaches the compilers of a build through dist-kernel.eclass: the eclass's own make
# arguments (CC=$(tc-getCC), HOSTCC=$(tc-getBUILD_CC), O=, ARCH, CROSS_COMPILE) build a small real
# target (the fixtures' out-of-tree module and a host program, against the shared test kernel;
# tests/fixtures/eclass/dkccache) in a fresh build directory twice: the first build, with ccache's
# links first in PATH as Portage's FEATURES=ccache puts them, fills the cache (misses only, for
# CC and HOSTCC); the second, with PATH as it is and make.conf's CC and BUILD_CC naming ccache's
# links instead, hits it: only the CC= and HOSTCC= the eclass puts on make's command line bring
# ccache in there (the kernel's Makefile would pick ${CROSS_COMPILE}gcc and gcc from PATH). The
# phases run under env -i: the cache is found only through CCACHE_DIR as the phase environment
# carries it.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
masq=/usr/lib/ccache
[[ -x $masq/x86_64-linux-gnu-gcc && -x $masq/gcc ]] || dk_skip "no ccache compiler links in $masq (ccache; scripts/install-deps)"
dk_kernel_test_start distkernel-stage
PMS_BASE=$T/pms
PMS_ROOT=$T/root
mkdir -p "$PMS_ROOT"
cache=$T/ccache
repo=$T/repo/sys-kernel/dkccache
mkdir -p "$repo"
cp "$DK_ECLASS_FIXTURES/dkccache/dkccache.ebuild" "$repo/dkccache-$(dk_tree_version).ebuild"
conf="DK_TREE=$DK_TREE DKCCACHE_BUILD=$prebuilt DKCCACHE_MODULE=$DK_SOURCE_ROOT/tests/fixtures/extmod CCACHE_DIR=$cache"

# stat NAME: one counter of the test's cache (ccache --print-stats).
stat() { CCACHE_DIR=$cache ccache --print-stats | awk -v k="$1" '$1 == k { print $2 }'; }
# build N: the package from a fresh build directory, pkg_setup to src_compile.
build() {
	local phase
	pms_init "$repo/dkccache-$(dk_tree_version).ebuild" sys-kernel
	for phase in pkg_setup src_unpack src_compile; do
		pms_phase "$phase" > "$T/build$1-$phase.log" 2>&1 || { tail -n 30 "$T/build$1-$phase.log" >&2; dk_fail "build $1: $phase died"; }
	done
	[[ -f $PMS_BUILDDIR/work/extmod/dkextmod.ko && -x $PMS_BUILDDIR/work/extmod/dkhost ]] ||
		dk_fail "build $1 made no dkextmod.ko or dkhost"
}

# What Portage does with FEATURES=ccache: its compiler links first in PATH, CCACHE_DIR set.
t0=$SECONDS
PMS_MAKE_CONF=$conf
PATH="$masq:$PATH" build 1
misses=$(stat cache_miss)
[[ ${misses:-0} -ge 3 && $(stat direct_cache_hit) == 0 && $(stat preprocessed_cache_hit) == 0 ]] ||
	dk_fail "the first build: $misses misses, $(stat direct_cache_hit) hits (want the CC and HOSTCC compiles as misses only)"
dk_ok "first build through the eclass's make arguments: $misses compiles went through ccache into CCACHE_DIR ($((SECONDS - t0)) s)"
# make.conf's CC and BUILD_CC (tc-getCC, tc-getBUILD_CC) naming ccache's links, PATH without them.
t0=$SECONDS
PMS_MAKE_CONF="$conf CC=$masq/x86_64-linux-gnu-gcc BUILD_CC=$masq/gcc"
[[ :$PATH: != *:$masq:* ]] || dk_fail "PATH holds $masq already: the second build would not test CC="
build 2
hits=$(( $(stat direct_cache_hit) + $(stat preprocessed_cache_hit) ))
((hits >= 3)) || dk_fail "the second build hit the cache $hits times (misses: $(stat cache_miss))"
[[ $(stat cache_miss) == "$misses" ]] || dk_fail "the second build missed the cache: $(stat cache_miss) misses after $misses"
dk_ok "second build, ccache only through make.conf's CC and BUILD_CC (the eclass's CC=, HOSTCC=): $hits cache hits, no new miss ($((SECONDS - t0)) s)"
echo "ccache test: $((SECONDS - started)) s" >&2
