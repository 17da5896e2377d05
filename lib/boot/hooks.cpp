// installkernel's pre- and post-install hooks and kernel-install's plugins under the root, found
// and ordered as each program does (their dropindirs_sort), with the ones distkernel does not run
// and why.
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

// The drop-in files of dirs (the first one masks the others by name) ordered by name as sort -V
// (installkernel) or sort (kernel-install) does; only names ending in suffix when it is set.
// skipped(name) says why distkernel leaves an executable one out.
std::vector<KernelHook> find_dropins(const Root &root, const std::vector<std::string> &dirs, std::string_view suffix,
				     bool version_sort, std::string (*skipped)(const std::string &))
{
	std::set<std::string> names;
	for (const auto &d : dirs)
		for (const auto &n : root.list(d))
			if (n.ends_with(suffix))
				names.insert(n);
	std::vector<std::string> sorted(names.begin(), names.end());
	// sort -V as installkernel orders them: "9-x" before "10-x".
	if (version_sort)
		std::sort(sorted.begin(), sorted.end(),
			  [](const std::string &a, const std::string &b) { return ::strverscmp(a.c_str(), b.c_str()) < 0; });
	std::vector<KernelHook> out;
	for (const auto &n : sorted) {
		for (const auto &d : dirs) {
			std::error_code ec;
			fs::path host = root.path(d + "/" + n);
			if (!fs::exists(fs::symlink_status(host, ec)))
				continue;
			KernelHook h{n, d + "/" + n, {}};
			if (!fs::is_regular_file(host, ec) || ::access(host.c_str(), X_OK) != 0)
				h.skip = d.starts_with("/etc") && fs::exists(root.path(dirs.back() + "/" + n), ec)
						 ? "not executable: masks " + dirs.back() + "/" + n
						 : "not executable";
			else
				h.skip = skipped(n);
			out.push_back(std::move(h));
			break;
		}
	}
	return out;
}

// The plugins kernel-install remove would run that distkernel leaves out: depmod's deletes the
// module tree's modules.dep and friends, which belong to the package (it removes the tree itself).
std::string why_skipped_on_remove(const std::string &name)
{
	if (contains(name, "depmod"))
		return "deletes modules.dep of /lib/modules/KV on remove: the tree is the package's";
	return {};
}

} // namespace

std::vector<KernelHook> find_kernel_hooks(const Root &root, std::string_view phase)
{
	const std::string p(phase);
	return find_dropins(root, {"/etc/kernel/" + p + ".d", "/usr/lib/kernel/" + p + ".d"}, "", true, why_skipped);
}

std::vector<KernelHook> find_kernel_install_plugins(const Root &root)
{
	return find_dropins(root, {"/etc/kernel/install.d", "/usr/lib/kernel/install.d"}, ".install", false,
			    why_skipped_on_remove);
}

bool is_grub_mkconfig_hook(const KernelHook &hook)
{
	return contains(hook.name, "grub-mkconfig");
}

} // namespace distkernel
