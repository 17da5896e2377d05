// The check itself: root reachable, hardware covered, external modules built for this kernel,
// room in /boot. Every answer comes from the new kernel's own module tree through libkmod.
#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kmod.hpp"
#include "distkernel/process.hpp"
#include "distkernel/sign.hpp"
#include "sys/text.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <map>
#include <set>

namespace distkernel {
namespace fs = std::filesystem;

int verdict_exit_code(Verdict v)
{
	switch (v) {
	case Verdict::ok:
		return 0;
	case Verdict::losses:
		return 4;
	case Verdict::no_boot:
		return 5;
	}
	return 1;
}

std::string verdict_text(Verdict v)
{
	return enum_name(v);
}

namespace {

bool exists_file(const fs::path &p)
{
	std::error_code ec;
	return fs::is_regular_file(p, ec);
}

std::uint64_t size_of(const fs::path &p)
{
	std::error_code ec;
	auto s = fs::file_size(p, ec);
	return ec ? 0 : s;
}

fs::path find_module_dir(const Root &root, const std::string &kv)
{
	for (const char *base : {"/lib/modules/", "/usr/lib/modules/"}) {
		fs::path p = root.path(base + kv);
		std::error_code ec;
		if (fs::is_directory(p, ec))
			return p;
	}
	throw Error(fmt::format("no module tree for {0} under {1} (looked in /lib/modules/{0} and /usr/lib/modules/{0})", kv,
				root.dir().string()));
}

// BLS and UKI layouts keep the kernel's files in directories named by entry token. Paths inside
// the root: every file below is resolved inside it (a link in /boot never leads to the host).
std::vector<std::string> boot_dirs(const Root &root)
{
	std::vector<std::string> out;
	std::vector<fs::path> seen;
	for (const char *d : {"/boot", "/boot/efi", "/efi"}) {
		fs::path p = root.path(d);
		std::error_code ec;
		if (fs::is_directory(p, ec) && std::find(seen.begin(), seen.end(), p) == seen.end()) {
			seen.push_back(p);
			out.push_back(d);
		}
	}
	return out;
}

fs::path find_initramfs(const Root &root, const std::string &kv)
{
	for (const auto &boot : boot_dirs(root)) {
		for (const std::string &n : {"initramfs-" + kv + ".img", "initrd.img-" + kv, "initrd-" + kv, "initrd-" + kv + ".img",
					     "initramfs-" + kv})
			if (exists_file(root.path(boot + "/" + n)))
				return root.path(boot + "/" + n);
		for (const auto &n : root.list(boot))
			if (fs::path p = root.path(boot + "/" + n + "/" + kv + "/initrd"); exists_file(p))
				return p;
		// The efistub layout: EFI/NAME/initramfs-KV.img beside the kernel.
		for (const auto &n : root.list(boot + "/EFI"))
			if (fs::path p = root.path(boot + "/EFI/" + n + "/initramfs-" + kv + ".img"); exists_file(p))
				return p;
	}
	return {};
}

fs::path find_uki(const Root &root, const std::string &kv)
{
	for (const auto &boot : boot_dirs(root))
		for (const auto &n : root.list(boot + "/EFI/Linux")) {
			// TOKEN-KV.efi or TOKEN-KV+TRIES.efi, the release exactly: 6.1.0-1 is not in 6.1.0-10's name.
			if (n.size() <= 4 || !n.ends_with(".efi"))
				continue;
			std::string stem = n.substr(0, n.size() - 4);
			if (auto plus = stem.rfind('+'); plus != std::string::npos)
				stem.resize(plus);
			if (stem.ends_with("-" + kv))
				return root.path(boot + "/EFI/Linux/" + n);
		}
	return {};
}

fs::path find_image(const Root &root, const std::string &kv, bool &installed)
{
	installed = false;
	for (const auto &boot : boot_dirs(root)) {
		if (fs::path p = root.path(boot + "/vmlinuz-" + kv); exists_file(p)) {
			installed = true;
			return p;
		}
		for (const auto &n : root.list(boot))
			if (fs::path p = root.path(boot + "/" + n + "/" + kv + "/linux"); exists_file(p)) {
				installed = true;
				return p;
			}
	}
	for (const std::string &p : {"/lib/modules/" + kv + "/vmlinuz", "/usr/lib/modules/" + kv + "/vmlinuz",
				     "/usr/src/linux-" + kv + "/arch/x86/boot/bzImage", "/usr/src/linux-" + kv + "/vmlinuz"})
		if (exists_file(root.path(p)))
			return root.path(p);
	return {};
}

// The kernel's module signing: on when its staged .config says CONFIG_MODULE_SIG=y; its
// certificate is the staged certs/signing_key.x509 (the key its build signed with). At namespace
// scope: clang cannot default-construct a nested class with member initializers (emplace) inside
// its enclosing class.
struct ModuleSigning {
	bool on = false, forced = false;
	std::vector<fs::path> certificates;
};

struct Checker {
	const Root &root;
	const Machine &machine;
	const CheckOptions &opts;
	const Logger &log;
	CheckReport &report;
	const ModuleTree &tree;
	std::optional<InitramfsContents> initramfs;
	std::string initramfs_name;

