#!/usr/bin/env bash
# USE=modules-sign with bad keys dies in pkg_setup, before anything is built, naming the file:
# a key and a certificate that do not belong together, a PEM that is not a private key (a
# certificate), a key that cannot be read (missing; and, for a user that may not read it, the
# tool itself under another uid), a bad MODULES_SIGN_HASH; USE=secureboot's key pair likewise. Good keys (key+certificate in one
# file, or in two with a DER certificate) pass. Keys made here with openssl.
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
# shellcheck source=harness.sh
source "$DK_SOURCE_ROOT/tests/eclass/harness.sh"
# shellcheck source=common.sh
source "$DK_SOURCE_ROOT/tests/eclass/common.sh"
dk_real_parts
dk_tmp
command -v openssl >/dev/null || dk_skip "no openssl"
k=$T/keys
mkdir -p "$k"
for n in a b; do
	openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -subj "/CN=distkernel test $n/" \
		-newkey rsa:2048 -keyout "$k/$n.key" -out "$k/$n.crt" 2>/dev/null || dk_fail "openssl req"
done
cat "$k/a.key" "$k/a.crt" > "$k/a.pem"
openssl x509 -in "$k/a.crt" -outform DER -out "$k/a.der" || dk_fail "openssl x509"

PMS_BASE=$T/pms
PMS_ROOT=$T/root
mkdir -p "$PMS_ROOT"
PMS_USE="modules-sign"
ebuild=$(dk_test_ebuild "$T")
# setup WANT NAME=VALUE...: pkg_setup with those settings; WANT ok or die; output in $T/setup.log.
setup() {
	local want=$1
	shift
	PMS_MAKE_CONF="DK_TREE=$DK_TREE $*"
	pms_init "$ebuild" sys-kernel
	if pms_phase pkg_setup > "$T/setup.log" 2>&1; then
		[[ $want == ok ]] || { cat "$T/setup.log" >&2; dk_fail "pkg_setup passed with $*"; }
	else
		[[ $want == die ]] || { cat "$T/setup.log" >&2; dk_fail "pkg_setup died with $*"; }
	fi
}
setup ok "MODULES_SIGN_KEY=$k/a.pem"
setup ok "MODULES_SIGN_KEY=$k/a.key MODULES_SIGN_CERT=$k/a.der MODULES_SIGN_HASH=sha512"
setup ok ""
dk_ok "good keys pass pkg_setup"
setup die "MODULES_SIGN_KEY=$k/a.key MODULES_SIGN_CERT=$k/b.crt"
dk_grep "signing key $k/a.key and certificate $k/b.crt do not belong together" "$T/setup.log"
setup die "MODULES_SIGN_KEY=$k/a.crt"
dk_grep "signing key $k/a.crt holds no private key" "$T/setup.log"
setup die "MODULES_SIGN_KEY=$k/missing.pem"
dk_grep "signing key $k/missing.pem cannot be read" "$T/setup.log"
setup die "MODULES_SIGN_KEY=$k/a.key"
dk_grep "signing key $k/a.key holds no certificate" "$T/setup.log"
setup die "MODULES_SIGN_KEY=$k/a.pem MODULES_SIGN_HASH=md5"
dk_grep "MODULES_SIGN_HASH='md5'" "$T/setup.log"
dk_ok "pkg_setup dies naming the file: mismatched pair, a certificate as key, missing key, no certificate, bad hash"
PMS_USE="secureboot"
setup ok "SECUREBOOT_SIGN_KEY=$k/a.key SECUREBOOT_SIGN_CERT=$k/a.crt"
setup die "SECUREBOOT_SIGN_KEY=$k/a.key SECUREBOOT_SIGN_CERT=$k/b.crt"
dk_grep "signing key $k/a.key and certificate $k/b.crt do not belong together" "$T/setup.log"
setup die "SECUREBOOT_SIGN_KEY=$k/a.key"
dk_grep "USE=secureboot needs SECUREBOOT_SIGN_KEY and SECUREBOOT_SIGN_CERT" "$T/setup.log"
dk_ok "USE=secureboot: the same checks of SECUREBOOT_SIGN_KEY/CERT in pkg_setup"
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
	chmod 755 "$T" "$k"
	chmod 600 "$k/a.pem"
	dk_expect_status 1 setpriv --reuid 65534 --regid 65534 --clear-groups "$DK_TOOLS/distkernel-stage" signing-key check --key "$k/a.pem"
	dk_grep "signing key $k/a.pem cannot be read: .*Permission denied" "$T/err"
	dk_ok "a key the user may not read: named, with the reason"
fi
