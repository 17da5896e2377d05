// lib/kconfig/make.cpp: the kernel's make command line and the build target.
#include "catch.hpp"
#include "paths.hpp"

#include "distkernel/config.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/verify.hpp"

#include <cstdlib>
#include <filesystem>

using namespace distkernel;
using namespace distkernel::kconfig;
namespace fs = std::filesystem;

TEST_CASE("one build target: make's command line, the arch's directory and image", "[kconfig]")
{
	BuildTarget t{"/src", "/out", "arm64", "aarch64-linux-gnu-", true};
	CHECK(t.make_argv({"olddefconfig"}) ==
	      std::vector<std::string>{"make", "-C", "/src", "O=/out", "ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-",
				       "LLVM=1", "olddefconfig"});
	BuildTarget in_tree{"/src", "/src", "", "", false};
	CHECK(in_tree.make_argv({"kernelrelease"}, true) == std::vector<std::string>{"make", "-s", "-C", "/src", "kernelrelease"});
	CHECK(in_tree.effective_arch() == "x86");
	CHECK(src_arch("x86_64") == "x86");
	CHECK(src_arch("sparc64") == "sparc");
	CHECK(default_image_path("") == "arch/x86/boot/bzImage");
	CHECK(default_image_path("x86_64") == "arch/x86/boot/bzImage");
	CHECK(default_image_path("riscv") == "arch/riscv/boot/Image.gz");
	// 6.1's arch/loongarch/Makefile with EFI_STUB (what a distribution config has)
	CHECK(default_image_path("loongarch") == "arch/loongarch/boot/vmlinux.efi");
	CHECK_THROWS_AS(default_image_path("m68k"), UsageError);
}

// A build directory as the kernel's make leaves it after a build: the configuration in .config and
// in the generated include/config/auto.conf (what make reads for image_name).
static void fake_built_tree(const fs::path &build, const std::string &config)
{
	fs::create_directories(build / "include/config");
	fs::create_directories(build / "include/generated");
	atomic_write(build / ".config", config);
	atomic_write(build / "include/config/auto.conf", config);
	atomic_write(build / "include/generated/autoconf.h", "");
}

TEST_CASE("a built tree's image is the one the kernel's make names", "[kconfig]")
{
	const char *cache = std::getenv("DISTKERNEL_CACHE");
	fs::path tree = (cache ? fs::path(cache) : test::source_root() / ".cache") / "linux";
	INFO("kernel tree: " << tree << " (run scripts/real-parts first)");
	REQUIRE(fs::exists(tree / "Makefile"));
	TempDir t;
	fake_built_tree(t.path() / "plain", "CONFIG_EFI_STUB=y\n");
	fake_built_tree(t.path() / "zboot", "CONFIG_EFI_STUB=y\nCONFIG_EFI_ZBOOT=y\n");
	BuildTarget b{tree, t.path() / "plain", "arm64", "", false};
	CHECK(built_image_path(b) == "arch/arm64/boot/Image.gz");
	CHECK(built_image_path(b) == default_image_path("arm64"));
	b.arch = "x86_64";
	CHECK(built_image_path(b) == "arch/x86/boot/bzImage");
	// The option zboot.config (USE=secureboot) sets renames the image; default_image_path cannot know.
	b.build = t.path() / "zboot";
	b.arch = "arm64";
	CHECK(built_image_path(b) == "arch/arm64/boot/vmlinuz.efi");
	b.arch = "riscv";
	CHECK(built_image_path(b) == "arch/riscv/boot/vmlinuz.efi");
	// Configured but not built: the error names the command.
	fs::create_directories(t.path() / "unbuilt");
	atomic_write(t.path() / "unbuilt/.config", "CONFIG_EFI_STUB=y\n");
	b.build = t.path() / "unbuilt";
	CHECK_THROWS_WITH(built_image_path(b), Catch::Matchers::Contains("image_name") && Catch::Matchers::Contains("exited"));
	// No build directory: a usage error, and nothing is made (make would create it).
	b.build = t.path() / "missing";
	CHECK_THROWS_AS(built_image_path(b), UsageError);
	CHECK_FALSE(fs::exists(t.path() / "missing"));
}
