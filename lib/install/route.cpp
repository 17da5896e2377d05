// Calls of installkernel and kernel-install that reach distkernel through its plugin: each ends in
// one distkernel transaction with its record, or is left to the installer.
#include "distkernel/error.hpp"
#include "distkernel/install.hpp"
#include "distkernel/stage.hpp"

#include <filesystem>

namespace fs = std::filesystem;

namespace distkernel {

RouteResult route_installer_call(const Root &root, const std::string &action, const std::string &release,
				 const InstallOptions &opts, const char *guard, const Logger &log)
{
	if (action != "add" && action != "remove")
		throw UsageError("route takes add or remove, not '" + action + "'");
	validate_release(release);
	RouteResult r;
	if (guard != nullptr && *guard != '\0') {
		r.reason = std::string("called from distkernel-install itself (") + install_guard_variable + " is set)";
		return r;
	}
	const bool recorded = find_installed(root, release).has_value();
	if (action == "remove") {
		if (!recorded) {
			r.reason = release + " was not installed by distkernel";
			return r;
		}
		r.removed = remove(root, release, opts, log);
		r.handled = true;
		r.action = "remove";
		return r;
	}
	std::error_code ec;
	if (!fs::exists(root.path(manifest_path(release)), ec)) {
		r.reason = "no kernel " + release + " staged by distkernel (" + root.path(manifest_path(release)).string() + ")";
		return r;
	}
	// A recorded kernel keeps its layout, initramfs setting and dracut arguments.
	if (recorded) {
		r.installed = reinstall(root, {release}, opts, log);
		r.action = "reinstall";
	} else {
		r.installed.push_back(add(root, release, opts, log));
		r.action = "add";
	}
	r.handled = true;
	return r;
}

} // namespace distkernel