	void add(CheckFinding::Severity s, const char *area, std::string msg, Json detail = Json::object())
	{
		report.findings.push_back(CheckFinding{s, area, std::move(msg), std::move(detail)});
	}

	// A trimmed kernel: was it trimmed for this machine? Devices driven here that its snapshot
	// did not have say it was not (whether they lose their driver is check_hardware's finding).
	void check_trimmed()
	{
		const std::string record = "/usr/src/linux-" + report.release + "/" + trimmed_for_file;
		const fs::path p = root.path(record);
		std::error_code ec;
		if (!fs::is_regular_file(p, ec))
			return;
		Machine trimmed_for;
		try {
			trimmed_for = read_machine_snapshot(p);
		} catch (const Error &e) {
			add(CheckFinding::Severity::warning, "trim", std::string("trimmed, but the machine it was trimmed for is unreadable: ") + e.what());
			return;
		}
		std::set<std::string> seen;
		for (const auto &d : trimmed_for.devices)
			seen.insert(d.modalias);
		Json unseen = Json::array();
		for (const auto &d : machine.devices)
			if (!d.driver.empty() && !d.modalias.empty() && !seen.count(d.modalias))
				unseen.push_back(d.path + " " + d.modalias);
		report.summary["trimmed_for"] = record;
		if (machine.devices.empty()) {
			add(CheckFinding::Severity::warning, "trim",
			    "trimmed for one machine (" + record + "); this machine's devices are unknown: cannot tell whether it is that one");
			return;
		}
		if (unseen.empty()) {
			add(CheckFinding::Severity::info, "trim", "trimmed for this machine's devices (" + record + ")");
			return;
		}
		add(CheckFinding::Severity::warning, "trim",
		    fmt::format("{} was trimmed for another machine ({}): {} device(s) driven here are not in its snapshot, e.g. {}",
				report.release, record, unseen.size(), unseen.front().get<std::string>()),
		    Json{{"devices", unseen}});
	}

	// Why a module cannot be loaded before root is mounted; empty when it can.
	std::string unusable(const std::string &name) const
	{
		if (tree.is_builtin(name))
			return {};
		if (!initramfs)
			return name + " is a module and no initramfs was found";
		if (!initramfs->has_module(name))
			return name + " is a module missing from " + initramfs_name;
		std::vector<std::string> missing;
		for (const auto &d : tree.dependencies(name))
			if (!tree.is_builtin(d) && !initramfs->has_module(d))
				missing.push_back(d);
		if (!missing.empty())
			return name + " is in " + initramfs_name + " but not its dependencies " + text::join(missing, ", ");
		return {};
	}

