// install.conf, found where installkernel (Gentoo's, since version 63) and systemd's kernel-install
// look for it, under the root.
#include "distkernel/boot.hpp"
#include "distkernel/error.hpp"

#include <cstdlib>

namespace distkernel {
namespace fs = std::filesystem;

InstallConfOverrides install_conf_overrides_from_environment()
{
	auto get = [](const char *name) -> std::optional<std::string> {
		const char *v = std::getenv(name);
		if (!v || !*v)
			return std::nullopt;
		return std::string(v);
	};
	return {get("INSTALLKERNEL_CONF_ROOT"), get("INSTALLKERNEL_LAYOUT"), get("INSTALLKERNEL_INITRD_GENERATOR"),
		get("INSTALLKERNEL_UKI_GENERATOR")};
}

InstallConf read_install_conf(const Root &root, const InstallConfOverrides &ov)
{
	InstallConf c;
	std::vector<std::string> dirs;
	if (ov.conf_root) {
		if (ov.conf_root->empty() || ov.conf_root->front() != '/')
			throw UsageError("$INSTALLKERNEL_CONF_ROOT must be an absolute path (inside the root), not '" +
					 *ov.conf_root + "'");
		dirs = {*ov.conf_root};
	} else {
		dirs = {"/etc/kernel", "/run/kernel", "/usr/local/lib/kernel", "/usr/lib/kernel"};
	}
	for (const auto &d : dirs) {
		fs::path p = root.path(d + "/install.conf");
		c.searched.push_back(p);
		std::error_code ec;
		if (fs::is_regular_file(p, ec)) {
			c.file = p;
			break;
		}
	}
	if (!c.file.empty()) {
		ShellFile f = read_shell_file(c.file);
		auto setting = [&](BootSetting &s, const char *name) {
			if (auto a = f.get(name); a && !a->value.empty())
				s = {a->value, c.file.string() + ":" + std::to_string(a->line)};
		};
		setting(c.layout, "layout");
		setting(c.initrd_generator, "initrd_generator");
		setting(c.uki_generator, "uki_generator");
		c.problems = f.problems;
	}
	// installkernel's own order: its environment first, install.conf where that is empty.
	auto override_with = [](BootSetting &s, const std::optional<std::string> &v, const char *var) {
		if (v && !v->empty())
			s = {*v, std::string("$") + var};
	};
	override_with(c.layout, ov.layout, "INSTALLKERNEL_LAYOUT");
	override_with(c.initrd_generator, ov.initrd_generator, "INSTALLKERNEL_INITRD_GENERATOR");
	override_with(c.uki_generator, ov.uki_generator, "INSTALLKERNEL_UKI_GENERATOR");
	return c;
}

} // namespace distkernel
