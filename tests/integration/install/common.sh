# Helpers of the install tests (sourced after tests/lib.sh).

# A small dracut image (only the virtio disk and ext4 drivers, no crypt/dm/resume): boots Debian's kernel on a virtio ext4 disk in ~20 s,
# built in ~7 s (the generic one takes ~46 s).
DK_SMALL_DRACUT=(--dracut-arg=--drivers --dracut-arg="virtio_pci virtio_blk ext4"
	--dracut-arg=--omit --dracut-arg="crypt dm nvdimm lunmask resume qemu virtiofs terminfo usrmount")

# dk_stage_debian ROOT: stages Debian's prebuilt kernel into ROOT, as a -bin package would.
dk_stage_debian() {
	"$DK_TOOLS/distkernel-stage" prebuilt --release "$DK_DEBIAN_KV" \
		--image "$DK_DEBIAN_ROOT/boot/vmlinuz-$DK_DEBIAN_KV" \
		--modules "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV" \
		--config "$DK_DEBIAN_CONFIG" --system-map "$DK_DEBIAN_ROOT/boot/System.map-$DK_DEBIAN_KV" \
		--variant debian-bin --dest "$1" -q >/dev/null || dk_fail "staging the Debian kernel into $1"
	mkdir -p "$1/etc/kernel"
	echo "root=/dev/vda rw console=ttyS0" > "$1/etc/kernel/cmdline"
}

# dk_boot_snapshot ROOT: every entry under ROOT/boot with its type, and every file's sha256.
dk_boot_snapshot() {
	(cd "$1/boot" && find . -mindepth 1 -printf '%y %p\n' | sort && find . -type f -exec sha256sum {} + | sort -k 2)
}

# dk_same_boot ROOT SNAPSHOT WHAT: fails unless ROOT/boot is byte-identical to SNAPSHOT.
dk_same_boot() {
	local now
	now=$(dk_boot_snapshot "$1")
	if [[ $now != "$2" ]]; then
		diff <(echo "$2") <(echo "$now") >&2 || true
		dk_fail "$3: $1/boot changed"
	fi
	dk_ok "$3: $1/boot byte-identical"
}

# dk_chroot_root ROOT LAYOUT TOOL...: a staged root whose programs can run in a chroot: the
# Debian kernel staged, a static busybox as /bin/busybox with the named tools linked to it, and
# ROOT/usr/lib/kernel/install.conf choosing LAYOUT with dracut as the initramfs generator.
dk_chroot_root() {
	local root=$1 layout=$2 t
	shift 2
	dk_stage_debian "$root"
	mkdir -p "$root/bin" "$root/usr/sbin" "$root/usr/lib/kernel" "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for t in "$@"; do ln -sf busybox "$root/bin/$t"; done
	printf 'layout=%s\ninitrd_generator=dracut\nuki_generator=none\n' "$layout" > "$root/usr/lib/kernel/install.conf"
}
