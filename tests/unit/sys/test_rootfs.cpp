#include "catch.hpp"

#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace distkernel;
namespace fs = std::filesystem;

TEST_CASE("release strings are validated before they become paths", "[sys]")
{
	CHECK(is_valid_release("6.1.0-56-amd64"));
	CHECK(is_valid_release("6.12.3-gentoo-dist"));
	CHECK(is_valid_release("6.19.0-rc3+"));
	CHECK_FALSE(is_valid_release(""));
	CHECK_FALSE(is_valid_release("../../etc"));
	CHECK_FALSE(is_valid_release("6.1/evil"));
	CHECK_FALSE(is_valid_release("6.1..0"));
	CHECK_FALSE(is_valid_release(".hidden"));
	CHECK_FALSE(is_valid_release("-rf"));
	CHECK_FALSE(is_valid_release("6.1 space"));
	CHECK_FALSE(is_valid_release(std::string(129, 'a')));
	try {
		validate_release("../x");
		FAIL("no error");
	} catch (const UsageError &e) {
		CHECK(std::string(e.what()).find("'../x'") != std::string::npos);
	}
}

TEST_CASE("paths stay inside the root, symlinks included", "[sys]")
{
	TempDir t;
	Root root(t.path());
	fs::create_directories(t.path() / "boot");
	fs::create_directories(t.path() / "usr/lib/modules");
	fs::create_directory_symlink("usr/lib", t.path() / "lib");
	fs::create_symlink("/etc/passwd", t.path() / "boot/evil");
	fs::create_symlink("../../../../../../..", t.path() / "boot/up");

	CHECK(root.path("/boot/vmlinuz") == t.path() / "boot/vmlinuz");
	CHECK(root.path("/lib/modules/6.1") == t.path() / "usr/lib/modules/6.1");
	// ".." above the root in the path itself is refused, not silently mapped to the root.
	CHECK_THROWS_AS(root.path("/../../etc/passwd"), Error);
	CHECK_THROWS_AS(root.path("/.."), Error);
	CHECK_THROWS_AS(root.path("/boot/../.."), Error);
	CHECK(root.path("/boot/..") == t.path());
	CHECK(root.path("/boot/evil") == t.path() / "etc/passwd");
	CHECK(root.path("/boot/evil", false) == t.path() / "boot/evil");
	CHECK(root.path("/boot/up/etc") == t.path() / "etc");
	CHECK(root.inside(t.path() / "boot/x") == "/boot/x");
	CHECK_THROWS_AS(root.inside("/elsewhere"), Error);
	CHECK_THROWS_AS(root.path("relative"), InternalError);
	CHECK(Root("/").path("/boot") == fs::path("/boot"));
}

namespace {

// Every regular file, directory and link outside the root (the "host" beside it), with contents.
std::string snapshot(const fs::path &dir)
{
	std::string out;
	for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
		out += it->path().string();
		if (it->is_symlink())
			out += " -> " + fs::read_symlink(it->path()).string();
		else if (it->is_regular_file())
			out += " = " + read_file(it->path());
		out += "\n";
	}
	return out;
}

} // namespace

TEST_CASE("every link shape below a root resolves inside it, for reads and writes", "[sys]")
{
	TempDir t;
	fs::path host = t.path() / "host", r = t.path() / "root";
	fs::create_directories(host / "boot/EFI");
	fs::create_directories(r / "etc");
	{
		std::ofstream(host / "secret") << "host\n";
		std::ofstream(r / "etc/cmdline-real") << "root=/dev/vda\n";
	}
	Root root(r);
	// absolute link: its target is read as a path inside the root
	fs::create_directory_symlink(host / "boot", r / "boot");
	CHECK(root.path("/boot/EFI/x") == r / host.relative_path() / "boot/EFI/x");
	// relative link climbing out: clamped at the root as the kernel does for a chroot
	fs::create_directories(r / "var/lib");
	fs::create_symlink("../../../../../../host", r / "var/lib/distkernel");
	CHECK(root.path("/var/lib/distkernel/lock") == r / "host/lock");
	// link at the last component
	fs::create_symlink("/etc/cmdline-real", r / "etc/cmdline");
	CHECK(root.path("/etc/cmdline") == r / "etc/cmdline-real");
	CHECK(root.path("/etc/cmdline", false) == r / "etc/cmdline");
	CHECK(root.read("/etc/cmdline") == "root=/dev/vda\n");
	fs::create_symlink(host / "secret", r / "etc/leak");
	CHECK_THROWS_AS(root.read("/etc/leak"), SystemError);
	// link loop
	fs::create_symlink("loop-b", r / "etc/loop-a");
	fs::create_symlink("loop-a", r / "etc/loop-b");
	CHECK_THROWS_AS(root.path("/etc/loop-a/x"), Error);
	// dangling link: the write lands inside the root or fails, never outside
	fs::create_symlink(host / "new-file", r / "etc/dangling");
	CHECK_THROWS_AS(root.write("/etc/dangling", "x"), SystemError); // its parent is not in the root

	std::string before = snapshot(host);
	root.make_dirs("/boot/loader/entries");
	root.write("/boot/loader/entries/a.conf", "entry\n");
	CHECK(root.read("/boot/loader/entries/a.conf") == "entry\n");
	root.make_dirs("/var/lib/distkernel/kernels");
	root.write("/var/lib/distkernel/kernels/6.1.json", "{}\n");
	fs::create_directories(r / host.relative_path());
	root.write("/etc/dangling", "x");
	CHECK(fs::is_regular_file(r / host.relative_path() / "new-file"));
	root.write("/etc/leak", "overwritten\n");
	CHECK(read_file(r / host.relative_path() / "secret") == "overwritten\n");
	{
		FileLock lock(root, "/var/lib/distkernel/lock");
	}
	CHECK(fs::exists(r / "host/lock"));
	CHECK(snapshot(host) == before);

	// remove counts what it removed, and removes only files
	CHECK(root.remove_file("/boot/loader/entries/a.conf"));
	CHECK_FALSE(root.remove_file("/boot/loader/entries/a.conf"));
	CHECK_THROWS_AS(root.remove_file("/boot/loader/entries"), Error);
	CHECK(root.remove_file("/etc/cmdline")); // the link itself, not its target
	CHECK(fs::exists(r / "etc/cmdline-real"));
	CHECK(root.list("/boot/loader") == std::vector<std::string>{"entries"});
	CHECK(root.list("/nonexistent").empty());
	CHECK(snapshot(host) == before);
}

