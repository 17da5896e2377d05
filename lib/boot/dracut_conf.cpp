// The root's dracut configuration: only what decides distkernel's dracut options.
#include "distkernel/boot.hpp"
#include "distkernel/error.hpp"

#include <algorithm>

namespace distkernel {
namespace fs = std::filesystem;

DracutConf read_dracut_conf(const Root &root)
{
	DracutConf c;
	std::error_code ec;
	fs::path conf = root.path("/etc/dracut.conf");
	if (fs::is_regular_file(conf, ec))
		c.files.push_back(conf);
	fs::path dir = root.path("/etc/dracut.conf.d");
	std::vector<fs::path> parts;
	if (fs::is_directory(dir, ec))
		for (const auto &e : fs::directory_iterator(dir, ec))
			if (e.path().extension() == ".conf" && e.is_regular_file(ec))
				parts.push_back(e.path());
	std::sort(parts.begin(), parts.end());
	c.files.insert(c.files.end(), parts.begin(), parts.end());
	for (const auto &file : c.files) {
		ShellFile f = read_shell_file(file);
		for (auto [setting, name] : {std::pair{&c.hostonly, "hostonly"}, std::pair{&c.uefi, "uefi"}})
			if (auto a = f.get(name))
				*setting = {a->value, file.string() + ":" + std::to_string(a->line)};
		for (const auto &p : f.problems)
			c.unread.push_back(file.string() + ":" + std::to_string(p.line) + ": " + p.reason);
		if (c.first_setting.empty() && !f.assignments.empty())
			c.first_setting = f.assignments.front().name + " at " + file.string() + ":" +
					  std::to_string(f.assignments.front().line);
		else if (c.first_setting.empty() && !f.problems.empty())
			c.first_setting = "a line at " + file.string() + ":" + std::to_string(f.problems.front().line);
	}
	return c;
}

} // namespace distkernel
