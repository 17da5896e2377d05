// The kernel's own make: olddefconfig resolves the merged input exactly as the kernel does.
#include "distkernel/error.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/process.hpp"

#include <fmt/core.h>

namespace distkernel::kconfig {
namespace fs = std::filesystem;

std::vector<std::string> make_argv(const MakeOptions &o, const std::string &target)
{
	std::vector<std::string> argv{"make", "-C", o.tree.string()};
	if (!o.build.empty() && fs::weakly_canonical(o.build) != fs::weakly_canonical(o.tree))
		argv.push_back("O=" + fs::absolute(o.build).string());
	if (!o.arch.empty())
		argv.push_back("ARCH=" + o.arch);
	if (!o.cross_compile.empty())
		argv.push_back("CROSS_COMPILE=" + o.cross_compile);
	if (o.llvm)
		argv.push_back("LLVM=1");
	argv.push_back(target);
	return argv;
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
