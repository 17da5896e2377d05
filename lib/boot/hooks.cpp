// installkernel's pre- and post-install hooks under the root, found and ordered as Gentoo's
// installkernel does (its dropindirs_sort), with the ones distkernel does not run and why.
#include "distkernel/boot.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <string.h>
#include <unistd.h>

namespace distkernel {
namespace fs = std::filesystem;

namespace {

bool contains(const std::string &s, const char *part)
{
	return s.find(part) != std::string::npos;
}

// The work distkernel has done itself before any hook runs: a hook doing it again would build a
// second initramfs over ours (or on the build machine under --root) or rewrite the staged modules.
std::string why_skipped(const std::string &name)
{
	for (const char *gen : {"dracut", "ugrd", "mkinitcpio", "genkernel", "booster"})
		if (contains(name, gen))
			return std::string("builds an initramfs (") + gen + "): distkernel built it already";
	if (contains(name, "ukify"))
		return "builds a unified kernel image: distkernel installs the kernel and the initramfs as separate files";
	if (contains(name, "depmod"))
		return "runs depmod: the staged module tree has its modules.dep already";
	return {};
}

} // namespace

std::vector<KernelHook> find_kernel_hooks(const Root &root, std::string_view phase)
{
	const std::string p(phase);
	const std::vector<std::string> dirs = {"/etc/kernel/" + p + ".d", "/usr/lib/kernel/" + p + ".d"};
	std::set<std::string> names;
	for (const auto &d : dirs)
		for (const auto &n : root.list(d))
			names.insert(n);
	std::vector<std::string> sorted(names.begin(), names.end());
	// sort -V as installkernel orders them: "9-x" before "10-x".
	std::sort(sorted.begin(), sorted.end(),
		  [](const std::string &a, const std::string &b) { return ::strverscmp(a.c_str(), b.c_str()) < 0; });
	std::vector<KernelHook> out;
	for (const auto &n : sorted) {
		for (const auto &d : dirs) {
			std::error_code ec;
			fs::path host = root.path(d + "/" + n);
			if (!fs::exists(host, ec))
				continue;
			KernelHook h{n, d + "/" + n, {}};
			if (!fs::is_regular_file(host, ec) || ::access(host.c_str(), X_OK) != 0)
				h.skip = d.starts_with("/etc") && fs::exists(root.path("/usr/lib/kernel/" + p + ".d/" + n), ec)
						 ? "not executable: masks /usr/lib/kernel/" + p + ".d/" + n
						 : "not executable";
			else
				h.skip = why_skipped(n);
			out.push_back(std::move(h));
			break;
		}
	}
	return out;
}

bool is_grub_mkconfig_hook(const KernelHook &hook)
{
	return contains(hook.name, "grub-mkconfig");
}

} // namespace distkernel
