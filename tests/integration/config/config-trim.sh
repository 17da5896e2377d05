#!/usr/bin/env bash
# trim on real parts: Debian's 6.1 config and its prebuilt module tree (aliases), the 6.1 tree's
# Kconfig and Makefiles, and snapshots that `distkernel-check snapshot` took inside two QEMU
# guests running Debian's 6.1 kernel (tests/fixtures/trim, collected by the trimmed-boot proof):
#   qemu-pc-virtio.json: pc (i440FX), virtio-blk root (ext4) and a second virtio disk,
#                        virtio-net, e1000, qemu-xhci with a USB keyboard;
#   qemu-pc-ahci.json:   the same machine with its root on an ICH9 AHCI disk instead.
# The layer merges through the real olddefconfig with nothing dropped, keeps what the first
# machine needs, drops what it does not (a wifi driver), and does not cover the second machine.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
cfg=$DK_TOOLS/distkernel-config
fx=$DK_SOURCE_ROOT/tests/fixtures/trim
mods=$DK_DEBIAN_ROOT/lib/modules/$DK_DEBIAN_KV
trim=("$cfg" trim --tree "$DK_TREE" --base "$DK_DEBIAN_CONFIG" --modules "$mods")

cat > "$T/rules" <<'F'
# this machine's owner also wants a FUSE-less system and a virtio RNG
drop fuse
keep CONFIG_HW_RANDOM_VIRTIO
F
dk_expect_status 0 "${trim[@]}" --machine "$fx/qemu-pc-virtio.json" --rules "$T/rules" --explain --json -o "$T/trim.config"
cp "$T/out" "$T/trim.json"
cp "$T/err" "$T/trim.err"
dk_grep '^modules: [0-9]+ of [0-9]+ kept \([0-9]+ of [0-9]+ MiB in [^)]+\); module symbols: [0-9]+ of [0-9]+; objects to build: [0-9]+ of [0-9]+' "$T/trim.err"
dk_grep '^kept virtio_blk \(CONFIG_VIRTIO_BLK\): device: /sys/devices/pci0000:00/0000:00:0[56].0/virtio[12] virtio:d00000002v00001AF4$' "$T/trim.err"
dk_grep '^kept ext4 \(CONFIG_EXT4_FS\): root: / \(ext4 on /dev/vda\): its filesystem$' "$T/trim.err"
dk_grep "^kept virtio_rng \(CONFIG_HW_RANDOM_VIRTIO\): rule: keep CONFIG_HW_RANDOM_VIRTIO \[$T/rules:3\]$" "$T/trim.err"
dk_grep '^dropped drivers/net/wireless: [0-9]+ module\(s\)' "$T/trim.err"
dk_grep '^# CONFIG_IWLWIFI is not set$' "$T/trim.config"
dk_grep '^# CONFIG_FUSE_FS is not set$' "$T/trim.config"
dk_nogrep '^# CONFIG_(VIRTIO_BLK|VIRTIO_NET|E1000|EXT4_FS|VFAT_FS|USB_HID|HID_GENERIC) is not set$' "$T/trim.config"
dk_grep '^# CONFIG_SATA_AHCI is not set$' "$T/trim.config"
python3 - "$T/trim.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "distkernel.trim" and r["version"] == "1.1", r["schema"]
kept = {m["module"] for m in r["kept"]}
dropped = {m["module"] for m in r["dropped"]}
for m in ["virtio_blk", "virtio_net", "virtio_pci", "e1000", "ext4", "vfat", "usbhid", "hid_generic", "xhci_pci",
          "usb_storage", "uas", "isofs", "udf", "exfat", "loop", "virtio_rng"]:
    assert m in kept, m
for m in ["iwlwifi", "ath9k", "ahci", "nvme", "fuse", "xfs"]:
    assert m in dropped, m
