// distkernel-install: a staged kernel into the machine's /boot layout with an initramfs, and out
// of it again (pkg_postinst, pkg_config, pkg_postrm). See docs/distkernel-install.md.
#include "cli.hpp"
#include "distkernel/install.hpp"

#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

using namespace distkernel;

namespace {

void print_installed(const Logger &log, const InstallResult &r)
{
	log.info("installed {} ({} layout, {} files):", r.deployment.release, to_string(r.deployment.layout),
		 r.deployment.files.size());
	for (const auto &f : r.deployment.files)
		log.info("  {} ({} bytes)", f.path, f.size);
}

// Human form of the plan: one setting a line with its source, as kernel-install inspect shows them.
void print_plan(const InstallPlan &p)
{
	auto line = [](const std::string &name, const BootSetting &s) {
		std::cerr << fmt::format("{:<18} {}\n", name + ":", s.set() ? s.value + "  (" + s.source + ")" : "-");
	};
	std::string searched;
	for (const auto &f : p.install_conf.searched)
		searched += (searched.empty() ? "" : ", ") + f.string();
	std::cerr << fmt::format("{:<18} {}\n", "install.conf:",
				 p.install_conf.file.empty() ? "none (searched " + searched + ")" : p.install_conf.file.string());
	line("  layout", p.install_conf.layout);
	line("  initrd_generator", p.install_conf.initrd_generator);
	line("  uki_generator", p.install_conf.uki_generator);
	line("layout", {std::string(to_string(p.layout.layout)), p.layout.reason});
	if (p.esp.set())
		line("ESP", p.esp);
	if (p.esp_target.set())
		line("on the ESP", p.esp_target);
	if (p.efi_stub.set())
		line("EFI stub", p.efi_stub);
	if (p.uki_generator.set())
		line("UKI joined by", p.uki_generator);
	line("initramfs", p.initramfs);
	if (!p.prebuilt_refused.empty())
		std::cerr << fmt::format("{:<18} {}\n", "prebuilt:", "not used: " + p.prebuilt_refused);
	if (p.initramfs.value != "none") {
		line("host-only", p.hostonly);
		std::string files;
		for (const auto &f : p.dracut_conf.files)
			files += (files.empty() ? "" : ", ") + f.string();
		std::cerr << fmt::format("{:<18} {}\n", "dracut.conf:", files.empty() ? "none" : files);
		if (p.pass_no_uefi)
			std::cerr << fmt::format("{:<18} {}\n", "dracut uefi:", "yes (" + p.dracut_conf.uefi.source +
									   "): overridden with --no-uefi");
	}
	for (auto [phase, list] : {std::pair{"preinst hooks", &p.preinst}, std::pair{"postinst hooks", &p.postinst},
				   std::pair{"remove plugins", &p.remove}}) {
		std::cerr << fmt::format("{:<18} {}\n", std::string(phase) + ":", list->empty() ? "none" : "");
		for (const auto &h : *list)
			std::cerr << fmt::format("  {} {}{}\n", h.path, h.skip.empty() ? "run" : "skip: ", h.skip);
	}
	std::cerr << fmt::format("{:<18} {}\n", "grub.cfg:", p.grub_reason);
	for (const auto &w : p.warnings)
		std::cerr << "warning: " << w << "\n";
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"Install a staged kernel into the machine's /boot layout with an initramfs, or remove it",
		     "distkernel-install"};
	cli::setup_app(app);
	cli::CommonOptions opts;
	cli::add_common(app, opts, true);
	app.require_subcommand(1, 1);
	// The common options may follow the subcommand ("add KV --root DIR", as the contracts write it).
	app.fallthrough();

	InstallOptions io;
	std::string layout = "auto";
	bool no_initramfs = false;
	auto programs = [&](CLI::App *s) {
		s->add_option("--dracut", io.dracut, "dracut program")->capture_default_str();
		s->add_option("--installkernel", io.installkernel, "installkernel program")->capture_default_str();
		s->add_option("--kernel-install", io.kernel_install, "kernel-install program")->capture_default_str();
		s->add_option("--efi-stub", io.efi_stub, "layout uki: systemd's EFI stub (default: the root's "
							  "/usr/lib/systemd/boot/efi/linuxx64.efi.stub)");
		s->add_option("--efibootmgr", io.efibootmgr, "layout efistub: efibootmgr program")->capture_default_str();
		s->add_option("--esp-path", io.esp_path, "layouts uki, efistub: the ESP, /efi, /boot/efi or /boot inside the "
							"root (default: from ROOT/etc/fstab, else the one with an EFI directory)");
		s->add_option("--ukify", io.ukify, "layout uki with uki_generator=ukify: the ukify program (default: "
						   "/usr/lib/systemd/ukify)");
		s->add_option("--dracut-arg", io.dracut_args, "Extra dracut argument (repeatable)")->allow_extra_args(false);
		s->add_flag("--hostonly", io.hostonly, "Build a host-only initramfs (for this machine only)");
		s->add_option("-j,--jobs", io.jobs, "Threads for hashing (default: CPUs)");
		s->add_option("--secureboot-key", io.secureboot.key,
			      "layout uki: sign the unified kernel image with this key (sbsign; default: $SECUREBOOT_SIGN_KEY)")
			->type_name("FILE");
		s->add_option("--secureboot-cert", io.secureboot.cert,
			      "The Secure Boot key's certificate (PEM; default: $SECUREBOOT_SIGN_CERT)")
			->type_name("FILE");
	};
	std::string hooks = "auto";
	auto hook_options = [&](CLI::App *s) {
		s->add_option("--hooks", hooks,
			      "The root's installkernel hooks and grub-mkconfig: auto (run on /, printed under another root), "
			      "chroot (run inside the root), none")
			->capture_default_str();
		s->add_option("--grub-mkconfig", io.grub_mkconfig, "grub-mkconfig program (inside the root)")->capture_default_str();
	};

