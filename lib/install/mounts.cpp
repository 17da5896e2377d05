// Whether the place add writes to (/boot, or the ESP) is mounted when the root's fstab says it is a
// filesystem of its own: otherwise the kernel would land in the directory under the mount point,
// which neither the firmware nor the boot loader ever sees, and the machine would go on booting
// its old kernel (or none, once clean removed it from the real /boot).
#include "install/install_internal.hpp"

#include "distkernel/error.hpp"
#include "distkernel/quote.hpp"
#include "sys/text.hpp"

#include <fmt/core.h>

namespace distkernel::detail {
namespace fs = std::filesystem;

namespace {

// The mount points of this process's view (/proc/self/mountinfo, field 5), as host paths.
std::vector<fs::path> mount_points()
{
	const fs::path file = "/proc/self/mountinfo";
	std::vector<fs::path> out;
	const std::string text = read_file(file);
	std::size_t n = 0;
	for (std::string_view line : text::lines(text)) {
		++n;
		auto w = text::words(line);
		if (w.size() > 4)
			out.emplace_back(text::unescape_mount(std::string(w[4]), file, n));
	}
	return out;
}

bool is_mounted_at(const std::vector<fs::path> &points, const fs::path &p)
{
	std::error_code ec;
	fs::path real = fs::weakly_canonical(p, ec);
	for (const auto &m : points)
		if (m == p || (!ec && m == real))
			return true;
	return false;
}

// base or one of its parents below "/": "/boot/efi" is under "/boot".
bool holds(const std::string &target, const std::string &base)
{
	return target != "/" && (base == target || base.starts_with(target + "/"));
}

} // namespace

void require_mounted(const Root &root, const std::string &base)
{
	const std::vector<fs::path> points = mount_points();
	// Under another root, only a root that is itself mounted is a machine being set up (a chroot
	// target such as /mnt/gentoo) whose fstab describes these mounts; a plain directory is an
	// image being assembled, whose fstab speaks of the machine it will become.
	if (!root.is_live_system() && !is_mounted_at(points, root.dir()))
		return;
	const fs::path fstab = root.path("/etc/fstab");
	std::error_code ec;
	if (!fs::is_regular_file(fstab, ec))
		return;
	const std::string text = read_file(fstab);
	std::size_t n = 0;
	for (std::string_view line : text::lines(text)) {
		++n;
		auto w = text::uncommented_words(line);
		if (w.size() < 3 || w[2] == "swap")
			continue;
		std::string target = text::unescape_mount(std::string(w[1]), fstab, n);
		while (target.size() > 1 && target.back() == '/')
			target.pop_back();
		if (!holds(target, base) || is_mounted_at(points, root.path(target, false)))
			continue;
		throw Error(fmt::format(
			"{} is a filesystem of its own ({}:{}: {} on {}), and it is not mounted on {}: the kernel would go "
			"into the directory under it, which the boot loader never sees. {} and run this again",
			target, fstab.string(), n, printable(std::string(w[0])), target, root.path(target, false).string(),
			root.is_live_system() ? "Mount it (mount " + target + ")"
					      : "Mount its filesystem on " + root.path(target, false).string()));
	}
}

} // namespace distkernel::detail
