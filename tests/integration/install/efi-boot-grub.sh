#!/usr/bin/env bash
# GRUB and efistub booted under UEFI (Debian's OVMF, TCG) from an ESP holding exactly what
# distkernel-install wrote into the root's /boot (the ESP mounted at /boot, as many Gentoo
# machines have it), with two real kernels.
# - layout=grub: GRUB's EFI program (grub-mkstandalone, grub-efi-amd64-bin) reads the grub.cfg the
#   install regenerated (the root's grub-mkconfig run inside it, --hooks chroot): the newest
#   boots by default; after remove, the menu no longer lists it and the older one boots. The
#   grub-mkconfig in the test root is a small script writing the entries 10_linux writes (newest
#   first, paths on the boot partition): the real one needs the root's own GRUB userland and a
#   root device to probe, which a test root has not.
# - layout=efistub: the firmware runs the kernel itself, with the command line of the exact
#   efibootmgr command the install printed (as a boot entry would give it), through the UEFI
#   shell's startup.nsh: writing a boot entry into OVMF's variable store needs a running system.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
[[ $(id -u) == 0 ]] || dk_skip "chroot needs root"
command -v grub-mkstandalone >/dev/null && [[ -d /usr/lib/grub/x86_64-efi ]] ||
	dk_skip "no grub-mkstandalone for x86_64-efi (grub-efi-amd64-bin; scripts/install-deps)"
dk_previous_debian
KV=$DK_DEBIAN_KV OLD=$DK_PREV_KV
install=$DK_TOOLS/distkernel-install
export DK_BOOT_MARKER=efi DK_BOOT_TIMEOUT=${DK_BOOT_TIMEOUT:-180}
start=$SECONDS

# --- the roots: G (layout=grub), S (layout=efistub), each with both kernels
G=$T/grub S=$T/efistub
dk_chroot_root "$G" grub sh cat ls echo [ test
dk_stage_previous "$G"
cat > "$G/usr/sbin/grub-mkconfig" <<'EOT'
#!/bin/sh
[ "$1" = -o ] || exit 2
cmdline=$(cat /etc/kernel/cmdline)
{
	echo "set default=0"
	echo "set timeout=0"
	for k in $(ls -r /boot/vmlinuz-*); do
		kv=${k#/boot/vmlinuz-}
		case $kv in *.old) continue ;; esac
		echo "menuentry 'Gentoo, with Linux $kv' {"
		echo "	linux /vmlinuz-$kv $cmdline"
		[ -e "/boot/initramfs-$kv.img" ] && echo "	initrd /initramfs-$kv.img"
		echo "}"
	done
} > "$2"
EOT
chmod 755 "$G/usr/sbin/grub-mkconfig"
dk_stage_debian "$S"
dk_stage_previous "$S"
mkdir -p "$S/usr/lib/kernel" "$S/boot"
printf 'layout=efistub\ninitrd_generator=dracut\n' > "$S/usr/lib/kernel/install.conf"
printf 'NAME=Gentoo\nID=gentoo\n' > "$S/etc/os-release"
for r in "$G" "$S"; do
	echo "$DK_EFI_CMDLINE" > "$r/etc/kernel/cmdline"
	for k in "$OLD" "$KV"; do
		dk_expect_status 0 "$install" add "$k" --root "$r" --hooks chroot "${DK_SMALL_DRACUT[@]}"
		cp "$T/err" "$r.add-$k.err"
	done
done
echo "install: $((SECONDS - start))s" >&2
cfg=$G/boot/grub/grub.cfg
dk_grep "^menuentry 'Gentoo, with Linux $KV'" "$cfg"
dk_grep "^menuentry 'Gentoo, with Linux $OLD'" "$cfg"

# grub_esp DIR: ROOT/boot of the grub root (its links left out: FAT has none) with GRUB's EFI
# program as the firmware's default loader, finding grub.cfg on the partition it booted from.
grub_esp() {
	rm -rf "$1"
	cp -r "$G/boot" "$1"
	find "$1" -type l -delete
	mkdir -p "$1/EFI/BOOT"
	printf 'search --no-floppy --file --set=root /grub/grub.cfg\nset prefix=($root)/grub\nconfigfile ($root)/grub/grub.cfg\n' > "$T/embedded.cfg"
	grub-mkstandalone -O x86_64-efi -o "$1/EFI/BOOT/BOOTX64.EFI" --locales= --themes= --fonts= \
		--install-modules="normal linux fat search search_fs_file configfile echo test part_gpt part_msdos" \
		--modules="fat search search_fs_file configfile normal linux" "boot/grub/grub.cfg=$T/embedded.cfg" ||
		dk_fail "grub-mkstandalone"
}

# efistub_esp DIR KV: ROOT/boot of the efistub root with a startup.nsh running KV's kernel with the
# loader and the command line of the efibootmgr command printed when KV was installed.
efistub_esp() {
	local dir=$1 line loader= args=
	rm -rf "$dir"
	cp -r "$S/boot" "$dir"
	line=$(grep -o "efibootmgr --create .*'" "$S.add-$2.err") || dk_fail "no efibootmgr command printed for $2"
	eval "set -- $line"
	while (($#)); do
		case $1 in
		--loader) loader=$2 ;;
		--unicode) args=$2 ;;
		esac
		shift
	done
	[[ -n $loader ]] || dk_fail "no --loader in: $line"
	printf 'FS0:\r\n%s %s\r\n' "$loader" "$args" > "$dir/startup.nsh"
}

# 1. GRUB's default (the newest) and efistub's newest, booted in parallel.
grub_esp "$T/grub-esp"
efistub_esp "$T/efistub-esp" "$KV"
dk_boot_two "$T/efistub-esp" "$T/efistub.log" "$T/grub-esp" "$T/grub.log"
dk_efi_booted "$T/grub.log" "$KV" "GRUB, two kernels in grub.cfg, the newest by default"
dk_efi_booted "$T/efistub.log" "$KV" "efistub, with the printed efibootmgr command line"

# 2. The newest removed: grub.cfg regenerated without it, GRUB boots the older one; efistub's older
# kernel boots with its own printed command line.
dk_expect_status 0 "$install" remove "$KV" --root "$G" --hooks chroot
dk_nogrep "$KV" "$cfg"
grub_esp "$T/grub-esp"
efistub_esp "$T/efistub-esp" "$OLD"
dk_boot_two "$T/efistub-esp" "$T/efistub-old.log" "$T/grub-esp" "$T/grub-removed.log"
dk_efi_booted "$T/grub-removed.log" "$OLD" "GRUB after remove $KV"
dk_efi_booted "$T/efistub-old.log" "$OLD" "efistub, the older kernel"
echo "install-efi-boot-grub: $((SECONDS - start))s" >&2
