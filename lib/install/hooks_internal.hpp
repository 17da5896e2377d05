// Running the root's installkernel hooks and grub-mkconfig (lib/install/hooks.cpp).
#pragma once

#include "distkernel/install.hpp"

#include <string>
#include <vector>

namespace distkernel::detail {

struct HookOutcome {
	std::string skipped_by; // the hook that exited 77 (the rest of the phase skipped)
	std::string failure;    // "postinst hook P failed (exit N): ...", empty when none failed
};
// Runs the plan's hooks of phase ("preinst"/"postinst") with KV and the image's path inside the
// root, as opts.hooks says (printed instead under another root without chroot).
HookOutcome run_kernel_hooks(const Root &root, const InstallPlan &plan, const std::string &phase, const std::string &kv,
			     const std::string &image_inside, const InstallOptions &opts, const Logger &log);
void run_grub_mkconfig(const Root &root, const InstallOptions &opts, const Logger &log);

} // namespace distkernel::detail
