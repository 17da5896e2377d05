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
