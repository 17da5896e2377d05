#!/usr/bin/env bash
# Module signatures of external modules, for a kernel with CONFIG_MODULE_SIG=y whose staged tree
# holds its certificate (certs/signing_key.x509): a module signed in scripts/sign-file's format
# (CMS over the module, no attributes, no certificate, then the module_signature trailer and the
# magic string; made here with openssl cms) with the kernel's key passes; one signed with another
# key (and Debian's own signature), one changed after signing and an unsigned one are named by distkernel-check, as losses
# (errors with CONFIG_MODULE_SIG_FORCE=y). The module is Debian's real dummy.ko.
source "$DK_SOURCE_ROOT/tests/lib.sh"
dk_real_parts
dk_tmp
command -v openssl >/dev/null || dk_skip "no openssl"
check=$DK_TOOLS/distkernel-check
fx=$DK_SOURCE_ROOT/tests/fixtures/check
kv=$DK_DEBIAN_KV
r=$T/root
mkdir -p "$r/lib/modules" "$r/boot" "$r/usr/src/linux-$kv/certs"
cp -as "$DK_DEBIAN_ROOT/lib/modules/$kv" "$r/lib/modules/$kv"
dummy=$(find "$DK_DEBIAN_ROOT/lib/modules/$kv/kernel" -name dummy.ko)
for n in kernel other; do
	openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -subj "/CN=$n/" \
		-newkey rsa:2048 -keyout "$T/$n.key" -out "$T/$n.crt" 2>/dev/null || dk_fail "openssl req"
done
openssl x509 -in "$T/kernel.crt" -outform DER -out "$r/usr/src/linux-$kv/certs/signing_key.x509"
printf 'CONFIG_MODULES=y\nCONFIG_MODULE_SIG=y\n' > "$r/usr/src/linux-$kv/.config"

# sign IN KEY OUT: IN with a signature appended as sign-file appends it.
sign() {
	openssl cms -sign -binary -noattr -nocerts -nosmimecap -md sha256 -outform DER \
		-in "$1" -signer "$T/$2.crt" -inkey "$T/$2.key" -out "$T/sig" || dk_fail "openssl cms -sign"
	python3 - "$1" "$T/sig" "$3" <<'PY'
import struct, sys
mod, sig = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
# struct module_signature: algo, hash, id_type (2: PKCS#7), signer_len, key_id_len, pad[3], sig_len (BE)
trailer = struct.pack(">BBBBB3xI", 0, 0, 2, 0, 0, len(sig))
open(sys.argv[3], "wb").write(mod + sig + trailer + b"~Module signature appended~\n")
PY
}
extra=$r/lib/modules/$kv/extra
mkdir -p "$extra"
# Debian signs its modules (Debian's key, not this kernel's): the module without its signature.
python3 - "$dummy" "$T/dummy.ko" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = b"~Module signature appended~\n"
if data.endswith(magic):
    sig_len = struct.unpack(">I", data[-len(magic) - 4:-len(magic)])[0]
    data = data[:-len(magic) - 12 - sig_len]
open(sys.argv[2], "wb").write(data)
PY
sign "$T/dummy.ko" kernel "$extra/signed.ko"
sign "$T/dummy.ko" other "$extra/otherkey.ko"
cp "$extra/signed.ko" "$extra/changed.ko"
printf 'X' | dd of="$extra/changed.ko" bs=1 seek=200 conv=notrunc status=none
cp "$T/dummy.ko" "$extra/plain.ko"
cp "$dummy" "$extra/debian.ko"

dk_expect_status 4 "$check" "$kv" --root "$r" --machine "$fx/virtio-vm.json" -v
dk_nogrep 'signed.ko .*(invalid|not signed)' "$T/err"
dk_grep "signed.ko \(external module\): signature verified" "$T/err"
dk_grep "loss \[external\]: $extra/otherkey.ko \(external module\) has an invalid signature: signed with a key none of the kernel's certificates carries" "$T/err"
dk_grep "loss \[external\]: $extra/changed.ko \(external module\) has an invalid signature: its signature does not match the module's content" "$T/err"
dk_grep "warning \[external\]: $extra/plain.ko \(external module\) is not signed: the kernel refuses it under module.sig_enforce=1" "$T/err"
dk_grep "loss \[external\]: $extra/debian.ko \(external module\) has an invalid signature: signed with a key none" "$T/err"
dk_ok "signed with the kernel's key: passes; another key (ours, Debian's), changed after signing: losses; unsigned: a warning"

printf 'CONFIG_MODULE_SIG_FORCE=y\n' >> "$r/usr/src/linux-$kv/.config"
dk_expect_status 5 "$check" "$kv" --root "$r" --machine "$fx/virtio-vm.json"
dk_grep "error \[external\]: $extra/plain.ko \(external module\) is not signed: the kernel refuses it \(CONFIG_MODULE_SIG_FORCE\)" "$T/err"
dk_grep "error \[external\]: $extra/otherkey.ko .*invalid signature" "$T/err"
dk_ok "CONFIG_MODULE_SIG_FORCE=y: the same are errors"
