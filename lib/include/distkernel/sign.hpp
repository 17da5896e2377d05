// Module signing keys: the checks made before a build starts (pkg_setup), and where the key a
// kernel build generated is kept on the build machine, never in the staged tree or a binary
// package.
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace distkernel {

// The private key (PEM, as CONFIG_MODULE_SIG_KEY and MODULES_SIGN_KEY name it; it may hold the
// certificate too) and its certificate (PEM or DER; empty: the one in the key file). Throws
// Error naming the file when one cannot be read, is not a key or certificate, holds no private
// key, or when the key and the certificate do not belong together.
struct DISTKERNEL_API SigningKeyInfo {
	std::string key_type;    // "RSA", "EC", ...
	int bits = 0;
	std::string subject;     // the certificate's subject, one line
	bool cert_in_key = false; // the certificate came from the key file
};
DISTKERNEL_API SigningKeyInfo check_signing_key(const std::filesystem::path &key, const std::filesystem::path &cert = {});

// Where the key a build of KV generated is kept under a root: /var/lib/distkernel/keys/KV/
// (0700), signing_key.pem (0600) and signing_key.x509 beside it.
DISTKERNEL_API std::string kept_key_dir(const std::string &release);

// Copies BUILD/certs/signing_key.pem (and signing_key.x509) into kept_key_dir(KV) under root,
// the directory 0700 and the key 0600 whatever the build's umask made them, after checking that
// they belong together; then points ROOT/usr/src/linux-KV/certs/signing_key.pem at it (a symlink
// where external-module packages look for the default key, CONFIG_MODULE_SIG_KEY relative to
// the kernel's build directory) when that tree exists. Returns the key's path inside the root.
// Throws Error when the build generated no key.
DISTKERNEL_API std::string keep_generated_key(const Root &root, const std::string &release, const std::filesystem::path &build,
			       const Logger &log);

} // namespace distkernel

namespace distkernel {

// A module file's appended signature (what scripts/sign-file writes: PKCS#7/CMS, then the
// module_signature trailer and "~Module signature appended~\n"), verified with libcrypto over the
// module's content against the given certificates (the kernel's certs/signing_key.x509 and any
// other trusted one, PEM or DER). Compressed modules (.ko.xz, .ko.zst, .ko.gz) are not read:
// unchecked.
struct DISTKERNEL_API ModuleSignature {
	enum class State { unchecked, unsigned_module, valid, invalid };
	State state = State::unchecked;
	std::string detail; // why invalid (or unchecked)
	std::string signer; // the signer's name recorded in the trailer, when signed
};
DISTKERNEL_API ModuleSignature verify_module_signature(const std::filesystem::path &module,
					const std::vector<std::filesystem::path> &certificates);

} // namespace distkernel

namespace distkernel {

// UEFI Secure Boot: the kernel image (an EFI-stub PE) signed with sbsign (sbsigntool), in place,
// then proven with sbverify against the certificate. The key pair is checked first
// (check_signing_key). Throws Error naming the file or the command that failed.
struct DISTKERNEL_API SecureBootKey {
	std::filesystem::path key, cert;
	std::string sbsign = "sbsign", sbverify = "sbverify";
	bool set() const noexcept { return !key.empty(); }
};
DISTKERNEL_API void sign_efi_image(const std::filesystem::path &image, const SecureBootKey &k, const Logger &log);

} // namespace distkernel