	// One thing root needs: any of the candidate modules usable before root is mounted.
	void need(const std::string &what, const std::vector<std::string> &candidates)
	{
		Json detail;
		detail["needs"] = what;
		detail["candidates"] = candidates;
		if (candidates.empty()) {
			add(CheckFinding::Severity::error, "root", fmt::format("{}: {} has no driver for it (neither built in nor a module)", what, report.release),
			    detail);
			return;
		}
		std::vector<std::string> why;
		for (const auto &c : candidates) {
			std::string u = unusable(c);
			if (u.empty()) {
				log.verbose("root: {} -> {} ({})", what, c, tree.is_builtin(c) ? "built in" : "in the initramfs");
				return;
			}
			why.push_back(u);
		}
		if (!initramfs) {
			add(CheckFinding::Severity::warning, "root",
			    fmt::format("{}: needs {} from an initramfs, and none was found for {}: the one built at install must hold it", what,
					text::join(candidates, " or "), report.release),
			    detail);
			return;
		}
		add(CheckFinding::Severity::error, "root", fmt::format("{}: {}", what, text::join(why, "; ")), detail);
	}

	std::vector<std::string> names(const std::vector<ModuleRef> &refs)
	{
		std::vector<std::string> out;
		for (const auto &r : refs)
			if (std::find(out.begin(), out.end(), r.name) == out.end())
				out.push_back(r.name);
		return out;
	}

	void check_mount(const Mount &mt)
	{
		static const std::set<std::string> virtual_fs{"rootfs", "tmpfs", "ramfs", "proc", "sysfs", "devtmpfs"};
		if (!virtual_fs.count(mt.fstype)) {
			auto c = names(tree.lookup("fs-" + mt.fstype));
			if (c.empty())
				if (auto m = tree.find(mt.fstype))
					c.push_back(m->name);
			need(fmt::format("{} filesystem of {} ({})", mt.fstype, mt.target, mt.source), c);
		}
		static const std::map<std::string, std::string> personality{
			{"raid0", "raid0"}, {"raid1", "raid1"}, {"raid10", "raid10"}, {"raid4", "raid456"},
			{"raid5", "raid456"}, {"raid6", "raid456"}, {"linear", "linear"}};
		for (const auto &l : mt.chain) {
			std::string where = fmt::format("{} of {}", l.name, mt.target);
			if (l.kind == "dm-crypt") {
				need("dm-crypt (LUKS) device " + where, {"dm_crypt"});
				need("device mapper for " + where, {"dm_mod"});
			} else if (l.kind == "lvm" || l.kind == "dm") {
				need("device mapper for " + where, {"dm_mod"});
			} else if (l.kind == "md") {
				need("md RAID " + where, {"md_mod"});
				if (auto p = personality.find(l.level); p != personality.end())
					need(fmt::format("md {} personality for {}", l.level, where), {p->second});
			} else if (l.kind == "zfs") {
				auto m = tree.find("zfs");
				need("ZFS pool " + l.name + " of " + mt.target, m ? std::vector<std::string>{m->name} : std::vector<std::string>{});
			} else if (l.kind == "disk") {
				for (const auto &d : l.devices) {
					std::vector<std::string> c;
					if (!d.modalias.empty())
						c = names(tree.lookup(d.modalias));
					if (c.empty() && !d.module.empty())
						if (auto m = tree.find(d.module))
							c.push_back(m->name);
					if (c.empty() && !d.driver.empty())
						if (auto m = tree.find(d.driver))
							c.push_back(m->name);
					need(fmt::format("{} device {} (driver {}, {})", where, d.path, d.driver.empty() ? "none" : d.driver,
							 d.modalias.empty() ? "no modalias" : d.modalias),
					     c);
				}
			}
		}
	}

