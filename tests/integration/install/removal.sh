#!/usr/bin/env bash
# Removal and the boot menu: with layout=grub, grub-mkconfig runs after add, remove and clean
# (inside the root through --hooks chroot; printed, not run, under --root otherwise);
# remove --pretend changes nothing; clean waits for the install lock
# (--lock-timeout); list of a root that does not exist is an error and creates nothing.
# The grub-mkconfig inside the test root is a small script listing /boot/vmlinuz-* as menu
# entries: the real one needs the root's own GRUB userland, which a test root has not.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
[[ $(id -u) == 0 ]] || dk_skip "chroot needs root"
R=$T/root KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install clean=$DK_TOOLS/distkernel-clean
dk_chroot_root "$R" grub sh cat ls echo mkdir
cat > "$R/usr/sbin/grub-mkconfig" <<'EOT'
#!/bin/sh
[ "$1" = -o ] || exit 2
for k in /boot/vmlinuz-*; do [ -e "$k" ] && echo "menuentry $k"; done > "$2"
echo run >> /grub-runs
EOT
chmod 755 "$R/usr/sbin/grub-mkconfig"
cfg=$R/boot/grub/grub.cfg

dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs
dk_grep "GRUB's menu not regenerated under --root: run chroot $R grub-mkconfig -o /boot/grub/grub.cfg" "$T/err"
[[ ! -e $R/grub-runs ]] || dk_fail "grub-mkconfig ran under --root without --hooks chroot"
dk_expect_status 0 "$install" inspect --root "$R"
dk_grep "^grub.cfg: .*install.conf:1 says layout=grub" "$T/err"
dk_ok "--root: the grub-mkconfig command printed, not run"

dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --hooks chroot
dk_grep "menuentry /boot/vmlinuz-$KV\$" "$cfg"
dk_ok "add: grub.cfg lists $KV"

# remove --pretend: says what would go, changes nothing.
base=$(dk_boot_snapshot "$R")
dk_expect_status 0 "$install" remove "$KV" --root "$R" --pretend --hooks chroot
dk_grep "would remove /boot/vmlinuz-$KV" "$T/err"
dk_same_boot "$R" "$base" "remove --pretend"
[[ -f $R/var/lib/distkernel/kernels/$KV.json ]] || dk_fail "remove --pretend dropped the record"

dk_expect_status 0 "$install" remove "$KV" --root "$R" --hooks chroot
[[ ! -e $R/boot/vmlinuz-$KV ]] || dk_fail "remove left the image"
dk_nogrep "vmlinuz-$KV" "$cfg"
dk_ok "remove: grub.cfg no longer lists $KV"

dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --hooks none

# clean takes the install lock: it waits, says so, and gives up after --lock-timeout.
flock "$R/var/lib/distkernel/lock" sleep 3 &
sleep 0.5
dk_expect_status 1 "$clean" --root "$R" --keep 1 --running none-running --lock-timeout 1
dk_grep 'waiting for another distkernel process' "$T/err"
dk_grep 'still holds .* after 1 s' "$T/err"
dk_expect_status 77 "$clean" --root "$R" --keep 1 --running none-running --lock-timeout 20
wait
dk_ok "clean waits for the lock"

# One unreadable state record: list and clean go on with the others, naming the file and the way out.
echo '{ broken' > "$R/var/lib/distkernel/kernels/6.0.0-broken.json"
dk_expect_status 0 "$install" list --root "$R"
dk_grep "^$KV" "$T/out"
dk_grep "6.0.0-broken.json.*" "$T/err"
dk_grep "skipped: fix $R/var/lib/distkernel/kernels/6.0.0-broken.json, or move it away" "$T/err"
dk_expect_status 77 "$clean" --root "$R" --keep 1 --running none-running
dk_grep "skipped: fix .*6.0.0-broken.json" "$T/err"
rm "$R/var/lib/distkernel/kernels/6.0.0-broken.json"
dk_ok "an unreadable record: list and clean go on, the file named"

