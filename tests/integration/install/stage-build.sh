#!/usr/bin/env bash
# distkernel-stage build on a real kernel build: the shared small test kernel (tests/test-kernel,
# built once per run into the cache, about 6 minutes when not cached; virtio and ext4 are
# modules), staged with xz-compressed modules; the headers tree must build an external module
# whose vermagic matches, and distkernel-install must install it with those modules in the
# initramfs. The shared build directory is only read (make kernelrelease, modules_install).
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
B=$("$DK_SOURCE_ROOT/tests/test-kernel") || dk_fail "the shared test kernel did not build"
R=$T/root
dk_expect_status 0 "$DK_TOOLS/distkernel-stage" build --tree "$DK_TREE" -O "$B" --dest "$R" --variant tiny \
	--compress-modules xz --strip-modules
KV=$(cat "$T/out")
src=$R/usr/src/linux-$KV mod=$R/lib/modules/$KV
for f in arch/x86/boot/bzImage .config System.map Module.symvers Makefile Kconfig include/generated/autoconf.h \
	include/config/kernel.release scripts/mod/modpost arch/x86/include/asm/processor.h distkernel.json; do
	[[ -f $src/$f ]] || dk_fail "missing $src/$f"
done
[[ -z $(find "$src" -name '*.o' -o -name '.*.cmd' -o -name signing_key.pem | head -n 1) ]] || dk_fail "objects or keys staged"
[[ -f $mod/kernel/fs/ext4/ext4.ko.xz ]] || dk_fail "ext4 not compressed with xz"
[[ -z $(find "$mod" -name '*.ko') ]] || dk_fail "uncompressed modules left"
dk_grep 'ext4.ko.xz' "$mod/modules.dep"
[[ $(readlink "$mod/build") == ../../../usr/src/linux-$KV ]] || dk_fail "build symlink"
dk_ok "staged $KV from a real build"

# External modules build against the staged tree alone (the build directory is not used).
mkdir -p "$T/ext"
printf '#include <linux/module.h>\nstatic int __init h(void) { return 0; }\nmodule_init(h);\nMODULE_LICENSE("GPL");\n' > "$T/ext/hello.c"
echo 'obj-m := hello.o' > "$T/ext/Kbuild"
make -s -C "$mod/build" M="$T/ext" modules >"$T/ext.log" 2>&1 || { cat "$T/ext.log" >&2; dk_fail "external module build"; }
[[ $(modinfo -F vermagic "$T/ext/hello.ko") == "$KV "* ]] || dk_fail "vermagic $(modinfo -F vermagic "$T/ext/hello.ko")"
dk_ok "an external module builds against $src"

# Installed from the staged tree: the initramfs is built from the xz modules (libkmod reads xz).
# (Not booted here: the eclass test boots this kernel; boot.sh boots Debian's.)
dk_expect_status 0 "$DK_TOOLS/distkernel-install" add "$KV" --root "$R" --layout installkernel -v \
	--dracut-arg=--drivers --dracut-arg="virtio_pci virtio_blk ext4" \
	--dracut-arg=--omit --dracut-arg="crypt dm nvdimm lunmask resume qemu virtiofs terminfo usrmount"
for f in vmlinuz-$KV initramfs-$KV.img System.map-$KV config-$KV; do
	[[ -f $R/boot/$f ]] || dk_fail "no /boot/$f"
done
cmp "$R/boot/vmlinuz-$KV" "$B/arch/x86/boot/bzImage" || dk_fail "installed image differs from the build's"
# Listed into a file first: `lsinitrd | grep -q` fails under pipefail when grep stops reading early.
lsinitrd "$R/boot/initramfs-$KV.img" >"$T/lsinitrd" 2>&1 || dk_fail "lsinitrd cannot read the initramfs"
dk_grep 'ext4\.ko' "$T/lsinitrd"
dk_ok "the staged small kernel installs with its xz modules in the initramfs"