	void check_root()
	{
		fs::path image = opts.initramfs;
		if (image.empty())
			image = find_initramfs(root, report.release);
		if (image.empty()) {
			if (fs::path uki = find_uki(root, report.release); !uki.empty()) {
				// The UKI's .initrd section is the initramfs; objcopy cuts it out.
				TempDir tmp;
				fs::path out = tmp.path() / "initrd";
				Result r = run(Command({"objcopy", "-O", "binary", "--only-section=.initrd", uki.string(), out.string()}));
				if (!r.ok() || size_of(out) == 0)
					throw Error(fmt::format("{}: cannot extract its .initrd section: {}", uki.string(), r.tail(3)));
				initramfs = read_initramfs(out, log);
				initramfs_name = uki.string() + " (.initrd)";
			}
		} else {
			log.step("reading the initramfs {}", image.string());
			initramfs = read_initramfs(image, log);
			initramfs_name = image.string();
		}
		if (initramfs) {
			report.summary["initramfs"] = initramfs_name;
			report.summary["initramfs_segments"] = initramfs->segments;
			report.summary["initramfs_modules"] = initramfs->modules.size();
			if (!initramfs->releases.empty() &&
			    std::find(initramfs->releases.begin(), initramfs->releases.end(), report.release) == initramfs->releases.end())
				add(CheckFinding::Severity::error, "root",
				    fmt::format("{} holds modules for {}, not for {}", initramfs_name, text::join(initramfs->releases, ", "), report.release));
		} else {
			report.summary["initramfs"] = nullptr;
		}
		if (!machine.root) {
			add(CheckFinding::Severity::warning, "root", "the machine description says nothing about the root filesystem: not checked");
			return;
		}
		check_mount(*machine.root);
		if (machine.boot && machine.boot->target == "/boot" && machine.boot->fstype != "vfat")
			check_mount(*machine.boot);
	}

	void check_hardware()
	{
		Coverage c = hardware_coverage(tree, machine);
		report.summary["devices"] = machine.devices.size();
		report.summary["devices_resolved"] = c.resolved;
		report.summary["devices_unclaimed"] = c.unclaimed.size();
		report.summary["devices_unverified"] = c.unverified.size();
		report.summary["loaded_modules"] = machine.loaded_modules.size();
		if (!c.unverified.empty()) {
			std::vector<std::string> drivers;
			for (const Device *d : c.unverified)
				if (std::find(drivers.begin(), drivers.end(), d->driver) == drivers.end())
					drivers.push_back(d->driver);
			add(CheckFinding::Severity::info, "hardware",
			    fmt::format("{} devices use drivers built into the running kernel that {} has no alias for (it may build them in): {}",
					c.unverified.size(), report.release, text::join(drivers, ", ")));
		}
		for (const Device *d : c.lost_devices) {
			Json detail{{"path", d->path}, {"modalias", d->modalias}, {"driver", d->driver}};
			add(CheckFinding::Severity::loss, "hardware",
			    fmt::format("{} loses its driver {}: {} has no module or built-in driver for {}", d->path, d->driver, report.release,
					d->modalias),
			    detail);
		}
		for (const auto &m : c.lost_modules)
			add(CheckFinding::Severity::loss, "modules", fmt::format("module {} is loaded now and {} has no counterpart (built in, module or alias)", m, report.release),
			    Json{{"module", m}});
	}

	void check_vermagic(const fs::path &file, bool given)
	{
		std::map<std::string, std::string> info;
		try {
			info = tree.info(file);
		} catch (const Error &e) {
			add(CheckFinding::Severity::warning, "external", e.what());
			return;
		}
		std::string vermagic = info.count("vermagic") ? info["vermagic"] : "";
		std::string built_for = vermagic.substr(0, vermagic.find(' '));
		if (built_for == report.release) {
			check_signature(file, given);
			return;
		}
		add(CheckFinding::Severity::loss, "external",
		    fmt::format("{}{}: built for {}, not {}: rebuild it before rebooting (emerge @module-rebuild)", file.string(),
				given ? "" : " (external module)", built_for.empty() ? "an unknown kernel" : built_for, report.release),
		    Json{{"file", file.string()}, {"vermagic", vermagic}});
	}

	std::optional<ModuleSigning> signing;

