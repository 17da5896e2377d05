#!/usr/bin/env bash
# The root filesystem's module at install: a root whose filesystem (ROOT/etc/fstab's "/" line, or
# rootfstype= / root=ZFS= in ROOT/etc/kernel/cmdline) needs a module that the kernel neither builds
# in nor has under ROOT/lib/modules/KV (zfs, from another package) gets a warning at add that
# names the filesystem, where it was read, the missing module and what brings the initramfs up to
# date (the module package's postinst, through distkernel-install reinstall); a root filesystem
# the kernel can mount (ext4, a staged module) gets none. Debian's real kernel staged with a small
# real module tree, no initramfs (the warning is the install's, before dracut).
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
start=$SECONDS
R=$T/root KV=$DK_DEBIAN_KV install=$DK_TOOLS/distkernel-install
mods=$T/modules/$KV deb_mods=$DK_DEBIAN_ROOT/lib/modules/$KV
for m in kernel/fs/ext4 kernel/fs/jbd2 kernel/fs/mbcache.ko kernel/lib/crc16.ko modules.builtin modules.builtin.modinfo modules.order; do
	mkdir -p "$(dirname "$mods/$m")"
	cp -r "$deb_mods/$m" "$mods/$m"
done
"$DK_TOOLS/distkernel-stage" prebuilt --release "$KV" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" --modules "$mods" \
	--config "$DK_DEBIAN_CONFIG" --variant debian-bin --dest "$R" -q >/dev/null || dk_fail "staging the Debian kernel into $R"
mkdir -p "$R/boot" "$R/etc/kernel"

# add_with_fstab WHAT FSTAB-ROOT-LINE: add KV (no initramfs) on a root whose fstab has that "/" line.
add_with_fstab() {
	printf '# <fs> <mountpoint> <type> <opts> <dump> <pass>\nLABEL=boot /boot vfat defaults 0 2\n%s\n' "$2" > "$R/etc/fstab"
	dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs
}

add_with_fstab ext4 "LABEL=root / ext4 noatime 0 1"
dk_nogrep 'root filesystem is' "$T/err"
dk_ok "ext4 root (a module of the staged tree): no warning"

add_with_fstab zfs "rpool/ROOT/gentoo / zfs defaults 0 0"
dk_grep "warning: the root filesystem is zfs \($R/etc/fstab:3\), and $KV has no module for it \(neither built in nor under /lib/modules/$KV: no module zfs or alias fs-zfs\): the initramfs built now cannot mount the root\. The package that provides the module \(for zfs: sys-fs/zfs-kmod\) brings this initramfs up to date when it is installed for $KV \(its pkg_postinst calls dist-kernel_reinstall_initramfs, which ends in distkernel-install reinstall\)" "$T/err"
dk_ok "zfs root in fstab, no zfs module: the install says so (fstab:line, module, what refreshes the initramfs)"

# The boot entry's command line wins over fstab, as at boot: root=ZFS= with an ext4 fstab line.
add_with_fstab "ext4 in fstab" "LABEL=root / ext4 noatime 0 1"
echo "root=ZFS=rpool/ROOT/gentoo console=ttyS0" > "$R/etc/kernel/cmdline"
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs
dk_grep "the root filesystem is zfs \($R/etc/kernel/cmdline \(root=ZFS=rpool/ROOT/gentoo\)\)" "$T/err"
echo "rootfstype=ext4 root=/dev/vda" > "$R/etc/kernel/cmdline"
printf 'rpool/ROOT/gentoo / zfs defaults 0 0\n' > "$R/etc/fstab"
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs
dk_nogrep 'root filesystem is' "$T/err"
dk_ok "the root's kernel command line (root=ZFS=, rootfstype=) wins over fstab"
echo "install-root-module: $((SECONDS - start))s" >&2
