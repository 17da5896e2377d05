#include "catch.hpp"

#include "sys/checked_copy.hpp"
#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/rootfs.hpp"
#include "files.hpp"

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

std::string pattern(std::size_t n)
{
	std::string s(n, '\0');
	for (std::size_t i = 0; i < n; ++i)
		s[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
	return s;
}

// A source file readable by its owner only: a copy's mode must not come from its source.
void put_private(const fs::path &p, const std::string &content)
{
	test::put(p, content);
	fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
}

// A small tmpfs of `size` mounted at dir for the test's lifetime; mounted() is false where this
// process may not mount (not root, no CAP_SYS_ADMIN).
class SmallTmpfs {
public:
	SmallTmpfs(const fs::path &dir, const std::string &size) : dir_(dir)
	{
		fs::create_directories(dir);
		mounted_ = ::mount("distkernel-unit", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
	}
	~SmallTmpfs()
	{
		if (mounted_)
			::umount2(dir_.c_str(), MNT_DETACH);
	}
	bool mounted() const { return mounted_; }

private:
	fs::path dir_;
	bool mounted_ = false;
};

} // namespace

TEST_CASE("a checked copy is whole, synced and 0644, and says so with its digest", "[sys]")
{
	TempDir t;
	std::string data = pattern(3 * 1024 * 1024 + 17); // more than one buffer, not a multiple of it
	put_private(t.path() / "src", data);
	put_private(t.path() / "dst", "old content that is longer than nothing");
	FileDigest d = checked_copy(t.path() / "src", t.path() / "dst");
	CHECK(read_file(t.path() / "dst") == data);
	CHECK(d.size == data.size());
	CHECK(d.sha256 == sha256_hex(data));
	CHECK((fs::status(t.path() / "dst").permissions() & fs::perms::all) ==
	      (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));
	// An empty file is a file too.
	put_private(t.path() / "empty", "");
	CHECK(checked_copy(t.path() / "empty", t.path() / "empty.copy").size == 0);
	CHECK(fs::file_size(t.path() / "empty.copy") == 0);
}

TEST_CASE("a short write continues, a write error removes the partial file and names it", "[sys]")
{
	TempDir t;
	std::string data = pattern(300000);
	put_private(t.path() / "src", data);
	// RLIMIT_FSIZE makes the kernel take the first 100000 bytes of a larger write (a short write)
	// and refuse the next with EFBIG, as a filesystem that fills up in the middle of a file.
	struct rlimit old {};
	REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
	auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
	struct rlimit small = old;
	small.rlim_cur = 100000;
	REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
	std::string message;
	int code = 0;
	try {
		checked_copy(t.path() / "src", t.path() / "dst");
	} catch (const SystemError &e) {
		message = e.what();
		code = e.code();
	}
	::setrlimit(RLIMIT_FSIZE, &old);
	std::signal(SIGXFSZ, old_handler);
	CHECK(code == EFBIG);
	CHECK(is_no_space(code));
	CHECK(message.find((t.path() / "dst").string()) != std::string::npos);
	CHECK(message.find("100000 of 300000 bytes written") != std::string::npos);
	CHECK_FALSE(fs::exists(t.path() / "dst"));
}

TEST_CASE("a full filesystem fails the copy with ENOSPC and the room left, and leaves no file", "[sys]")
{
	TempDir t;
	SmallTmpfs small(t.path() / "boot", "256k");
	if (!small.mounted()) {
		WARN("cannot mount a tmpfs here (not root?): the full-filesystem case is not tested");
		return;
	}
	put_private(t.path() / "src", pattern(1024 * 1024));
	try {
		checked_copy(t.path() / "src", t.path() / "boot/initramfs.img");
		FAIL("a 1 MiB copy into a 256 KiB tmpfs succeeded");
	} catch (const SystemError &e) {
		CHECK(e.code() == ENOSPC);
		std::string m = e.what();
		CHECK(m.find("boot/initramfs.img") != std::string::npos);
		CHECK(m.find("KiB free on its filesystem") != std::string::npos);
	}
	CHECK_FALSE(fs::exists(t.path() / "boot/initramfs.img"));
	CHECK(fs::is_empty(t.path() / "boot"));
}

TEST_CASE("a written file that differs from its source is caught by size or by hash", "[sys]")
{
	TempDir t;
	std::string data = pattern(70000);
	put_private(t.path() / "src", data);
	FileDigest want{data.size(), sha256_hex(data)};
	put_private(t.path() / "truncated", data.substr(0, 40000));
	try {
		verify_written(t.path() / "truncated", want, t.path() / "src");
		FAIL("a truncated copy passed");
	} catch (const Error &e) {
		std::string m = e.what();
		CHECK(m.find("has 40000 bytes after writing") != std::string::npos);
		CHECK(m.find("has 70000") != std::string::npos);
		CHECK(m.find("incomplete") != std::string::npos);
	}
	std::string flipped = data;
	flipped[69999] = static_cast<char>(flipped[69999] ^ 1);
	put_private(t.path() / "flipped", flipped);
	try {
		verify_written(t.path() / "flipped", want, t.path() / "src");
		FAIL("a changed copy passed");
	} catch (const Error &e) {
		std::string m = e.what();
		CHECK(m.find("differs from " + (t.path() / "src").string()) != std::string::npos);
		CHECK(m.find(want.sha256) != std::string::npos);
	}
	CHECK(verify_written(t.path() / "src", want, t.path() / "src") == want);
	// A digest handed in that does not match what is read: the copy fails and leaves nothing.
	FileDigest wrong{data.size(), sha256_hex("something else")};
	CHECK_THROWS_AS(checked_copy(t.path() / "src", t.path() / "dst", 0644, wrong), Error);
	CHECK_FALSE(fs::exists(t.path() / "dst"));
}
