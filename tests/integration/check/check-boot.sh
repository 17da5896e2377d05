#!/usr/bin/env bash
# The verdicts against reality: the QEMU guest of tests/qemu-boot (described by the fixture
# qemu-pc-virtio.json) checked with two real dracut images of Debian's kernel, then booted with
# each. "ok" must boot to the root's init; "will not boot" (virtio_blk missing) must not.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/check/images.sh"
dk_real_parts
dk_tmp
check=$DK_TOOLS/distkernel-check
fx=$DK_SOURCE_ROOT/tests/fixtures/check/qemu-pc-virtio.json
kernel=$DK_DEBIAN_ROOT/boot/vmlinuz-$DK_DEBIAN_KV
mods=(--modules "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV" --machine "$fx")
good=$(dk_check_image_virtio)
bad=$(dk_check_image_luks)

dk_expect_status 0 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --initramfs "$good"
st=0; "$DK_SOURCE_ROOT/tests/qemu-boot" "$kernel" "$good" "$T/good.log" || st=$?
[[ $st == 77 ]] && dk_skip "QEMU or busybox missing"
[[ $st == 0 ]] || dk_fail "checked ok, but did not boot"
dk_ok "ok -> booted"

dk_expect_status 5 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --initramfs "$bad"
dk_grep 'virtio_blk is a module missing' "$T/err"
# rd.timeout: the initramfs stops waiting for the disk it cannot drive, instead of the full timeout.
st=0; DK_BOOT_APPEND="rd.timeout=20" DK_BOOT_TIMEOUT=${DK_BOOT_TIMEOUT:-120} "$DK_SOURCE_ROOT/tests/qemu-boot" "$kernel" "$bad" "$T/bad.log" || st=$?
[[ $st == 1 ]] || dk_fail "checked 'will not boot', but qemu-boot exited $st"
dk_ok "will not boot -> did not boot"
