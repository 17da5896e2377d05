#!/usr/bin/env bash
# install.conf's uki_generator= decides what joins the unified kernel image of layout=uki, as
# Gentoo's installkernel hooks do (50-dracut.install: dracut --uefi; 60-ukify.install: ukify
# build): dracut (on the live system dracut --uefi, one run for the initramfs and the UKI; under
# --root real dracut builds the initramfs and distkernel joins the UKI with the root's stub,
# command line and os-release, never the build machine's; booted under OVMF as the firmware's
# default loader), ukify (not in Debian 12:
# without it the add fails naming the package and /boot is unchanged; with --ukify, a stand-in
# that records its arguments shows the call), none or unset (distkernel's objcopy join). inspect
# shows the choice with its source.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[[ -f $stub ]] || dk_skip "no $stub (systemd-boot-efi; scripts/install-deps)"
export DK_BOOT_MARKER=efi DK_BOOT_TIMEOUT=${DK_BOOT_TIMEOUT:-180}
start=$SECONDS
token=0123456789abcdef0123456789abcdef

# uki_root ROOT GENERATOR: the Debian kernel staged, layout=uki and uki_generator=GENERATOR
# (nothing when empty) in install.conf, the root's os-release, machine id and stub.
uki_root() {
	dk_stage_debian "$1"
	mkdir -p "$1/usr/lib/kernel" "$1/usr/lib/systemd/boot/efi" "$1/boot"
	printf 'layout=uki\ninitrd_generator=dracut\n%s\n' "${2:+uki_generator=$2}" > "$1/usr/lib/kernel/install.conf"
	printf 'NAME=Gentoo\nID=gentoo\nPRETTY_NAME="Gentoo Linux"\n' > "$1/etc/os-release"
	echo "$token" > "$1/etc/machine-id"
	echo "$DK_EFI_CMDLINE" > "$1/etc/kernel/cmdline"
	cp "$stub" "$1/usr/lib/systemd/boot/efi/"
}

# --- unset and none: distkernel's objcopy join
for gen in "" none; do
	R=$T/objcopy-$gen
	uki_root "$R" "$gen"
	dk_expect_status 0 "$install" inspect --root "$R" --json
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["uki_generator"]["value"])' "$T/out" > "$T/gen"
	dk_grep '^objcopy$' "$T/gen"
done
dk_expect_status 0 "$install" inspect --root "$T/objcopy-none"
dk_grep '^UKI joined by: +objcopy  \(.*install.conf:3 says uki_generator=none' "$T/err"
dk_ok "uki_generator unset or none: distkernel's objcopy join"

# --- dracut under --root: dracut builds the initramfs, the UKI is joined with the root's stub,
# command line and os-release (dracut --uefi would take the build machine's os-release)
R=$T/dracut
uki_root "$R" dracut
cmp -s "$R/etc/os-release" /etc/os-release && dk_fail "the root's os-release must differ from this machine's"
dk_expect_status 0 "$install" inspect --root "$R"
dk_grep "^UKI joined by: +objcopy  \($R/usr/lib/kernel/install.conf:3 says uki_generator=dracut; under --root $R dracut --uefi would put the build machine's os-release into the UKI: dracut builds the initramfs, distkernel joins the UKI with objcopy and the root's os-release\)" "$T/err"
dk_nogrep "^warning:" "$T/err"
dk_expect_status 0 "$install" add "$KV" --root "$R" -v "${DK_SMALL_DRACUT[@]}"
dk_grep "building the initramfs: dracut " "$T/err"
dk_nogrep "dracut .*--uefi" "$T/err"
dk_grep "joining the unified kernel image: objcopy .*$R/usr/lib/systemd/boot/efi/linuxx64.efi.stub" "$T/err"
uki=$R/boot/EFI/Linux/$token-$KV.efi
objdump -h "$uki" > "$T/sections" || dk_fail "no UKI at $uki"
for s in .osrel .cmdline .initrd .linux; do dk_grep " \\$s " "$T/sections"; done
objcopy -O binary --only-section=.osrel "$uki" "$T/osrel"
cmp "$R/etc/os-release" "$T/osrel" || dk_fail "the UKI's .osrel is not $R/etc/os-release: $(cat "$T/osrel")"
objcopy -O binary --only-section=.cmdline "$uki" "$T/cmdline"
dk_grep "distkernel.marker=efi" "$T/cmdline"
dk_ok "uki_generator=dracut under --root: the UKI carries the root's os-release"
mkdir -p "$T/esp/EFI/BOOT"
cp "$uki" "$T/esp/EFI/BOOT/BOOTX64.EFI"
"$DK_SOURCE_ROOT/tests/qemu-boot" --uefi "$T/esp" "$T/dracut.log" || dk_fail "dracut's UKI did not boot (exit $?)"
dk_efi_booted "$T/dracut.log" "$KV" "uki_generator=dracut under --root: the UKI as the firmware's default loader"

# --- ukify: not on this machine: a clear error, /boot unchanged; a stand-in shows the call
R=$T/ukify
uki_root "$R" ukify
before=$(dk_boot_snapshot "$R")
if [[ ! -x /usr/lib/systemd/ukify && ! -x /lib/systemd/ukify ]]; then
	dk_expect_status 1 "$install" add "$KV" --root "$R" --no-initramfs
	dk_grep "install.conf says uki_generator=ukify, and there is no /usr/lib/systemd/ukify .*sys-apps/systemd\[ukify\]" "$T/err"
	dk_same_boot "$R" "$before" "uki_generator=ukify without ukify"
fi
mkdir -p "$T/bin"
cat > "$T/bin/ukify" <<'EOT'
#!/bin/sh
printf '%s\n' "$@" > "${0%/*}/ukify.args"
for a; do case $a in --stub=*) stub=${a#--stub=} ;; --output=*) out=${a#--output=} ;; esac; done
cp "$stub" "$out"
EOT
chmod 755 "$T/bin/ukify"
dk_expect_status 0 "$install" add "$KV" --root "$R" --no-initramfs --ukify "$T/bin/ukify"
dk_grep "^build$" "$T/bin/ukify.args"
dk_grep "^--linux=$R/usr/src/linux-$KV/" "$T/bin/ukify.args"
dk_grep "^--uname=$KV$" "$T/bin/ukify.args"
dk_grep "^--stub=$R/usr/lib/systemd/boot/efi/linuxx64.efi.stub$" "$T/bin/ukify.args"
dk_grep "^--os-release=@$R/etc/os-release$" "$T/bin/ukify.args"
dk_grep "^--cmdline=@" "$T/bin/ukify.args"
cmp "$stub" "$R/boot/EFI/Linux/$token-$KV.efi" || dk_fail "ukify's output is not what was installed"
dk_ok "uki_generator=ukify: ukify build called, its output installed"
echo "install-uki-generator: $((SECONDS - start))s" >&2
