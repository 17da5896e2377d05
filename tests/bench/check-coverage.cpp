// Benchmark: the hardware-coverage check of a machine with N modaliases against a real module
// tree (libkmod, one context), versus one `modprobe --resolve-alias` per alias (what a shell
// script would do), in the same run, printed against the targets. Also a cross-check that fails
// the run: both must resolve the same aliases.
// Usage: check-coverage MODULE_DIR ALIASES_FILE [MIN_RATIO MAX_MS]
#include "distkernel/check.hpp"
#include "distkernel/kmod.hpp"
#include "distkernel/process.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/core.h>
#include <fstream>

using namespace distkernel;
using Clock = std::chrono::steady_clock;

int main(int argc, char **argv)
{
	if (argc < 3) {
		fmt::print(stderr, "usage: check-coverage MODULE_DIR ALIASES_FILE [MIN_RATIO MAX_MS]\n");
		return 2;
	}
	std::filesystem::path dir = argv[1];
	double min_ratio = argc > 3 ? std::stod(argv[3]) : 50;
	double max_ms = argc > 4 ? std::stod(argv[4]) : 100;
	Machine m;
	std::ifstream in(argv[2]);
	std::string line;
	while (std::getline(in, line))
		if (!line.empty())
			m.devices.push_back(Device{"/sys/devices/bench", line, "", ""});

	// Ours: open the tree and resolve everything, as distkernel-check does; best of 5.
	std::vector<double> ours;
	std::size_t resolved = 0;
	for (int i = 0; i < 5; ++i) {
		auto t0 = Clock::now();
		ModuleTree tree(dir);
		Coverage c = hardware_coverage(tree, m);
		ours.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
		resolved = c.resolved;
	}
	std::sort(ours.begin(), ours.end());

	// The shell way: one modprobe per alias.
	std::string kv = dir.filename().string();
	std::string base = dir.parent_path().parent_path().parent_path().string();
	std::size_t modprobe_resolved = 0;
	auto t0 = Clock::now();
	for (const auto &d : m.devices) {
		Result r = run(Command({"modprobe", "--resolve-alias", "-d", base, "-S", kv, d.modalias}));
		if (r.ok() && !r.out.empty())
			++modprobe_resolved;
	}
	double shell = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
	double ratio = shell / ours.front();
	fmt::print("check-coverage: {} modaliases against {}\n", m.devices.size(), dir.string());
	fmt::print("  libkmod (distkernel-check): {:.1f} ms best, {:.1f} ms worst of 5 (tree opened each time); {} resolved\n",
		   ours.front(), ours.back(), resolved);
	fmt::print("  modprobe --resolve-alias x{}: {:.0f} ms; {} resolved\n", m.devices.size(), shell, modprobe_resolved);
	// The figures are reported against their targets, never a reason to fail: a loaded machine
	// is slow, not wrong. What fails is an answer that differs from modprobe's.
	bool met = ratio >= min_ratio && ours.front() <= max_ms;
	fmt::print("  speed-up: {:.0f}x (target >= {:.0f}x, and <= {:.0f} ms): {}\n", ratio, min_ratio, max_ms,
		   met ? "met" : "NOT met");
	if (resolved != modprobe_resolved) {
		fmt::print("FAIL: libkmod resolved {} aliases, modprobe {}\n", resolved, modprobe_resolved);
		return 1;
	}
	return 0;
}
