#!/usr/bin/env bash
# Secure Boot signing at staging (USE=secureboot): Debian's real kernel image (an EFI-stub PE)
# staged with --secureboot-key/--secureboot-cert is signed with the real sbsign before the
# manifest is written: sbverify accepts it with the certificate and refuses it with another one,
# and the manifest's hash is the signed image's; distkernel-check verifies the image against the
# staged certificate and names an unsigned or wrongly signed one. A key and a certificate that do
# not belong together stop the staging before anything is copied, naming the files.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
command -v sbsign >/dev/null && command -v sbverify >/dev/null || dk_skip "no sbsigntool (scripts/install-deps)"
KV=$DK_DEBIAN_KV
for n in a b; do
	openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -subj "/CN=secure boot $n/" \
		-newkey rsa:2048 -keyout "$T/$n.key" -out "$T/$n.crt" 2>/dev/null || dk_fail "openssl req"
done
mods=$T/modules/$KV
mkdir -p "$mods"
cp "$DK_DEBIAN_ROOT/lib/modules/$KV"/modules.{builtin,order} "$mods/"
stage() { # stage DEST KEY CERT
	dk_expect_status "$1" "$DK_TOOLS/distkernel-stage" prebuilt --release "$KV" --image "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" \
		--modules "$mods" --config "$DK_DEBIAN_CONFIG" --dest "$2" --secureboot-key "$T/$3.key" --secureboot-cert "$T/$4.crt"
}
stage 0 "$T/ok" a a
image=$T/ok/usr/src/linux-$KV/arch/x86/boot/bzImage
sbverify --cert "$T/a.crt" "$image" >/dev/null 2>&1 || dk_fail "sbverify refuses the staged image with its certificate"
! sbverify --cert "$T/b.crt" "$image" >/dev/null 2>&1 || dk_fail "sbverify accepts the staged image with another certificate"
! sbverify --cert "$T/a.crt" "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" >/dev/null 2>&1 || dk_fail "the source image was signed in place"
python3 - "$T/ok/usr/src/linux-$KV/distkernel.json" "$image" <<'PY' || dk_fail "the manifest's hash is not the signed image's"
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
want = [f["sha256"] for f in m["files"] if f["path"].endswith("/arch/x86/boot/bzImage")]
assert want == [hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()], want
PY
dk_ok "the staged image is signed (sbverify with its certificate, not another), the manifest has its hash"
[[ -f $T/ok/usr/src/linux-$KV/certs/secureboot.crt ]] || dk_fail "the certificate is not staged beside the image"

# distkernel-check verifies the image that will boot against the staged certificate.
fx=$DK_SOURCE_ROOT/tests/fixtures/check/virtio-vm.json
"$DK_TOOLS/distkernel-check" "$KV" --root "$T/ok" --machine "$fx" -v > "$T/out" 2> "$T/err" || true
dk_nogrep '\[secureboot\]' "$T/err"
dk_grep "secureboot: $image verifies against" "$T/err"
cp "$image" "$T/signed.img"
cp "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" "$image"
dk_expect_status 5 "$DK_TOOLS/distkernel-check" "$KV" --root "$T/ok" --machine "$fx"
dk_grep "error \[secureboot\]: $image is not signed with the Secure Boot key whose certificate is $T/ok/usr/src/linux-$KV/certs/secureboot.crt" "$T/err"
sbsign --key "$T/b.key" --cert "$T/b.crt" --output "$image" "$DK_DEBIAN_ROOT/boot/vmlinuz-$KV" 2>/dev/null || dk_fail "sbsign"
dk_expect_status 5 "$DK_TOOLS/distkernel-check" "$KV" --root "$T/ok" --machine "$fx"
dk_grep "error \[secureboot\]: $image is not signed with the Secure Boot key" "$T/err"
cp "$T/signed.img" "$image"
dk_ok "distkernel-check: the signed image passes; an unsigned one and one signed with another key are errors"

stage 1 "$T/bad" a b
dk_grep "signing key $T/a.key and certificate $T/b.crt do not belong together" "$T/err"
[[ ! -e $T/bad/usr/src/linux-$KV ]] || dk_fail "a bad Secure Boot key left a staged tree"
dk_ok "a key and certificate that do not match: refused before staging, files named"