	const ModuleSigning &kernel_signing()
	{
		if (signing)
			return *signing;
		signing.emplace();
		const std::string src = "/usr/src/linux-" + report.release;
		std::error_code ec;
		fs::path config = root.path(src + "/.config");
		if (!fs::is_regular_file(config, ec))
			return *signing;
		const std::string text = "\n" + read_file(config);
		signing->on = text.find("\nCONFIG_MODULE_SIG=y\n") != std::string::npos;
		signing->forced = text.find("\nCONFIG_MODULE_SIG_FORCE=y\n") != std::string::npos;
		fs::path cert = root.path(src + "/certs/signing_key.x509");
		if (fs::is_regular_file(cert, ec))
			signing->certificates.push_back(cert);
		return *signing;
	}

	// An external module of a kernel that checks signatures: unsigned, or signed with a key the
	// kernel does not carry, or damaged after signing, it is refused under module.sig_enforce=1,
	// lockdown or CONFIG_MODULE_SIG_FORCE (then an error).
	void check_signature(const fs::path &file, bool given)
	{
		const ModuleSigning &k = kernel_signing();
		if (!k.on || k.certificates.empty())
			return;
		ModuleSignature sig;
		try {
			sig = verify_module_signature(file, k.certificates);
		} catch (const Error &e) {
			add(CheckFinding::Severity::warning, "external", e.what());
			return;
		}
		const auto severity = k.forced ? CheckFinding::Severity::error : CheckFinding::Severity::loss;
		const std::string what = file.string() + (given ? "" : " (external module)");
		const std::string refused = k.forced ? "the kernel refuses it (CONFIG_MODULE_SIG_FORCE)"
						     : "the kernel refuses it under module.sig_enforce=1 or lockdown";
		Json detail{{"file", file.string()}, {"certificates", Json::array()}};
		for (const auto &c : k.certificates)
			detail["certificates"].push_back(c.string());
		switch (sig.state) {
		case ModuleSignature::State::unchecked:
			break;
		case ModuleSignature::State::valid:
			log.verbose("{}: signature verified", what);
			break;
		case ModuleSignature::State::unsigned_module:
			add(k.forced ? CheckFinding::Severity::error : CheckFinding::Severity::warning, "external",
			    fmt::format("{} is not signed: {}; sign it with the kernel's key (USE=modules-sign)", what, refused), detail);
			break;
		case ModuleSignature::State::invalid:
			detail["reason"] = sig.detail;
			add(severity, "external", fmt::format("{} has an invalid signature: {}; {}", what, sig.detail, refused), detail);
			break;
		}
	}

	// Module files outside kernel/ (extra/, updates/, misc/, what packages install).
	static std::vector<fs::path> external_files(const fs::path &dir)
	{
		std::vector<fs::path> out;
		std::error_code ec;
		for (const auto &top : fs::directory_iterator(dir, ec)) {
			if (!top.is_directory() || top.is_symlink() || top.path().filename() == "kernel")
				continue;
			for (fs::recursive_directory_iterator it(top.path(), ec), end; !ec && it != end; it.increment(ec))
				if (is_module_file_name(it->path().string()))
					out.push_back(it->path());
		}
		std::sort(out.begin(), out.end());
		return out;
	}

	void check_external()
	{
		auto files = external_files(tree.dir());
		report.summary["external_modules"] = files.size();
		for (const auto &f : files)
			check_vermagic(f, false);
		for (const auto &f : opts.external_modules)
			check_vermagic(f, true);
		// What packages built for the running kernel and the new one lacks.
		if (machine.release.empty() || machine.release == report.release || !is_valid_release(machine.release))
			return;
		std::error_code ec;
		fs::path running = root.path("/lib/modules/" + machine.release);
		if (!fs::is_directory(running, ec))
			return;
		for (const auto &f : external_files(running)) {
			std::string n = normalise_module_name(f.filename().string());
			if (!tree.find(n))
				add(CheckFinding::Severity::loss, "external",
				    fmt::format("{} was built for the running kernel {}; {} has no {}: rebuild it for {} (emerge @module-rebuild)",
						root.inside(f), machine.release, report.release, n, report.release),
				    Json{{"file", root.inside(f)}, {"module", n}});
		}
	}

