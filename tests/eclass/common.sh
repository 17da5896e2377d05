# Shared set-up of the eclass tests (sourced after tests/lib.sh and harness.sh).
# shellcheck shell=bash

DK_ECLASS_FIXTURES=$DK_SOURCE_ROOT/tests/fixtures/eclass
# The harness's toolchain-funcs stand-in first, the project's eclasses over it.
PMS_ECLASSDIRS="$DK_ECLASS_FIXTURES/eclass $DK_SOURCE_ROOT/eclass"
export PMS_ECLASSDIRS

# dk_tree_version: the kernel version of $DK_TREE (VERSION.PATCHLEVEL.SUBLEVEL).
dk_tree_version() {
	awk -F' *= *' '$1=="VERSION"{v=$2} $1=="PATCHLEVEL"{p=$2} $1=="SUBLEVEL"{s=$2}
		END{print v "." p "." s}' "$DK_TREE/Makefile"
}

# dk_test_ebuild DIR [-rN]: the test kernel's ebuild, named after the tree's version (and a
# revision), in a repository under DIR; prints its path. DK_KERNEL_FIXTURE names another kernel
# ebuild of tests/fixtures/eclass (default dktest-kernel).
dk_test_ebuild() {
	local pn=${DK_KERNEL_FIXTURE:-dktest-kernel}
	local dir=$1/repo/sys-kernel/$pn
	local file
	file=$dir/$pn-$(dk_tree_version)${2-}.ebuild
	mkdir -p "$dir"
	ln -sfn "$DK_ECLASS_FIXTURES/$pn/files" "$dir/files"
	cp "$DK_ECLASS_FIXTURES/$pn/$pn.ebuild" "$file"
	echo "$file"
}

# dk_real_test_start TOOL...: the start of a test with the real parts: them, a temporary
# directory ($T), the TOOLs it runs built and $started (for the test's time).
dk_real_test_start() {
	dk_real_parts
	dk_tmp
	local tool
	for tool in "$@"; do
		[[ -x $DK_TOOLS/$tool ]] || dk_fail "$tool is not built in $DK_TOOLS"
	done
	started=$SECONDS
}

# dk_kernel_test_start TOOL...: dk_real_test_start, and $prebuilt, the build directory of the
# shared test kernel (tests/test-kernel), and PMS_BUILD_LOCK, which the phases that run make
# in it hold (other tests use it at the same time).
dk_kernel_test_start() {
	dk_real_test_start "$@"
	prebuilt=$("$DK_SOURCE_ROOT/tests/test-kernel") || dk_fail "the shared test kernel did not build"
	PMS_BUILD_LOCK=$prebuilt.make.lock
}

# dk_use_every IUSE FLAGS: sets PMS_USE to every flag of IUSE, on when it is in the word list
# FLAGS and off otherwise: the IUSE defaults do not decide.
dk_use_every() {
	local f
	PMS_USE=
	for f in $1; do
		f=${f#[+-]}
		if [[ " $2 " == *" $f "* ]]; then PMS_USE+="$f "; else PMS_USE+="-$f "; fi
	done
}
