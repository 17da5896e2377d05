# Helpers for the shell tests (sourced). Every test works under a temporary root; nothing here
# touches the machine's own /boot, /lib/modules or /etc.
set -euo pipefail

: "${DK_SOURCE_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${DK_BUILD_ROOT:=$DK_SOURCE_ROOT/build}"
: "${DK_TOOLS:=$DK_BUILD_ROOT/tools}"
export DK_SOURCE_ROOT DK_BUILD_ROOT DK_TOOLS

# The real parts (kernel tree, Debian kernel), prepared once in the cache.
dk_real_parts() {
	local vars
	vars=$("$DK_SOURCE_ROOT/scripts/real-parts") || dk_fail "cannot prepare the real parts"
	eval "$vars"
	export DK_CACHE DK_TREE DK_DEBIAN_ROOT DK_DEBIAN_KV DK_DEBIAN_CONFIG
}

# A temporary directory removed when the test ends: sets $T.
dk_tmp() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/dk-test.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$T'" EXIT
}

dk_fail() { echo "FAIL: $*" >&2; exit 1; }
dk_skip() { echo "SKIP: $*" >&2; exit 77; }
dk_ok() { echo "ok: $*" >&2; }

# dk_expect_status N cmd...: runs cmd, output to $T/out and $T/err, fails unless it exits N.
dk_expect_status() {
	local want=$1; shift
	local got=0
	"$@" >"$T/out" 2>"$T/err" || got=$?
	if [[ $got != "$want" ]]; then
		echo "--- stdout" >&2; tail -n 30 "$T/out" >&2
		echo "--- stderr" >&2; tail -n 30 "$T/err" >&2
		dk_fail "expected exit $want, got $got: $*"
	fi
}

# dk_grep PATTERN FILE: fails (showing the file) unless FILE has a line matching PATTERN (ERE).
dk_grep() {
	grep -Eq -- "$1" "$2" || { echo "--- $2" >&2; tail -n 40 "$2" >&2; dk_fail "no line matching /$1/ in $2"; }
}
dk_nogrep() {
	! grep -Eq -- "$1" "$2" || { grep -E -- "$1" "$2" >&2; dk_fail "unexpected /$1/ in $2"; }
}