# A half-committed install (killed after its first rename): list says so.
DISTKERNEL_TEST_KILL_AFTER_RENAMES=1 dk_expect_status 137 "$install" add "$KV" --root "$R" --no-initramfs --hooks none
dk_expect_status 0 "$install" list --root "$R"
dk_grep "an install of $KV is half committed \(journal $R/var/lib/distkernel/journal.json\)" "$T/err"
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --hooks none
dk_expect_status 0 "$install" list --root "$R"
dk_nogrep "half committed" "$T/err"
dk_ok "list says when an install is half committed"

# list of a root that does not exist: an error, nothing created.
dk_expect_status 1 "$install" list --root "$T/nonexistent"
dk_grep "$T/nonexistent is not a directory" "$T/err"
[[ ! -e $T/nonexistent ]] || dk_fail "list created $T/nonexistent"
dk_expect_status 1 "$clean" --root "$T/nonexistent" --pretend
[[ ! -e $T/nonexistent ]] || dk_fail "clean created $T/nonexistent"
dk_ok "a root that does not exist: error, nothing created"

# A BLS entry under --root takes its title and sort key from the root's os-release (kernel-install
# reads the build machine's).
B=$T/bls
dk_stage_debian "$B"
mkdir -p "$B/etc" "$B/boot/loader/entries"
printf 'NAME=Gentoo\nID=gentoo\nPRETTY_NAME="Gentoo Linux"\n' > "$B/etc/os-release"
printf '0123456789abcdef0123456789abcdef\n' > "$B/etc/machine-id"
dk_expect_status 0 "$install" add "$KV" --root "$B" --layout bls --no-initramfs
entry=$(find "$B/boot/loader/entries" -name "*$KV*.conf")
[[ -f $entry ]] || dk_fail "no BLS entry"
dk_grep '^sort-key gentoo$' "$entry"
dk_nogrep '^sort-key +debian' "$entry"
dk_grep '^title Gentoo Linux$' "$entry"
dk_ok "BLS: sort key and title from the root's os-release"

# The running-kernel guard knows the live system by device and inode, not by its spelling: inside
# a chroot whose / holds a record of the running release, --root /alias (a link to /) is the live
# system too. The chroot sees this machine's /usr (read-only), the build tree and its own /proc
# (the dynamic loader finds $ORIGIN through it).
J=$T/jail kr=$(uname -r)
mkdir -p "$J/usr" "$J/work" "$J/proc" "$J/boot" "$J/var/lib/distkernel/kernels"
for l in bin lib lib64 sbin; do ln -s "usr/$l" "$J/$l"; done
ln -s / "$J/alias"
echo image > "$J/boot/vmlinuz-$kr"
python3 - "$J/var/lib/distkernel/kernels/$kr.json" "$kr" <<'PY'
import hashlib, json, sys
f, kr = sys.argv[1], sys.argv[2]
json.dump({"schema": "distkernel.deployment", "version": "1.0", "release": kr, "variant": "x", "layout": "installkernel",
           "time": "2026-01-01T00:00:00Z", "files": [{"path": "/boot/vmlinuz-" + kr, "size": 6,
           "sha256": hashlib.sha256(b"image\n").hexdigest()}], "dirs": []}, open(f, "w"))
PY
tools=$(realpath "$DK_TOOLS") src=$(realpath "$DK_SOURCE_ROOT")
build=$(realpath "$DK_TOOLS/..")
mkdir -p "$J$build" "$J$src"
dk_expect_status 1 unshare -m -p -f sh -c "mount --bind -o ro /usr '$J/usr' && mount -t proc proc '$J/proc' && mount --rbind '$build' '$J$build' &&
	chroot '$J' '$tools/distkernel-install' remove '$kr' --root /alias --hooks none"
dk_grep "refusing to remove $kr: it is the running kernel" "$T/err"
[[ -f $J/boot/vmlinuz-$kr ]] || dk_fail "--root /alias removed the running kernel"
dk_ok "--root /alias (-> /): the running kernel is refused"
