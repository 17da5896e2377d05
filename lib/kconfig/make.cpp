// The kernel's own make: olddefconfig resolves the merged input exactly as the kernel does.
#include "distkernel/error.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/process.hpp"
#include "distkernel/target.hpp"

#include <fmt/core.h>

namespace distkernel::kconfig {
namespace fs = std::filesystem;

std::vector<std::string> make_argv(const MakeOptions &o, const std::string &target)
{
	return o.make_argv({target});
}

void run_olddefconfig(const MakeOptions &o, const Logger &log)
{
	Command cmd(make_argv(o, "olddefconfig"));
	log.step("running {}", to_display(cmd.argv));
	Result r = run(cmd);
	if (!r.err.empty())
		log.verbose("{}", r.err);
	if (!r.ok())
		throw Error(fmt::format("make olddefconfig failed (exit {}):\n{}", r.exit_code, r.tail()));
}

} // namespace distkernel::kconfig

namespace distkernel {
namespace fs = std::filesystem;

std::string src_arch(std::string_view arch)
{
	if (arch == "x86_64" || arch == "i386" || arch == "x86")
		return "x86";
	if (arch == "sparc32" || arch == "sparc64")
		return "sparc";
	if (arch == "sh64")
		return "sh";
	if (arch == "parisc64")
		return "parisc";
	return std::string(arch);
}

std::string default_image_path(std::string_view arch)
{
	std::string a = src_arch(arch.empty() ? default_arch : arch);
	// KBUILD_IMAGE of each arch/*/Makefile without the options that rename it (EFI_ZBOOT, XIP).
	if (a == "x86")
		return "arch/x86/boot/bzImage";
	if (a == "arm64" || a == "riscv")
		return "arch/" + a + "/boot/Image.gz";
	if (a == "arm")
		return "arch/arm/boot/zImage";
	if (a == "loongarch")
		return "arch/loongarch/boot/vmlinux.efi";
	if (a == "powerpc" || a == "sparc" || a == "parisc" || a == "s390")
		return "vmlinux";
	throw UsageError("no default image path for ARCH=" + std::string(arch) + ": give --image-path");
}

std::vector<std::string> BuildTarget::make_argv(const std::vector<std::string> &targets, bool silent) const
{
	std::vector<std::string> argv{"make"};
	if (silent)
		argv.push_back("-s");
	argv.insert(argv.end(), {"-C", tree.string()});
	if (!build.empty() && fs::weakly_canonical(build) != fs::weakly_canonical(tree))
		argv.push_back("O=" + fs::absolute(build).string());
	if (!arch.empty())
		argv.push_back("ARCH=" + arch);
	if (!cross_compile.empty())
		argv.push_back("CROSS_COMPILE=" + cross_compile);
	if (llvm)
		argv.push_back("LLVM=1");
	argv.insert(argv.end(), targets.begin(), targets.end());
	return argv;
}

std::string make_print(const BuildTarget &t, const std::string &target)
{
	std::vector<std::string> argv = t.make_argv({target}, true);
	Result r = run(Command(argv));
	std::string out = r.out;
	while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
		out.pop_back();
	// Only the last line: make may print notes of its own before it.
	if (auto nl = out.rfind('\n'); nl != std::string::npos)
		out.erase(0, nl + 1);
	if (!r.ok() || out.empty())
		throw Error(fmt::format("{} exited {} and printed nothing usable:\n{}", to_display(argv), r.exit_code, r.tail()));
	return out;
}

std::string built_image_path(const BuildTarget &t)
{
	// make would create a missing O= directory: a question must not.
	fs::path build = t.build.empty() ? t.tree : t.build;
	std::error_code ec;
	if (!fs::is_regular_file(build / ".config", ec))
		throw UsageError(build.string() + "/.config does not exist: configure and build the kernel first");
	std::string path = make_print(t, "image_name");
	fs::path p(path);
	if (p.is_absolute() || p.lexically_normal().string().starts_with(".."))
		throw Error("make image_name in " + t.tree.string() + " named " + path + ", outside the build directory");
	return path;
}

} // namespace distkernel
