#!/usr/bin/env bash
# /boot or the ESP named in the root's fstab but not mounted: add refuses, naming the fstab line
# and the mount point, and writes nothing there (the kernel would go into the directory under the
# mount point, which the boot loader never sees); once mounted, add installs. Checked on a root
# that is itself a mount point (a machine being set up, as /mnt/gentoo); a plain directory as root
# is an image whose fstab speaks of the future machine, and is not checked. A reinstall whose
# previous files are on another filesystem (the ESP at /boot/efi, /boot) removes them after its
# commit.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_private_mounts "$@"
dk_real_parts
dk_tmp_mounts
KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install
start=$SECONDS

# --- /boot of its own, noauto (as Gentoo's handbook suggests), not mounted
R=$T/mnt-gentoo
mkdir -p "$R"
mount -t tmpfs -o size=1g tmpfs "$R"
dk_stage_debian "$R"
mkdir -p "$R/boot" "$R/usr/lib/kernel"
printf 'layout=compat\n' > "$R/usr/lib/kernel/install.conf"
printf '# the machine\nUUID=1111-2222\t/boot/\text4\tnoauto,noatime\t0 2\nUUID=0a0a / ext4 defaults 0 1\n' > "$R/etc/fstab"
dk_expect_status 1 "$install" add "$KV" --root "$R" --no-initramfs
dk_grep "/boot is a filesystem of its own \($R/etc/fstab:2: UUID=1111-2222 on /boot\), and it is not mounted on $R/boot" "$T/err"
dk_grep "Mount its filesystem on $R/boot and run this again" "$T/err"
[[ -z $(ls -A "$R/boot") ]] || dk_fail "add wrote into the unmounted /boot: $(ls -A "$R/boot")"
[[ ! -e $R/var/lib/distkernel/kernels/$KV.json ]] || dk_fail "add recorded $KV"
dk_ok "an unmounted /boot of its own is refused, nothing written"

mount -t tmpfs -o size=256m tmpfs "$R/boot"
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs
[[ -f $R/boot/vmlinuz-$KV ]] || dk_fail "no $R/boot/vmlinuz-$KV after mounting /boot"
dk_ok "mounted, the same add installs"

# --- the ESP at /efi (layout=uki), not mounted; the same fstab on a plain directory as root
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
if [[ -f $stub ]]; then
	mkdir -p "$R/usr/lib/systemd/boot/efi" "$R/efi"
	cp "$stub" "$R/usr/lib/systemd/boot/efi/"
	printf 'layout=uki\n' > "$R/usr/lib/kernel/install.conf"
	printf 'UUID=0a0a / ext4 defaults 0 1\nUUID=ABCD-0123 /efi vfat umask=0077 0 2\n' > "$R/etc/fstab"
	dk_expect_status 1 "$install" add "$KV" --root "$R" --no-initramfs
	dk_grep "/efi is a filesystem of its own \($R/etc/fstab:2: UUID=ABCD-0123 on /efi\), and it is not mounted on $R/efi" "$T/err"
	[[ -z $(ls -A "$R/efi") ]] || dk_fail "add wrote into the unmounted /efi"
	dk_ok "an unmounted ESP of its own is refused"

	P=$T/image
	mkdir -p "$P"
	cp -a "$R/." "$P/"
	dk_expect_status 0 "$install" add "$KV" --root "$P" --no-initramfs
	[[ -n $(find "$P/efi/EFI/Linux" -name "*-$KV.efi") ]] || dk_fail "no UKI in $P/efi/EFI/Linux"
	dk_ok "a plain directory as root (an image) is not checked against its fstab"

	# The ESP at /boot/efi, a filesystem of its own below /boot: a reinstall of KV (installed in
	# /boot by layout=compat above) onto it, then onto /boot itself (--esp-path /boot). Each time
	# the previous install's files are on another filesystem than the new one's, beyond any
	# rename: they go once the new install has committed.
	mkdir -p "$R/boot/efi"
	mount -t tmpfs -o size=256m tmpfs "$R/boot/efi"
	printf 'UUID=0a0a / ext4 defaults 0 1\nUUID=1111-2222 /boot ext4 noatime 0 2\nUUID=ABCD-0123 /boot/efi vfat umask=0077 0 2\n' > "$R/etc/fstab"
	dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs
	old=$(find "$R/boot/efi/EFI/Linux" -name "*-$KV.efi")
	[[ -n $old ]] || dk_fail "no UKI in $R/boot/efi/EFI/Linux"
	[[ ! -e $R/boot/vmlinuz-$KV && ! -e $R/boot/config-$KV ]] || dk_fail "the compat install's files stayed in $R/boot"
	dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --esp-path /boot
	[[ -n $(find "$R/boot/EFI/Linux" -name "*-$KV.efi") ]] || dk_fail "no UKI in $R/boot/EFI/Linux"
	[[ ! -e $old && ! -e $R/boot/efi/EFI ]] || dk_fail "the UKI on /boot/efi stayed: $(find "$R/boot/efi")"
	dk_ok "reinstalls across filesystems (/boot, the ESP at /boot/efi): the previous files go after the commit"
fi
echo "install-mounts: $((SECONDS - start))s"
