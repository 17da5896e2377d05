// A root's /sys and /proc as a hostile or broken machine may have them.
#include "catch.hpp"

#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <chrono>

using namespace distkernel;
namespace fs = std::filesystem;

TEST_CASE("a dm device among its own slaves is walked once", "[check]")
{
	TempDir t;
	Root root(t.path());
	const fs::path dm = t.path() / "sys/devices/virtual/block/dm-0";
	fs::create_directories(dm / "dm");
	fs::create_directories(dm / "slaves");
	atomic_write(dm / "dm/uuid", "CRYPT-LUKS2-x\n");
	for (const char *s : {"a", "b", "c"})
		fs::create_directory_symlink("../../dm-0", dm / "slaves" / s);
	fs::create_directories(t.path() / "sys/dev/block");
	fs::create_directory_symlink("../../devices/virtual/block/dm-0", t.path() / "sys/dev/block/253:0");
	fs::create_directories(t.path() / "proc/self");
	atomic_write(t.path() / "proc/self/mountinfo", "22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/mapper/root rw\n");
	auto start = std::chrono::steady_clock::now();
	Machine m = read_live_machine(root, Logger(Verbosity::quiet));
	CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
	REQUIRE(m.root);
	REQUIRE(m.root->chain.size() == 1);
	CHECK(m.root->chain[0].kind == "dm-crypt");
}

TEST_CASE("a mountinfo line with a bad escape is named, the others still read", "[check]")
{
	TempDir t;
	Root root(t.path());
	fs::create_directories(t.path() / "proc/self");
	atomic_write(t.path() / "proc/self/mountinfo",
		     "21 1 0:20 / /boot\\9x rw - tmpfs none rw\n"
		     "garbage\x1b[2J\n"
		     "22 1 0:21 / / rw - tmpfs my\\040root rw\n");
	Machine m = read_live_machine(root, Logger(Verbosity::quiet));
	REQUIRE(m.root);
	CHECK(m.root->source == "my root");
	std::string all;
	for (const auto &u : m.unreadable)
		all += u + "\n";
	CHECK_THAT(all, Catch::Matchers::Contains("proc/self/mountinfo:1: '/boot\\\\9x' holds '\\\\9x', not an octal escape"));
	CHECK_THAT(all, Catch::Matchers::Contains("proc/self/mountinfo:2: not a mountinfo line: 'garbage\\e[2J'"));
}
