#!/usr/bin/env bash
# The three machine snapshots (tests/fixtures/check) against Debian's real module tree and real
# dracut images: ok, will boot with losses, will not boot (naming the missing drivers).
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/check/images.sh"
dk_real_parts
dk_tmp
fx=$DK_SOURCE_ROOT/tests/fixtures/check
check=$DK_TOOLS/distkernel-check
mods=(--modules "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV")
virtio=$(dk_check_image_virtio)
luks=$(dk_check_image_luks)
no_nvme=$(dk_check_image_no_nvme)
verdict() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["verdict"], d["exit_code"])' "$1"; }

# virtio VM, ext4 root, the small zstd image: ok.
dk_expect_status 0 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$fx/virtio-vm.json" --initramfs "$virtio" --json
[[ $(verdict "$T/out") == "ok 0" ]] || dk_fail "virtio VM: $(verdict "$T/out")"
dk_grep "^$DK_DEBIAN_KV: ok$" "$T/err"
dk_grep '"cpio \(zstd\)"' "$T/out"
dk_ok "virtio VM boots with the virtio image"

# The same VM with the LUKS image (xz): virtio_blk is missing from it -> will not boot, named.
dk_expect_status 5 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$fx/virtio-vm.json" --initramfs "$luks"
dk_grep "^$DK_DEBIAN_KV: will not boot$" "$T/err"
dk_grep "error \[root\]: .*virtio_blk is a module missing from $luks" "$T/err"
dk_ok "virtio VM cannot boot from an image without virtio_blk"

# NVMe laptop with LUKS: the LUKS image holds nvme, dm_crypt, ext4 -> boots, but loses the
# NVIDIA driver (external) and spi_intel_pci (not in Debian's 6.1).
dk_expect_status 4 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$fx/laptop-nvme-luks.json" --initramfs "$luks" --json
[[ $(verdict "$T/out") == "will boot with losses 4" ]] || dk_fail "laptop: $(verdict "$T/out")"
dk_nogrep 'error \[' "$T/err"
dk_grep 'loss \[modules\]: module nvidia is loaded now' "$T/err"
dk_grep 'loss \[hardware\]: .*0000:00:1f.5 loses its driver intel-spi' "$T/err"
dk_nogrep 'loses its driver (nvme|iwlwifi|i915|xhci_hcd)' "$T/err"
dk_ok "laptop boots with losses, named"

# The laptop against an image built without nvme (gzip): root unreachable, nvme named.
dk_expect_status 5 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$fx/laptop-nvme-luks.json" --initramfs "$no_nvme"
dk_grep "error \[root\]: nvme0n1 of / device .*0000:02:00.0 \(driver nvme, .*\): nvme is a module missing from $no_nvme" "$T/err"
dk_nogrep 'dm_crypt is a module missing' "$T/err"
dk_ok "laptop without nvme in the initramfs: will not boot, nvme named"

# The desktop: XFS on SATA behind AHCI, against the virtio image: xfs, sd_mod, ahci named.
dk_expect_status 5 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$fx/desktop-ahci-xfs.json" --initramfs "$virtio" --json
for m in xfs sd_mod ahci; do
	dk_grep "error \[root\]: .*: $m is a module missing from" "$T/err"
done
python3 - "$T/out" <<'PY' || dk_fail "JSON findings of the desktop"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "distkernel.check" and d["version"].startswith("1."), d
errs = [f for f in d["findings"] if f["severity"] == "error"]
assert sorted(c for f in errs for c in f["detail"]["candidates"]) == ["ahci", "sd_mod", "xfs"], errs
PY
dk_ok "desktop on AHCI+XFS: will not boot, three drivers named"

# A module in the initramfs whose dependency is not: dm_crypt without dm_mod is not usable.
mkdir -p "$T/partial/usr/lib/modules/$DK_DEBIAN_KV/kernel/drivers/md"
for m in nvme nvme-core ext4 jbd2 mbcache crc16 crc32c_generic; do
	f=$(find "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV/kernel" -name "$m.ko" | head -n 1)
	[[ -n $f ]] && cp "$f" "$T/partial/usr/lib/modules/$DK_DEBIAN_KV/kernel/drivers/md/"
done
cp "$(find "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV/kernel" -name dm-crypt.ko)" "$T/partial/usr/lib/modules/$DK_DEBIAN_KV/kernel/drivers/md/"
(cd "$T/partial" && find . | cpio -o -H newc --quiet | gzip -1) > "$T/partial.img"
dk_expect_status 5 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$fx/laptop-nvme-luks.json" --initramfs "$T/partial.img"
dk_grep "dm_crypt is in $T/partial.img but not its dependencies .*dm_mod" "$T/err"
dk_nogrep "nvme is a module missing" "$T/err"
dk_ok "a module whose dependency is missing is not usable"

# Room: the laptop's /boot with 1000 bytes free.
python3 - "$fx/laptop-nvme-luks.json" "$T/full.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["mounts"]["boot"]["free_bytes"] = 1000
json.dump(d, open(sys.argv[2], "w"))
PY
dk_expect_status 5 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$T/full.json" --initramfs "$luks" \
	--image "$DK_DEBIAN_ROOT/boot/vmlinuz-$DK_DEBIAN_KV"
dk_grep "error \[room\]: /boot has 1000 bytes free, $DK_DEBIAN_KV needs about [0-9]+" "$T/err"
dk_ok "no room in /boot is an error with the figures"

# Built-in code that is not in modules.builtin (a bool option: tracefs has only an entry in
# modules.builtin.modinfo) counts as built in: no initramfs needed for it.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["mounts"]["root"]["fstype"]="tracefs"; json.dump(d,open(sys.argv[2],"w"))' \
	"$fx/virtio-vm.json" "$T/tracefs.json"
dk_expect_status 0 "$check" "$DK_DEBIAN_KV" "${mods[@]}" --machine "$T/tracefs.json" --initramfs "$virtio" -v
dk_grep 'root: tracefs filesystem of / \(/dev/vda\) -> tracefs \(built in\)' "$T/err"
dk_ok "built-in code known only from modules.builtin.modinfo"
