// The root's installkernel hooks and GRUB's menu, run as Gentoo's installkernel runs them: preinst
// before the commit with the staged image, postinst after it with the installed image's path, the
// same environment (INSTALLKERNEL_*, the root's os-release NAME, ID, PRETTY_NAME), exit 77 = skip
// the rest. On another root than / they run only inside it (chroot), never on the build machine.
#include "distkernel/error.hpp"
#include "distkernel/install.hpp"
#include "distkernel/process.hpp"
#include "hooks_internal.hpp"

namespace distkernel {
namespace fs = std::filesystem;

HookMode parse_hook_mode(std::string_view name)
{
	if (name == "auto")
		return HookMode::automatic;
	if (name == "chroot")
		return HookMode::chroot;
	if (name == "none")
		return HookMode::none;
	throw UsageError("unknown hook mode '" + std::string(name) + "': use auto, chroot or none");
}

namespace detail {

std::map<std::string, std::string> root_os_release(const Root &root)
{
	std::map<std::string, std::string> out;
	for (const char *file : {"/etc/os-release", "/usr/lib/os-release"}) {
		std::error_code ec;
		fs::path p = root.path(file);
		if (!fs::is_regular_file(p, ec))
			continue;
		ShellFile f = read_shell_file(p);
		for (const char *name : {"NAME", "ID", "PRETTY_NAME", "IMAGE_ID"})
			try {
				if (auto a = f.get(name))
					out[name] = a->value;
			} catch (const Error &) {
				// a value that needs a shell to evaluate: as if unset
			}
		break;
	}
	return out;
}

namespace {

// The os-release variables installkernel exports to its hooks, from the root's file.
void add_os_release(const Root &root, Environment &env)
{
	auto os = root_os_release(root);
	for (const char *name : {"NAME", "ID", "PRETTY_NAME"})
		env[name] = os.count(name) && !os[name].empty() ? os[name] : (name == std::string("ID") ? "linux" : "Linux");
}

} // namespace

// argv of a program inside the root as the mode runs it: the host path on the live system,
// chroot ROOT PATH otherwise.
std::vector<std::string> inside_command(const Root &root, const std::vector<std::string> &argv)
{
	if (root.is_live_system())
		return argv;
	std::vector<std::string> out = {"chroot", root.dir().string()};
	out.insert(out.end(), argv.begin(), argv.end());
	return out;
}

bool runs_inside(const Root &root, HookMode mode)
{
	return mode != HookMode::none && (root.is_live_system() || mode == HookMode::chroot);
}

HookOutcome run_kernel_hooks(const Root &root, const InstallPlan &plan, const std::string &phase, const std::string &kv,
			     const std::string &image_inside, const InstallOptions &opts, const Logger &log)
{
	HookOutcome out;
	const auto &hooks = phase == "preinst" ? plan.preinst : plan.postinst;
	std::vector<const KernelHook *> todo;
	std::string list;
	for (const auto &h : hooks) {
		if (!h.skip.empty()) {
			log.verbose("{} hook {}: not run: {}", phase, h.path, h.skip);
			continue;
		}
		todo.push_back(&h);
		list += (list.empty() ? "" : " ") + h.path;
	}
	if (todo.empty() || opts.hooks == HookMode::none)
		return out;
	if (!runs_inside(root, opts.hooks)) {
		for (const auto *h : todo)
			log.info("{} hook not run under --root: {} (--hooks chroot runs it there)", phase,
				 to_display(inside_command(root, {h->path, kv, image_inside})));
		return out;
	}
	Environment env = default_environment();
	if (!root.is_live_system()) {
		env.erase("TMPDIR"); // the build machine's, maybe absent in the root
		env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	}
	env["INSTALLKERNEL_LAYOUT"] = plan.install_conf.layout.set() ? plan.install_conf.layout.value : "compat";
	// A prebuilt initramfs is dracut's too (made when the package was built).
	env["INSTALLKERNEL_INITRD_GENERATOR"] = plan.initramfs.value == "prebuilt" ? "dracut" : plan.initramfs.value;
	env["INSTALLKERNEL_UKI_GENERATOR"] =
		plan.install_conf.uki_generator.set() ? plan.install_conf.uki_generator.value : "none";
	env["INSTALLKERNEL_VERBOSE"] = log.level() >= Verbosity::verbose ? "1" : "0";
	env[install_guard_variable] = "1";
	if (opts.install_conf.conf_root)
		env["INSTALLKERNEL_CONF_ROOT"] = *opts.install_conf.conf_root;
	env[phase == "preinst" ? "INSTALLKERNEL_PREINST_PLUGINS" : "INSTALLKERNEL_POSTINST_PLUGINS"] = list;
	add_os_release(root, env);
	// installkernel's private directory, where an initramfs hook would leave its image: inside
	// the root when the hooks run there.
	std::error_code ec;
	fs::path tmp_parent = root.is_live_system() ? fs::path() : root.path("/tmp");
	if (!tmp_parent.empty() && !fs::is_directory(tmp_parent, ec))
		root.make_dirs("/tmp");
	TempDir staging(tmp_parent, "installkernel.staging");
	env["INSTALLKERNEL_STAGING_AREA"] =
		root.is_live_system() ? staging.path().string() : "/tmp/" + staging.path().filename().string();
	for (const auto *h : todo) {
		Command c(inside_command(root, {root.is_live_system() ? root.path(h->path).string() : h->path, kv, image_inside}));
		c.env = env;
		c.output = log.level() >= Verbosity::verbose ? Command::Output::to_stderr : Command::Output::capture;
		log.step("running the {} hook {}", phase, to_display(c.argv));
		Result r = run(c);
		if (r.exit_code == 77) {
			log.verbose("{} exited 77: the remaining {} hooks are skipped", h->path, phase);
			out.skipped_by = h->path;
			return out;
		}
		if (!r.ok()) {
			out.failure = phase + " hook " + h->path + " failed (exit " + std::to_string(r.exit_code) + "): " +
				      to_display(c.argv) + (r.tail().empty() ? "" : "\n" + r.tail());
			return out;
		}
	}
	return out;
}

void run_grub_mkconfig(const Root &root, const InstallOptions &opts, const Logger &log)
{
	std::vector<std::string> argv = {opts.grub_mkconfig, "-o", "/boot/grub/grub.cfg"};
	if (root.is_live_system())
		argv.back() = root.path("/boot/grub/grub.cfg", false).string();
	if (opts.hooks == HookMode::none)
		return;
	if (!runs_inside(root, opts.hooks)) {
		log.info("GRUB's menu not regenerated under --root: run {} (--hooks chroot runs it there)",
			 to_display(inside_command(root, argv)));
		return;
	}
	root.make_dirs("/boot/grub");
	Command c(inside_command(root, argv));
	if (!root.is_live_system()) {
		c.env.erase("TMPDIR");
		c.env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	}
	c.output = log.level() >= Verbosity::verbose ? Command::Output::to_stderr : Command::Output::capture;
	log.step("regenerating GRUB's menu: {}", to_display(c.argv));
	Result r = run(c);
	if (!r.ok())
		throw Error("grub-mkconfig failed (exit " + std::to_string(r.exit_code) + "): " + to_display(c.argv) +
			    (r.tail().empty() ? "" : "\n" + r.tail()) + "\nGRUB's menu may list kernels that are gone; fix the cause and run the command again");
}

KernelInstallRemoval run_kernel_install_remove(const Root &root, const std::string &kv, const InstallOptions &opts,
					       const Logger &log)
{
	KernelInstallRemoval out;
	std::string list;
	for (const auto &p : find_kernel_install_plugins(root)) {
		if (!p.skip.empty()) {
			log.verbose("kernel-install plugin {}: not run: {}", p.path, p.skip);
			continue;
		}
		list += (list.empty() ? "" : " ") + p.path;
		out.grub = out.grub || is_grub_mkconfig_hook(p);
	}
	if (list.empty() || opts.hooks == HookMode::none)
		return out;
	std::string program;
	for (const char *p : {"/usr/bin/kernel-install", "/bin/kernel-install"})
		if (std::error_code ec; fs::is_regular_file(root.path(p), ec)) {
			program = root.is_live_system() && opts.kernel_install != "kernel-install" ? opts.kernel_install : p;
			break;
		}
	if (program.empty()) {
		log.warn("{} has kernel-install plugins ({}) but no kernel-install: they are not told that {} is gone",
			 root.dir().string(), list, kv);
		out.grub = false;
		return out;
	}
	Command c(inside_command(root, {program, "remove", kv}));
	if (opts.pretend || !runs_inside(root, opts.hooks)) {
		log.info("{}: KERNEL_INSTALL_PLUGINS=\"{}\" {}{}", opts.pretend ? "would run" : "kernel-install's plugins not run under --root", list,
			 to_display(c.argv), opts.pretend ? "" : " (--hooks chroot runs them there)");
		out.grub = false;
		return out;
	}
	if (!root.is_live_system()) {
		c.env.erase("TMPDIR");
		c.env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	}
	// Named one by one: the plugins distkernel leaves out stay out. The guard keeps a plugin of
	// distkernel's own from calling back into this removal.
	c.env["KERNEL_INSTALL_PLUGINS"] = list;
	c.env[install_guard_variable] = "1";
	c.output = log.level() >= Verbosity::verbose ? Command::Output::to_stderr : Command::Output::capture;
	log.step("telling kernel-install's plugins: {}", to_display(c.argv));
	Result r = run(c);
	out.ran = true;
	if (!r.ok()) {
		out.grub = false;
		out.failure = "kernel-install remove failed (exit " + std::to_string(r.exit_code) + "): KERNEL_INSTALL_PLUGINS=\"" +
			      list + "\" " + to_display(c.argv) + (r.tail().empty() ? "" : "\n" + r.tail());
	}
	return out;
}

} // namespace detail

void update_boot_menu(const Root &root, const InstallOptions &opts, const Logger &log)
{
	InstallPlan plan = plan_install(root, opts);
	if (plan.grub)
		detail::run_grub_mkconfig(root, opts, log);
	else
		log.verbose("GRUB's menu: {}", plan.grub_reason);
}

} // namespace distkernel