	std::string kv;
	auto *add_cmd = app.add_subcommand("add", "Install staged kernel KV");
	add_cmd->add_option("KV", kv, "Kernel release")->required();
	add_cmd->add_option("--layout", layout, "auto, installkernel, bls, custom, uki or efistub")->capture_default_str();
	add_cmd->add_flag("--no-initramfs", no_initramfs, "Do not build an initramfs");
	add_cmd->add_option("--prebuilt-initramfs", io.prebuilt_initramfs,
			    "A generic initramfs made with the package: used instead of dracut unless the root asks for "
			    "another (host-only, dracut.conf settings, --dracut-arg, external modules)");
	add_cmd->add_flag("--src-symlink", io.src_symlink, "Point /usr/src/linux at linux-KV");
	add_cmd->add_flag("--verify-modules", io.verify_modules, "Also verify every staged module's sha256");
	programs(add_cmd);
	hook_options(add_cmd);

	auto *rm_cmd = app.add_subcommand("remove", "Remove what installing KV deployed");
	rm_cmd->add_option("KV", kv, "Kernel release")->required();
	rm_cmd->add_flag("--force", io.force, "Even the running kernel");
	rm_cmd->add_flag("-p,--pretend", io.pretend, "Print what would be removed; change nothing");
	rm_cmd->add_option("--efibootmgr", io.efibootmgr, "layout efistub: efibootmgr program")->capture_default_str();
	hook_options(rm_cmd);
	for (auto *c : {add_cmd, rm_cmd})
		c->add_option("--lock-timeout", io.lock_timeout, "Seconds to wait for another distkernel process")->capture_default_str();

	std::vector<std::string> kvs;
	bool all = false;
	auto *re_cmd = app.add_subcommand("reinstall", "Regenerate the initramfs and redeploy installed kernels");
	re_cmd->add_option("KV", kvs, "Kernel releases");
	re_cmd->add_flag("--all", all, "Every installed kernel");
	re_cmd->add_option("--layout", layout, "auto (the recorded one), installkernel, bls, custom, uki or efistub")->capture_default_str();
	programs(re_cmd);
	hook_options(re_cmd);
	re_cmd->add_option("--lock-timeout", io.lock_timeout, "Seconds to wait for another distkernel process")->capture_default_str();

	std::string route_action;
	std::vector<std::string> route_rest;
	auto *route_cmd = app.add_subcommand(
		"route", "For installer plugins: add|remove KV [ARG...] as installkernel or kernel-install was called; "
			 "exit 77 when distkernel did it, 0 when the installer goes on");
	route_cmd->add_option("ACTION", route_action, "add or remove")->required();
	route_cmd->add_option("KV", kv, "Kernel release")->required();
	route_cmd->add_option("ARG", route_rest, "The installer's other arguments (image, entry directory): not used");
	std::string route_image;
	route_cmd->add_option("--image", route_image,
			      "The image the installer was given: add fails unless it is the staged one")
		->type_name("FILE");
	hook_options(route_cmd);
	route_cmd->add_option("--lock-timeout", io.lock_timeout, "Seconds to wait for another distkernel process")->capture_default_str();

	auto *ls_cmd = app.add_subcommand("list", "List the kernels distkernel installed");

	auto *inspect_cmd = app.add_subcommand("inspect", "Show the root's boot settings as add would use them, with their sources");
	inspect_cmd->add_option("--layout", layout, "auto, installkernel, bls, custom, uki or efistub")->capture_default_str();
	inspect_cmd->add_flag("--no-initramfs", no_initramfs, "As add --no-initramfs");
	inspect_cmd->add_flag("--hostonly", io.hostonly, "As add --hostonly");
	inspect_cmd->add_option("--prebuilt-initramfs", io.prebuilt_initramfs, "As add --prebuilt-initramfs");
	inspect_cmd->add_option("--esp-path", io.esp_path, "As add --esp-path");

