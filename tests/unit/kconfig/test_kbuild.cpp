// lib/kconfig/kbuild.cpp: the goals of the tree's Makefiles, composite objects, ifdef blocks,
// directory gates, and what a config builds.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/config.hpp"
#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/trim.hpp"

#include <filesystem>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

KbuildTree kbuild_fixture()
{
	KbuildTree t;
	auto top = t.add_makefile("", "obj-y += drivers/\nobj-$(CONFIG_NET) += net/\n", "Kbuild", -1);
	REQUIRE(top.size() == 2);
	auto drivers = t.add_makefile("drivers/",
				      "# the drivers\n"
				      "obj-$(CONFIG_VIRTIO_BLK)\t+= virtio_blk.o\n"
				      "obj-$(CONFIG_WLAN) += wireless/\n"
				      "obj-m += always-a-module.o\n"
				      "obj-$(subst m,y,$(CONFIG_HELPER)) += helper.o\n"
				      "obj-$(CONFIG_EXT4_FS) += ext4.o\n"
				      "ext4-y := super.o inode.o \\\n"
				      "\tdir.o\n"
				      "ext4-$(CONFIG_EXT4_FS_POSIX_ACL) += acl.o\n"
				      "ifdef CONFIG_DEBUG\n"
				      "obj-$(CONFIG_VIRTIO_BLK) += vblk-debug.o\n"
				      "else\n"
				      "obj-y += quiet.o\n"
				      "endif\n"
				      "ifeq ($(ARCH),x86)\n"
				      "obj-y += x86-only.o\n"
				      "else\n"
				      "obj-y += never.o\n"
				      "endif\n"
				      "$(obj)/virtio_blk.o: $(obj)/generated.h\n"
				      "ccflags-y += -DX=1\n",
				      "drivers/Makefile", static_cast<int>(top[0]));
	REQUIRE(drivers.size() == 1);
	t.add_makefile("drivers/wireless/",
		       "obj-$(CONFIG_IWLWIFI) += iwlwifi.o\niwlwifi-objs := iwl-drv.o iwl-io.o\n"
		       "ifneq ($(CONFIG_IWLMVM),)\niwlwifi-y += mvm.o\nendif\n",
		       "drivers/wireless/Makefile", static_cast<int>(drivers[0]));
	return t;
}

} // namespace

TEST_CASE("kbuild: goals, composite objects and conditions of a Makefile", "[kconfig]")
{
	KbuildTree t = kbuild_fixture();
	auto vblk = t.module("virtio-blk");
	REQUIRE(vblk.size() == 1);
	CHECK(vblk[0]->path == "drivers/virtio_blk.o");
	CHECK(vblk[0]->symbol == "VIRTIO_BLK");
	CHECK(vblk[0]->where == "drivers/Makefile:2");
	CHECK(t.module("helper").at(0)->symbol == "HELPER");
	CHECK(t.module("always-a-module").at(0)->fixed == 'm');
	// continuation lines: three parts plus the conditional one
	REQUIRE(t.parts("drivers/ext4.o"));
	CHECK(t.parts("drivers/ext4.o")->size() == 4);
	CHECK(t.parts("drivers/ext4.o")->back().symbol == "EXT4_FS_POSIX_ACL");
	// ifdef and its else
	auto dbg = t.module("vblk-debug");
	REQUIRE(dbg.size() == 1);
	REQUIRE(dbg[0]->conditions.size() == 1);
	CHECK(dbg[0]->conditions[0].symbol == "DEBUG");
	CHECK_FALSE(dbg[0]->conditions[0].negated);
	CHECK(t.module("quiet").at(0)->conditions.at(0).negated);
	// a test on something else than a CONFIG_ symbol: its "if" counts, its "else" does not
	CHECK(t.module("x86-only").size() == 1);
	CHECK(t.module("never").empty());
	// rules and flags are not goals
	CHECK(t.module("generated").empty());
	CHECK(t.module("ccflags").empty());
	// ifneq ($(CONFIG_X),) holds when X is on
	REQUIRE(t.parts("drivers/wireless/iwlwifi.o"));
	CHECK(t.parts("drivers/wireless/iwlwifi.o")->back().conditions.at(0).symbol == "IWLMVM");
	CHECK_FALSE(t.parts("drivers/wireless/iwlwifi.o")->back().conditions.at(0).negated);
}

