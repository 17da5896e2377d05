# Real dracut images of Debian's prebuilt kernel for the check tests, built once and cached in
# $DK_CACHE/check-initramfs/ under a key made of their inputs (sourced after tests/lib.sh and
# dk_real_parts).

# dk_check_image NAME COMPRESS DRACUT-ARGS...: prints the path of the cached image.
dk_check_image() {
	local name=$1 compress=$2; shift 2
	local dir=$DK_CACHE/check-initramfs
	local dracut_version
	dracut_version=$(dpkg-query -W -f '${Version}' dracut-core 2>/dev/null || echo unknown)
	local key
	key=$(printf '%s\n' "$DK_DEBIAN_KV" "$dracut_version" "$compress" "$@" | sha256sum | cut -c1-16)
	local img=$dir/$name-$key.img
	mkdir -p "$dir"
	# Tests run in parallel: one builds an image, the others wait for it.
	local lock
	exec {lock}>"$dir/.lock"
	flock "$lock"
	if [[ ! -s $img ]]; then
		echo "building the dracut image $name ($compress; about 10 s, cached in $dir)" >&2
		dracut --quiet --no-hostonly --force --kver "$DK_DEBIAN_KV" \
			--kmoddir "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV" --compress "$compress" \
			"$@" "$img.tmp" >&2 || dk_fail "dracut failed for $name"
		mv "$img.tmp" "$img"
	fi
	exec {lock}>&-
	echo "$img"
}

# A small systemd-based image for a virtio VM with an ext4 root (only those drivers).
dk_check_image_virtio() {
	dk_check_image virtio zstd --drivers "virtio_pci virtio_blk ext4" \
		--omit "crypt dm nvdimm lunmask resume qemu virtiofs terminfo usrmount"
}
# An NVMe laptop with LUKS: crypt and dm kept.
dk_check_image_luks() {
	dk_check_image luks xz --drivers "nvme dm_crypt ext4" \
		--omit "nvdimm lunmask resume qemu virtiofs terminfo usrmount"
}
# The same without the NVMe driver: a root its machine cannot reach.
dk_check_image_no_nvme() {
	dk_check_image no-nvme gzip --drivers "dm_crypt ext4" --omit-drivers "nvme nvme_core" \
		--omit "nvdimm lunmask resume qemu virtiofs terminfo usrmount"
}
