// lib/sys/kmod.cpp: module names, and what a module tree says is built in.
#include "catch.hpp"
#include "paths.hpp"

#include "distkernel/error.hpp"
#include "distkernel/kmod.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdlib>
#include <filesystem>

using namespace distkernel;
namespace fs = std::filesystem;

TEST_CASE("module names: file names and dashes normalised", "[sys]")
{
	CHECK(normalise_module_name("kernel/drivers/md/dm-crypt.ko.zst") == "dm_crypt");
	CHECK(normalise_module_name("virtio_blk.ko") == "virtio_blk");
	CHECK(normalise_module_name("snd-hda-intel") == "snd_hda_intel");
	CHECK(normalise_module_name(".ko") == ".ko");
	CHECK(is_module_file_name("a/b/ext4.ko.xz"));
	CHECK_FALSE(is_module_file_name("a/b/modules.dep"));
	CHECK_FALSE(is_module_file_name(".ko"));
}

TEST_CASE("built in: modules.builtin and the modinfo of bool options, modules.builtin required", "[sys]")
{
	// The real parts' cache: DISTKERNEL_CACHE, else scripts/real-parts' default in the source tree.
	const char *env = std::getenv("DISTKERNEL_CACHE");
	fs::path cache = env && *env ? fs::path(env) : test::source_root() / ".cache";
	fs::path real;
	for (const auto &e : fs::directory_iterator(cache / "debian-kernel/root/lib/modules"))
		real = e.path();
	REQUIRE(fs::exists(real / "modules.builtin"));
	// The indexes alone: a module tree libkmod opens, without the 400 MB of modules.
	TempDir t;
	for (const auto &e : fs::directory_iterator(real))
		if (e.is_regular_file() && e.path().filename().string().starts_with("modules."))
			fs::copy_file(e.path(), t.path() / e.path().filename());
	{
		ModuleTree tree(t.path());
		CHECK(tree.is_builtin("libblake2s-x86_64"));
		CHECK(tree.is_builtin("tracefs")); // only in modules.builtin.modinfo
		CHECK_FALSE(tree.is_builtin("xfs"));
	}
	fs::remove(t.path() / "modules.builtin.modinfo");
	CHECK_FALSE(ModuleTree(t.path()).is_builtin("tracefs"));
	fs::remove(t.path() / "modules.builtin");
	CHECK_THROWS_WITH(ModuleTree(t.path()), Catch::Matchers::Contains("modules.builtin: cannot be read"));
}

TEST_CASE("module names are normalised as the kernel does", "[sys]")
{
	CHECK(normalise_module_name("kernel/drivers/block/virtio_blk.ko") == "virtio_blk");
	CHECK(normalise_module_name("usr/lib/modules/6.12/kernel/drivers/md/dm-crypt.ko.zst") == "dm_crypt");
	CHECK(normalise_module_name("nvme-core.ko.xz") == "nvme_core");
	CHECK(normalise_module_name("snd-hda-intel") == "snd_hda_intel");
	CHECK(normalise_module_name("x.ko.gz") == "x");
}
