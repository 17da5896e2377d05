#!/usr/bin/env bash
# The layouts on the EFI system partition (the root's /boot), with real dracut, systemd's real EFI
# stub and objcopy: layout=uki (EFI/Linux/TOKEN-KV.efi, one file with the kernel, the initramfs,
# the root's cmdline and os-release) and layout=efistub (EFI/NAME/vmlinuz-KV.efi + its initramfs,
# the efibootmgr command printed under --root). For each: add, a second kernel beside it, remove
# --pretend, remove (exactly its files go), and what check and clean see.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
KV=$DK_DEBIAN_KV KV2=$DK_DEBIAN_KV-second
install=$DK_TOOLS/distkernel-install
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[[ -f $stub ]] || dk_skip "no $stub (systemd-boot-efi; scripts/install-deps)"

# dk_efi_root ROOT LAYOUT: the Debian kernel staged twice (KV and KV2, the same files under two
# releases: the layouts only move files), install.conf saying LAYOUT, the root's
# os-release, machine id and systemd's stub as the root's own.
dk_efi_root() {
	local r=$1
	dk_stage_debian "$r"
	"$DK_TOOLS/distkernel-stage" prebuilt --release "$KV2" \
		--image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" --modules "$DK_DEBIAN_ROOT/lib/modules/$KV" \
		--config "$DK_DEBIAN_CONFIG" --variant debian-bin --dest "$r" -q >/dev/null || dk_fail "staging $KV2"
	mkdir -p "$r/usr/lib/kernel" "$r/usr/lib/systemd/boot/efi" "$r/boot"
	printf 'layout=%s\ninitrd_generator=dracut\n' "$2" > "$r/usr/lib/kernel/install.conf"
	printf 'NAME=Gentoo\nID=gentoo\nPRETTY_NAME="Gentoo Linux (distkernel test root)"\n' > "$r/etc/os-release"
	echo 0123456789abcdef0123456789abcdef > "$r/etc/machine-id"
	cp "$stub" "$r/usr/lib/systemd/boot/efi/"
}

# dk_check KV: distkernel-check of KV in $R for the virtio machine of the fixtures, JSON in $T/out.
dk_check() {
	"$DK_TOOLS/distkernel-check" "$1" --root "$R" --machine "$DK_SOURCE_ROOT/tests/fixtures/check/virtio-vm.json" \
		--json >"$T/out" 2>"$T/err" || true
}

# --- uki
R=$T/uki
dk_efi_root "$R" uki
dk_expect_status 0 "$install" inspect --root "$R"
dk_grep "^on the ESP: +/boot/EFI/Linux/0123456789abcdef0123456789abcdef-KV.efi  \(entry token from $R/etc/machine-id\)" "$T/err"
dk_grep "^EFI stub: +$R/usr/lib/systemd/boot/efi/linuxx64.efi.stub  \(the root's systemd-boot\)" "$T/err"
echo "kept by the machine" > "$R/boot/unrelated-file"
before=$(dk_boot_snapshot "$R")
dk_expect_status 0 "$install" add "$KV" --root "$R" -v "${DK_SMALL_DRACUT[@]}"
dk_grep 'layout uki: .*install.conf:1 says layout=uki' "$T/err"
uki=$R/boot/EFI/Linux/0123456789abcdef0123456789abcdef-$KV.efi
[[ -f $uki ]] || dk_fail "no UKI at $uki"
[[ ! -e $R/boot/vmlinuz-$KV && ! -e $R/boot/initramfs-$KV.img ]] || dk_fail "the uki layout also wrote /boot/vmlinuz"
objdump -h "$uki" > "$T/sections"
for s in .osrel .cmdline .initrd .linux; do dk_grep " $s " "$T/sections"; done
objcopy -O binary --only-section=.linux "$uki" "$T/linux"
cmp <(head -c "$(stat -c %s "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV")" "$T/linux") "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" ||
	dk_fail "the UKI's .linux is not the staged kernel"
objcopy -O binary --only-section=.cmdline "$uki" "$T/cmdline"
[[ $(tr -d '\0' < "$T/cmdline") == "root=/dev/vda rw console=ttyS0" ]] || dk_fail "UKI cmdline: $(cat "$T/cmdline")"
objcopy -O binary --only-section=.osrel "$uki" "$T/osrel"
dk_grep '^NAME=Gentoo' "$T/osrel"
dk_ok "uki: $uki holds the staged kernel, an initramfs, the root's cmdline and os-release"

# The second kernel (without an initramfs: a UKI with no .initrd section): both UKIs, each
# recorded with exactly its own file.
dk_expect_status 0 "$install" add "$KV2" --root "$R" --no-initramfs
uki2=$R/boot/EFI/Linux/0123456789abcdef0123456789abcdef-$KV2.efi
[[ -f $uki && -f $uki2 ]] || dk_fail "not both UKIs after the second add"
objdump -h "$uki2" > "$T/sections"
dk_nogrep ' \.initrd ' "$T/sections"
dk_grep ' \.linux ' "$T/sections"
dk_expect_status 0 "$install" list --root "$R"
dk_grep "^$KV	uki	" "$T/out"
dk_grep "^$KV2	uki	" "$T/out"
dk_ok "uki: a second kernel beside the first"