c = r["counts"]
assert c["base_modules"] > 3500 and c["trimmed_modules"] < 250, c
assert c["trimmed_objects"] < c["base_objects"] / 2, c
left_out = r["left_out_objects"]
assert len(left_out) == len(set(left_out)) and c["trimmed_objects"] + len(left_out) <= c["base_objects"], len(left_out)
assert "drivers/net/wireless/intel/iwlwifi/iwl-drv.o" in left_out and "drivers/block/virtio_blk.o" not in left_out
assert not any(o.startswith("fs/ext4/") for o in left_out)
assert 0 < c["trimmed_module_bytes"] < c["base_module_bytes"] / 10, c
assert any(d["class"] == "drivers/net/wireless" for d in r["dropped_classes"])
why = {m["module"]: m["reasons"] for m in r["kept"]}
assert any(w["kind"] == "class" and w["detail"].startswith("usb-storage") for w in why["usb_storage"]), why["usb_storage"]
PY

# the layer is an ordinary layer: merge verifies it through the real olddefconfig
dk_expect_status 0 "$cfg" merge --tree "$DK_TREE" -O "$T/build" "$DK_DEBIAN_CONFIG" "$T/trim.config"
dk_grep 'kept, 0 changed, 0 dropped, 0 unknown; every required value survived$' "$T/err"
final=$T/build/.config
dk_grep '^CONFIG_VIRTIO_BLK=m$' "$final"
dk_grep '^CONFIG_E1000=m$' "$final"
dk_nogrep '^CONFIG_IWLWIFI=' "$final"

# the trimmed config covers its machine, not one whose root sits behind an AHCI controller
dk_expect_status 0 "$cfg" trim-check --json --machine "$fx/qemu-pc-virtio.json" --tree "$DK_TREE" --modules "$mods" --config "$final"
python3 - "$T/out" "$T/trim.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))["counts"]
assert r["schema"] == "distkernel.trim-check" and r["covered"] is True and r["missing"] == [], r
# olddefconfig only takes away from what the layer leaves
assert r["counts"]["modules"] <= t["trimmed_modules"] and r["counts"]["objects"] <= t["trimmed_objects"], (r["counts"], t)
PY
dk_expect_status 3 "$cfg" trim-check --machine "$fx/qemu-pc-ahci.json" --tree "$DK_TREE" --modules "$mods" --config "$final"
dk_grep '^warning: not covered: / \(/dev/sda\): disk sda: /sys/devices/pci0000:00/0000:00:02.0 pci:v00008086d00002922.*: module ahci \(CONFIG_SATA_AHCI is n\)$' "$T/err"

# distkernel-check on a kernel that records the machine it was trimmed for (as the eclass
# installs it): says so on another machine, and that it is this one's on the machine itself
mkdir -p "$T/root/usr/src/linux-$DK_DEBIAN_KV"
cp "$fx/qemu-pc-virtio.json" "$T/root/usr/src/linux-$DK_DEBIAN_KV/distkernel-trim-machine.json"
check=("$DK_TOOLS/distkernel-check" "$DK_DEBIAN_KV" --root "$T/root" --modules "$mods")
"${check[@]}" --machine "$fx/qemu-pc-ahci.json" >/dev/null 2>"$T/err" || true
dk_grep "^  warning \[trim\]: $DK_DEBIAN_KV was trimmed for another machine \(/usr/src/linux-$DK_DEBIAN_KV/distkernel-trim-machine.json\): 2 device\(s\) driven here are not in its snapshot" "$T/err"
"${check[@]}" --machine "$fx/qemu-pc-virtio.json" >/dev/null 2>"$T/err" || true
dk_grep "^  info \[trim\]: trimmed for this machine's devices" "$T/err"
mkdir -p "$T/root/sys"
"${check[@]}" >/dev/null 2>"$T/err" || true
dk_grep "^  warning \[trim\]: trimmed for one machine \(/usr/src/linux-$DK_DEBIAN_KV/distkernel-trim-machine.json\); this machine's devices are unknown" "$T/err"

