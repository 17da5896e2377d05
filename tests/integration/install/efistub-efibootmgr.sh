#!/usr/bin/env bash
# layout=efistub on a live machine creates the firmware's boot entry itself: a QEMU guest under
# OVMF (TCG) runs distkernel-install add on its own / with the ESP (a GPT partition of a second
# disk, vfat) mounted at /boot and efivarfs mounted; the real efibootmgr (and its libraries) in the
# guest writes the entry into OVMF's variable store; remove deletes it again. The guest is an
# initramfs made here: busybox, distkernel-install and efibootmgr with the libraries ldd names,
# Debian's kernel staged with the few modules the guest loads (virtio disk, vfat, efivarfs). The
# guest prints the boot marker only when efibootmgr listed "Gentoo KV" after add and no longer
# after remove; the variable store file is read afterwards for the entry's label.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
KV=$DK_DEBIAN_KV G=$T/guest mods=$T/mods/lib/modules/$DK_DEBIAN_KV
for t in efibootmgr sfdisk mformat mmd busybox cpio; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null || dk_skip "$t missing (scripts/install-deps)"
done
[[ -f /usr/share/OVMF/OVMF_VARS_4M.fd ]] || dk_skip "no OVMF (ovmf)"
start=$SECONDS

# The modules the guest loads, with their dependencies, in a tree of their own.
mkdir -p "$mods"
for m in virtio_pci virtio_blk vfat efivarfs nls_cp437 nls_ascii nls_utf8; do
	modprobe -D -S "$KV" -d "$DK_DEBIAN_ROOT" "$m"
done | awk '$1 == "insmod" {print $2}' | sort -u | while read -r ko; do
	mkdir -p "$mods/$(dirname "${ko#"$DK_DEBIAN_ROOT/lib/modules/$KV/"}")"
	cp "$ko" "$mods/${ko#"$DK_DEBIAN_ROOT/lib/modules/$KV/"}"
done
cp "$DK_DEBIAN_ROOT/lib/modules/$KV"/modules.{builtin,builtin.modinfo,order} "$mods/"
depmod -b "$T/mods" "$KV"
"$DK_TOOLS/distkernel-stage" prebuilt --release "$KV" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" --modules "$mods" \
	--config "$DK_DEBIAN_CONFIG" --variant debian-bin --dest "$G" -q >/dev/null || dk_fail "staging into the guest"

# The guest's programs: busybox, and the two real programs with their libraries.
mkdir -p "$G"/{bin,usr/bin,lib/x86_64-linux-gnu,lib64,proc,sys,dev,boot,tmp,etc/kernel,usr/lib/kernel}
cp "$(command -v busybox)" "$G/bin/busybox"
for a in sh mount modprobe sleep grep echo cat poweroff sed tee; do ln -s busybox "$G/bin/$a"; done
cp "$DK_TOOLS/distkernel-install" "$(command -v efibootmgr)" "$G/usr/bin/"
ldd "$DK_TOOLS/distkernel-install" "$(command -v efibootmgr)" | awk '/=>/ {print $3}' | sort -u |
	xargs -I{} cp -L {} "$G/lib/x86_64-linux-gnu/"
cp -L /lib64/ld-linux-x86-64.so.2 "$G/lib64/"
printf 'NAME=Gentoo\nID=gentoo\n' > "$G/etc/os-release"
printf 'layout=efistub\n' > "$G/usr/lib/kernel/install.conf"
echo "root=/dev/vda console=ttyS0" > "$G/etc/kernel/cmdline"
cat > "$G/init" <<'EOT'
#!/bin/sh
export PATH=/usr/bin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_pci virtio_blk vfat nls_cp437 nls_ascii nls_utf8 efivarfs; do modprobe $m; done
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vdb1 ] && break; sleep 1; done
mount -t vfat /dev/vdb1 /boot
kv=$(cat /proc/sys/kernel/osrelease)
marker=$(sed -n 's/.*distkernel.marker=\([^ ]*\).*/\1/p' /proc/cmdline)
ok=1
distkernel-install add "$kv" --no-initramfs -v 2>&1
efibootmgr 2>&1 | tee /added
grep -q "Gentoo $kv" /added || { echo "GUEST: no boot entry after add"; ok=0; }
distkernel-install remove "$kv" --force -v 2>&1
efibootmgr 2>&1 | tee /removed
grep -q "Gentoo $kv" /removed && { echo "GUEST: the boot entry is still there after remove"; ok=0; }
[ $ok = 1 ] && echo "DISTKERNEL-BOOT-OK $marker $kv"
poweroff -f
EOT
chmod 755 "$G/init"
(cd "$G" && find . | cpio -o -H newc --quiet | gzip -1) > "$T/guest.img"

# The ESP: a GPT disk whose first partition is an EFI system partition, vfat, with an EFI directory.
truncate -s 64M "$T/disk.img"
printf 'label: gpt\nstart=2048, size=120000, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n' | sfdisk -q "$T/disk.img"
mformat -i "$T/disk.img@@1M" -T 120000 -h 64 -s 32 ::
mmd -i "$T/disk.img@@1M" ::/EFI ::/EFI/BOOT
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$T/vars.fd"
echo "guest prepared: $((SECONDS - start))s" >&2

DK_BOOT_OVMF_VARS=$T/vars.fd DK_BOOT_DISK=$T/disk.img DK_BOOT_TIMEOUT=${DK_BOOT_TIMEOUT:-240} \
	"$DK_SOURCE_ROOT/tests/qemu-boot" "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" "$T/guest.img" "$T/serial.log" ||
	dk_fail "the guest did not create and delete the boot entry (see above)"
dk_grep "creating the firmware's boot entry: efibootmgr --create --disk /dev/vdb --part 1 --label 'Gentoo $KV' --loader '\\\\EFI\\\\Gentoo\\\\vmlinuz-$KV.efi'" "$T/serial.log"
dk_grep "Boot[0-9A-F]{4}\\* Gentoo $KV" "$T/serial.log"
dk_grep "deleting the firmware's boot entry: efibootmgr --bootnum [0-9A-F]{4} --delete-bootnum" "$T/serial.log"
label=$(printf 'Gentoo %s' "$KV" | iconv -t UTF-16LE | od -An -tx1 | tr -d ' \n')
od -An -tx1 -v "$T/vars.fd" | tr -d ' \n' | grep -q "$label" || dk_fail "OVMF's variable store never held 'Gentoo $KV'"
dk_ok "efistub on a live machine: efibootmgr created the entry in OVMF's store, remove deleted it"
echo "install-efistub-efibootmgr: $((SECONDS - start))s" >&2