	// A kernel staged with a Secure Boot key carries its certificate (certs/secureboot.crt): the
	// image that will boot (installed, else staged, else --image) must verify against it, or
	// firmware with Secure Boot on refuses to start it.
	void check_secureboot()
	{
		const fs::path cert = root.path("/usr/src/linux-" + report.release + "/certs/secureboot.crt");
		if (!exists_file(cert))
			return;
		bool installed = false;
		const fs::path image = opts.image.empty() ? find_image(root, report.release, installed) : opts.image;
		if (image.empty())
			return;
		Command c({"sbverify", "--cert", cert.string(), image.string()});
		Result r;
		try {
			r = run(c);
		} catch (const Error &e) {
			add(CheckFinding::Severity::warning, "secureboot",
			    fmt::format("cannot verify {} against {}: {} (install sbsigntool)", image.string(), cert.string(), e.what()));
			return;
		}
		if (r.ok()) {
			log.verbose("secureboot: {} verifies against {}", image.string(), cert.string());
			return;
		}
		add(CheckFinding::Severity::error, "secureboot",
		    fmt::format("{} is not signed with the Secure Boot key whose certificate is {}: firmware with Secure Boot on "
				"refuses it (sbverify: {})",
				image.string(), cert.string(), std::string(text::trim(r.tail(1)))),
		    Json{{"image", image.string()}, {"certificate", cert.string()}});
	}