# the eclass's settings file: snapshot, module tree and rules under a root
mkdir -p "$T/sys/etc/kernel"
cp "$fx/qemu-pc-virtio.json" "$T/sys/etc/kernel/machine.json"
printf 'keep CONFIG_HW_RANDOM_VIRTIO\n' > "$T/sys/etc/kernel/trim.rules"
# no "modules =": the newest module tree of the tree's series (6.1) under the root; its
# indexes are all trim reads
printf '# trimmed for this VM\nsnapshot = /etc/kernel/machine.json\nrules = /etc/kernel/trim.rules\n' \
	> "$T/sys/etc/kernel/distkernel-trim"
mkdir -p "$T/sys/lib/modules/$DK_DEBIAN_KV" "$T/sys/lib/modules/5.10.0-1-amd64"
cp "$mods"/modules.* "$T/sys/lib/modules/$DK_DEBIAN_KV/"
cp "$mods"/modules.alias "$T/sys/lib/modules/5.10.0-1-amd64/"
dk_expect_status 0 "$cfg" trim --root "$T/sys" --settings /etc/kernel/distkernel-trim --tree "$DK_TREE" \
	--base "$DK_DEBIAN_CONFIG" -o "$T/settings.config"
dk_grep "^trimming for $T/sys/etc/kernel/machine.json with the module aliases of $T/sys/lib/modules/$DK_DEBIAN_KV" "$T/err"
dk_nogrep '^# CONFIG_HW_RANDOM_VIRTIO is not set$' "$T/settings.config"
printf 'snapshot = etc/kernel/machine.json\n' > "$T/sys/etc/kernel/distkernel-trim"
dk_expect_status 1 "$cfg" trim --root "$T/sys" --settings /etc/kernel/distkernel-trim --tree "$DK_TREE" \
	--base "$DK_DEBIAN_CONFIG" -o "$T/x.config"
dk_grep "$T/sys/etc/kernel/distkernel-trim:1: snapshot = 'etc/kernel/machine.json': not an absolute path" "$T/err"

# errors name the file or value
dk_expect_status 2 "${trim[@]}" --machine "$fx/qemu-pc-virtio.json" --keep no-such-driver -o "$T/x.config"
dk_grep "--keep 'no-such-driver': no module of that name" "$T/err"
dk_expect_status 2 "${trim[@]}" --machine "$fx/qemu-pc-virtio.json" --drop virtio_blk -o "$T/x.config"
dk_grep "--drop 'virtio_blk': the root filesystem needs it" "$T/err"
echo '{"schema": "distkernel.trim", "version": "1.0"}' > "$T/not-a-snapshot.json"
dk_expect_status 1 "${trim[@]}" --machine "$T/not-a-snapshot.json" -o "$T/x.config"
dk_grep "$T/not-a-snapshot.json" "$T/err"
dk_expect_status 1 "${trim[@]}" --machine "$T/trim.config" -o "$T/x.config"
dk_grep "$T/trim.config" "$T/err"
mkdir -p "$T/no-aliases"
dk_expect_status 1 "$cfg" trim --tree "$DK_TREE" --base "$DK_DEBIAN_CONFIG" --modules "$T/no-aliases" \
	--machine "$fx/qemu-pc-virtio.json" -o "$T/x.config"
dk_grep "$T/no-aliases: no modules.alias" "$T/err"
printf 'keep e1000\nremove fuse\n' > "$T/bad-rules"
dk_expect_status 1 "${trim[@]}" --machine "$fx/qemu-pc-virtio.json" --rules "$T/bad-rules" -o "$T/x.config"
dk_grep "$T/bad-rules:2: expected \"keep NAME\" or \"drop NAME\"" "$T/err"
[[ ! -e $T/x.config ]] || dk_fail "a failed trim wrote its layer"
dk_ok "trim: layer merged and verified, its machine covered, the AHCI machine refused, errors named"
