#!/usr/bin/env bash
# gentoo-kernel-bin's tarball through the harness's fetch (pms_fetch: SRC_URI into DISTDIR as
# emerge fetches it). The overlay's ebuild as it is (KERNEL_BIN_URI empty: nothing hosted) is
# fetch-restricted: nothing is downloaded, pkg_nofetch prints the recipe and the fetch fails.
# The same ebuild with KERNEL_BIN_URI set, as the maintainer sets it once releases are hosted, to
# a directory served by python3 -m http.server on 127.0.0.1: RESTRICT has no fetch, SRC_URI is
# the served file, and pms_fetch downloads it into DISTDIR byte for byte, as A for the phases.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_tmp
PMS_BASE=$T/pms
PMS_ROOT=$T/root
mkdir -p "$PMS_ROOT"
real=$(echo "$DK_SOURCE_ROOT"/ebuilds/sys-kernel/gentoo-kernel-bin/gentoo-kernel-bin-*.ebuild)
[[ -f $real ]] || dk_fail "no single gentoo-kernel-bin ebuild in the overlay: $real"
name=${real##*/}
tarball=${name%.ebuild}-amd64.tar.xz

# --- as it is: fetch-restricted ----------------------------------------------------------------
pms_init "$real" sys-kernel
pms_metadata || dk_fail "sourcing $real failed"
[[ " $PMS_META_RESTRICT " == *" fetch "* ]] || dk_fail "$name: KERNEL_BIN_URI is empty but RESTRICT=\"$PMS_META_RESTRICT\" has no fetch"
if pms_fetch > "$T/nofetch.log" 2>&1; then cat "$T/nofetch.log" >&2; dk_fail "$name: fetched without a URI"; fi
dk_grep "not in DISTDIR and not fetchable \(RESTRICT=\"fetch\"\): $tarball\$" "$T/nofetch.log"
dk_grep "$tarball is not hosted yet" "$T/nofetch.log"
dk_grep "tar -C .* -cJf $tarball " "$T/nofetch.log"
dk_nogrep 'downloading' "$T/nofetch.log"
dk_ok "$name as it is: RESTRICT=fetch, nothing downloaded, pkg_nofetch gives the recipe for $tarball"

# --- KERNEL_BIN_URI set: served on 127.0.0.1 ---------------------------------------------------
mkdir -p "$T/served/releases"
head -c 200000 /dev/urandom > "$T/served/releases/$tarball"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$T/served" > "$T/http.log" 2>&1 &
server=$!
# shellcheck disable=SC2064 # the server's pid and $T now
trap "kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -rf '$T'" EXIT
port=
for _ in $(seq 100); do
	port=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\) .*/\1/p' "$T/http.log")
	[[ -n $port ]] && break
	kill -0 "$server" 2>/dev/null || { cat "$T/http.log" >&2; dk_fail "python3 -m http.server did not start"; }
	sleep 0.1
done
[[ -n $port ]] || { cat "$T/http.log" >&2; dk_fail "python3 -m http.server named no port in 10 s"; }
uri=http://127.0.0.1:$port/releases
repo=$T/repo/sys-kernel/gentoo-kernel-bin
mkdir -p "$repo"
sed "s|^KERNEL_BIN_URI=\"\"\$|KERNEL_BIN_URI=\"$uri\"|" "$real" > "$repo/$name"
dk_grep "^KERNEL_BIN_URI=\"$uri\"\$" "$repo/$name"
pms_init "$repo/$name" sys-kernel
pms_metadata || dk_fail "sourcing $repo/$name failed"
[[ " $PMS_META_RESTRICT " != *" fetch "* ]] || dk_fail "KERNEL_BIN_URI=$uri but RESTRICT=\"$PMS_META_RESTRICT\""
[[ $(_pms_src_uri_files "$PMS_META_SRC_URI" "$PMS_META_USE") == "$uri/$tarball $tarball" ]] ||
	dk_fail "SRC_URI=\"$PMS_META_SRC_URI\" under USE=\"$PMS_META_USE\" is not $uri/$tarball"
pms_fetch > "$T/fetch.log" 2>&1 || { cat "$T/fetch.log" "$T/http.log" >&2; dk_fail "pms_fetch of $uri/$tarball failed"; }
cmp "$T/served/releases/$tarball" "$PMS_BUILDDIR/distdir/$tarball" || dk_fail "DISTDIR's $tarball is not the served file"
[[ $PMS_A == "$tarball" ]] || dk_fail "A='$PMS_A' after the fetch, want $tarball"
dk_grep "\"GET /releases/$tarball HTTP/1\.[01]\" 200" "$T/http.log"
dk_ok "KERNEL_BIN_URI=$uri: no fetch restriction, SRC_URI is the served $tarball, downloaded into DISTDIR as A"
