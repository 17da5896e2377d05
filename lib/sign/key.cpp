// Module signing keys through OpenSSL's libcrypto: read, match, keep.
#include "distkernel/sign.hpp"
#include "distkernel/error.hpp"
#include "ossl.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace distkernel {
namespace {

using namespace ossl;

// The whole file, or an Error naming it (an unreadable key is the common mistake: a key made by
// root, read by Portage's user).
std::string read_key_file(const fs::path &file, const char *what)
{
	try {
		return read_file(file);
	} catch (const SystemError &e) {
		throw Error(std::string(what) + " " + file.string() + " cannot be read: " + e.what());
	}
}

Key read_private_key(const std::string &pem, const fs::path &file)
{
	ERR_clear_error();
	Bio b = memory_bio(pem);
	// No passphrase prompt: a build cannot answer one (sign-file takes KBUILD_SIGN_PIN).
	Key k(PEM_read_bio_PrivateKey(b.get(), nullptr, [](char *, int, int, void *) { return 0; }, nullptr));
	ERR_clear_error();
	if (!k) {
		bool has_public = pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos ||
				  pem.find("PUBLIC KEY-----") != std::string::npos;
		bool encrypted = pem.find("ENCRYPTED") != std::string::npos;
		throw Error("signing key " + file.string() + " holds no private key in PEM form" +
			    (encrypted ? " that can be read without a passphrase (an encrypted key)" : "") +
			    (has_public && !encrypted ? " (only a certificate or public key: the private key is missing)" : "") +
			    "; MODULES_SIGN_KEY must name the private key");
	}
	return k;
}

Cert read_certificate(const std::string &data, const fs::path &file, bool required)
{
	Cert c = parse_certificate(data);
	if (!c && required)
		throw Error("signing certificate " + file.string() + " is not an X.509 certificate (PEM or DER)");
	return c;
}

std::string subject_of(X509 *c)
{
	Bio b(BIO_new(BIO_s_mem()));
	if (!b)
		throw InternalError("OpenSSL cannot make a memory buffer");
	X509_NAME_print_ex(b.get(), X509_get_subject_name(c), 0, XN_FLAG_ONELINE);
	char *data = nullptr;
	long n = BIO_get_mem_data(b.get(), &data);
	return std::string(data, static_cast<std::size_t>(n));
}

} // namespace

namespace ossl {

Bio memory_bio(const std::string &data)
{
	Bio b(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
	if (!b)
		throw InternalError("OpenSSL cannot make a memory buffer");
	return b;
}

Cert parse_certificate(const std::string &data)
{
	ERR_clear_error();
	Bio b = memory_bio(data);
	Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
	if (!c) {
		// DER, as the kernel's certs/signing_key.x509.
		const auto *p = reinterpret_cast<const unsigned char *>(data.data());
		c.reset(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
	}
	ERR_clear_error();
	return c;
}

} // namespace ossl

SigningKeyInfo check_signing_key(const fs::path &key, const fs::path &cert)
{
	const std::string key_pem = read_key_file(key, "signing key");
	Key k = read_private_key(key_pem, key);
	SigningKeyInfo info;
	Cert c;
	fs::path cert_file = cert;
	if (cert.empty() || fs::weakly_canonical(cert) == fs::weakly_canonical(key)) {
		c = read_certificate(key_pem, key, false);
		if (!c)
			throw Error("signing key " + key.string() +
				    " holds no certificate: give it with MODULES_SIGN_CERT, or put the certificate in the key file");
		info.cert_in_key = true;
		cert_file = key;
	} else {
		c = read_certificate(read_key_file(cert, "signing certificate"), cert, true);
	}
	if (X509_check_private_key(c.get(), k.get()) != 1) {
		ERR_clear_error();
		throw Error("signing key " + key.string() + " and certificate " + cert_file.string() +
			    " do not belong together (the certificate's public key is not the key's)");
	}
	info.key_type = EVP_PKEY_get0_type_name(k.get()) ? EVP_PKEY_get0_type_name(k.get()) : "unknown";
	info.bits = EVP_PKEY_get_bits(k.get());
	info.subject = subject_of(c.get());
	return info;
}

std::string kept_key_dir(const std::string &release)
{
	validate_release(release);
	return "/var/lib/distkernel/keys/" + release;
}

std::string keep_generated_key(const Root &root, const std::string &release, const fs::path &build, const Logger &log)
{
	const std::string dir = kept_key_dir(release);
	const fs::path key = build / "certs/signing_key.pem", cert = build / "certs/signing_key.x509";
	std::error_code ec;
	if (!fs::is_regular_file(key, ec))
		throw Error("the kernel build generated no signing key: " + key.string() +
			    " does not exist (is CONFIG_MODULE_SIG on, with the default CONFIG_MODULE_SIG_KEY?)");
	check_signing_key(key, fs::is_regular_file(cert, ec) ? cert : fs::path());
	root.make_dirs(dir);
	// make_dirs honours the umask; the key's directory is the key owner's only.
	if (::chmod(root.path(dir).c_str(), 0700) != 0)
		throw SystemError("cannot restrict " + root.path(dir).string(), errno);
	atomic_copy(key, root.path(dir) / "signing_key.pem", 0600);
	if (fs::is_regular_file(cert, ec))
		atomic_copy(cert, root.path(dir) / "signing_key.x509", 0644);
	log.info("kept the module signing key of {} in {} (mode 0600): external modules are signed with it",
		 release, root.path(dir + "/signing_key.pem").string());
	const std::string certs = "/usr/src/linux-" + release + "/certs";
	if (fs::is_directory(root.path(certs), ec)) {
		const fs::path link = root.path(certs + "/signing_key.pem", false);
		fs::remove(link, ec);
		// Relative: the same file whether the root is / or mounted elsewhere.
		fs::create_symlink("../../../.." + dir + "/signing_key.pem", link, ec);
		if (ec)
			throw SystemError("cannot link " + link.string(), ec.value());
	}
	return dir + "/signing_key.pem";
}

} // namespace distkernel
