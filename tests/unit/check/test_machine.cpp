// lib/check/machine.cpp: machine snapshots, and a root's /sys and /proc as a hostile or broken
// machine may have them.
#include "catch.hpp"

#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/json_text.hpp"
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

TEST_CASE("fstab: every entry, the block stack of those mounted, the cipher of a LUKS root", "[check]")
{
	TempDir t;
	Root root(t.path());
	const fs::path host = t.path() / "sys/devices/platform/host/block/sda";
	for (const char *p : {"sda1", "sda2"}) {
		fs::create_directories(host / p);
		atomic_write(host / p / "partition", "1\n");
	}
	const fs::path dm = t.path() / "sys/devices/virtual/block/dm-0";
	fs::create_directories(dm / "dm");
	fs::create_directories(dm / "slaves");
	atomic_write(dm / "dm/uuid", "CRYPT-LUKS1-0123-root\n");
	fs::create_directory_symlink("../../../../platform/host/block/sda/sda2", dm / "slaves/sda2");
	fs::create_directories(t.path() / "sys/dev/block");
	fs::create_directory_symlink("../../devices/virtual/block/dm-0", t.path() / "sys/dev/block/253:0");
	fs::create_directory_symlink("../../devices/platform/host/block/sda/sda1", t.path() / "sys/dev/block/8:1");
	// a LUKS1 header: magic, version 1, cipher name and mode in 32-byte fields
	std::string luks(592, '\0');
	luks.replace(0, 6, "LUKS\xba\xbe");
	luks[7] = 1;
	luks.replace(8, 3, "aes");
	luks.replace(40, 11, "xts-plain64");
	for (const char *d : {"dev", "proc/self", "etc"})
		fs::create_directories(t.path() / d);
	atomic_write(t.path() / "dev/sda2", luks);
	atomic_write(t.path() / "proc/self/mountinfo", "22 1 253:0 / / rw - ext4 /dev/mapper/root rw\n"
						    "23 22 8:1 / /boot/efi rw - vfat /dev/sda1 rw\n");
	atomic_write(t.path() / "etc/fstab", "# static file system information\n"
					     "/dev/mapper/root / ext4 defaults 0 1\n"
					     "UUID=AB12-CD34 /boot/efi vfat umask=077 0 2\n"
					     "/dev/sda3 none swap sw 0 0\n"
					     "/dev/sdb1 /mnt/usb\\040stick auto noauto 0 0\n"
					     "broken\n");
	Machine m = read_live_machine(root, Logger(Verbosity::quiet));
	REQUIRE(m.fstab.size() == 4);
	CHECK(m.fstab[0].chain.size() == 3); // dm-crypt, partition, disk
	CHECK(m.fstab[1].target == "/boot/efi");
	CHECK(m.fstab[1].options == "umask=077");
	CHECK(m.fstab[1].device == "8:1");
	REQUIRE(m.fstab[1].chain.size() == 2);
	CHECK(m.fstab[1].chain[0].kind == "partition");
	CHECK(m.fstab[2].fstype == "swap");
	CHECK(m.fstab[3].target == "/mnt/usb stick");
	CHECK_FALSE(m.fstab[3].mounted);
	CHECK(m.fstab[3].fstype == "auto");
	CHECK(m.filesystems == std::vector<std::string>{"ext4", "vfat"});
	REQUIRE(m.crypto.size() == 1);
	CHECK(m.crypto[0].device == "dm-0");
	CHECK(m.crypto[0].cipher == "aes-xts-plain64");
	CHECK(std::any_of(m.unreadable.begin(), m.unreadable.end(),
			  [](const std::string &u) { return u.find("fstab:6: not an fstab entry: 'broken'") != std::string::npos; }));

	Machine back = machine_from_json(Json(m), "m.json");
	REQUIRE(back.fstab.size() == 4);
	CHECK_FALSE(back.fstab[3].mounted);
	CHECK(back.fstab[1].chain.size() == 2);
	CHECK(back.crypto.at(0).cipher == "aes-xts-plain64");
	CHECK(back.filesystems == m.filesystems);
	Json bad = Json(m);
	bad["fstab"][1]["mounted"] = "yes";
	CHECK_THROWS_WITH(machine_from_json(bad, "m.json"), Catch::Matchers::Contains("fstab[1].mounted: expected true or false"));
	// a 1.0 snapshot (before fstab and crypto) still reads
	Json old = Json(m);
	old["version"] = "1.0";
	old.erase("fstab");
	old.erase("crypto");
	CHECK(machine_from_json(old, "old.json").fstab.empty());
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

TEST_CASE("a machine whose mount source and command line are not UTF-8 still prints as JSON", "[check]")
{
	// Linux paths and the command line are bytes; mountinfo escapes only space, tab, newline
	// and backslash, so a byte such as 0xf6 reaches the snapshot as it is.
	TempDir t;
	Root root(t.path());
	fs::create_directories(t.path() / "proc/self");
	atomic_write(t.path() / "proc/self/mountinfo", "22 1 0:21 / / rw - tmpfs /de\xf6/root rw\n");
	atomic_write(t.path() / "proc/cmdline", "root=/dev/\xff\xfe quiet\n");
	Machine m = read_live_machine(root, Logger(Verbosity::quiet));
	REQUIRE(m.root);
	std::string text;
	REQUIRE_NOTHROW(text = dump_json(Json(m)));
	CHECK_THAT(text, Catch::Matchers::Contains("/de\xef\xbf\xbd/root"));
	Machine back = machine_from_json(parse_json(text, "snapshot"), "snapshot");
	REQUIRE(back.root);
	CHECK(back.root->target == "/");
	CHECK(back.cmdline == "root=/dev/\xef\xbf\xbd\xef\xbf\xbd quiet");
}

TEST_CASE("a block device link out of the root's /sys is not walked above the root", "[check]")
{
	// ROOT/sys/dev/block/8:1 -> / with ROOT/partition: the "partition"'s parent would be the
	// directory holding the root, outside it.
	TempDir t;
	const fs::path r = t.path() / "root";
	Root root(r);
	fs::create_directories(r / "sys/dev/block");
	fs::create_directory_symlink("/", r / "sys/dev/block/8:1");
	atomic_write(r / "partition", "1\n");
	fs::create_directories(t.path() / "dm");
	atomic_write(t.path() / "dm/uuid", "CRYPT-outside\n");
	fs::create_directories(r / "proc/self");
	atomic_write(r / "proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
	Machine m = read_live_machine(root, Logger(Verbosity::quiet));
	REQUIRE(m.root);
	for (const auto &l : m.root->chain) {
		CHECK(l.name != t.path().filename().string());
		CHECK(l.kind != "dm-crypt");
	}
	CHECK(m.root->chain.empty());
}

TEST_CASE("sysfs attributes are read inside the root, never through a link out of it", "[check]")
{
	TempDir t;
	const fs::path r = t.path() / "root";
	Root root(r);
	atomic_write(t.path() / "secret", "pci:outside-the-root\n");
	fs::create_directories(t.path() / "drv");
	fs::create_directory_symlink("../module/outside-module", t.path() / "drv/module");
	const fs::path dev = r / "sys/devices/pci0000:00/0000:00:01.0";
	fs::create_directories(dev);
	// relative links climbing above the root: on the host they would reach t/secret and t/drv
	fs::create_symlink("../../../../../secret", dev / "modalias");
	const fs::path dev2 = r / "sys/devices/pci0000:00/0000:00:02.0";
	fs::create_directories(dev2);
	atomic_write(dev2 / "modalias", "pci:v00001AF4d00001001\n");
	fs::create_directory_symlink("../../../../../drv", dev2 / "driver");
	Machine m = read_live_machine(root, Logger(Verbosity::quiet));
	for (const auto &d : m.devices) {
		CHECK(d.modalias != "pci:outside-the-root");
		CHECK(d.module != "outside-module");
	}
}

TEST_CASE("a mountinfo device that is not MAJ:MIN is listed as unreadable, never followed", "[check]")
{
	TempDir t;
	Root root(t.path());
	fs::create_directories(t.path() / "proc/self");
	atomic_write(t.path() / "proc/self/mountinfo", "22 1 ../../../../../x / / rw - ext4 /dev/sda1 rw\n"
						       "23 22 ../../../etc /boot rw - ext4 /dev/sda2 rw\n"
						       "24 22 0:30 / /usr rw - btrfs /dev/../../../../sdb rw\n");
	Machine m;
	REQUIRE_NOTHROW(m = read_live_machine(root, Logger(Verbosity::quiet)));
	std::string all;
	for (const auto &u : m.unreadable)
		all += u + "\n";
	CHECK_THAT(all, Catch::Matchers::Contains("not a device number MAJ:MIN: '../../../../../x'"));
	CHECK(!m.root);
}

TEST_CASE("a machine snapshot survives a round trip and bad fields are named", "[check]")
{
	Machine m;
	m.release = "6.6.30-gentoo-dist";
	m.cmdline = "root=/dev/vda";
	m.devices.push_back(Device{"/sys/devices/pci0000:00/0000:00:03.0/virtio1", "virtio:d00000002v00001AF4", "virtio_blk", "virtio_blk"});
	m.loaded_modules = {"virtio_blk", "ext4"};
	Mount root{"/", "ext4", "/dev/vda", "254:0", {BlockLayer{"vda", "disk", "", {m.devices[0]}}}, std::nullopt, std::nullopt, "", true};
	m.root = root;
	Mount boot = root;
	boot.free_bytes = 12345;
	m.boot = boot;
	Json j = Json(m);
	CHECK(j["schema"] == "distkernel.machine");
	CHECK(j["version"] == "1.1");
	Machine back = machine_from_json(j, "m.json");
	CHECK(back.release == m.release);
	REQUIRE(back.root);
	REQUIRE(back.root->chain.size() == 1);
	CHECK(back.root->chain[0].devices[0].driver == "virtio_blk");
	CHECK(back.boot->free_bytes == 12345u);

	j["mounts"]["root"]["chain"][0]["devices"][0]["modalias"] = 7;
	try {
		machine_from_json(j, "m.json");
		FAIL("no error");
	} catch (const ParseError &e) {
		CHECK(std::string(e.what()).find("mounts.root.chain[0].devices[0].modalias: expected a string, got 7") != std::string::npos);
	}
	Json v2 = Json(m);
	v2["version"] = "2.0";
	CHECK_THROWS_AS(machine_from_json(v2, "m.json"), Error);
	Json v1x = Json(m);
	v1x["version"] = "1.9";
	CHECK(machine_from_json(v1x, "m.json").release == m.release);
}
