// Module signatures (scripts/sign-file's format) verified with libcrypto's CMS.
#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/sign.hpp"
#include "ossl.hpp"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace fs = std::filesystem;

namespace distkernel {
namespace {

constexpr std::string_view magic = "~Module signature appended~\n";

// The kernel's struct module_signature, which sits between the signature and the magic string.
struct Trailer {
	std::uint8_t algo, hash, id_type, signer_len, key_id_len, pad[3];
	std::uint8_t sig_len[4]; // big endian
};
static_assert(sizeof(Trailer) == 12);
constexpr std::uint8_t id_pkcs7 = 2;

using namespace ossl;

X509 *read_cert(const fs::path &file)
{
	Cert c = parse_certificate(read_file(file));
	if (!c)
		throw Error("certificate " + file.string() + " is not an X.509 certificate (PEM or DER)");
	return c.release();
}

} // namespace

ModuleSignature verify_module_signature(const fs::path &module, const std::vector<fs::path> &certificates)
{
	ModuleSignature out;
	const std::string name = module.filename().string();
	if (!name.ends_with(".ko")) {
		out.detail = "compressed: not checked";
		return out;
	}
	const std::string data = read_file(module);
	if (data.size() < magic.size() + sizeof(Trailer) || std::string_view(data).substr(data.size() - magic.size()) != magic) {
		out.state = ModuleSignature::State::unsigned_module;
		return out;
	}
	Trailer t;
	std::memcpy(&t, data.data() + data.size() - magic.size() - sizeof(Trailer), sizeof t);
	const std::size_t sig_len = (std::size_t(t.sig_len[0]) << 24) | (std::size_t(t.sig_len[1]) << 16) |
				    (std::size_t(t.sig_len[2]) << 8) | std::size_t(t.sig_len[3]);
	const std::size_t trailer_at = data.size() - magic.size() - sizeof(Trailer);
	out.state = ModuleSignature::State::invalid;
	if (t.id_type != id_pkcs7 || sig_len == 0 || sig_len > trailer_at) {
		out.detail = "its signature trailer is damaged (not a PKCS#7 signature of the recorded length)";
		return out;
	}
	const std::size_t content_len = trailer_at - sig_len;
	const auto *p = reinterpret_cast<const unsigned char *>(data.data() + content_len);
	Cms cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(sig_len)));
	if (!cms) {
		ERR_clear_error();
		out.detail = "its signature is not a readable PKCS#7 message";
		return out;
	}
	Certs certs(sk_X509_new_null());
	for (const auto &c : certificates)
		sk_X509_push(certs.get(), read_cert(c));
	Store store(X509_STORE_new());
	Bio content(BIO_new_mem_buf(data.data(), static_cast<int>(content_len)));
	// As the kernel: the signer must be one of the given certificates (found by issuer and
	// serial), the signature over the content must hold; no chain, no signed attributes.
	const unsigned flags = CMS_BINARY | CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY | CMS_NO_ATTR_VERIFY;
	if (CMS_verify(cms.get(), certs.get(), store.get(), content.get(), nullptr, flags) != 1) {
		unsigned long e = ERR_peek_last_error();
		char buf[256] = "";
		ERR_error_string_n(e, buf, sizeof buf);
		ERR_clear_error();
		std::string why = buf;
		out.detail = why.find("no matching") != std::string::npos || why.find("signer certificate not found") != std::string::npos
				     ? "signed with a key none of the kernel's certificates carries"
				     : "its signature does not match the module's content (" + why + ")";
		return out;
	}
	out.state = ModuleSignature::State::valid;
	return out;
}

} // namespace distkernel
