#include "../catch.hpp"

#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"

#include <filesystem>
#include <fstream>
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
	CHECK(root.path("/../../etc/passwd") == t.path() / "etc/passwd");
	CHECK(root.path("/boot/evil") == t.path() / "etc/passwd");
	CHECK(root.path("/boot/evil", false) == t.path() / "boot/evil");
	CHECK(root.path("/boot/up/etc") == t.path() / "etc");
	CHECK(root.inside(t.path() / "boot/x") == "/boot/x");
	CHECK_THROWS_AS(root.inside("/elsewhere"), Error);
	CHECK_THROWS_AS(root.path("relative"), InternalError);
	CHECK(Root("/").path("/boot") == fs::path("/boot"));
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
