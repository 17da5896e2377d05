// lib/install/rootfs_module.cpp: the root filesystem's type, from the root's boot command line
// (rootfstype=, root=ZFS=) before its fstab, and the message when kernel KV has no module for it.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/process.hpp"
#include "install/install_internal.hpp"

using namespace distkernel;
namespace fs = std::filesystem;

TEST_CASE("root filesystem: the boot command line first, then fstab's / line; nothing says: empty", "[install]")
{
	TempDir t;
	Root root(t.path());
	Logger quiet(Verbosity::quiet);
	CHECK(detail::root_filesystem(root, quiet).type.empty());

	test::put(t.path() / "etc/fstab", "# <fs> <mp> <type>\nLABEL=boot /boot vfat defaults 0 2\n\tLABEL=root  /  xfs  noatime 0 1\n");
	detail::RootFilesystem f = detail::root_filesystem(root, quiet);
	CHECK(f.type == "xfs");
	CHECK(f.source == (t.path() / "etc/fstab").string() + ":3");

	test::put(t.path() / "etc/kernel/cmdline", "root=ZFS=rpool/ROOT/gentoo quiet\n");
	f = detail::root_filesystem(root, quiet);
	CHECK(f.type == "zfs");
	CHECK(f.source == (t.path() / "etc/kernel/cmdline").string() + " (root=ZFS=rpool/ROOT/gentoo)");

	test::put(t.path() / "etc/kernel/cmdline", "root=/dev/vda rootfstype=btrfs\n");
	CHECK(detail::root_filesystem(root, quiet).type == "btrfs");
}

TEST_CASE("root filesystem: a module the kernel's tree lacks is named, with what brings it", "[install]")
{
	TempDir t;
	Root root(t.path());
	Logger quiet(Verbosity::quiet);
	const std::string kv = "6.1.0-1-unit";
	// An empty module tree with depmod's real indexes: neither xfs nor fs-xfs in it.
	fs::create_directories(t.path() / "lib/modules" / kv);
	test::put(t.path() / "lib/modules" / kv / "modules.builtin", "");
	test::put(t.path() / "lib/modules" / kv / "modules.order", "");
	TempDir noconf;
	REQUIRE(run(Command({"depmod", "-b", t.path().string(), "-C", noconf.path().string(), kv})).ok());

	test::put(t.path() / "etc/fstab", "LABEL=root / tmpfs defaults 0 0\n");
	CHECK(detail::missing_root_module(root, kv, quiet).empty()); // needs no module

	test::put(t.path() / "etc/fstab", "LABEL=root / xfs defaults 0 1\n");
	const std::string m = detail::missing_root_module(root, kv, quiet);
	CHECK(m.starts_with("the root filesystem is xfs (" + (t.path() / "etc/fstab").string() + ":1), and " + kv +
			    " has no module for it"));
	CHECK(m.find("no module xfs or alias fs-xfs") != std::string::npos);
	CHECK(m.find("dist-kernel_reinstall_initramfs") != std::string::npos);

	// No module tree at all: nothing to say (the install has other errors to give).
	CHECK(detail::missing_root_module(root, "6.1.0-2-none", quiet).empty());
}
