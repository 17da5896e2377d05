#!/usr/bin/env bash
# Fault cases of distkernel-install add, each leaving the previous installation byte-identical
# (sha256 of every file under ROOT/boot, and the list of entries): dracut failing, installkernel
# failing, a process killed half-way (in the rename phase and during dracut) followed by a new
# run, two installs at once, a release with ../, /boot too small (a small tmpfs mounted at
# ROOT/boot). Real dracut and installkernel everywhere except the one program meant to fail.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
R=$T/root KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install fixtures=$DK_SOURCE_ROOT/tests/fixtures/install
dk_stage_debian "$R"

# The previous installation every case must leave alone.
dk_expect_status 0 "$install" add "$KV" --root "$R" --layout installkernel "${DK_SMALL_DRACUT[@]}"
base=$(dk_boot_snapshot "$R")
record=$(sha256sum "$R/var/lib/distkernel/kernels/$KV.json")

dk_expect_status 1 "$install" add "$KV" --root "$R" --dracut "$fixtures/failing-dracut"
dk_grep 'dracut failed \(exit 1\)' "$T/err"
dk_grep 'emerge --config' "$T/err"
dk_same_boot "$R" "$base" "dracut failing"

dk_expect_status 1 "$install" add "$KV" --root "$R" --installkernel "$fixtures/failing-installkernel" "${DK_SMALL_DRACUT[@]}"
dk_grep 'failing-installkernel failed \(exit 1\)' "$T/err"
dk_same_boot "$R" "$base" "installkernel failing"

# Killed in the middle of the renames into /boot (switching to the BLS layout, so that files are
# both added and moved aside): the journal is left behind; the next run rolls it back first.
mkdir -p "$R/boot/loader/entries"
base_bls=$(dk_boot_snapshot "$R")
DISTKERNEL_TEST_KILL_AFTER_RENAMES=3 dk_expect_status 137 "$install" add "$KV" --root "$R" --layout bls "${DK_SMALL_DRACUT[@]}"
[[ -f $R/var/lib/distkernel/journal.json ]] || dk_fail "no journal after a killed install"
[[ $(dk_boot_snapshot "$R") != "$base_bls" ]] || dk_fail "the kill came before any rename: the case tests nothing"
dk_expect_status 1 "$install" add "$KV" --root "$R" --dracut "$fixtures/failing-dracut"
dk_grep 'was interrupted .*rolling it back' "$T/err"
[[ ! -f $R/var/lib/distkernel/journal.json ]] || dk_fail "journal still there after recovery"
dk_same_boot "$R" "$base_bls" "killed in the rename phase, then a new run"
[[ $(sha256sum "$R/var/lib/distkernel/kernels/$KV.json") == "$record" ]] || dk_fail "state record not restored"

# Killed from outside while dracut runs: the staging directory is left; the next run removes it.
setsid "$install" add "$KV" --root "$R" --layout installkernel "${DK_SMALL_DRACUT[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [[ -d $R/boot/.distkernel-new-$KV ]] && break; sleep 0.1; done
sleep 1
kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
dk_expect_status 1 "$install" add "$KV" --root "$R" --dracut "$fixtures/failing-dracut"
dk_same_boot "$R" "$base_bls" "killed during dracut, then a new run"

# Two installs at once: the second waits, saying so, and gives up after --lock-timeout naming the
# lock; the first completes. (Waiting through to success: install-removal's clean case.)
rm -rf "$R/boot/loader"
base=$(dk_boot_snapshot "$R")
"$install" add "$KV" --root "$R" --layout installkernel "${DK_SMALL_DRACUT[@]}" >"$T/first.out" 2>"$T/first.err" &
first=$!
for _ in $(seq 100); do [[ -d $R/boot/.distkernel-new-$KV ]] && break; sleep 0.1; done
dk_expect_status 1 "$install" add "$KV" --root "$R" --layout installkernel "${DK_SMALL_DRACUT[@]}" --lock-timeout 1
dk_grep "waiting for another distkernel process \(it holds $R/var/lib/distkernel/lock\), up to 1 s" "$T/err"
dk_grep "another distkernel process still holds $R/var/lib/distkernel/lock after 1 s" "$T/err"
wait "$first" || { cat "$T/first.err" >&2; dk_fail "the first of two concurrent installs failed"; }
dk_expect_status 0 "$install" list --root "$R"
dk_grep "^$KV	installkernel	" "$T/out"
dk_ok "two installs at once: the second waited, then gave up with the lock's name; the first done"

# reinstall regenerates the initramfs with the recorded layout and dracut arguments.
dk_expect_status 2 "$install" reinstall --root "$R"
old_initrd=$(stat -c %Y.%i "$R/boot/initramfs-$KV.img")
dk_expect_status 0 "$install" reinstall --all --root "$R" --json
python3 - "$T/out" "$KV" <<'PY' || dk_fail "reinstall --json"
import json, sys
d = json.load(open(sys.argv[1]))
k = d["kernels"][0]
assert k["release"] == sys.argv[2] and k["layout"] == "installkernel", k
assert "--drivers" in k["dracut_args"], k["dracut_args"]
PY
[[ $(stat -c %Y.%i "$R/boot/initramfs-$KV.img") != "$old_initrd" ]] || dk_fail "reinstall did not replace the initramfs"
dk_expect_status 1 "$install" reinstall 6.1.0-99-none --root "$R"
dk_ok "reinstall --all redeploys with the recorded settings"

# A release with ../ never becomes a path.
base=$(dk_boot_snapshot "$R")
dk_expect_status 2 "$install" add "../$KV" --root "$R"
dk_expect_status 2 "$install" add "$KV/../../x" --root "$R"
dk_same_boot "$R" "$base" "release with ../"

# /boot too small: a 32 MiB tmpfs holds one install (~21 MB) but not a second beside it.
R2=$T/small
if ! mkdir -p "$R2/boot" || ! mount -t tmpfs -o size=32m distkernel-test "$R2/boot" 2>"$T/mount.err"; then
	cat "$T/mount.err" >&2
	echo "SKIP part: cannot mount a tmpfs at $R2/boot (not root?): /boot-too-small not tested" >&2
	exit 77
fi
trap 'umount "$R2/boot" 2>/dev/null; rm -rf "$T"' EXIT
cp -a "$R/usr" "$R/lib" "$R/etc" "$R2/"
dk_expect_status 0 "$install" add "$KV" --root "$R2" --layout installkernel "${DK_SMALL_DRACUT[@]}"
small=$(dk_boot_snapshot "$R2")
dk_expect_status 1 "$install" add "$KV" --root "$R2" --layout installkernel "${DK_SMALL_DRACUT[@]}"
dk_grep '[Nn]o space left' "$T/err"
dk_same_boot "$R2" "$small" "/boot too small"
