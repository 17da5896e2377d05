#!/usr/bin/env bash
# Secure Boot, booted: Debian's "snakeoil" OVMF (Secure Boot on, a test key enrolled in PK, KEK and
# db; its private key is shipped beside it) boots the unified kernel image distkernel-install
# signed with that key (SECUREBOOT_SIGN_KEY/SECUREBOOT_SIGN_CERT, as make.conf sets them) through to
# the root's init, and refuses the unsigned one a reinstall without the key writes (the firmware's
# own "Access Denied" on the serial console, and no marker). The kernel inside is the Debian
# kernel staged signed with the same key (distkernel-stage --secureboot-key): the shared test
# kernel has no EFI stub.
source "$DK_SOURCE_ROOT/tests/lib.sh"
source "$DK_SOURCE_ROOT/tests/integration/install/common.sh"
dk_real_parts
dk_tmp
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[[ -f $stub ]] || dk_skip "no $stub (systemd-boot-efi; scripts/install-deps)"
{ command -v sbsign && command -v sbverify; } >/dev/null || dk_skip "no sbsigntool (scripts/install-deps)"
snakeoil=/usr/share/ovmf/PkKek-1-snakeoil
for f in "$snakeoil.key" "$snakeoil.pem" /usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd; do
	[[ -f $f ]] || dk_skip "no $f (ovmf; scripts/install-deps)"
done
R=$T/root KV=$DK_DEBIAN_KV
install=$DK_TOOLS/distkernel-install boot=$DK_SOURCE_ROOT/tests/qemu-boot
start=$SECONDS

# The snakeoil key is encrypted with the passphrase "snakeoil" (README.Debian); sbsign, like a
# build, cannot answer a prompt: a decrypted copy, private to the test.
(umask 077 && openssl pkey -in "$snakeoil.key" -passin pass:snakeoil -out "$T/db.key") || dk_fail "decrypting $snakeoil.key"
cert=$snakeoil.pem

dk_stage_debian "$R" --secureboot-key "$T/db.key" --secureboot-cert "$cert"
mkdir -p "$R/usr/lib/kernel" "$R/usr/lib/systemd/boot/efi" "$R/boot"
printf 'layout=uki\ninitrd_generator=dracut\n' > "$R/usr/lib/kernel/install.conf"
printf 'NAME=Gentoo\nID=gentoo\n' > "$R/etc/os-release"
echo 0123456789abcdef0123456789abcdef > "$R/etc/machine-id"
echo "$DK_EFI_CMDLINE" > "$R/etc/kernel/cmdline"
cp "$stub" "$R/usr/lib/systemd/boot/efi/"
uki=$R/boot/EFI/Linux/0123456789abcdef0123456789abcdef-$KV.efi

# A certificate that is not the key's: refused before dracut runs, both files named, /boot untouched.
openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -subj "/CN=another key/" \
	-newkey rsa:2048 -keyout "$T/other.key" -out "$T/other.crt" 2>/dev/null || dk_fail "openssl req"
SECUREBOOT_SIGN_KEY=$T/db.key SECUREBOOT_SIGN_CERT=$T/other.crt dk_expect_status 1 "$install" add "$KV" --root "$R" "${DK_SMALL_DRACUT[@]}"
dk_grep "signing key $T/db.key and certificate $T/other.crt do not belong together" "$T/err"
dk_nogrep "dracut" "$T/err"
[[ -z $(ls -A "$R/boot") ]] || dk_fail "a refused Secure Boot key left files in $R/boot: $(ls -A "$R/boot")"
dk_ok "a key and certificate that do not match: refused before dracut, files named"

SECUREBOOT_SIGN_KEY=$T/db.key SECUREBOOT_SIGN_CERT=$cert dk_expect_status 0 "$install" add "$KV" --root "$R" "${DK_SMALL_DRACUT[@]}"
dk_grep "signing .*uki.efi for Secure Boot: sbsign" "$T/err"
sbverify --cert "$cert" "$uki" >/dev/null 2>&1 || dk_fail "sbverify refuses $uki with the snakeoil certificate"
mkdir -p "$T/signed/EFI/BOOT"
cp "$uki" "$T/signed/EFI/BOOT/BOOTX64.EFI"
dk_ok "add signs the UKI with SECUREBOOT_SIGN_KEY (sbverify with the snakeoil certificate)"

# A reinstall without the key (an external module's postinst on a machine that does not have it:
# a binary package's saved environment names the build host's key): the UKI is rebuilt unsigned,
# and the install says why and that Secure Boot will refuse it.
SECUREBOOT_SIGN_KEY=/nonexistent/build-host.key SECUREBOOT_SIGN_CERT=$cert \
	dk_expect_status 0 "$install" reinstall "$KV" --root "$R" "${DK_SMALL_DRACUT[@]}"
dk_grep "warning: SECUREBOOT_SIGN_KEY=/nonexistent/build-host.key does not exist on this machine" "$T/err"
dk_grep "$KV was staged signed for Secure Boot, but its unified kernel image is not signed" "$T/err"
! sbverify --cert "$cert" "$uki" >/dev/null 2>&1 || dk_fail "the UKI a reinstall without a key wrote verifies"
mkdir -p "$T/unsigned/EFI/BOOT"
cp "$uki" "$T/unsigned/EFI/BOOT/BOOTX64.EFI"
dk_ok "a reinstall without the key: an unsigned UKI, and a warning naming the risk"
echo "install and reinstall: $((SECONDS - start))s" >&2

# Both booted at once with Secure Boot on. The refusal is the firmware's (BdsDxe on the serial
# console) within seconds; it then waits at its menu: its boot stops when the log says so.
export DK_BOOT_MARKER=efi DK_BOOT_SECUREBOOT=1
boot_start=$SECONDS
DK_BOOT_TIMEOUT=${DK_BOOT_TIMEOUT:-240} "$boot" --uefi "$T/signed" "$T/signed.log" &
signed=$!
refused=0
DK_BOOT_TIMEOUT=45 DK_BOOT_STOP_ON="BdsDxe: failed to load Boot.*: Access Denied" "$boot" --uefi "$T/unsigned" "$T/unsigned.log" || refused=$?
wait "$signed" || dk_fail "the signed UKI did not boot with Secure Boot on (log: $T/signed.log)"
echo "the two Secure Boot boots: $((SECONDS - boot_start))s" >&2
dk_efi_booted "$T/signed.log" "$KV" "the signed UKI with Secure Boot on"
grep -aq 'secureboot: Secure boot enabled' "$T/signed.log" || dk_fail "the kernel did not see Secure Boot on"
dk_ok "the kernel says: secureboot: Secure boot enabled"
((refused == 1)) || dk_fail "the unsigned UKI: qemu-boot exited $refused, not 1"
grep -aq 'BdsDxe: failed to load Boot.*: Access Denied' "$T/unsigned.log" ||
	{ tail -n 20 "$T/unsigned.log" >&2; dk_fail "the firmware did not say it refused the unsigned UKI"; }
dk_ok "the unsigned UKI is refused by the firmware: $(grep -ao 'BdsDxe: failed to load Boot.*: Access Denied' "$T/unsigned.log" | head -n 1 | tr -d '\r')"
echo "install-efi-boot-secureboot: $((SECONDS - start))s" >&2
