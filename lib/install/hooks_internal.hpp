// Running the root's installkernel hooks and grub-mkconfig (lib/install/hooks.cpp).
#pragma once

#include "distkernel/install.hpp"

#include <map>
#include <string>
#include <vector>

namespace distkernel::detail {

// NAME, ID, PRETTY_NAME and IMAGE_ID of the root's os-release (/etc, else /usr/lib), as written;
// a value that needs a shell to evaluate counts as unset. Never the build machine's file.
std::map<std::string, std::string> root_os_release(const Root &root);

struct HookOutcome {
	std::string skipped_by; // the hook that exited 77 (the rest of the phase skipped)
	std::string failure;    // "postinst hook P failed (exit N): ...", empty when none failed
};
// Runs the plan's hooks of phase ("preinst"/"postinst") with KV and the image's path inside the
// root, as opts.hooks says (printed instead under another root without chroot).
HookOutcome run_kernel_hooks(const Root &root, const InstallPlan &plan, const std::string &phase, const std::string &kv,
			     const std::string &image_inside, const InstallOptions &opts, const Logger &log);
struct KernelInstallRemoval {
	bool ran = false;    // kernel-install remove ran
	bool grub = false;   // ... and one of its plugins regenerated grub.cfg
	std::string failure; // "kernel-install remove failed (exit N): ...", empty when it did not fail
};
// kernel-install remove KV inside the root with the root's plugins (find_kernel_install_plugins),
// as opts.hooks says (printed instead under another root without chroot, and with opts.pretend);
// nothing when the root has no plugin to run.
KernelInstallRemoval run_kernel_install_remove(const Root &root, const std::string &kv, const InstallOptions &opts,
					       const Logger &log);
void run_grub_mkconfig(const Root &root, const InstallOptions &opts, const Logger &log);

} // namespace distkernel::detail
