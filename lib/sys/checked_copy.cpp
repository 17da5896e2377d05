#include "sys/checked_copy.hpp"
#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"

#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace distkernel {
namespace fs = std::filesystem;

namespace {

std::string kib(std::uint64_t bytes)
{
	return std::to_string((bytes + 1023) / 1024) + " KiB";
}

// Closes on scope exit unless released (the destination's close is checked by hand).
struct Fd {
	int fd = -1;
	~Fd()
	{
		if (fd >= 0)
			::close(fd);
	}
};

// Closes and removes the partial destination, then throws: what, how far it got and, for a
// full filesystem, the room left there.
[[noreturn]] void copy_failed(int &fd, const fs::path &to, const std::string &what, int err, std::uint64_t written,
			      std::uint64_t total)
{
	::close(fd);
	fd = -1;
	std::error_code ec;
	fs::remove(to, ec);
	std::string detail = " (" + std::to_string(written) + " of " + std::to_string(total) + " bytes written";
	if (is_no_space(err)) {
		auto room = fs::space(to.parent_path(), ec);
		if (!ec)
			detail += "; " + kib(room.available) + " free on its filesystem";
	}
	throw SystemError(what + detail + ")", err);
}

} // namespace

bool is_no_space(int err) noexcept
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

FileDigest digest_file(const fs::path &file)
{
	std::error_code ec;
	auto size = fs::file_size(file, ec);
	if (ec)
		throw SystemError("cannot read " + file.string(), ec.value());
	return {size, sha256_file(file)};
}

FileDigest verify_written(const fs::path &file, const FileDigest &expected, const fs::path &source)
{
	FileDigest got = digest_file(file);
	if (got.size != expected.size)
		throw Error(file.string() + " has " + std::to_string(got.size) + " bytes after writing, " + source.string() +
			    " has " + std::to_string(expected.size) + ": the copy is incomplete");
	if (got.sha256 != expected.sha256)
		throw Error(file.string() + " differs from " + source.string() + " after writing (sha256 " + got.sha256 +
			    ", expected " + expected.sha256 + ")");
	return got;
}

FileDigest checked_copy(const fs::path &from, const fs::path &to, unsigned mode, const std::optional<FileDigest> &source)
{
	Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
	if (in.fd < 0)
		throw SystemError("cannot open " + from.string(), errno);
	FileDigest want = source ? *source : digest_file(from);
	Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)};
	if (out.fd < 0)
		throw SystemError("cannot create " + to.string(), errno);
	std::uint64_t written = 0;
	constexpr std::size_t size = 1 << 20;
	auto buf = std::make_unique_for_overwrite<char[]>(size);
	for (;;) {
		ssize_t n = ::read(in.fd, buf.get(), size);
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			copy_failed(out.fd, to, "cannot read " + from.string(), e, written, want.size);
		}
		if (n == 0)
			break;
		const char *p = buf.get();
		auto left = static_cast<std::size_t>(n);
		while (left > 0) {
			ssize_t w = ::write(out.fd, p, left);
			if (w < 0) {
				int e = errno;
				if (e == EINTR)
					continue;
				copy_failed(out.fd, to, "cannot write " + to.string(), e, written, want.size);
			}
			// A regular file that takes no byte and reports no error: not full, not working.
			if (w == 0)
				copy_failed(out.fd, to, "cannot write " + to.string(), EIO, written, want.size);
			p += w;
			left -= static_cast<std::size_t>(w);
			written += static_cast<std::uint64_t>(w);
		}
	}
	// Delayed allocation: a full filesystem may only say so on fsync or close.
	if (::fsync(out.fd) != 0) {
		int e = errno;
		copy_failed(out.fd, to, "cannot write " + to.string(), e, written, want.size);
	}
	if (::fchmod(out.fd, mode) != 0) {
		int e = errno;
		copy_failed(out.fd, to, "cannot set the permissions of " + to.string(), e, written, want.size);
	}
	int fd = out.fd;
	out.fd = -1;
	if (::close(fd) != 0) {
		int e = errno;
		std::error_code ec;
		fs::remove(to, ec);
		throw SystemError("cannot write " + to.string(), e);
	}
	try {
		return verify_written(to, want, from);
	} catch (...) {
		std::error_code ec;
		fs::remove(to, ec);
		throw;
	}
}

} // namespace distkernel
