// distkernel-check: will this kernel boot this machine? (docs/distkernel-check.md)
#include "cli.hpp"

#include "distkernel/check.hpp"

#include <iostream>

using namespace distkernel;

int main(int argc, char **argv)
{
	CLI::App app{"Check that a kernel will boot this machine and drive its hardware", "distkernel-check"};
	cli::setup_app(app);
	cli::CommonOptions opts;
	cli::add_common(app, opts, true);
	app.fallthrough(); // "snapshot --root DIR" as well as "--root DIR snapshot"
	std::string release, machine_file, modules, initramfs, image;
	std::vector<std::string> external;
	bool no_modprobe_d = false;
	app.add_option("KV", release, "The kernel release to check (its module tree under ROOT/lib/modules/KV)");
	app.add_option("--machine", machine_file, "A snapshot of the target machine (distkernel-check snapshot) instead of the live one")
		->type_name("SNAPSHOT.json");
	app.add_option("--modules", modules, "The kernel's module tree (host path), instead of ROOT/lib/modules/KV")->type_name("DIR");
	app.add_option("--initramfs", initramfs, "The kernel's initramfs (host path), instead of looking in ROOT/boot")->type_name("FILE");
	app.add_option("--image", image, "The kernel image to count for room in /boot (host path)")->type_name("FILE");
	app.add_option("--module", external, "A module file that must match the kernel's vermagic (repeatable)")->type_name("FILE");
	app.add_flag("--no-modprobe-d", no_modprobe_d, "Ignore the root's modprobe.d aliases");
	auto *snapshot = app.add_subcommand("snapshot", "Describe this machine as JSON (distkernel.machine 1.1) on stdout");
	auto *list = app.add_subcommand("initramfs", "List the kernel modules an initramfs image holds");
	std::string list_image;
	list->add_option("IMAGE", list_image, "The initramfs image")->required();

	return cli::run_main(app, argc, argv, [&] {
		Logger log = cli::make_logger(opts);
		Root root(opts.root);
		if (*snapshot) {
			Machine m = read_live_machine(root, log);
			for (const auto &u : m.unreadable)
				log.warn("could not read {}", u);
			cli::print_json(m);
			return 0;
		}
		if (*list) {
			InitramfsContents c = read_initramfs(list_image, log);
			if (opts.json) {
				cli::print_json(c);
			} else {
				for (const auto &m : c.modules)
					std::cout << m << "\n";
			}
			return 0;
		}
		if (release.empty())
			throw UsageError("which kernel? give its release (KV), or 'snapshot'");
		Machine m = machine_file.empty() ? read_live_machine(root, log) : read_machine_snapshot(machine_file);
		CheckOptions co;
		co.release = release;
		co.module_dir = modules;
		co.initramfs = initramfs;
		co.image = image;
		for (const auto &e : external)
			co.external_modules.emplace_back(e);
		co.use_modprobe_d = !no_modprobe_d;
		CheckReport report = check_kernel(root, m, co, log);
		if (!opts.quiet || report.verdict != Verdict::ok)
			std::cerr << report.to_text();
		if (opts.json)
			cli::print_json(report);
		return verdict_exit_code(report.verdict);
	});
}