TEST_CASE("atomic_write does not follow a link planted at a temporary name", "[sys]")
{
	TempDir t;
	fs::create_directories(t.path() / "dir");
	fs::path victim = t.path() / "victim";
	{
		std::ofstream(victim) << "untouched\n";
	}
	// Plant links at every name the old scheme could use (pid-based) and more.
	for (const char *n : {".f.distkernel-new-", ".f.tmp"})
		for (int pid = ::getpid() - 2; pid <= ::getpid() + 2; ++pid)
			fs::create_symlink(victim, t.path() / "dir" / (std::string(n) + std::to_string(pid)));
	atomic_write(t.path() / "dir/f", "new\n");
	atomic_copy(t.path() / "dir/f", t.path() / "dir/g");
	CHECK(read_file(t.path() / "dir/f") == "new\n");
	CHECK(read_file(t.path() / "dir/g") == "new\n");
	CHECK(read_file(victim) == "untouched\n");
	CHECK(fs::is_regular_file(fs::symlink_status(t.path() / "dir/f")));
}

TEST_CASE("atomic_write replaces whole files and leaves no temporary", "[sys]")
{
	TempDir t;
	fs::path f = t.path() / "state.json";
	atomic_write(f, "one\n");
	CHECK(read_file(f) == "one\n");
	atomic_write(f, "two\n", 0600);
	CHECK(read_file(f) == "two\n");
	CHECK((fs::status(f).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
	int n = 0;
	for ([[maybe_unused]] const auto &e : fs::directory_iterator(t.path()))
		++n;
	CHECK(n == 1);
	CHECK_THROWS_AS(atomic_write(t.path() / "missing-dir/x", "x"), SystemError);
	CHECK(read_file(f) == "two\n");

	// a build output is replaced just as atomically without waiting for the disk
	atomic_write(f, "three\n", 0644, Durability::unsynced);
	CHECK(read_file(f) == "three\n");
	CHECK((fs::status(f).permissions() & fs::perms::all) ==
	      (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));
	n = 0;
	for ([[maybe_unused]] const auto &e : fs::directory_iterator(t.path()))
		++n;
	CHECK(n == 1);
	CHECK_THROWS_AS(atomic_write(t.path() / "missing-dir/x", "x", 0644, Durability::unsynced), SystemError);

	fs::path g = t.path() / "copy";
	atomic_copy(f, g);
	CHECK(read_file(g) == "three\n");
	CHECK_THROWS_AS(read_file(t.path() / "nope"), SystemError);
}

TEST_CASE("a lock is exclusive across processes and dies with its holder", "[sys]")
{
	TempDir t;
	fs::path lock = t.path() / "lock";
	{
		FileLock held(lock);
		pid_t pid = fork();
		if (pid == 0) {
			try {
				FileLock again(lock);
				_exit(0);
			} catch (const LockedError &) {
				_exit(3);
			}
		}
		int status = 0;
		waitpid(pid, &status, 0);
		CHECK(WEXITSTATUS(status) == 3);
	}
	FileLock after(lock);
	SUCCEED("lock taken again after release");
}

TEST_CASE("read_file: a FIFO, a directory or a device is refused at once, naming it", "[sys]")
{
	TempDir t;
	const fs::path fifo = t.path() / "cmdline";
	REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
	// Nobody writes to it: reading it would wait forever.
	std::string what;
	try {
		read_file(fifo);
	} catch (const Error &e) {
		what = e.what();
	}
	CHECK(what == "cannot read " + fifo.string() + ": not a regular file (a FIFO)");
	CHECK_THROWS_AS(read_file(t.path()), SystemError);
	CHECK_THROWS_WITH(read_file("/dev/zero"), "cannot read /dev/zero: not a regular file (a character device)");
	CHECK_THROWS_AS(read_file(t.path() / "missing"), SystemError);
	std::ofstream(t.path() / "f") << "text\n";
	CHECK(read_file(t.path() / "f") == "text\n");
	// /proc's files are regular files of size 0: read to their end all the same.
	CHECK(read_file("/proc/self/stat").find(' ') != std::string::npos);
}
