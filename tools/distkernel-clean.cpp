// distkernel-clean: keep the newest kernels, remove the rest (docs/distkernel-clean.md).
#include "cli.hpp"

#include "distkernel/check.hpp"
#include "distkernel/clean.hpp"
#include "distkernel/install.hpp"

#include <iostream>

using namespace distkernel;

int main(int argc, char **argv)
{
	CLI::App app{"Remove old kernels from /boot, keeping the newest, the running and the pinned ones", "distkernel-clean"};
	cli::setup_app(app);
	cli::CommonOptions opts;
	cli::add_common(app, opts, true);
	CleanOptions co;
	unsigned keep = 0;
	bool pretend = false;
	std::string machine;
	auto *keep_opt = app.add_option("--keep", keep, "Keep the newest N kernels (default: keep in ROOT/etc/distkernel/clean.conf, else 3)")
				 ->type_name("N");
	app.add_flag("-p,--pretend", pretend, "Print what would be removed and the bytes freed; remove nothing");
	app.add_flag("--all", co.all, "Also remove kernels distkernel did not install (plain vmlinuz-*, BLS entries, UKIs)");
	app.add_option("--pin", co.pinned, "Keep this kernel release too (repeatable; see also pin = in clean.conf)")->type_name("KV");
	app.add_option("--running", co.running, "The running kernel of the root (default: ROOT/proc/sys/kernel/osrelease)")->type_name("KV");
	InstallOptions io;
	std::string hooks = "auto";
	app.add_option("--hooks", hooks, "kernel-install's plugins and grub-mkconfig on the removals: auto (run on /, printed under another root), chroot, none")
		->capture_default_str();
	app.add_option("--grub-mkconfig", io.grub_mkconfig, "grub-mkconfig program (inside the root)")->capture_default_str();
	app.add_option("--lock-timeout", io.lock_timeout, "Seconds to wait for another distkernel process")->capture_default_str();
	app.add_option("--machine", machine, "Take the running kernel from a machine snapshot (distkernel-check snapshot)")
		->type_name("SNAPSHOT.json");

	return cli::run_main(app, argc, argv, [&] {
		Logger log = cli::make_logger(opts);
		Root root(opts.root);
		if (*keep_opt)
			co.keep = keep;
		if (!co.running.empty())
			validate_release(co.running);
		else if (!machine.empty())
			co.running = read_machine_snapshot(machine).release;
		io.hooks = parse_hook_mode(hooks);
		require_root(root);
		// The same lock as distkernel-install: a kernel being installed is never cleaned under it.
		std::unique_ptr<FileLock> lock;
		if (!pretend) {
			lock = lock_installs(root, io, log);
		}
		CleanPlan plan = plan_clean(root, co, log);
		if (pretend || plan.nothing_to_do()) {
			std::cerr << plan.to_text();
			if (opts.json)
				cli::print_json(plan);
			return plan.nothing_to_do() ? int(exit_nothing_to_do) : 0;
		}
		auto remover = install_remover(plan.running, io);
		if (!execute_clean(root, plan, *remover, log).empty())
			update_boot_menu(root, io, log);
		std::cerr << plan.to_text();
		if (opts.json)
			cli::print_json(plan);
		return 0;
	});
}