	void check_room()
	{
		bool installed = false;
		fs::path image = opts.image.empty() ? find_image(root, report.release, installed) : opts.image;
		if (installed && opts.image.empty()) {
			report.summary["boot_needed_bytes"] = 0;
			add(CheckFinding::Severity::info, "room", fmt::format("{} is already installed ({})", report.release, image.string()));
			return;
		}
		std::uint64_t need = 0;
		std::vector<std::string> parts;
		if (image.empty()) {
			add(CheckFinding::Severity::warning, "room", fmt::format("no kernel image found for {}: counting the initramfs only", report.release));
		} else {
			need += size_of(image);
			parts.push_back(fmt::format("image {} bytes", size_of(image)));
		}
		for (const std::string &p : {"/usr/src/linux-" + report.release + "/System.map", "/usr/src/linux-" + report.release + "/.config"})
			if (exists_file(root.path(p))) {
				need += size_of(root.path(p));
				parts.push_back(fmt::format("{} {} bytes", fs::path(p).filename().string(), size_of(root.path(p))));
			}
		// The initramfs is not built yet: the largest one in /boot is the best estimate.
		std::uint64_t initrd = opts.initramfs.empty() ? 0 : size_of(opts.initramfs);
		if (!initrd)
			for (const auto &boot : boot_dirs(root))
				for (const auto &n : root.list(boot))
					if (n.starts_with("initramfs-") || n.starts_with("initrd"))
						initrd = std::max(initrd, size_of(root.path(boot + "/" + n)));
		if (!initrd)
			initrd = 64ull << 20; // dracut's generic image of a distribution kernel is 40-60 MiB
		need += initrd;
		parts.push_back(fmt::format("initramfs about {} bytes", initrd));
		report.summary["boot_needed_bytes"] = need;
		if (!machine.boot || !machine.boot->free_bytes) {
			add(CheckFinding::Severity::warning, "room", fmt::format("free space in /boot unknown; {} needs about {} bytes ({})", report.release, need, text::join(parts, ", ")));
			return;
		}
		std::uint64_t free = *machine.boot->free_bytes;
		report.summary["boot_free_bytes"] = free;
		if (need > free)
			add(CheckFinding::Severity::error, "room",
			    fmt::format("/boot has {} bytes free, {} needs about {} ({}): run distkernel-clean --pretend", free, report.release, need,
					text::join(parts, ", ")),
			    Json{{"needed", need}, {"free", free}});
		else
			log.verbose("room: {} bytes needed, {} free in /boot", need, free);
	}
};

} // namespace

Coverage hardware_coverage(const ModuleTree &tree, const Machine &machine)
{
	Coverage c;
	for (const auto &d : machine.devices) {
		if (d.modalias.empty())
			continue;
		if (!tree.lookup(d.modalias).empty()) {
			++c.resolved;
			continue;
		}
		// A device driven now by a driver the new kernel still has (builtin without aliases).
		if (!d.driver.empty() && (tree.find(d.module.empty() ? d.driver : d.module))) {
			++c.resolved;
			continue;
		}
		(d.driver.empty() ? c.unclaimed : d.module.empty() ? c.unverified : c.lost_devices).push_back(&d);
	}
	for (const auto &m : machine.loaded_modules)
		if (!tree.find(m))
			c.lost_modules.push_back(m);
	return c;
}

CheckReport check_kernel(const Root &root, const Machine &machine, const CheckOptions &opts, const Logger &log)
{
	validate_release(opts.release);
	CheckReport report;
	report.release = opts.release;
	fs::path dir = opts.module_dir.empty() ? find_module_dir(root, opts.release) : opts.module_dir;
	std::vector<fs::path> config_dirs;
	if (opts.use_modprobe_d)
		for (const char *d : {"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d", "/usr/lib/modprobe.d"})
			if (fs::path p = root.path(d); fs::is_directory(p))
				config_dirs.push_back(p);
	log.step("checking {} against the {} with the module tree {}", opts.release, machine.origin, dir.string());
	ModuleTree tree(dir, config_dirs);
	report.summary["machine"] = machine.origin;
	report.summary["module_tree"] = dir.string();
	Checker ck{root, machine, opts, log, report, tree, std::nullopt, {}, std::nullopt};
	for (const auto &u : machine.unreadable)
		ck.add(CheckFinding::Severity::warning, "machine", "could not read " + u);
	ck.check_root();
	ck.check_hardware();
	ck.check_trimmed();
	ck.check_external();
	ck.check_secureboot();
	ck.check_room();
	for (const auto &f : report.findings) {
		if (f.severity == CheckFinding::Severity::error)
			report.verdict = Verdict::no_boot;
		else if (f.severity == CheckFinding::Severity::loss && report.verdict == Verdict::ok)
			report.verdict = Verdict::losses;
	}
	return report;
}

void to_json(Json &doc, const CheckFinding &f)
{
	doc = Json::object();
	doc["severity"] = f.severity;
	doc["area"] = f.area;
	doc["message"] = f.message;
	doc["detail"] = f.detail;
}

void to_json(Json &doc, const CheckReport &r)
{
	doc = make_document("distkernel.check", 1, 0);
	doc["release"] = r.release;
	doc["verdict"] = r.verdict;
	doc["exit_code"] = verdict_exit_code(r.verdict);
	doc["findings"] = Json::array();
	for (const auto &f : r.findings)
		doc["findings"].push_back(Json(f));
	doc["summary"] = r.summary;
}

void to_json(Json &doc, const InitramfsContents &c)
{
	doc = make_document("distkernel.initramfs", 1, 0);
	doc["image"] = c.image.string();
	doc["segments"] = c.segments;
	doc["releases"] = c.releases;
	doc["files"] = c.files.size();
	doc["modules"] = c.modules;
}

std::string CheckReport::to_text() const
{
	std::string out = fmt::format("{}: {}\n", release, verdict_text(verdict));
	for (auto s : {CheckFinding::Severity::error, CheckFinding::Severity::loss, CheckFinding::Severity::warning, CheckFinding::Severity::info})
		for (const auto &f : findings)
			if (f.severity == s)
				out += fmt::format("  {} [{}]: {}\n", enum_name(f.severity), f.area, f.message);
	return out;
}

} // namespace distkernel