# check reads the UKI's initramfs; clean's inventory sees both as distkernel's uki installs.
# check's verdict on the machine is not the point here: which initramfs it read is.
dk_check "$KV"
dk_grep 'EFI/Linux/0123456789abcdef0123456789abcdef-'"$KV"'.efi \(.initrd\)' "$T/out"
dk_expect_status 0 "$DK_TOOLS/distkernel-clean" --root "$R" --keep 1 --running "$KV2" --pretend --json
python3 - "$T/out" "$KV" "$KV2" <<'PY' || dk_fail "clean's inventory of the UKIs"
import json, sys
d = json.load(open(sys.argv[1]))
ks = {k["release"]: k for k in d["kernels"]}
old, new = ks[sys.argv[2]], ks[sys.argv[3]]
assert old["layout"] == new["layout"] == "uki", d
assert old["action"] == "remove" and new["action"] == "keep", d
assert [f["path"] for f in old["files"] if f["path"].startswith("/boot/")] == ["/boot/EFI/Linux/0123456789abcdef0123456789abcdef-%s.efi" % sys.argv[2]], old
PY
dk_ok "uki: check reads the UKI's .initrd; clean lists both UKIs"

dk_expect_status 0 "$install" remove "$KV2" --root "$R" --pretend
cat "$T/out" "$T/err" > "$T/said"
dk_grep "EFI/Linux/0123456789abcdef0123456789abcdef-$KV2.efi" "$T/said"
[[ -f $uki2 ]] || dk_fail "remove --pretend removed the UKI"
dk_expect_status 0 "$install" remove "$KV2" --root "$R"
[[ ! -e $uki2 && -f $uki ]] || dk_fail "remove $KV2 did not remove exactly its UKI"
dk_expect_status 0 "$install" remove "$KV" --root "$R"
dk_same_boot "$R" "$before" "uki: remove after both adds"

# No stub: a clear error before dracut runs, /boot untouched.
rm "$R/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
dk_expect_status 1 "$install" add "$KV" --root "$R" "${DK_SMALL_DRACUT[@]}"
dk_grep "no EFI stub at $R/usr/lib/systemd/boot/efi/linuxx64.efi.stub" "$T/err"
dk_nogrep 'building the initramfs' "$T/err"
dk_same_boot "$R" "$before" "uki without a stub"

# --- efistub
R=$T/efistub
dk_efi_root "$R" efistub
dk_expect_status 0 "$install" inspect --root "$R" --json
python3 - "$T/out" "$R" <<'PY' || dk_fail "inspect --json of an efistub root"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["layout"]["value"] == "efistub", d["layout"]
assert d["esp_target"] == {"value": "/boot/EFI/Gentoo/vmlinuz-KV.efi", "source": "NAME= of %s/etc/os-release" % sys.argv[2]}, d["esp_target"]
assert d["efi_stub"] is None
PY
before=$(dk_boot_snapshot "$R")
dk_expect_status 0 "$install" add "$KV" --root "$R" -v "${DK_SMALL_DRACUT[@]}"
dk_grep 'layout efistub: .*says layout=efistub' "$T/err"
for f in vmlinuz-$KV.efi initramfs-$KV.img; do
	[[ -f $R/boot/EFI/Gentoo/$f ]] || dk_fail "no /boot/EFI/Gentoo/$f"
done
cmp "$R/boot/EFI/Gentoo/vmlinuz-$KV.efi" "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" || dk_fail "efistub image differs"
# Under --root the firmware entry is the target's business: the exact command, printed.
dk_grep "efibootmgr --create --disk ESP-DISK --part ESP-PARTITION-NUMBER --label 'Gentoo $KV' --loader '\\\\EFI\\\\Gentoo\\\\vmlinuz-$KV.efi' --unicode 'initrd=\\\\EFI\\\\Gentoo\\\\initramfs-$KV.img root=/dev/vda rw console=ttyS0'" "$T/err"
dk_expect_status 0 "$install" add "$KV2" --root "$R" --no-initramfs
dk_grep "efibootmgr --create .* --unicode 'root=/dev/vda rw console=ttyS0'" "$T/err"
[[ ! -e $R/boot/EFI/Gentoo/initramfs-$KV2.img ]] || dk_fail "an initramfs for $KV2 with --no-initramfs"
[[ -f $R/boot/EFI/Gentoo/vmlinuz-$KV2.efi && -f $R/boot/EFI/Gentoo/vmlinuz-$KV.efi ]] || dk_fail "not both efistub kernels"
dk_expect_status 0 "$install" list --root "$R"
dk_grep "^$KV2	efistub	" "$T/out"
dk_check "$KV"
dk_grep "EFI/Gentoo/initramfs-$KV.img" "$T/out"
dk_expect_status 0 "$install" remove "$KV" --root "$R" --pretend
cat "$T/out" "$T/err" > "$T/said"
dk_grep "EFI/Gentoo/vmlinuz-$KV.efi" "$T/said"
dk_expect_status 0 "$install" remove "$KV" --root "$R"
dk_grep "delete the firmware's boot entry 'Gentoo $KV'" "$T/err"
[[ ! -e $R/boot/EFI/Gentoo/vmlinuz-$KV.efi && -f $R/boot/EFI/Gentoo/vmlinuz-$KV2.efi ]] || dk_fail "remove $KV took the wrong files"
dk_expect_status 0 "$install" remove "$KV2" --root "$R"
dk_same_boot "$R" "$before" "efistub: remove after both adds"
dk_ok "efistub: add, a second kernel, remove --pretend, remove; the efibootmgr command printed under --root"
