// libFuzzer harness: a root's /sys as check snapshot walks it (devices, the block stack under
// the mounts: partitions, dm and md slaves, controllers). The input describes the tree, one
// entry a line, paths relative to the root (sys/..., or anywhere but proc/):
//   d PATH            a directory
//   f PATH TEXT       a file holding TEXT
//   l PATH TARGET     a symbolic link (TARGET as written: relative, absolute, with "..")
// The mounts are fixed: / on 8:1 and /boot on 253:0. Beside the root lie an md device and a
// modalias holding a marker: reading one means the walk left the root, and the harness aborts.
#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/json_text.hpp"
#include "distkernel/json.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

const char *const outside_marker = "raid-outside-the-root";

// Only names that stay below the root: the tree is made on the host, the links are what is tested.
bool usable(const std::string &rel)
{
	if (rel.empty() || rel.front() == '/' || rel.size() > 200 || rel.starts_with("proc"))
		return false;
	for (const auto &c : fs::path(rel))
		if (c == ".." || c == ".")
			return false;
	return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	static TempDir dir;
	static const Logger quiet(Verbosity::quiet);
	const fs::path root = dir.path() / "root";
	std::error_code ec;
	static const bool marked = [&] {
		fs::create_directories(dir.path() / "md");
		std::ofstream(dir.path() / "md/level") << outside_marker << "\n";
		std::ofstream(dir.path() / "partition") << "1\n";
		std::ofstream(dir.path() / "modalias") << outside_marker << "\n";
		return true;
	}();
	(void)marked;
	fs::remove_all(root, ec);
	fs::create_directories(root / "proc/self");
	fs::create_directories(root / "sys");
	std::ofstream(root / "proc/self/mountinfo") << "21 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
							"22 21 253:0 / /boot rw - ext4 /dev/mapper/boot rw\n";
	std::istringstream in(std::string(reinterpret_cast<const char *>(data), size));
	std::string line;
	for (int n = 0; n < 200 && std::getline(in, line); n++) {
		std::istringstream f(line);
		std::string op, rel, rest;
		f >> op >> rel;
		std::getline(f, rest);
		if (!rest.empty() && rest.front() == ' ')
			rest.erase(0, 1);
		if (!usable(rel))
			continue;
		// Never through a link made by an earlier line: the harness itself must not write
		// outside the root.
		fs::path p = root;
		bool through_link = false;
		for (const auto &c : fs::path(rel)) {
			p /= c;
			through_link = through_link || fs::is_symlink(fs::symlink_status(p, ec));
		}
		if (through_link)
			continue;
		fs::create_directories(p.parent_path(), ec);
		if (op == "d")
			fs::create_directories(p, ec);
		else if (op == "f")
			std::ofstream(p) << rest << "\n";
		else if (op == "l" && !rest.empty())
			fs::create_symlink(rest, p, ec);
	}
	{
		// Never an exception: what cannot be read is listed in the machine's "unreadable".
		Machine m = read_live_machine(Root(root), quiet);
		(void)dump_json(Json(m));
		for (const auto &d : m.devices)
			if (d.modalias == outside_marker)
				std::abort(); // a modalias read through a link out of the root
		for (const auto *mt : {&m.root, &m.boot})
			if (*mt)
				for (const auto &l : (*mt)->chain)
					if (l.level == outside_marker || l.name == dir.path().filename().string())
						std::abort(); // the walk read a directory outside the root
	}
	return 0;
}