TEST_CASE("kbuild: a directory gates what is beneath, counts follow the config", "[kconfig]")
{
	KbuildTree t = kbuild_fixture();
	Config c = Config::parse("CONFIG_VIRTIO_BLK=m\nCONFIG_WLAN=y\nCONFIG_IWLWIFI=m\nCONFIG_EXT4_FS=y\n", "base");
	auto gates = t.gates(*t.module("iwlwifi").at(0), c);
	CHECK(gates == std::vector<std::string>{"IWLWIFI", "WLAN"});
	CHECK(t.module_value("iwlwifi", c) == 1);
	CHECK(t.module_value("ext4", c) == 2);
	CHECK(t.module_value("no-such", c) == 0);

	KbuildCount n = t.count(c);
	// virtio_blk, always-a-module, iwlwifi (2 parts) are modules; ext4 (3 parts), quiet.o,
	// x86-only.o are built in
	CHECK(n.modules == std::set<std::string>{"always_a_module", "iwlwifi", "virtio_blk"});
	CHECK(n.module_objects == 4);
	CHECK(n.objects == 9);
	CHECK(n.paths.size() == n.objects);
	CHECK(n.paths.count("drivers/wireless/iwl-drv.o") == 1); // a composite's part

	Config no_wlan = c;
	no_wlan.set("WLAN", Value(), Origin("test", 1));
	CHECK(t.module_value("iwlwifi", no_wlan) == 0); // its directory is off
	CHECK(t.count(no_wlan).modules.count("iwlwifi") == 0);

	Config debug = c;
	debug.set("DEBUG", Value::tristate('y'), Origin("test", 2));
	debug.set("EXT4_FS_POSIX_ACL", Value::tristate('y'), Origin("test", 3));
	KbuildCount d = t.count(debug);
	CHECK(d.modules.count("vblk_debug") == 1);
	CHECK(d.objects == n.objects + 1 /* acl.o */ + 1 /* vblk-debug.o */ - 1 /* quiet.o */);
}

TEST_CASE("kbuild: a tree without a top-level Kbuild is refused by name", "[kconfig]")
{
	TempDir d;
	test::put(d.path() / "Makefile", "all:\n");
	CHECK_THROWS_WITH(KbuildTree::read(d.path(), ""), Catch::Matchers::Contains(d.path().string()) &&
								  Catch::Matchers::Contains("no top-level Kbuild"));
}

TEST_CASE("kbuild: a tree read from disk, directories named twice or without a Makefile", "[kconfig]")
{
	TempDir d;
	test::put(d.path() / "Kbuild", "obj-y += drivers/ $(SRCARCH)-only/\nobj-$(CONFIG_A) += gone/\nobj-$(CONFIG_B) += gone/\n");
	test::put(d.path() / "arch/x86/Makefile", "drivers-$(CONFIG_PCI) += arch/x86/pci/\n");
	test::put(d.path() / "arch/x86/pci/Makefile", "obj-y += irq.o\n");
	test::put(d.path() / "drivers/Kbuild", "obj-$(CONFIG_A) += a.o\n");
	test::put(d.path() / "drivers/Makefile", "obj-$(CONFIG_IGNORED) += not-read.o\n");
	KbuildTree t = KbuildTree::read(d.path(), "x86_64");
	CHECK(t.module("a").size() == 1);
	CHECK(t.module("not-read").empty()); // Kbuild wins over Makefile, as in kbuild
	CHECK(t.module("irq").at(0)->path == "arch/x86/pci/irq.o");
	Config c = Config::parse("CONFIG_A=m\nCONFIG_PCI=y\n", "c");
	CHECK(t.count(c).objects == 2);
	CHECK(t.module_value("irq", Config()) == 0); // CONFIG_PCI gates the arch's directory
}
