#!/usr/bin/env bash
# The boot proof with real parts: Debian's prebuilt kernel staged into a temporary root, installed
# with real dracut and the real installers, then booted in QEMU (TCG) from the files that the
# install put into THAT ROOT's /boot, on an ext4 root disk on virtio (ext4 and virtio_blk are
# modules: only a correct initramfs reaches the root's init). Both layouts; a negative boot; and
# remove after add leaves /boot as it was.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
R=$T/root KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install boot=$DK_SOURCE_ROOT/tests/qemu-boot
dk_stage_debian "$R"
mkdir -p "$R/boot"
echo "kept by the machine" > "$R/boot/unrelated-file"
before=$(dk_boot_snapshot "$R")

# 1. traditional layout (debianutils' installkernel), booted from ROOT/boot.
dk_expect_status 0 "$install" add "$KV" --root "$R" --layout installkernel -v "${DK_SMALL_DRACUT[@]}"
dk_grep 'layout installkernel: --layout installkernel' "$T/err"
for f in vmlinuz-$KV initramfs-$KV.img System.map-$KV config-$KV; do
	[[ -f $R/boot/$f ]] || dk_fail "no /boot/$f after add"
done
"$boot" "$R/boot/vmlinuz-$KV" "$R/boot/initramfs-$KV.img" "$T/serial-traditional.log" ||
	dk_fail "the traditional install did not boot"
dk_ok "traditional layout boots from $R/boot"

# 4. remove after add: /boot exactly as before add.
dk_expect_status 0 "$install" remove "$KV" --root "$R"
dk_same_boot "$R" "$before" "remove after a traditional add"

# 1. BLS layout (systemd's kernel-install), chosen automatically from loader/entries; the entry's
# own paths (relative to the boot partition, i.e. ROOT/boot) are what gets booted.
mkdir -p "$R/boot/loader/entries"
echo 0123456789abcdef0123456789abcdef > "$R/etc/machine-id"
# The entry's title names the target root's system, never the build machine's.
printf 'NAME=Gentoo\nPRETTY_NAME="Gentoo Linux (distkernel test root)"\n' > "$R/etc/os-release"
before_bls=$(dk_boot_snapshot "$R")
dk_expect_status 0 "$install" add "$KV" --root "$R" -v "${DK_SMALL_DRACUT[@]}"
dk_grep 'layout bls: .*loader/entries exists' "$T/err"
entry=$R/boot/loader/entries/0123456789abcdef0123456789abcdef-$KV.conf
[[ -f $entry ]] || dk_fail "no BLS entry $entry"
cat "$entry" >&2
dk_nogrep "$T|\.distkernel-new" "$entry"
dk_grep '^options +root=/dev/vda rw console=ttyS0' "$entry"
dk_grep '^title +Gentoo Linux \(distkernel test root\)$' "$entry"
linux=$(awk '$1 == "linux" {print $2}' "$entry")
initrd=$(awk '$1 == "initrd" {print $2}' "$entry")
[[ $linux == /* && $initrd == /* ]] || dk_fail "entry paths not absolute on the boot partition: $linux $initrd"
"$boot" "$R/boot$linux" "$R/boot$initrd" "$T/serial-bls.log" || dk_fail "the BLS install did not boot"
dk_ok "BLS layout boots from the entry's files in $R/boot"
dk_expect_status 0 "$install" list --root "$R"
dk_grep "^$KV	bls	" "$T/out"
dk_expect_status 0 "$install" remove "$KV" --root "$R"
dk_same_boot "$R" "$before_bls" "remove after a BLS add"

# 2. negative: an initramfs without the root filesystem's driver must be detected as a failed boot.
rm -rf "$R/boot/loader"
dk_expect_status 0 "$install" add "$KV" --root "$R" --layout installkernel \
	--dracut-arg=--drivers --dracut-arg="virtio_pci virtio_blk" --dracut-arg=--omit-drivers --dracut-arg="ext4" \
	--dracut-arg=--omit --dracut-arg="crypt dm nvdimm lunmask resume qemu virtiofs terminfo usrmount"
if "$boot" "$R/boot/vmlinuz-$KV" "$R/boot/initramfs-$KV.img" "$T/serial-negative.log"; then
	dk_fail "an initramfs without ext4 booted: the boot check cannot fail"
fi
# The failure must be the one we caused: the initramfs could not mount the root (sysroot).
# grep reads the whole log (no -q): sed killed by SIGPIPE would fail the pipeline (pipefail).
sed 's/\x1b\[[0-9;]*m//g' "$T/serial-negative.log" | grep -aE 'Failed to mount .*sysroot|sysroot.mount' >/dev/null ||
	dk_fail "the negative boot failed for another reason than the missing root filesystem"
dk_ok "an initramfs without ext4 is detected as a failed boot"
