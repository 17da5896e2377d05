#!/usr/bin/env bash
# The trim proof's two QEMU machines (tests/integration/trim/collect) booted with Debian's
# prebuilt 6.1 kernel, in parallel: the real `distkernel-check snapshot` run inside each guest
# after every device's module was loaded by modalias, and the guest's list of devices without a
# driver. Debian's full kernel drives every device of both machines (the list is empty), the
# snapshots describe the machines (virtio or AHCI root, both NICs, the USB keyboard, the ESP),
# and distkernel-check finds Debian's own module tree covering both.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
source "$DK_SOURCE_ROOT/tests/integration/trim/common.sh"
dk_tmp
command -v qemu-system-x86_64 >/dev/null || dk_skip "QEMU missing"
started=$SECONDS
dk_trim_debian_initramfs >/dev/null
pids=()
for m in A B; do
	dk_trim_collect_debian "$m" "$T/$m" > "$T/$m.log" 2>&1 &
	pids+=($!)
done
for i in 0 1; do
	m=$( ((i == 0)) && echo A || echo B)
	st=0; wait "${pids[$i]}" || st=$?
	[[ $st == 77 ]] && dk_skip "$(tail -n 1 "$T/$m.log")"
	[[ $st == 0 ]] || { cat "$T/$m.log" >&2; dk_fail "machine $m: collection failed"; }
	cat "$T/$m.log" >&2
	[[ ! -s $T/$m/driverless.txt ]] || { cat "$T/$m/driverless.txt" >&2; dk_fail "machine $m: devices without a driver under Debian's kernel"; }
done
dk_ok "both machines booted, snapshots collected in the guests, no device without a driver"

for m in A B; do
	s=$T/$m/snapshot.json
	dk_trim_snapshot_has "$s" 'd["release"] == "'"$DK_DEBIAN_KV"'"' "not taken under $DK_DEBIAN_KV"
	dk_trim_snapshot_has "$s" 'any(x["driver"] == "e1000" for x in devs)' "no e1000 NIC"
	dk_trim_snapshot_has "$s" 'any(x["driver"] == "virtio_net" for x in devs)' "no virtio-net NIC"
	dk_trim_snapshot_has "$s" 'any(x["module"] == "xhci_pci" for x in devs)' "no xHCI controller"
	dk_trim_snapshot_has "$s" 'any(x["module"] == "usbhid" for x in devs)' "no USB keyboard (usbhid)"
	dk_trim_snapshot_has "$s" 'd["mounts"]["root"]["fstype"] == "ext4"' "the root is not ext4"
	grep -qx vfat "$T/$m/modules.txt" || dk_fail "machine $m: the ESP (vfat) was not mounted"
done
dk_trim_snapshot_has "$T/A/snapshot.json" '"virtio_blk" in root and "ahci" not in root' "A's root is not on virtio_blk"
dk_trim_snapshot_has "$T/B/snapshot.json" '"ahci" in root and "sd" in root' "B's root is not on AHCI"
dk_trim_snapshot_has "$T/A/snapshot.json" 'not any(x["module"] == "ahci" for x in devs)' "A has an AHCI controller"
dk_ok "the snapshots describe the machines (A: virtio root; B: AHCI root)"

for m in A B; do
	dk_expect_status 0 "$DK_TOOLS/distkernel-check" "$DK_DEBIAN_KV" --modules "$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV" \
		--machine "$T/$m/snapshot.json" --initramfs "$(dk_trim_debian_initramfs)"
done
dk_ok "distkernel-check: Debian's kernel covers both machines"
echo "trim-machines: $((SECONDS - started)) s" >&2
