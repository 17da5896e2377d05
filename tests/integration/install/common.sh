# Helpers of the install tests (sourced after tests/lib.sh).

# A small dracut image: dracut's own init with udev (no systemd in the image), only the virtio disk
# and ext4 drivers, compressed with zstd's fastest level. It boots Debian's kernel on a virtio ext4
# disk in ~20 s. dracut builds it with 7.4 s of CPU on an idle machine; a systemd image of the same
# drivers at dracut's default compression takes 16.5 s, and dracut is most of the install tests'
# CPU (about 40 runs).
DK_SMALL_DRACUT=(--dracut-arg=--modules --dracut-arg="base rootfs-block kernel-modules udev-rules"
	--dracut-arg=--drivers --dracut-arg="virtio_pci virtio_blk ext4"
	--dracut-arg=--compress --dracut-arg="zstd -1 -q")

# dk_stage_debian ROOT [STAGE-ARG...]: stages Debian's prebuilt kernel into ROOT, as a -bin
# package would.
dk_stage_debian() {
	"$DK_TOOLS/distkernel-stage" prebuilt "${@:2}" --release "$DK_DEBIAN_KV" \
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

# dk_previous_debian: sets DK_PREV_KV and DK_PREV_ROOT to Debian's kernel package of the ABI before
# $DK_DEBIAN_KV (a second real kernel, older, with the EFI stub), downloaded and extracted once
# into the cache as scripts/real-parts does with the current one; skips the test when apt knows
# none.
dk_previous_debian() {
	local dir=$DK_CACHE/debian-kernel-previous pkg abi prefix suffix
	[[ $DK_DEBIAN_KV =~ ^(.*-)([0-9]+)(-[a-z0-9]+)$ ]] || dk_skip "cannot read the ABI of $DK_DEBIAN_KV"
	prefix=${BASH_REMATCH[1]} abi=${BASH_REMATCH[2]} suffix=${BASH_REMATCH[3]}
	exec 8>"$DK_CACHE/.debian-kernel-previous.lock"
	flock 8
	if [[ ! -f $dir/.distkernel-extracted ]]; then
		# apt's own lists (no registry query): the highest ABI below the current one.
		pkg=$(apt-cache pkgnames "linux-image-$prefix" | grep -E "^linux-image-$prefix[0-9]+$suffix-unsigned$" |
			awk -v p="linux-image-$prefix" -v a="$abi" '{ n = substr($0, length(p) + 1) + 0; if (n < a && n > best) { best = n; name = $0 } } END { print name }')
		[[ -n $pkg ]] || dk_skip "apt knows no kernel package older than $DK_DEBIAN_KV"
		echo "downloading $pkg (about 70 MB) into $dir (once)" >&2
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp/download"
		(cd "$dir.tmp/download" && apt-get download "$pkg" >&2) || dk_fail "apt-get download $pkg"
		dpkg-deb -x "$dir.tmp"/download/*.deb "$dir.tmp/root"
		rm -rf "$dir.tmp/download"
		local kv
		kv=$(ls "$dir.tmp/root/lib/modules" | head -n 1)
		depmod -b "$dir.tmp/root" "$kv"
		echo "$kv" > "$dir.tmp/.distkernel-extracted"
		mv "$dir.tmp" "$dir"
	fi
	exec 8>&-
	DK_PREV_KV=$(cat "$dir/.distkernel-extracted") DK_PREV_ROOT=$dir/root
}

# dk_stage_previous ROOT: stages the older Debian kernel (dk_previous_debian) into ROOT.
dk_stage_previous() {
	"$DK_TOOLS/distkernel-stage" prebuilt --release "$DK_PREV_KV" \
		--image "$DK_PREV_ROOT/boot/vmlinuz-$DK_PREV_KV" --modules "$DK_PREV_ROOT/lib/modules/$DK_PREV_KV" \
		--config "$DK_PREV_ROOT/boot/config-$DK_PREV_KV" --system-map "$DK_PREV_ROOT/boot/System.map-$DK_PREV_KV" \
		--variant debian-bin --dest "$1" -q >/dev/null || dk_fail "staging $DK_PREV_KV into $1"
}

# The kernel command line of the UEFI boot proofs (ROOT/etc/kernel/cmdline): a failing initramfs
# powers the machine off instead of waiting for the timeout.
DK_EFI_CMDLINE="root=/dev/vda rw console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff distkernel.marker=efi"

# dk_efi_booted LOG KV WHAT: fails unless the root's init ran under kernel KV.
dk_efi_booted() {
	grep -aq "DISTKERNEL-BOOT-OK efi $2" "$1" || dk_fail "$3: the root's init did not run under $2 ($(grep -ao 'DISTKERNEL-BOOT-OK.*' "$1" | head -n 1))"
	dk_ok "$3: booted $2"
}

# dk_boot_two ESP1 LOG1 ESP2 LOG2 [DISK2]: boots both ESP directories at once (tests/qemu-boot
# --uefi, two QEMU processes), the second with the raw disk image DISK2 attached when given;
# DK_BOOT1 and DK_BOOT2 are their exit statuses (the logs say what booted).
dk_boot_two() {
	local p
	"$DK_SOURCE_ROOT/tests/qemu-boot" --uefi "$1" "$2" &
	p=$!
	DK_BOOT2=0
	DK_BOOT_DISK=${5:-} "$DK_SOURCE_ROOT/tests/qemu-boot" --uefi "$3" "$4" || DK_BOOT2=$?
	DK_BOOT1=0
	wait "$p" || DK_BOOT1=$?
}

# dk_private_mounts "$@" (before dk_tmp): runs the test in a mount namespace of its own (re-executed
# under unshare -m), where its loop and bind mounts live and end with it; its $T is then removed
# only after those are unmounted, never across a mount (dk_tmp_mounts).
dk_private_mounts() {
	[[ $(id -u) == 0 ]] || dk_skip "loop and bind mounts need root"
	if [[ -z ${DK_PRIVATE_MOUNTS:-} ]]; then
		command -v unshare >/dev/null || dk_skip "no unshare (util-linux)"
		DK_PRIVATE_MOUNTS=1 exec unshare -m --propagation private bash "$0" "$@"
	fi
}

# dk_tmp_mounts: dk_tmp for a test under dk_private_mounts: at the end, what is mounted below $T
# is unmounted (lazily, innermost first) before $T is removed, and rm never crosses a mount.
dk_tmp_mounts() {
	dk_tmp
	# shellcheck disable=SC2064
	trap "findmnt -rn -o TARGET | grep '^$T/' | sort -r | xargs -r umount -l; rm -rf --one-file-system '$T'" EXIT
}

# dk_host_userland ROOT: the build machine's programs and libraries (/usr/bin, /usr/sbin, the
# libraries, /usr/share) bound read-only into ROOT, with /proc, and /dev and /sys read-only, so
# that its real grub-mkconfig and kernel-install run inside ROOT (chroot) on ROOT's own /etc, /boot,
# /usr/lib/kernel, /lib/modules and /usr/src. Under dk_private_mounts only.
dk_host_userland() {
	local r=$1 d
	[[ -n ${DK_PRIVATE_MOUNTS:-} ]] || dk_fail "dk_host_userland outside dk_private_mounts"
	for d in usr/bin usr/sbin usr/lib/x86_64-linux-gnu usr/lib64 usr/share usr/lib/grub lib/x86_64-linux-gnu; do
		[[ -d /$d ]] || continue
		mkdir -p "$r/$d"
		mount --bind "/$(readlink -f "/$d" | sed 's|^/||')" "$r/$d"
		mount -o remount,bind,ro "$r/$d"
	done
	for d in bin sbin lib64; do [[ -e $r/$d ]] || ln -s "usr/$d" "$r/$d"; done
	mkdir -p "$r/proc" "$r/dev" "$r/sys" "$r/tmp" "$r/run"
	mount -t proc proc "$r/proc"
	for d in dev sys; do
		mount --rbind "/$d" "$r/$d"
		mount -o remount,bind,ro "$r/$d"
	done
}