	return cli::run_main(app, argc, argv, [&]() -> int {
		Logger log = cli::make_logger(opts);
		Root root(opts.root);
		io.layout = parse_layout(layout);
		io.initramfs = !no_initramfs;
		io.hooks = parse_hook_mode(hooks);
		require_root(root);
		io.install_conf = install_conf_overrides_from_environment();
		// Portage's make.conf names the Secure Boot key for every package: the routes that rebuild
		// a unified kernel image from another package's phase (an external module's postinst)
		// sign it as the kernel's own install does. A binary package's postinst runs with the
		// build host's saved environment: a key that does not exist here is not this machine's,
		// so the UKI is left unsigned with a warning rather than failing the install.
		if (io.secureboot.key.empty() && io.secureboot.cert.empty()) {
			const char *key = std::getenv("SECUREBOOT_SIGN_KEY");
			const char *cert = std::getenv("SECUREBOOT_SIGN_CERT");
			std::error_code ec;
			if (key && *key && !std::filesystem::exists(key, ec)) {
				log.warn("SECUREBOOT_SIGN_KEY={} does not exist on this machine (a binary package built elsewhere?): "
					 "a unified kernel image made now is not signed",
					 key);
			} else if (key && *key) {
				io.secureboot.key = key;
				io.secureboot.cert = cert ? cert : "";
			}
		}
		if (inspect_cmd->parsed()) {
			InstallPlan plan = plan_install(root, io);
			print_plan(plan);
			if (opts.json)
				cli::print_json(plan);
			return exit_ok;
		}
		if (add_cmd->parsed()) {
			InstallResult r = add(root, kv, io, log);
			if (!r.skipped_by.empty()) {
				log.info("the preinst hook {} exited 77 (skip): {} not installed, nothing changed", r.skipped_by, kv);
				return exit_nothing_to_do;
			}
			print_installed(log, r);
			if (opts.json)
				cli::print_json(r);
			if (!r.hook_failure.empty())
				throw Error(kv + " is installed, but " + r.hook_failure +
					    "\nfix the hook (or make it non-executable in /etc/kernel/postinst.d to mask it) and run "
					    "`distkernel-install add " + kv + "` again");
			return exit_ok;
		}
		if (rm_cmd->parsed()) {
			RemoveResult r = remove(root, kv, io, log);
			if (!r.was_installed) {
				log.info("{} was not installed by distkernel under {}: nothing to do", kv, root.dir().string());
				return exit_nothing_to_do;
			}
			for (const auto &p : r.removed)
				if (r.pretend)
					log.info("would remove {}", p);
				else
					log.verbose("removed {}", p);
			for (const auto &p : r.kept)
				log.info("{} {}: another installed kernel uses it", r.pretend ? "would keep" : "kept", p);
			log.info("{} {} ({} files)", r.pretend ? "would remove" : "removed", kv, r.removed.size());
			if (opts.json)
				cli::print_json(r);
			return exit_ok;
		}
		if (re_cmd->parsed()) {
			if (all == !kvs.empty())
				throw UsageError("reinstall takes either KV... or --all");
			auto rs = reinstall(root, kvs, io, log);
			if (rs.empty()) {
				log.info("no kernel installed by distkernel under {}: nothing to do", root.dir().string());
				return exit_nothing_to_do;
			}
			for (const auto &r : rs)
				print_installed(log, r);
			if (opts.json)
				cli::print_json(reinstall_document(rs));
			for (const auto &r : rs)
				if (!r.hook_failure.empty())
					throw Error(r.deployment.release + " is installed, but " + r.hook_failure);
			return exit_ok;
		}
		if (route_cmd->parsed()) {
			RouteResult r = route_installer_call(root, route_action, kv, io, std::getenv(install_guard_variable), log, route_image);
			if (!r.handled) {
				log.verbose("not routed into distkernel: {}", r.reason);
				return exit_ok;
			}
			for (const auto &i : r.installed)
				print_installed(log, i);
			if (r.action == "remove")
				log.info("removed {} ({} files)", kv, r.removed.removed.size());
			for (const auto &i : r.installed)
				if (!i.hook_failure.empty())
					throw Error(kv + " is installed, but " + i.hook_failure);
			return exit_nothing_to_do;
		}
		(void)ls_cmd;
		std::vector<std::string> unreadable;
		auto ds = list_installed(root, &unreadable);
		for (const auto &u : unreadable)
			log.warn("{}", u);
		if (std::string kv = interrupted_install(root); !kv.empty())
			log.warn("an install of {} is half committed (journal {}): the next add, remove or clean rolls it back",
				 kv, (state_dir(root) / "journal.json").string());
		if (opts.json) {
			cli::print_json(installed_document(ds));
		} else {
			for (const auto &d : ds)
				std::cout << d.release << "\t" << to_string(d.layout) << "\t" << d.time << "\t" << d.files.size()
					  << " files\n";
		}
		return exit_ok;
	});
}
