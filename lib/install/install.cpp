// add, remove, reinstall: a staged kernel into the root's /boot layout and out of it again.
#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/install.hpp"
#include "distkernel/process.hpp"
#include "distkernel/stage.hpp"
#include "install_internal.hpp"
#include "../sys/text.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <sys/utsname.h>
#include <unistd.h>

namespace distkernel {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0)
{
	return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string now_utc()
{
	std::time_t t = std::time(nullptr);
	std::tm tm{};
	::gmtime_r(&t, &tm);
	char buf[32];
	std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

bool exists_nofollow(const fs::path &p)
{
	std::error_code ec;
	return fs::exists(fs::symlink_status(p, ec));
}

std::string retry_hint(const std::string &kv)
{
	return "the previous kernels and boot entries are unchanged; fix the cause and retry with "
	       "`emerge --config` on the kernel package or `distkernel-install add " +
	       kv + "`";
}

std::string read_trimmed(const fs::path &f)
{
	return std::string(text::trim(read_file(f)));
}

bool is_machine_id(const std::string &s)
{
	return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

void make_dirs(const fs::path &d)
{
	std::error_code ec;
	fs::create_directories(d, ec);
	if (ec)
		throw SystemError("cannot create " + d.string(), ec.value());
}

// Copies a file into the staging directory; ENOSPC here means /boot is too small, before
// anything in /boot changed.
void copy_into(const fs::path &from, const fs::path &to)
{
	make_dirs(to.parent_path());
	std::error_code ec;
	fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
	if (ec) {
		// A full filesystem does not always say ENOSPC (sendfile on tmpfs says EIO): compare.
		std::error_code e2;
		auto need = fs::file_size(from, e2);
		auto room = fs::space(to.parent_path(), e2);
		std::string why;
		if (ec.value() == ENOSPC || (!e2 && room.available < need))
			why = " (no space left on " + to.parent_path().parent_path().string() + ": " +
			      std::to_string(room.available / 1024) + " KiB free, " + std::to_string(need / 1024) + " KiB needed)";
		fs::remove(to, e2);
		throw SystemError("cannot copy " + from.string() + " to " + to.string() + why, ec.value());
	}
}

std::vector<std::string> list_files(const fs::path &dir)
{
	std::vector<std::string> out;
	std::error_code ec;
	for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
	     it.increment(ec)) {
		auto st = it->symlink_status();
		if (fs::is_regular_file(st) || fs::is_symlink(st))
			out.push_back(it->path().lexically_relative(dir).string());
	}
	if (ec)
		throw SystemError("cannot list " + dir.string(), ec.value());
	std::sort(out.begin(), out.end());
	return out;
}

// Test hook: DISTKERNEL_TEST_KILL_AFTER_RENAMES=N kills this process with SIGKILL after N renames
// into /boot, the one moment a real kill is hard to hit from outside (tests of the journal).
void maybe_die(int renames)
{
	static const char *v = std::getenv("DISTKERNEL_TEST_KILL_AFTER_RENAMES");
	if (v && std::atoi(v) == renames)
		::raise(SIGKILL);
}

struct Staged {
	fs::path image, map, config;
};

std::string running_release(const InstallOptions &opts)
{
	if (!opts.running_release.empty())
		return opts.running_release;
	struct utsname u {};
	if (::uname(&u) != 0)
		throw SystemError("uname", errno);
	return u.release;
}

// The boot entry written by kernel-install names its files by their path on the boot partition,
// computed from the mount point; under a root that is not / (and through our staging
// directory) that path carries host prefixes. ROOT/boot is the boot partition's root, so the
// part after the staging directory is the right path.
// The system's name as a boot menu shows it: PRETTY_NAME from the root's os-release (as
// kernel-install does for /), else NAME, else "Linux".
std::string root_pretty_name(const Root &root)
{
	for (const char *file : {"/etc/os-release", "/usr/lib/os-release"}) {
		std::error_code ec;
		fs::path p = root.path(file);
		if (!fs::is_regular_file(p, ec))
			continue;
		std::string text = read_file(p), pretty, name;
		std::size_t pos = 0;
		while (pos < text.size()) {
			std::size_t nl = text.find('\n', pos);
			std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
			pos = nl == std::string::npos ? text.size() : nl + 1;
			std::size_t eq = line.find('=');
			if (eq == std::string::npos)
				continue;
			std::string key = line.substr(0, eq), value = line.substr(eq + 1);
			if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
				value = value.substr(1, value.size() - 2);
			if (key == "PRETTY_NAME")
				pretty = value;
			else if (key == "NAME")
				name = value;
		}
		if (!pretty.empty())
			return pretty;
		if (!name.empty())
			return name;
	}
	return "Linux";
}

void fix_entry_paths(const fs::path &entry, const std::string &staging_name, const std::string &title,
		     const Logger &log)
{
	std::string text = read_file(entry);
	std::string out;
	std::size_t pos = 0;
	bool changed = false;
	while (pos < text.size()) {
		std::size_t nl = text.find('\n', pos);
		std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
		pos = nl == std::string::npos ? text.size() : nl + 1;
		// kernel-install takes the title from the machine it runs on; under --root that is
		// the wrong system.
		if (!title.empty() && line.starts_with("title") && line.size() > 5 && (line[5] == ' ' || line[5] == '\t')) {
			std::string fixed = "title " + title;
			if (fixed != line) {
				line = fixed;
				changed = true;
			}
		}
		for (const char *key : {"linux", "initrd", "devicetree", "efi"}) {
			std::string k = key;
			if (line.starts_with(k) && line.size() > k.size() && (line[k.size()] == ' ' || line[k.size()] == '\t')) {
				std::size_t v = line.find_first_not_of(" \t", k.size());
				std::string value = v == std::string::npos ? "" : line.substr(v);
				std::size_t at = value.find("/" + staging_name + "/");
				if (at != std::string::npos) {
					value = value.substr(at + staging_name.size() + 1);
					line = line.substr(0, v) + value;
					changed = true;
				}
			}
		}
		out += line;
		if (nl != std::string::npos)
			out += '\n';
	}
	if (changed) {
		log.verbose("made the paths in {} relative to the boot partition, title from the root", entry.string());
		atomic_write(entry, out);
	}
}

struct Work {
	const Root &root;
	const std::string &kv;
	const InstallOptions &opts;
	const Logger &log;
	fs::path boot, staging;
	std::string staging_name;
};

void run_installer(Work &w, Layout layout, const Staged &s, const fs::path &initrd, TempDir &tmp, double &secs)
{
	auto t0 = Clock::now();
	Command c;
	c.output = w.log.level() >= Verbosity::verbose ? Command::Output::to_stderr : Command::Output::capture;
	fs::path placed_initrd;
	switch (layout) {
	case Layout::installkernel:
	case Layout::custom: {
		std::string prog = layout == Layout::custom ? w.root.path("/usr/local/bin/installkernel").string() : w.opts.installkernel;
		if (layout == Layout::custom && w.opts.installkernel != "installkernel")
			prog = w.opts.installkernel;
		if (layout == Layout::custom && !initrd.empty()) {
			// Gentoo's installkernel convention: an initramfs named initrd next to the image.
			placed_initrd = s.image.parent_path() / "initrd";
			copy_into(initrd, placed_initrd);
		}
		c.argv = {prog, w.kv, s.image.string(), s.map.empty() ? "/dev/null" : s.map.string(), w.staging.string()};
		break;
	}
	case Layout::bls: {
		fs::path conf = tmp.path() / "kernel";
		make_dirs(conf);
		std::error_code ec;
		for (const char *f : {"cmdline", "entry-token"}) {
			fs::path from = w.root.path(std::string("/etc/kernel/") + f);
			if (fs::is_regular_file(fs::symlink_status(from, ec)))
				copy_into(from, conf / f);
		}
		if (!fs::exists(conf / "cmdline")) {
			if (w.root.is_live_system()) {
				atomic_write(conf / "cmdline", read_trimmed("/proc/cmdline") + "\n");
			} else {
				w.log.warn("{} does not exist: the boot entry gets no kernel command line",
					   w.root.path("/etc/kernel/cmdline").string());
				atomic_write(conf / "cmdline", "\n");
			}
		}
		atomic_write(conf / "install.conf", "layout=bls\n");
		std::string mid;
		fs::path mid_file = w.root.path("/etc/machine-id");
		if (fs::is_regular_file(mid_file, ec))
			mid = read_trimmed(mid_file);
		if (!is_machine_id(mid)) {
			// kernel-install would otherwise read the build machine's /etc/machine-id.
			mid = sha256_hex("distkernel " + w.root.dir().string()).substr(0, 32);
			if (!fs::exists(conf / "entry-token"))
				atomic_write(conf / "entry-token", "distkernel\n");
			w.log.verbose("{} has no machine id: entry token 'distkernel'", mid_file.string());
		}
		fs::path plugin = "/usr/lib/kernel/install.d/90-loaderentry.install";
		c.env["BOOT_ROOT"] = w.staging.string();
		c.env["MACHINE_ID"] = mid;
		c.env["KERNEL_INSTALL_CONF_ROOT"] = conf.string();
		// Only the entry writer: 50-depmod would run depmod on the machine's own /lib/modules
		// and an initrd plugin would build a second initramfs.
		c.env["KERNEL_INSTALL_PLUGINS"] = plugin.string();
		c.argv = {w.opts.kernel_install};
		if (w.log.level() >= Verbosity::verbose)
			c.argv.push_back("--verbose");
		c.argv.insert(c.argv.end(), {"add", w.kv, s.image.string()});
		if (!initrd.empty())
			c.argv.push_back(initrd.string());
		break;
	}
	case Layout::automatic:
		throw InternalError("layout not chosen");
	}
	w.log.step("running {}", to_display(c.argv));
	Result r;
	try {
		r = run(c);
	} catch (...) {
		if (!placed_initrd.empty())
			fs::remove(placed_initrd);
		throw;
	}
	if (!placed_initrd.empty())
		fs::remove(placed_initrd);
	secs = seconds_since(t0);
	if (!r.ok())
		throw Error(fs::path(c.argv[0]).filename().string() + " failed (exit " + std::to_string(r.exit_code) + "): " +
			    to_display(c.argv) + (r.tail().empty() ? "" : "\n" + r.tail()) + "\n" + retry_hint(w.kv));
	if (layout == Layout::installkernel && !initrd.empty())
		// debianutils' installkernel ignores initramfs images: ours goes beside the image.
		copy_into(initrd, w.staging / ("initramfs-" + w.kv + ".img"));
	if (layout == Layout::bls) {
		fs::path entries = w.staging / "loader/entries";
		std::error_code ec;
		bool any = false;
		for (const auto &e : fs::directory_iterator(entries, ec))
			if (e.path().extension() == ".conf") {
				fix_entry_paths(e.path(), w.staging_name,
						w.root.is_live_system() ? std::string() : root_pretty_name(w.root), w.log);
				any = true;
			}
		if (!any)
			throw Error("kernel-install wrote no boot entry under " + entries.string() + "\n" + retry_hint(w.kv));
	}
}

// The dracut command: generic by default (a binary package must boot anywhere), the root's
// modules, and under a root that is not / the root's dracut configuration, not the build
// machine's (dracut reads /etc/dracut.conf.d unless told otherwise).
std::vector<std::string> dracut_command(const Work &w, bool hostonly, const std::vector<std::string> &extra,
					const fs::path &out, const fs::path &tmp)
{
	std::vector<std::string> argv = {w.opts.dracut, "--force", "--kver", w.kv, "--kmoddir",
					 w.root.path("/lib/modules/" + w.kv).string()};
	argv.push_back(hostonly ? "--hostonly" : "--no-hostonly");
	if (!w.root.is_live_system()) {
		// dracut refuses a --conf or --confdir that does not exist: the root has no configuration,
		// so empty ones stand in (dracut's own defaults in /usr/lib/dracut/dracut.conf.d still apply).
		std::error_code ec;
		fs::path conf = w.root.path("/etc/dracut.conf");
		fs::path confdir = w.root.path("/etc/dracut.conf.d");
		if (!fs::is_regular_file(conf, ec)) {
			conf = tmp / "dracut.conf";
			atomic_write(conf, "");
		}
		if (!fs::is_directory(confdir, ec)) {
			confdir = tmp / "dracut.conf.d";
			make_dirs(confdir);
		}
		argv.insert(argv.end(), {"--conf", conf.string(), "--confdir", confdir.string()});
	}
	argv.insert(argv.end(), extra.begin(), extra.end());
	argv.push_back(out.string());
	return argv;
}

void update_src_symlink(const Root &root, const std::string &kv, const std::string &variant, const Logger &log)
{
	fs::path link = root.path("/usr/src/linux", false);
	std::error_code ec;
	if (exists_nofollow(link)) {
		if (!fs::is_symlink(fs::symlink_status(link, ec))) {
			log.info("{} is not a symlink: leaving it", link.string());
			return;
		}
		std::string target = fs::read_symlink(link, ec).filename().string();
		if (target.starts_with("linux-") && is_valid_release(target.substr(6))) {
			std::string other = target.substr(6);
			bool same_variant = false;
			try {
				same_variant = read_staged(root, other).variant == variant;
			} catch (const Error &) {
				same_variant = false; // a dangling link or a hand-made tree
			}
			if (fs::exists(root.path("/usr/src/" + target + "/Makefile"), ec) && !same_variant) {
				log.info("{} points at {} (another kernel): leaving it", link.string(), target);
				return;
			}
		}
	}
	fs::path tmp = link.parent_path() / (".linux.distkernel-new-" + std::to_string(::getpid()));
	fs::remove(tmp, ec);
	fs::create_symlink("linux-" + kv, tmp, ec);
	if (ec || ::rename(tmp.c_str(), link.c_str()) != 0)
		throw SystemError("cannot point " + link.string() + " at linux-" + kv, ec ? ec.value() : errno);
	log.verbose("{} -> linux-{}", link.string(), kv);
}

InstallResult add_locked(const Root &root, const std::string &kv, const InstallOptions &opts, const Logger &log)
{
	auto t_start = Clock::now();
	InstallResult res;
	res.rolled_back_previous = recover(root, log);
	StagedKernel k = read_staged(root, kv);
	std::vector<std::string> check = {k.image, k.config};
	if (!k.system_map.empty())
		check.push_back(k.system_map);
	if (opts.verify_modules)
		for (const auto &f : k.files)
			if (f.link.empty() && f.path.size() > 3 && f.path.find(".ko") != std::string::npos)
				check.push_back(f.path);
	log.verbose("verifying {} staged files against {}", check.size(), manifest_path(kv));
	verify_staged(root, k, check, opts.jobs);
	Staged s{root.path(k.image), k.system_map.empty() ? fs::path() : root.path(k.system_map), root.path(k.config)};

	LayoutChoice choice = choose_layout(root, opts.layout);
	res.layout_reason = choice.reason;
	log.verbose("layout {}: {}", to_string(choice.layout), choice.reason);

	root.make_dirs("/boot");
	Work w{root, kv, opts, log, root.path("/boot"), {}, ".distkernel-new-" + kv};
	w.staging = root.path("/boot/" + w.staging_name, false);
	const std::string backup_inside = "/boot/.distkernel-old-" + kv;
	fs::path backup = root.path(backup_inside, false);
	std::error_code ec;
	fs::remove_all(w.staging, ec);
	fs::remove_all(backup, ec);
	make_dirs(w.staging);
	// The staging directory lives on the /boot filesystem: the final renames cannot fail for
	// space, and running out of space shows up here, before /boot changed.
	struct Cleanup {
		fs::path a, b;
		~Cleanup()
		{
			std::error_code e;
			fs::remove_all(a, e);
			fs::remove_all(b, e);
		}
	} cleanup{w.staging, backup};

	TempDir tmp;
	fs::path initrd;
	Deployment d;
	d.release = kv;
	d.variant = k.variant;
	d.layout = choice.layout;
	d.hostonly = opts.hostonly;
	d.dracut_args = opts.dracut_args;
	if (opts.initramfs) {
		if (opts.hostonly && !root.is_live_system())
			log.warn("--hostonly under --root {}: dracut looks at this machine, not at the root", root.dir().string());
		initrd = tmp.path() / "initrd";
		auto argv = dracut_command(w, opts.hostonly, opts.dracut_args, initrd, tmp.path());
		log.step("building the initramfs: {}", to_display(argv));
		Command c(argv);
		c.output = log.level() >= Verbosity::verbose ? Command::Output::to_stderr : Command::Output::capture;
		auto t0 = Clock::now();
		Result r = run(c);
		res.initramfs_seconds = seconds_since(t0);
		if (!r.ok() || !fs::is_regular_file(initrd, ec))
			throw Error("dracut failed (exit " + std::to_string(r.exit_code) + ") building the initramfs of " + kv +
				    (r.tail().empty() ? "" : ":\n" + r.tail()) + "\n" + retry_hint(kv));
		d.initramfs = true;
	}
	run_installer(w, choice.layout, s, initrd, tmp, res.installer_seconds);

	// Everything is ready beside /boot: record, then rename into place.
	detail::Journal j;
	j.release = kv;
	j.boot = "/boot";
	j.staging = "/boot/" + w.staging_name;
	j.backup = backup_inside;
	auto previous = find_installed(root, kv);
	j.previous_record = previous ? previous->to_json() : Json(nullptr);
	std::vector<std::string> rels = list_files(w.staging);
	if (rels.empty())
		throw Error("the installer put nothing into " + w.staging.string() + "\n" + retry_hint(kv));
	std::set<std::string> created;
	for (const auto &rel : rels) {
		j.entries.push_back({rel, false});
		fs::path p = fs::path(rel).parent_path();
		std::vector<fs::path> chain;
		for (; !p.empty(); p = p.parent_path())
			chain.push_back(p);
		for (auto it = chain.rbegin(); it != chain.rend(); ++it)
			if (!exists_nofollow(root.path("/boot/" + it->string())))
				created.insert("/boot/" + it->string());
	}
	j.created_dirs.assign(created.begin(), created.end());
	std::set<std::string> new_paths;
	for (const auto &rel : rels)
		new_paths.insert("/boot/" + rel);
	if (previous) {
		for (const auto &f : previous->files)
			if (!new_paths.count(f.path))
				j.entries.push_back({f.path.substr(6), true});
	}
	auto hosts = std::vector<fs::path>();
	for (const auto &rel : rels)
		hosts.push_back(w.staging / rel);
	auto sums = sha256_files(hosts, opts.jobs);
	for (std::size_t i = 0; i < rels.size(); ++i)
		d.files.push_back({"/boot/" + rels[i], fs::file_size(hosts[i]), sums[i]});
	std::set<std::string> dirs(j.created_dirs.begin(), j.created_dirs.end());
	if (previous)
		dirs.insert(previous->dirs.begin(), previous->dirs.end());
	d.dirs.assign(dirs.begin(), dirs.end());
	d.time = now_utc();

	atomic_write(detail::journal_path(root), j.to_json().dump(1) + "\n");
	try {
		int renames = 0;
		for (const auto &dir : j.created_dirs)
			root.make_dirs(dir);
		for (const auto &e : j.entries) {
			// Resolved inside the root one by one: a link below /boot (EFI, loader) leads
			// somewhere inside the root, never to the host.
			fs::path target = root.path("/boot/" + e.rel, false);
			if (exists_nofollow(target)) {
				root.make_dirs((fs::path(backup_inside) / e.rel).parent_path().string());
				fs::path saved = root.path(backup_inside + "/" + e.rel, false);
				if (::rename(target.c_str(), saved.c_str()) != 0)
					throw SystemError("cannot move " + target.string() + " aside", errno);
			}
			if (!e.remove && ::rename((w.staging / e.rel).c_str(), target.c_str()) != 0)
				throw SystemError("cannot rename " + (w.staging / e.rel).string() + " to " + target.string(), errno);
			maybe_die(++renames);
		}
		sync_path(w.boot);
		detail::write_record(root, d);
	} catch (const Error &e) {
		detail::roll_back(root, j, log);
		fs::remove(detail::journal_path(root), ec);
		throw Error(std::string(e.what()) + "\n" + retry_hint(kv));
	}
	// The commit point: without the journal nothing will be rolled back any more.
	fs::remove(detail::journal_path(root), ec);
	sync_path(detail::journal_path(root).parent_path());
	if (opts.src_symlink)
		update_src_symlink(root, kv, k.variant, log);
	res.deployment = std::move(d);
	res.total_seconds = seconds_since(t_start);
	return res;
}

// The lock file, created inside the root without following a link planted at its name.
constexpr std::string_view lock_inside = "/var/lib/distkernel/lock";

} // namespace

LayoutChoice choose_layout(const Root &root, Layout requested)
{
	if (requested != Layout::automatic)
		return {requested, "--layout " + std::string(to_string(requested))};
	std::error_code ec;
	fs::path custom = root.path("/usr/local/bin/installkernel");
	if (fs::is_regular_file(custom, ec) && ::access(custom.c_str(), X_OK) == 0)
		return {Layout::custom, custom.string() + " exists and is executable"};
	fs::path conf = root.path("/etc/kernel/install.conf");
	if (fs::is_regular_file(conf, ec)) {
		const std::string content = read_file(conf);
		for (std::string_view line : text::lines(content)) {
			if (line.starts_with("layout=")) {
				std::string v(line.substr(7));
				if (v == "bls")
					return {Layout::bls, conf.string() + " says layout=bls"};
				return {Layout::installkernel, conf.string() + " says layout=" + v};
			}
		}
	}
	fs::path entries = root.path("/boot/loader/entries");
	if (fs::is_directory(entries, ec))
		return {Layout::bls, entries.string() + " exists (a Boot Loader Specification boot loader)"};
	return {Layout::installkernel, "no " + custom.string() + ", no layout in " + conf.string() + ", no " +
					       entries.string() + ": the traditional /boot/vmlinuz-KV layout"};
}

InstallResult add(const Root &root, const std::string &release, const InstallOptions &opts, const Logger &log)
{
	validate_release(release);
	detail::make_state_dir(root);
	FileLock lock(root, lock_inside);
	return add_locked(root, release, opts, log);
}

RemoveResult remove(const Root &root, const std::string &release, const InstallOptions &opts, const Logger &log)
{
	validate_release(release);
	detail::make_state_dir(root);
	FileLock lock(root, lock_inside);
	recover(root, log);
	RemoveResult res;
	auto d = find_installed(root, release);
	if (!d)
		return res;
	res.was_installed = true;
	// The live system's running kernel is uname -r; a root that describes another machine
	// says which one runs there through opts.running_release (as distkernel-clean does).
	bool check_running = root.is_live_system() || !opts.running_release.empty();
	if (check_running && release == running_release(opts) && !opts.force)
		throw Error("refusing to remove " + release + ": it is the running kernel (use --force to remove it anyway)");
	std::set<std::string> shared;
	for (const auto &other : list_installed(root))
		if (other.release != release)
			for (const auto &f : other.files)
				shared.insert(f.path);
	std::error_code ec;
	for (const auto &f : d->files) {
		if (shared.count(f.path)) {
			res.kept.push_back(f.path);
			continue;
		}
		// Only what was there and went counts as removed.
		if (root.remove_file(f.path)) {
			log.verbose("removed {}", root.path(f.path, false).string());
			res.removed.push_back(f.path);
		}
	}
	std::vector<std::string> dirs = d->dirs;
	std::sort(dirs.rbegin(), dirs.rend());
	for (const auto &dir : dirs) {
		fs::path p = root.path(dir, false);
		if (fs::is_directory(fs::symlink_status(p, ec)) && fs::is_empty(p, ec))
			fs::remove(p, ec);
	}
	sync_path(root.path("/boot"));
	fs::remove(detail::record_path(root, release), ec);
	if (ec)
		throw SystemError("cannot remove " + detail::record_path(root, release).string(), ec.value());
	return res;
}

std::vector<InstallResult> reinstall(const Root &root, const std::vector<std::string> &releases,
				     const InstallOptions &opts, const Logger &log)
{
	std::vector<std::string> todo = releases;
	if (todo.empty())
		for (const auto &d : list_installed(root))
			todo.push_back(d.release);
	std::vector<InstallResult> out;
	for (const auto &kv : todo) {
		auto d = find_installed(root, kv);
		if (!d)
			throw Error(kv + " is not installed by distkernel (see distkernel-install list)");
		InstallOptions o = opts;
		if (o.layout == Layout::automatic)
			o.layout = d->layout;
		o.initramfs = opts.initramfs && d->initramfs;
		if (o.dracut_args.empty())
			o.dracut_args = d->dracut_args;
		o.hostonly = opts.hostonly || d->hostonly;
		log.step("reinstalling {} ({} layout)", kv, to_string(o.layout));
		out.push_back(add(root, kv, o, log));
	}
	return out;
}

} // namespace distkernel
