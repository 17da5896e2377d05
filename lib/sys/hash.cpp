// SHA-256 through OpenSSL's libcrypto (EVP): it picks the CPU's SHA extensions or vector code
// where the machine has them, and module signing needs libcrypto anyway.
#include "distkernel/hash.hpp"
#include "distkernel/error.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <unistd.h>

namespace distkernel {
namespace {

// Fetched once: an implicit fetch on every EVP_DigestInit_ex looks the algorithm up again, which
// shows on thousands of small files.
const EVP_MD *sha256_md()
{
	static const EVP_MD *md = [] {
		EVP_MD *m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
		if (!m)
			throw InternalError("OpenSSL has no SHA256 implementation");
		return m;
	}();
	return md;
}

struct CtxFree {
	void operator()(EVP_MD_CTX *c) const { EVP_MD_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxFree>;

Ctx new_ctx()
{
	Ctx c(EVP_MD_CTX_new());
	if (!c || EVP_DigestInit_ex(c.get(), sha256_md(), nullptr) != 1)
		throw InternalError("cannot start a SHA256 digest in OpenSSL");
	return c;
}

std::string finish_hex(EVP_MD_CTX *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(c, md, &len) != 1)
		throw InternalError("cannot finish a SHA256 digest in OpenSSL");
	static const char *digits = "0123456789abcdef";
	std::string out;
	out.reserve(2 * len);
	for (unsigned int i = 0; i < len; ++i) {
		out += digits[md[i] >> 4];
		out += digits[md[i] & 0xf];
	}
	return out;
}

void update(EVP_MD_CTX *c, const void *p, std::size_t n)
{
	if (EVP_DigestUpdate(c, p, n) != 1)
		throw InternalError("SHA256 update failed in OpenSSL");
}

} // namespace

std::string sha256_hex(std::string_view data)
{
	Ctx c = new_ctx();
	update(c.get(), data.data(), data.size());
	return finish_hex(c.get());
}

std::string sha256_file(const std::filesystem::path &file)
{
	int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw SystemError("cannot read " + file.string(), errno);
	struct Close {
		int fd;
		~Close() { ::close(fd); }
	} closer{fd};
	Ctx c = new_ctx();
	// Not zero-filled, and below malloc's mmap threshold (128 KiB): a fresh mapping, filled and
	// faulted in for every file, cost more than hashing a .config.
	constexpr std::size_t size = 64 * 1024;
	auto buf = std::make_unique_for_overwrite<unsigned char[]>(size);
	for (;;) {
		ssize_t n = ::read(fd, buf.get(), size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw SystemError("cannot read " + file.string(), errno);
		}
		if (n == 0)
			break;
		update(c.get(), buf.get(), static_cast<std::size_t>(n));
	}
	return finish_hex(c.get());
}

} // namespace distkernel
