// Calls of installkernel and kernel-install that reach distkernel through its plugin: each ends in
// one distkernel transaction with its record, or is left to the installer.
#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/install.hpp"
#include "distkernel/stage.hpp"

#include <filesystem>

namespace fs = std::filesystem;

namespace distkernel {

namespace {

// Fails unless image is, byte for byte, the image staged as release (its manifest's sha256).
void require_staged_image(const Root &root, const std::string &release, const fs::path &image)
{
	StagedKernel k = read_staged(root, release);
	std::string want;
	for (const auto &f : k.files)
		if (f.path == k.image)
			want = f.sha256;
	std::error_code ec;
	if (!fs::is_regular_file(image, ec))
		throw Error("the installer was given " + image.string() + " as the image of " + release + ", and it is not a file");
	if (sha256_file(image) == want)
		return;
	throw Error(image.string() + " is not the kernel distkernel staged as " + release + " (" + root.path(k.image).string() +
		    ", sha256 " + want + " in " + root.path(manifest_path(release)).string() +
		    "): installing it would put a kernel that no record describes in place of distkernel's. Give a kernel "
		    "built by hand its own release (CONFIG_LOCALVERSION), or install the staged one with "
		    "`distkernel-install reinstall " + release + "`");
}

} // namespace

RouteResult route_installer_call(const Root &root, const std::string &action, const std::string &release,
				 const InstallOptions &opts, const char *guard, const Logger &log, const fs::path &image)
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
	if (!image.empty())
		require_staged_image(root, release, image);
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
