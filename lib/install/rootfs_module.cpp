// The root filesystem's module at install: a root on a filesystem whose module comes from another
// package (zfs from sys-fs/zfs-kmod, ...) gets an initramfs that cannot mount it until that
// package is installed for this kernel; the install says so instead of leaving it to the reboot.
#include "distkernel/error.hpp"
#include "distkernel/kmod.hpp"
#include "install/efi_internal.hpp"
#include "install/install_internal.hpp"
#include "sys/text.hpp"

#include <fmt/core.h>

#include <set>

namespace fs = std::filesystem;

namespace distkernel::detail {

namespace {

// The filesystems that need no module of their own (or that the kernel resolves at mount time).
bool needs_no_module(const std::string &type)
{
	static const std::set<std::string> none{"auto", "none", "rootfs", "tmpfs", "ramfs", "devtmpfs", "proc", "sysfs", "overlay"};
	return type.empty() || none.count(type) != 0;
}

} // namespace

RootFilesystem root_filesystem(const Root &root, const Logger &log)
{
	// The kernel command line of the root's boot entries wins, as it does at boot.
	std::error_code ec;
	const fs::path cmdline = root.path("/etc/kernel/cmdline");
	std::string args;
	if (fs::is_regular_file(cmdline, ec))
		args = root_kernel_cmdline(root, log);
	for (std::string_view w : text::words(args)) {
		if (w.substr(0, 11) == "rootfstype=")
			return {std::string(w.substr(11)), cmdline.string() + " (rootfstype=)"};
		if (w.substr(0, 9) == "root=ZFS=" || w == "root=zfs" || w.substr(0, 9) == "root=zfs:")
			return {"zfs", cmdline.string() + " (" + std::string(w) + ")"};
	}
	const fs::path fstab = root.path("/etc/fstab");
	if (!fs::is_regular_file(fstab, ec))
		return {};
	std::string text;
	try {
		text = read_file(fstab);
	} catch (const SystemError &e) {
		log.warn("{}: the root filesystem's type is not checked", e.what());
		return {};
	}
	std::size_t n = 0;
	for (std::string_view line : text::lines(text)) {
		++n;
		auto f = text::uncommented_words(line);
		if (f.size() >= 3 && f[1] == "/")
			return {std::string(f[2]), fmt::format("{}:{}", fstab.string(), n)};
	}
	return {};
}

std::string missing_root_module(const Root &root, const std::string &kv, const Logger &log)
{
	const RootFilesystem rfs = root_filesystem(root, log);
	if (needs_no_module(rfs.type))
		return {};
	const fs::path dir = root.path("/lib/modules/" + kv);
	try {
		ModuleTree tree(dir);
		if (!tree.lookup("fs-" + rfs.type).empty() || tree.find(rfs.type))
			return {};
	} catch (const Error &e) {
		log.verbose("the root filesystem's module is not checked: {}", e.what());
		return {};
	}
	return fmt::format(
		"the root filesystem is {} ({}), and {} has no module for it (neither built in nor under /lib/modules/{}: no "
		"module {} or alias fs-{}): the initramfs built now cannot mount the root. The package that provides the "
		"module (for zfs: sys-fs/zfs-kmod) brings this initramfs up to date when it is installed for {} (its "
		"pkg_postinst calls dist-kernel_reinstall_initramfs, which ends in distkernel-install reinstall); do not "
		"boot {} before that",
		rfs.type, rfs.source, kv, kv, rfs.type, rfs.type, kv, kv);
}

} // namespace distkernel::detail
