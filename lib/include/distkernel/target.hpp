// The kernel build a command works on: which tree, which build directory, which architecture and
// toolchain, and what follows from the architecture (its arch/ directory, its image). Configure
// (make olddefconfig, the Kconfig reader), stage and the eclass (through distkernel-stage
// image-path) take these facts from here only.
#pragma once

#include "distkernel/export.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel {

// The ARCH when none is given: what the kernel's make assumes on an x86 host (uname -m mapped
// to its SUBARCH), so that reading Kconfig and running make without --arch agree.
inline constexpr std::string_view default_arch = "x86";

// The directory under arch/ for an ARCH value (x86_64 and i386 live in arch/x86).
DISTKERNEL_API std::string src_arch(std::string_view arch);

// The image's in-tree path that `make` builds by default for ARCH ("arch/x86/boot/bzImage");
// an empty arch is default_arch. UsageError for an ARCH we do not know the image of. Only for a
// kernel without its build tree (a prebuilt one): a built tree says which image it made
// (built_image_path), which follows the options that rename it (EFI_ZBOOT, the arch's
// Makefile of that version).
DISTKERNEL_API std::string default_image_path(std::string_view arch);

struct DISTKERNEL_API BuildTarget {
	std::filesystem::path tree;  // SRC
	std::filesystem::path build; // O=, empty: in the tree
	std::string arch;            // ARCH=, empty: the make default (default_arch)
	std::string cross_compile;   // CROSS_COMPILE=
	bool llvm = false;           // LLVM=1

	// The ARCH in effect: arch, or default_arch.
	std::string effective_arch() const { return arch.empty() ? std::string(default_arch) : arch; }
	// make [-s] -C SRC [O=BUILD] [ARCH=..] [CROSS_COMPILE=..] [LLVM=1] TARGETS... (O= only when
	// the build directory is not the tree).
	std::vector<std::string> make_argv(const std::vector<std::string> &targets, bool silent = false) const;
};

// What `make -s TARGET` prints for a configured tree (one of the kernel's printing targets:
// kernelrelease, image_name), trimmed. Error naming the command when make fails or prints nothing.
DISTKERNEL_API std::string make_print(const BuildTarget &t, const std::string &target);

// The in-tree path of the image the kernel's make builds for this configured and built tree:
// the kernel's own answer (make -s image_name, its KBUILD_IMAGE), so arm64 with EFI_ZBOOT is
// arch/arm64/boot/vmlinuz.efi. Error when make cannot say (the tree is not built yet) or names
// a path outside the build directory.
DISTKERNEL_API std::string built_image_path(const BuildTarget &t);

} // namespace distkernel
