#!/usr/bin/env bash
# The UKI layout booted under UEFI (Debian's OVMF, TCG) from an ESP holding exactly what
# distkernel-install wrote into the root's /boot: the UKI as the firmware's default loader
# (EFI/BOOT/BOOTX64.EFI), and through systemd-boot (bootctl install) with two real kernels (both
# listed, the newest booted by default); the newest removed (gone from the menu, the older boots);
# a broken initramfs (no ext4) installed as the newest does not boot, and the older entry still does.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
[[ $(id -u) == 0 ]] || dk_skip "bootctl install needs a mount namespace (root)"
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[[ -f $stub ]] || dk_skip "no $stub (systemd-boot-efi; scripts/install-deps)"
command -v bootctl >/dev/null || dk_skip "no bootctl (systemd-boot; scripts/install-deps)"
dk_previous_debian
R=$T/root KV=$DK_DEBIAN_KV OLD=$DK_PREV_KV
install=$DK_TOOLS/distkernel-install boot=$DK_SOURCE_ROOT/tests/qemu-boot
export DK_BOOT_MARKER=efi DK_BOOT_TIMEOUT=${DK_BOOT_TIMEOUT:-180}
start=$SECONDS

dk_stage_debian "$R"
dk_stage_previous "$R"
mkdir -p "$R/usr/lib/kernel" "$R/usr/lib/systemd/boot/efi" "$R/boot"
printf 'layout=uki\ninitrd_generator=dracut\n' > "$R/usr/lib/kernel/install.conf"
printf 'NAME=Gentoo\nID=gentoo\nPRETTY_NAME="Gentoo Linux"\n' > "$R/etc/os-release"
echo 0123456789abcdef0123456789abcdef > "$R/etc/machine-id"
echo "$DK_EFI_CMDLINE" > "$R/etc/kernel/cmdline"
cp "$stub" "$R/usr/lib/systemd/boot/efi/"
token=0123456789abcdef0123456789abcdef

dk_expect_status 0 "$install" add "$OLD" --root "$R" "${DK_SMALL_DRACUT[@]}"
dk_expect_status 0 "$install" add "$KV" --root "$R" "${DK_SMALL_DRACUT[@]}"
echo "install: $((SECONDS - start))s" >&2

# sdboot_esp DIR: a copy of ROOT/boot with systemd-boot installed by bootctl as a user would
# (bootctl wants the ESP to be a mount point: a bind mount in a private mount namespace).
sdboot_esp() {
	rm -rf "$1"
	cp -r "$R/boot" "$1"
	SYSTEMD_RELAX_ESP_CHECKS=1 unshare -m sh -c 'mount --bind "$1" "$1" && bootctl install --esp-path="$1" --no-variables >/dev/null &&
		bootctl --esp-path="$1" --no-variables list' sh "$1" > "$1.list" 2>&1 || { cat "$1.list" >&2; dk_fail "bootctl on $1"; }
}

# 1. Both kernels, booted in parallel: the newest UKI as the firmware's default loader, and
# systemd-boot, which lists both and boots the newest.
mkdir -p "$T/default/EFI/BOOT"
cp "$R/boot/EFI/Linux/$token-$KV.efi" "$T/default/EFI/BOOT/BOOTX64.EFI"
sdboot_esp "$T/sdboot"
for k in "$KV" "$OLD"; do dk_grep "$token-$k.efi" "$T/sdboot.list"; done
dk_boot_two "$T/default" "$T/default.log" "$T/sdboot" "$T/sdboot.log"
dk_efi_booted "$T/default.log" "$KV" "the UKI as EFI/BOOT/BOOTX64.EFI"
dk_efi_booted "$T/sdboot.log" "$KV" "systemd-boot with two UKIs listed, the newest by default"

# 2. The newest removed: gone from systemd-boot's menu, the older one boots.
dk_expect_status 0 "$install" remove "$KV" --root "$R"
sdboot_esp "$T/sdboot"
dk_nogrep "$token-$KV.efi" "$T/sdboot.list"
"$boot" --uefi "$T/sdboot" "$T/removed.log" || dk_fail "after remove $KV, systemd-boot did not boot $OLD"
dk_efi_booted "$T/removed.log" "$OLD" "systemd-boot after remove $KV"

# 3. A broken newest kernel (its initramfs cannot mount the ext4 root): the default entry fails,
# and the older entry, chosen in the menu (loader.conf's default, as a user's pick), still boots.
dk_expect_status 0 "$install" add "$KV" --root "$R" \
	--dracut-arg=--drivers --dracut-arg="virtio_pci virtio_blk" --dracut-arg=--omit-drivers --dracut-arg="ext4" \
	--dracut-arg=--omit --dracut-arg="crypt dm nvdimm lunmask resume qemu virtiofs terminfo usrmount"
sdboot_esp "$T/broken"
cp -r "$T/broken" "$T/pick-old"
echo "default $token-$OLD.efi" >> "$T/pick-old/loader/loader.conf"
dk_boot_two "$T/broken" "$T/broken.log" "$T/pick-old" "$T/pick-old.log"
((DK_BOOT1 == 1)) || dk_fail "a UKI whose initramfs has no ext4: qemu-boot exited $DK_BOOT1"
# grep reads the whole log (no -q): sed killed by SIGPIPE would fail the pipeline (pipefail).
sed 's/\x1b\[[0-9;]*m//g' "$T/broken.log" | grep -aE 'Failed to mount .*sysroot|sysroot.mount' >/dev/null ||
	dk_fail "the broken UKI failed for another reason than the missing root filesystem"
dk_ok "the broken newest UKI does not boot (sysroot not mounted)"
dk_efi_booted "$T/pick-old.log" "$OLD" "the older entry beside the broken one"
echo "install-efi-boot-uki: $((SECONDS - start))s" >&2
