#!/usr/bin/env bash
# How distkernel-install calls the real dracut, from the root's own settings: the root's
# dracut.conf decides host-only (--no-hostonly only where nothing is set), --kernel-image always,
# uefi=yes never turns the initramfs into a UEFI executable (and a PE file is refused), the
# initramfs is 0644; install.conf's initrd_generator=none gives no initramfs; install.conf and
# $INSTALLKERNEL_CONF_ROOT are read under the root, each setting shown with its source.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
R=$T/root KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install
dk_stage_debian "$R"
initrd=$R/boot/initramfs-$KV.img

# Nothing set by the user: a generic image, said so at -v.
dk_expect_status 0 "$install" add "$KV" --root "$R" --layout installkernel "${DK_SMALL_DRACUT[@]}" -v
dk_grep '^host-only: no \(the default of a binary package' "$T/err"
dk_grep "building the initramfs: dracut .*--kernel-image $R/usr/src/linux-$KV/.* --no-hostonly " "$T/err"
[[ $(stat -c %a "$initrd") == 644 ]] || dk_fail "initramfs mode $(stat -c %a "$initrd"), not 644"
[[ $(head -c 2 "$initrd") != MZ ]] || dk_fail "the initramfs is a PE file"
dk_ok "default: --no-hostonly, --kernel-image, 0644"

# The user's dracut.conf.d sets hostonly (to no here: yes would make dracut look at this machine)
# and uefi=yes: no --no-hostonly of ours, --no-uefi, still a plain initramfs.
mkdir -p "$R/etc/dracut.conf.d"
printf '# mine\nhostonly="no"\nuefi=yes\n' > "$R/etc/dracut.conf.d/50-user.conf"
dk_expect_status 0 "$install" add "$KV" --root "$R" --layout installkernel "${DK_SMALL_DRACUT[@]}" -v
dk_grep "^host-only: no \($R/etc/dracut.conf.d/50-user.conf:2 says hostonly=no\)" "$T/err"
dk_grep "50-user.conf:3 says uefi=yes: dracut gets --no-uefi" "$T/err"
dk_nogrep 'building the initramfs: .*--no-hostonly' "$T/err"
dk_grep 'building the initramfs: .*--no-uefi' "$T/err"
[[ $(head -c 2 "$initrd") != MZ ]] || dk_fail "uefi=yes in dracut.conf deployed a PE file as the initramfs"
lsinitrd "$initrd" >"$T/lsinitrd" 2>&1 || { tail "$T/lsinitrd" >&2; dk_fail "lsinitrd cannot read the initramfs"; }
dk_ok "the user's hostonly= and uefi=yes: honoured and handled"

# dracut asked for a UEFI executable anyway (a --uefi of the user's, real dracut with systemd's
# stub): refused, /boot unchanged.
base=$(dk_boot_snapshot "$R")
if [[ -e /usr/lib/systemd/boot/efi/linuxx64.efi.stub ]]; then
	dk_expect_status 1 "$install" add "$KV" --root "$R" --layout installkernel "${DK_SMALL_DRACUT[@]}" --dracut-arg=--uefi
	dk_grep 'dracut wrote a UEFI executable \(PE\), not an initramfs' "$T/err"
	dk_same_boot "$R" "$base" "a PE file from dracut"
else
	echo "SKIP part: no systemd-boot-efi stub: dracut --uefi cannot make a PE file here" >&2
fi
rm "$R/etc/dracut.conf.d/50-user.conf"

# initrd_generator=none in the root's /usr/lib/kernel/install.conf (where Gentoo's installkernel
# ebuild writes it): no dracut, no initramfs; dracut that would fail proves it is not run.
mkdir -p "$R/usr/lib/kernel"
printf 'layout=compat\ninitrd_generator=none # no initramfs\n' > "$R/usr/lib/kernel/install.conf"
dk_expect_status 0 "$install" add "$KV" --root "$R" --dracut "$DK_SOURCE_ROOT/tests/fixtures/install/failing-dracut" -v
dk_grep "^initramfs: none \($R/usr/lib/kernel/install.conf:2 says initrd_generator=none\)" "$T/err"
dk_grep "^layout installkernel: $R/usr/lib/kernel/install.conf:1 says layout=compat" "$T/err"
[[ ! -e $initrd ]] || dk_fail "initrd_generator=none: $initrd still there"
dk_ok "initrd_generator=none: no initramfs"

# $INSTALLKERNEL_CONF_ROOT names a directory inside the root; inspect shows the settings, each
# with its source, as JSON too.
mkdir -p "$R/etc/alt-kernel"
printf "layout='bls'\nuki_generator=\"ukify\"\n" > "$R/etc/alt-kernel/install.conf"
INSTALLKERNEL_CONF_ROOT=/etc/alt-kernel dk_expect_status 0 "$install" inspect --root "$R" --json
python3 - "$T/out" "$R" <<'PY' || dk_fail "inspect --json"
import json, sys
d, root = json.load(open(sys.argv[1])), sys.argv[2]
conf = d["install_conf"]
assert conf["file"] == root + "/etc/alt-kernel/install.conf", conf
assert conf["layout"] == {"value": "bls", "source": root + "/etc/alt-kernel/install.conf:1"}, conf
assert conf["uki_generator"]["value"] == "ukify", conf
assert d["layout"]["value"] == "bls", d["layout"]
assert d["initramfs"]["value"] == "dracut", d["initramfs"]
assert d["dracut_options"] == ["--no-hostonly"], d["dracut_options"]
PY
dk_grep "^  layout: +bls  \($R/etc/alt-kernel/install.conf:1\)" "$T/err"
dk_expect_status 0 "$install" inspect --root "$R"
dk_grep "^install.conf: +$R/usr/lib/kernel/install.conf" "$T/err"
dk_grep '^initramfs: +none' "$T/err"
dk_ok "INSTALLKERNEL_CONF_ROOT under the root; inspect"
