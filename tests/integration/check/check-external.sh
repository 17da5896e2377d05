#!/usr/bin/env bash
# External modules: a module in the new kernel's extra/ built for another kernel (its vermagic
# rewritten in place: a real module file otherwise), a module given with --module, and a
# package's module built for the running kernel that the new one lacks; room when installed.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/check/images.sh"
dk_real_parts
dk_tmp
check=$DK_TOOLS/distkernel-check
fx=$DK_SOURCE_ROOT/tests/fixtures/check
kv=$DK_DEBIAN_KV
r=$T/root
mkdir -p "$r/lib/modules" "$r/boot"
# A root of its own: the Debian tree as a symlink farm (cheap), plus what packages add.
cp -as "$DK_DEBIAN_ROOT/lib/modules/$kv" "$r/lib/modules/$kv"
dummy=$(find "$DK_DEBIAN_ROOT/lib/modules/$kv/kernel" -name dummy.ko)
# Another release of the same length (the module file is rewritten in place): each digit of
# Debian's ABI number ("57" in 6.1.0-57-amd64) moved on by one; Debian bumps that number.
abi=$(sed -E 's/^[0-9]+\.[0-9]+\.[0-9]+-([0-9]+)-.*/\1/' <<<"$kv")
other=${kv/-$abi-/-$(tr 0-9 1-90 <<<"$abi")-}
[[ ${#other} == "${#kv}" && $other != "$kv" ]] || dk_fail "cannot make a same-length release from $kv"
mkdir -p "$r/lib/modules/$kv/extra" "$r/lib/modules/6.6.30-gentoo-dist/extra"
sed "s/vermagic=$kv /vermagic=$other /" "$dummy" > "$r/lib/modules/$kv/extra/vbox_old.ko"
cp "$dummy" "$r/lib/modules/$kv/extra/good.ko"
sed "s/vermagic=$kv /vermagic=$other /" "$dummy" > "$r/lib/modules/6.6.30-gentoo-dist/extra/nvidia.ko"
sed "s/vermagic=$kv /vermagic=$other /" "$dummy" > "$T/given.ko"
cp "$(dk_check_image_luks)" "$r/boot/initramfs-$kv.img"
cp "$DK_DEBIAN_ROOT/boot/vmlinuz-$kv" "$r/boot/vmlinuz-$kv"

dk_expect_status 4 "$check" "$kv" --root "$r" --machine "$fx/laptop-nvme-luks.json" --module "$T/given.ko" --json
dk_grep "loss \[external\]: $r/lib/modules/$kv/extra/vbox_old.ko \(external module\): built for $other, not $kv" "$T/err"
dk_nogrep "good.ko" "$T/err"
dk_grep "loss \[external\]: $T/given.ko: built for $other" "$T/err"
dk_grep "loss \[external\]: /lib/modules/6.6.30-gentoo-dist/extra/nvidia.ko was built for the running kernel 6.6.30-gentoo-dist; $kv has no nvidia" "$T/err"
dk_grep "info \[room\]: $kv is already installed \($r/boot/vmlinuz-$kv\)" "$T/err"
dk_grep "\"initramfs\": \"$r/boot/initramfs-$kv.img\"" "$T/out"
dk_ok "external modules with the wrong vermagic are losses; the initramfs found in the root's /boot"

# A UKI layout: the initramfs is the .initrd section of BOOT/EFI/Linux/TOKEN-KV.efi (Debian's
# vmlinuz is a PE image with an EFI stub; objcopy adds the section as ukify would).
u=$T/uki
mkdir -p "$u/lib/modules" "$u/boot/EFI/Linux"
cp -as "$DK_DEBIAN_ROOT/lib/modules/$kv" "$u/lib/modules/$kv"
objcopy --add-section .initrd="$(dk_check_image_virtio)" --change-section-vma .initrd=0x3000000 \
	"$DK_DEBIAN_ROOT/boot/vmlinuz-$kv" "$u/boot/EFI/Linux/0123abcd-$kv.efi"
# Another release that contains this one as a substring (KV0), listed first: not this kernel's.
echo "not this kernel" > "$u/boot/EFI/Linux/0000aaaa-${kv}0.efi"
dk_expect_status 0 "$check" "$kv" --root "$u" --machine "$fx/virtio-vm.json" --json
dk_grep "\"initramfs\": \"$u/boot/EFI/Linux/0123abcd-$kv.efi \(.initrd\)\"" "$T/out"
dk_grep '"cpio \(zstd\)"' "$T/out"
dk_expect_status 5 "$check" "$kv" --root "$u" --machine "$fx/desktop-ahci-xfs.json"
dk_grep "ahci is a module missing from $u/boot/EFI/Linux/0123abcd-$kv.efi \(.initrd\)" "$T/err"
dk_ok "UKI: the initramfs read from its .initrd section"
