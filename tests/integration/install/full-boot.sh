#!/usr/bin/env bash
# A full /boot on a real ext4 filesystem (a small loop-mounted image, as /boot partitions are),
# where a library copy can report success for a partial file: distkernel-install add must fail,
# name /boot and the space, and leave the previous kernel and every boot file as they were, with
# no partial file behind. Then the same /boot with room: every file written is whole.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
R=$T/root KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install
dk_stage_debian "$R"
mkdir -p "$R/boot"

# 24 MiB of ext4 leaves about 19.4 MiB: the previous kernel (8.5 MB, installed without an
# initramfs) and the new kernel's image beside it fit, its 13 MB initramfs does not.
truncate -s 24M "$T/boot.img"
mkfs.ext4 -q -F "$T/boot.img"
if ! mount -o loop "$T/boot.img" "$R/boot" 2>"$T/mount.err"; then
	cat "$T/mount.err" >&2
	dk_skip "cannot loop-mount an ext4 image at $R/boot (not root?)"
fi
trap 'umount "$R/boot" 2>/dev/null; rm -rf "$T"' EXIT

dk_expect_status 0 "$install" add "$KV" --root "$R" --layout installkernel --no-initramfs
mkdir -p "$R/boot/grub"
echo "menuentry previous" > "$R/boot/grub/grub.cfg"
base=$(dk_boot_snapshot "$R")
record=$(sha256sum "$R/var/lib/distkernel/kernels/$KV.json")

dk_expect_status 1 "$install" add "$KV" --root "$R" --layout installkernel "${DK_SMALL_DRACUT[@]}"
dk_grep "no space left on $R/boot" "$T/err"
dk_grep '[0-9]+ KiB free, [0-9]+ KiB needed' "$T/err"
dk_grep 'emerge --config' "$T/err"
dk_same_boot "$R" "$base" "initramfs larger than the room left on an ext4 /boot"
[[ $(sha256sum "$R/var/lib/distkernel/kernels/$KV.json") == "$record" ]] || dk_fail "state record changed"
[[ ! -e $R/var/lib/distkernel/journal.json ]] || dk_fail "journal left behind"
dk_expect_status 0 "$install" list --root "$R" --json
python3 - "$T/out" "$KV" <<'PY' || dk_fail "list after the failed install"
import json, sys
d = json.load(open(sys.argv[1]))
[k] = d["kernels"]
assert k["release"] == sys.argv[2] and not k["initramfs"], k
PY

# With room (the previous kernel removed), the same install succeeds and every file in /boot is
# whole: the image and map against the staged ones, the initramfs by its recorded sha256 and a
# gzip/zstd/cpio magic at its start.
dk_expect_status 0 "$install" remove "$KV" --root "$R"
dk_expect_status 0 "$install" add "$KV" --root "$R" --layout installkernel "${DK_SMALL_DRACUT[@]}" --json
cmp "$R/boot/vmlinuz-$KV" "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" || dk_fail "vmlinuz differs from the staged image"
python3 - "$T/out" "$R" <<'PY' || dk_fail "the deployed files against the record"
import hashlib, json, os, stat, sys
d = json.load(open(sys.argv[1]))
root = sys.argv[2]
for f in d["files"]:
    p = root + f["path"]
    data = open(p, "rb").read()
    assert len(data) == f["size"], (p, len(data), f["size"])
    assert hashlib.sha256(data).hexdigest() == f["sha256"], p
    if "initramfs" in p:
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o644, oct(os.stat(p).st_mode)
PY
dk_ok "with room: every file in /boot matches its record, the initramfs is 0644"
