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
# revision), in a repository under DIR; prints its path.
dk_test_ebuild() {
	local dir=$1/repo/sys-kernel/dktest-kernel
	local file
	file=$dir/dktest-kernel-$(dk_tree_version)${2-}.ebuild
	mkdir -p "$dir"
	ln -sfn "$DK_ECLASS_FIXTURES/dktest-kernel/files" "$dir/files"
	cp "$DK_ECLASS_FIXTURES/dktest-kernel/dktest-kernel.ebuild" "$file"
	echo "$file"
}

# dk_build_key WORKDIR ENVIRONMENT: the cache key of a kernel build: the tree (its extraction
# stamp), the configured .config, the eclass's make arguments (the functions that make them,
# from the saved environment) and the build directory's path (kbuild records absolute paths).
dk_build_key() {
	local workdir=$1 env=$2
	{
		cat "$DK_TREE/.distkernel-extracted"
		cat "$workdir/build/.config"
		# shellcheck disable=SC2016
		env -i bash --norc --noprofile -c 'source "$1" 2>/dev/null; declare -f dist-kernel_src_compile _dist-kernel_toolchain_args; echo "$CHOST"' _ "$env"
		echo "$workdir"
	} | sha256sum | cut -c1-16
}
