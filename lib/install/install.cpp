// add, remove, reinstall: a staged kernel into the root's /boot layout and out of it again.
#include "distkernel/error.hpp"
#include "sys/dirs.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/install.hpp"
#include "distkernel/process.hpp"
#include "distkernel/stage.hpp"
#include "install/install_internal.hpp"
#include "install/efi_internal.hpp"
#include "install/hooks_internal.hpp"
#include "sys/text.hpp"
#include "sys/checked_copy.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>
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

// Whether two paths name the same directory (device and inode), however they are spelled.
bool is_same_directory(const fs::path &a, const fs::path &b)
{
	std::error_code ec;
	return fs::equivalent(a, b, ec) && !ec;
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

// The files other kernels' records list: removing this kernel's files keeps them.
std::set<std::string> files_of_other_kernels(const Root &root, const std::string &release, const Logger &log)
{
	std::set<std::string> shared;
	std::vector<std::string> unreadable;
	auto others = list_installed(root, &unreadable);
	for (const auto &u : unreadable)
		log.warn("{}", u);
	for (const auto &other : others)
		if (other.release != release)
			for (const auto &f : other.files)
				shared.insert(f.path);
	return shared;
}

// A record's directories (inside the root), deepest first, each removed when it is empty.
void remove_empty_dirs(const Root &root, std::vector<std::string> dirs)
{
	std::sort(dirs.rbegin(), dirs.rend());
	std::error_code ec;
	for (const auto &dir : dirs) {
		fs::path p = root.path(dir, false);
		if (fs::is_directory(fs::symlink_status(p, ec)) && fs::is_empty(p, ec))
			fs::remove(p, ec);
	}
}

// Whether host path p lies on the filesystem of directory dir: a rename between them works
// (another mount, or another btrfs subvolume, fails with EXDEV). A p that does not exist yet
// counts by its parent.
bool on_filesystem_of(const fs::path &p, const fs::path &dir)
{
	struct stat a {}, b {};
	if (::lstat(p.c_str(), &a) != 0 && ::lstat(p.parent_path().c_str(), &a) != 0)
		return true;
	return ::stat(dir.c_str(), &b) == 0 && a.st_dev == b.st_dev;
}

// After a reinstall of KV has committed: the files of its previous record that the new one does
// not list and that the transaction could not take along (they are on another ESP or another
// filesystem than the new install's), removed as remove removes a record's files (only the
// record's paths, resolved inside the root, a link never followed, none that another kernel's
// record lists); then the previous record's directories left empty. The new install is in place
// whatever happens here: a file that cannot go is a warning. Returns the directories still there.
std::vector<std::string> remove_left_behind(const Root &root, const std::string &kv, const std::vector<std::string> &files,
			const std::vector<std::string> &dirs, const Logger &log)
{
	const std::set<std::string> shared = files_of_other_kernels(root, kv, log);
	std::set<fs::path> changed;
	for (const auto &f : files) {
		if (shared.count(f)) {
			log.verbose("{} is also another kernel's: kept", root.path(f, false).string());
			continue;
		}
		try {
			if (root.remove_file(f)) {
				log.verbose("removed {} (the previous install of {})", root.path(f, false).string(), kv);
				changed.insert(root.path(f, false).parent_path());
			}
		} catch (const Error &e) {
			log.warn("{}\n{} is installed; the previous install's file stays where it is", e.what(), kv);
		}
	}
	remove_empty_dirs(root, dirs);
	// Each directory an entry left (gone itself when it was left empty: then its parent).
	for (const auto &dir : changed) {
		sync_path(dir);
		sync_path(dir.parent_path());
	}
	std::vector<std::string> still;
	std::error_code ec;
	for (const auto &dir : dirs)
		if (fs::is_directory(fs::symlink_status(root.path(dir, false), ec)))
			still.push_back(dir);
	return still;
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
// What a boot entry takes from the system's os-release, as kernel-install's 90-loaderentry does:
// the title (PRETTY_NAME, else NAME, else "Linux") and the sort key (IMAGE_ID, else ID) -- under
// --root from the root's file, never the build machine's.
struct EntryNames {
	std::string title = "Linux";
	std::string sort_key;
};
EntryNames root_entry_names(const Root &root)
{
	auto os = detail::root_os_release(root);
	EntryNames out;
	out.title = !os["PRETTY_NAME"].empty() ? os["PRETTY_NAME"] : !os["NAME"].empty() ? os["NAME"] : "Linux";
	out.sort_key = !os["IMAGE_ID"].empty() ? os["IMAGE_ID"] : os["ID"];
	return out;
}

void fix_entry_paths(const fs::path &entry, const std::string &staging_name, const std::optional<EntryNames> &names,
		     const Logger &log)
{
	const std::string title = names ? names->title : std::string();
	bool sort_key_done = false;
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
		if (names && line.starts_with("sort-key") && line.size() > 8 && (line[8] == ' ' || line[8] == '\t')) {
			std::string fixed = names->sort_key.empty() ? std::string() : "sort-key " + names->sort_key;
			sort_key_done = true;
			if (fixed != line) {
				changed = true;
				if (fixed.empty())
					continue; // the root has no ID: no sort key, as kernel-install writes none
				line = fixed;
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
	if (names && !sort_key_done && !names->sort_key.empty()) {
		if (!out.empty() && out.back() != '\n')
			out += '\n';
		out += "sort-key " + names->sort_key + "\n";
		changed = true;
	}
	if (changed) {
		log.verbose("made the paths in {} relative to the boot partition, title and sort key from the root", entry.string());
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
	std::uint64_t need = 0;                 // bytes of every source going into /boot
	std::map<fs::path, FileDigest> written; // staged files already proven whole (host path)
	fs::path install_conf_dir;              // the root's install.conf's directory (host path), if any
	std::string uki_generator;              // uki: objcopy, dracut or ukify (InstallPlan::uki_generator)
	fs::path uki_built;                     // uki_generator=dracut: the UKI dracut built
};

std::uint64_t bytes_under(const fs::path &dir)
{
	std::uint64_t sum = 0;
	std::error_code ec;
	for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
	     it.increment(ec))
		if (it->is_regular_file(ec))
			sum += it->file_size(ec);
	return sum;
}

// /boot is full: how much room this install has there (what is free plus what the staging
// directory already holds) against what it needs, and the ways out.
std::string no_space_message(const Work &w)
{
	std::error_code ec;
	auto room = fs::space(w.boot, ec);
	std::uint64_t free = (ec ? 0 : room.available) + bytes_under(w.staging);
	return "no space left on " + w.boot.string() + " for " + w.kv + ": " + std::to_string(free / 1024) +
	       " KiB free, " + std::to_string((w.need + 1023) / 1024) +
	       " KiB needed; remove old kernels (`distkernel-clean --pretend` lists them) or make /boot larger";
}

// Copies a file into the staging directory (on the /boot filesystem), proven whole there; a full
// /boot shows up here, before anything in /boot changed.
void copy_into(Work &w, const fs::path &from, const fs::path &to, const std::optional<FileDigest> &digest = {})
{
	make_dirs(to.parent_path());
	try {
		w.written[to] = checked_copy(from, to, 0644, digest);
	} catch (const SystemError &e) {
		if (is_no_space(e.code()) && to.string().rfind(w.boot.string() + "/", 0) == 0)
			throw Error(no_space_message(w) + "\n" + e.what() + "\n" + retry_hint(w.kv));
		throw;
	}
}

// What each source becomes under the names installers give it in /boot, so that what an installer
// wrote is proven whole too: debianutils' and Gentoo's installkernel (vmlinuz-KV, System.map-KV,
// config-KV, initramfs-KV.img), kernel-install (TOKEN/KV/linux, TOKEN/KV/initrd).
struct Source {
	fs::path path;
	FileDigest digest;
};
std::optional<Source> source_of(const std::string &rel, const std::string &kv, const std::map<std::string, Source> &by_role)
{
	fs::path r(rel);
	std::string name = r.filename().string();
	bool in_kv_dir = r.parent_path().filename() == kv;
	std::string role;
	if (name == "vmlinuz-" + kv || name == "vmlinux-" + kv || name == "kernel-" + kv || (in_kv_dir && name == "linux"))
		role = "image";
	else if (name == "initramfs-" + kv + ".img" || name == "initrd.img-" + kv || (in_kv_dir && name == "initrd"))
		role = "initrd";
	else if (name == "System.map-" + kv)
		role = "map";
	else if (name == "config-" + kv)
		role = "config";
	auto it = by_role.find(role);
	if (it == by_role.end())
		return std::nullopt;
	return it->second;
}

// A UEFI executable (PE, "MZ"): what an efistub kernel must be, and what an initramfs must not be
// (it would leave the machine unbootable).
bool is_pe_file(const fs::path &f)
{
	std::ifstream in(f, std::ios::binary);
	char magic[2] = {};
	in.read(magic, 2);
	return in.gcount() == 2 && magic[0] == 'M' && magic[1] == 'Z';
}

// The layouts on the ESP need no installer: the files are put into the staging directory here
// (on the ESP, wherever the root has it) and committed like every other layout's.
void deploy_on_esp(Work &w, Layout layout, const Staged &s, const fs::path &initrd,
		   const std::optional<FileDigest> &initrd_digest, TempDir &tmp)
{
	std::string cmdline = detail::root_kernel_cmdline(w.root, w.log);
	if (layout == Layout::uki) {
		fs::path os_release = detail::root_os_release_file(w.root);
		if (os_release.empty())
			w.log.warn("{} has no os-release: the unified kernel image has no .osrel section, and systemd-boot "
				   "lists it without a name",
				   w.root.dir().string());
		fs::path uki = w.uki_built;
		if (uki.empty()) {
			uki = tmp.path() / "uki.efi";
			if (w.uki_generator == "ukify")
				detail::build_uki_ukify(detail::ukify_program(w.opts), detail::efi_stub(w.root, w.opts), os_release,
							cmdline, initrd, s.image, w.kv, uki, tmp.path(), w.log);
			else
				detail::build_uki(detail::efi_stub(w.root, w.opts), os_release, cmdline, initrd, s.image, uki,
						  tmp.path(), w.log);
		}
		if (w.opts.secureboot.set())
			sign_efi_image(uki, w.opts.secureboot, w.log);
		else if (fs::exists(w.root.path("/usr/src/linux-" + w.kv + "/certs/secureboot.crt")))
			w.log.warn("{} was staged signed for Secure Boot, but its unified kernel image is not signed (no "
				   "--secureboot-key, SECUREBOOT_SIGN_KEY): firmware with Secure Boot on refuses to start it",
				   w.kv);
		copy_into(w, uki, w.staging / detail::uki_rel(w.root, w.kv));
		return;
	}
	if (!is_pe_file(s.image))
		throw Error(s.image.string() + " is not an EFI program (no PE header): layout=efistub needs a kernel built " +
			    "with CONFIG_EFI_STUB=y\n" + retry_hint(w.kv));
	fs::path dir = w.staging / detail::efistub_dir_rel(w.root);
	copy_into(w, s.image, dir / ("vmlinuz-" + w.kv + ".efi"));
	if (!initrd.empty())
		copy_into(w, initrd, dir / ("initramfs-" + w.kv + ".img"), initrd_digest);
}

void run_installer(Work &w, Layout layout, const Staged &s, const fs::path &initrd,
		   const std::optional<FileDigest> &initrd_digest, TempDir &tmp, double &secs)
{
	auto t0 = Clock::now();
	if (layout == Layout::uki || layout == Layout::efistub) {
		deploy_on_esp(w, layout, s, initrd, initrd_digest, tmp);
		secs = seconds_since(t0);
		return;
	}
	Command c;
	c.output = w.log.level() >= Verbosity::verbose ? Command::Output::to_stderr : Command::Output::capture;
	switch (layout) {
	case Layout::installkernel:
	case Layout::custom: {
		std::string prog = layout == Layout::custom ? w.root.path("/usr/local/bin/installkernel").string() : w.opts.installkernel;
		if (layout == Layout::custom && w.opts.installkernel != "installkernel")
			prog = w.opts.installkernel;
		fs::path image = s.image;
		if (layout == Layout::custom && !initrd.empty()) {
			// Gentoo's installkernel convention: an initramfs named initrd next to the image. The
			// staged tree belongs to the package: the image is handed over through a link in a
			// private directory, with the initrd beside it.
			fs::path dir = tmp.path() / "image";
			make_dirs(dir);
			image = dir / s.image.filename();
			fs::create_symlink(s.image, image);
			fs::create_symlink(initrd, dir / "initrd");
		}
		c.argv = {prog, w.kv, image.string(), s.map.empty() ? "/dev/null" : s.map.string(), w.staging.string()};
		// Gentoo's installkernel reads install.conf too: the root's, never the build machine's.
		if (!w.install_conf_dir.empty())
			c.env["INSTALLKERNEL_CONF_ROOT"] = w.install_conf_dir.string();
		break;
	}
	case Layout::bls: {
		fs::path conf = tmp.path() / "kernel";
		make_dirs(conf);
		std::error_code ec;
		for (const char *f : {"cmdline", "entry-token"}) {
			fs::path from = w.root.path(std::string("/etc/kernel/") + f);
			if (fs::is_regular_file(fs::symlink_status(from, ec)))
				copy_into(w, from, conf / f);
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
	case Layout::uki:
	case Layout::efistub:
	case Layout::automatic:
		throw InternalError("no installer program for layout " + to_string(layout));
	}
	// An installer plugin of distkernel's own (route_installer_call) must not route this call back.
	c.env[install_guard_variable] = "1";
	w.log.step("running {}", to_display(c.argv));
	Result r = run(c);
	secs = seconds_since(t0);
	if (!r.ok()) {
		std::string tail = r.tail();
		bool full = tail.find("No space left on device") != std::string::npos ||
			    tail.find("Disk quota exceeded") != std::string::npos;
		throw Error((full ? no_space_message(w) + "\n" : std::string()) + fs::path(c.argv[0]).filename().string() +
			    " failed (exit " + std::to_string(r.exit_code) + "): " + to_display(c.argv) +
			    (tail.empty() ? "" : "\n" + tail) + "\n" + retry_hint(w.kv));
	}
	if (layout == Layout::installkernel && !initrd.empty())
		// debianutils' installkernel ignores initramfs images: ours goes beside the image.
		copy_into(w, initrd, w.staging / ("initramfs-" + w.kv + ".img"), initrd_digest);
	if (layout == Layout::bls) {
		fs::path entries = w.staging / "loader/entries";
		std::error_code ec;
		bool any = false;
		for (const auto &e : fs::directory_iterator(entries, ec))
			if (e.path().extension() == ".conf") {
				fix_entry_paths(e.path(), w.staging_name,
						w.root.is_live_system() ? std::nullopt : std::optional(root_entry_names(w.root)), w.log);
				any = true;
			}
		if (!any)
			throw Error("kernel-install wrote no boot entry under " + entries.string() + "\n" + retry_hint(w.kv));
	}
}

// The options the plan adds to dracut's command line.
std::vector<std::string> dracut_options(const InstallPlan &p)
{
	std::vector<std::string> out;
	if (p.pass_hostonly)
		out.push_back("--hostonly");
	if (p.pass_no_hostonly)
		out.push_back("--no-hostonly");
	if (p.pass_no_uefi)
		out.push_back("--no-uefi");
	if (p.uki_generator.value == "dracut")
		out.push_back("--uefi");
	return out;
}

// The dracut command: the root's modules and kernel image; under a root that is not / the root's
// dracut configuration, not the build machine's (dracut reads /etc/dracut.conf.d unless told
// otherwise); host-only as the plan says (generic unless the user's dracut.conf or --hostonly
// asks otherwise: a binary package must boot anywhere).
std::vector<std::string> dracut_command(const Work &w, const InstallPlan &plan, const fs::path &image,
					const fs::path &out, const fs::path &tmp)
{
	std::vector<std::string> argv = {w.opts.dracut, "--force", "--kver", w.kv, "--kmoddir",
					 w.root.path("/lib/modules/" + w.kv).string(), "--kernel-image", image.string()};
	auto decided = dracut_options(plan);
	argv.insert(argv.end(), decided.begin(), decided.end());
	if (plan.uki_generator.value == "dracut")
		argv.insert(argv.end(), {"--uefi-stub", detail::efi_stub(w.root, w.opts).string(), "--kernel-cmdline",
					 detail::root_kernel_cmdline(w.root, w.log)});
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
	argv.insert(argv.end(), w.opts.dracut_args.begin(), w.opts.dracut_args.end());
	argv.push_back(out.string());
	return argv;
}


void log_plan(const InstallPlan &p, const Logger &log)
{
	if (p.install_conf.file.empty()) {
		std::string searched;
		for (const auto &f : p.install_conf.searched)
			searched += (searched.empty() ? "" : ", ") + f.string();
		log.verbose("install.conf: none ({})", searched);
	} else {
		log.verbose("install.conf: {}", p.install_conf.file.string());
	}
	for (auto [name, s] : {std::pair{"layout=", &p.install_conf.layout},
			       std::pair{"initrd_generator=", &p.install_conf.initrd_generator},
			       std::pair{"uki_generator=", &p.install_conf.uki_generator}})
		if (s->set())
			log.verbose("  {}{} ({})", name, s->value, s->source);
	for (const auto &u : p.install_conf.problems)
		log.verbose("  {}:{}: not read: {}", p.install_conf.file.string(), u.line, u.reason);
	log.verbose("layout {}: {}", to_string(p.layout.layout), p.layout.reason);
	log.verbose("initramfs: {} ({})", p.initramfs.value, p.initramfs.source);
	if (p.initramfs.value == "none")
		return;
	log.verbose("host-only: {} ({})", p.hostonly.value, p.hostonly.source);
	if (p.pass_no_uefi)
		log.verbose("{} says uefi=yes: dracut gets --no-uefi, the {} layout installs the kernel and the initramfs "
			    "as separate files",
			    p.dracut_conf.uefi.source, to_string(p.layout.layout));
	for (const auto &u : p.dracut_conf.unread)
		log.verbose("  {}: not read", u);
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

// The version-less links installkernel keeps in /boot (vmlinuz -> vmlinuz-KV, vmlinuz.old -> the
// kernel before): refreshed as it does, only where the root already has the link; a reinstall of
// the same release leaves them. Each link is replaced by a rename: never missing.
void refresh_version_links(const Root &root, const std::string &kv, const Deployment &d, const Logger &log)
{
	for (auto [base, suffix] : {std::pair{"vmlinuz", ""}, std::pair{"vmlinux", ""}, std::pair{"kernel", ""},
				    std::pair{"System.map", ""}, std::pair{"config", ""}, std::pair{"initramfs", ".img"}}) {
		const std::string name = std::string(base) + suffix, file = std::string(base) + "-" + kv + suffix;
		if (std::none_of(d.files.begin(), d.files.end(), [&](const DeployedFile &f) { return f.path == "/boot/" + file; }))
			continue;
		fs::path link = root.path("/boot/" + name, false);
		std::error_code ec;
		if (!fs::is_symlink(fs::symlink_status(link, ec))) {
			if (exists_nofollow(link))
				log.verbose("{} is not a link: left as it is", link.string());
			continue;
		}
		fs::path target = fs::read_symlink(link, ec);
		if (ec || target.filename() == file)
			continue;
		auto replace = [&](const fs::path &at, const fs::path &to) {
			fs::path tmp = at.parent_path() / (".distkernel-link-" + std::to_string(::getpid()));
			fs::remove(tmp, ec);
			fs::create_symlink(to, tmp, ec);
			if (ec || ::rename(tmp.c_str(), at.c_str()) != 0)
				throw SystemError("cannot point " + at.string() + " at " + to.string(), ec ? ec.value() : errno);
		};
		replace(link.parent_path() / (name + ".old"), target);
		replace(link, file);
		log.verbose("{} -> {}, {}.old -> {}", link.string(), file, name, target.string());
	}
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

	InstallPlan plan = plan_install(root, opts);
	const LayoutChoice &choice = plan.layout;
	res.layout_reason = choice.reason;
	log_plan(plan, log);
	for (const auto &warning : plan.warnings)
		log.warn("{}", warning);

	// Where the files go: /boot, or the ESP for the layouts that live there. The staging and
	// backup directories are on that filesystem, so that every rename stays on it.
	const std::string base = plan.esp.set() ? plan.esp.value : "/boot";
	detail::require_mounted(root, base);
	root.make_dirs(base);
	Work w{root, kv, opts, log, root.path(base), {}, ".distkernel-new-" + kv, 0, {}, {}, {}, {}};
	w.staging = root.path(base + "/" + w.staging_name, false);
	if (!plan.install_conf.file.empty())
		w.install_conf_dir = plan.install_conf.file.parent_path();
	w.uki_generator = plan.uki_generator.value;
	const std::string backup_inside = base + "/.distkernel-old-" + kv;
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
	if (choice.layout == Layout::uki) {
		detail::efi_stub(root, opts); // no stub, a bad signing key: fail before dracut's work
		if (opts.secureboot.set())
			check_signing_key(opts.secureboot.key, opts.secureboot.cert);
	}
	if (plan.initramfs.value == "prebuilt") {
		std::vector<std::string> staged_files;
		for (const auto &f : k.files)
			staged_files.push_back(f.path);
		plan.prebuilt_refused = prebuilt_initramfs_refusal(root, plan, opts, kv, staged_files);
		if (!plan.prebuilt_refused.empty())
			plan.initramfs = {"dracut", "the prebuilt initramfs is not used"};
	}
	if (!plan.prebuilt_refused.empty())
		log.info("not using the prebuilt generic initramfs {}: {}; building this machine's own with dracut",
			 opts.prebuilt_initramfs, plan.prebuilt_refused);
	if (plan.initramfs.value == "prebuilt") {
		const fs::path given = opts.prebuilt_initramfs;
		if (!fs::is_regular_file(given, ec))
			throw Error("the prebuilt initramfs " + given.string() + " is not a file\n" + retry_hint(kv));
		if (is_pe_file(given))
			throw Error("the prebuilt initramfs " + given.string() + " is a UEFI executable (PE), not an initramfs\n" +
				    retry_hint(kv));
		initrd = tmp.path() / "initrd";
		fs::copy_file(given, initrd, ec);
		if (ec)
			throw SystemError("cannot copy " + given.string(), ec.value());
		fs::permissions(initrd, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
						fs::perms::others_read, ec);
		log.step("using the prebuilt generic initramfs {} (no dracut run)", given.string());
		d.initramfs = true;
		d.prebuilt_initramfs = true;
	}
	if (std::string missing = detail::missing_root_module(root, kv, log); !missing.empty())
		log.warn("{}", missing);
	if (plan.initramfs.value == "dracut") {
		// dracut --uefi (uki_generator=dracut) builds the initramfs and the UKI in one run: what
		// goes to the ESP is its output; otherwise it builds the initramfs.
		const bool uki = plan.uki_generator.value == "dracut";
		const fs::path out = tmp.path() / (uki ? "uki.efi" : "initrd");
		const std::string what = uki ? "the initramfs and the unified kernel image" : "the initramfs";
		auto argv = dracut_command(w, plan, s.image, out, tmp.path());
		log.step("building {}: {}", what, to_display(argv));
		Command c(argv);
		c.output = log.level() >= Verbosity::verbose ? Command::Output::to_stderr : Command::Output::capture;
		auto t0 = Clock::now();
		Result r = run(c);
		res.initramfs_seconds = seconds_since(t0);
		if (!r.ok() || !fs::is_regular_file(out, ec))
			throw Error("dracut failed (exit " + std::to_string(r.exit_code) + ") building " + what + " of " + kv +
				    (r.tail().empty() ? "" : ":\n" + r.tail()) + "\n" + retry_hint(kv));
		if (uki && !is_pe_file(out))
			throw Error("dracut --uefi wrote no UEFI executable (no PE header) for " + kv + ": " + to_display(argv) + "\n" +
				    retry_hint(kv));
		if (!uki && is_pe_file(out))
			throw Error("dracut wrote a UEFI executable (PE), not an initramfs, for " + kv + ": " + to_display(argv) +
				    "\nan initramfs image cannot be one; remove --uefi (or uefi=yes from the root's dracut "
				    "configuration)\n" + retry_hint(kv));
		if (uki) {
			w.uki_built = out;
		} else {
			initrd = out;
			// dracut writes 0600; an initramfs in /boot is readable as the kernel beside it is.
			fs::permissions(initrd, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
							fs::perms::others_read, ec);
		}
		d.initramfs = true;
	}
	// What each source must be once in /boot: the staged files as their manifest says (verified
	// above), the initramfs as dracut wrote it.
	std::map<std::string, Source> by_role;
	auto staged_source = [&](const std::string &role, const std::string &inside) {
		for (const auto &f : k.files)
			if (f.path == inside && f.link.empty())
				by_role[role] = {root.path(inside), {f.size, f.sha256}};
	};
	staged_source("image", k.image);
	staged_source("config", k.config);
	if (!k.system_map.empty())
		staged_source("map", k.system_map);
	std::optional<FileDigest> initrd_digest;
	if (!initrd.empty()) {
		initrd_digest = digest_file(initrd);
		by_role["initrd"] = {initrd, *initrd_digest};
	}
	for (const auto &[role, src] : by_role)
		w.need += src.digest.size;
	// installkernel's preinst hooks see the image as installkernel is given it, before /boot changes.
	auto pre = detail::run_kernel_hooks(root, plan, "preinst", kv, k.image, opts, log);
	if (!pre.failure.empty())
		throw Error(pre.failure + "\n" + retry_hint(kv));
	if (!pre.skipped_by.empty()) {
		res.skipped_by = pre.skipped_by;
		res.plan = std::move(plan);
		res.total_seconds = seconds_since(t_start);
		return res;
	}
	run_installer(w, choice.layout, s, initrd, initrd_digest, tmp, res.installer_seconds);

	// Everything is ready beside /boot: record, then rename into place.
	detail::Journal j;
	j.release = kv;
	j.boot = base;
	j.staging = base + "/" + w.staging_name;
	j.backup = backup_inside;
	auto previous = find_installed(root, kv);
	j.previous_record = previous ? Json(*previous) : Json(nullptr);
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
			if (!exists_nofollow(root.path(base + "/" + it->string())))
				created.insert(base + "/" + it->string());
	}
	j.created_dirs.assign(created.begin(), created.end());
	std::set<std::string> new_paths;
	for (const auto &rel : rels)
		new_paths.insert(base + "/" + rel);
	// The previous install's files that the new one drops: moved aside with the transaction where
	// a rename can take them (rolled back with it), the rest (another ESP, another filesystem)
	// removed once it has committed, so that a failure leaves them where they were.
	std::vector<std::string> left_behind;
	if (previous) {
		for (const auto &f : previous->files) {
			if (new_paths.count(f.path))
				continue;
			if (f.path.starts_with(base + "/") && on_filesystem_of(root.path(f.path, false), w.boot))
				j.entries.push_back({f.path.substr(base.size() + 1), true});
			else
				left_behind.push_back(f.path);
		}
	}
	// Every file bound for /boot is proven whole against its source: copied by us (checked as
	// written) or by the installer (read back here); the rest (boot entries) has no source.
	for (const auto &rel : rels) {
		fs::path host = w.staging / rel;
		if (w.written.count(host) || fs::is_symlink(fs::symlink_status(host, ec)))
			continue;
		if (auto src = source_of(rel, kv, by_role)) {
			try {
				w.written[host] = verify_written(host, src->digest, src->path);
			} catch (const Error &e) {
				throw Error(std::string(e.what()) + (fs::space(w.boot, ec).available < src->digest.size
									 ? "\n" + no_space_message(w)
									 : std::string()) +
					    "\n" + retry_hint(kv));
			}
			log.debug("{}: {} bytes, sha256 {}, as {}", host.string(), src->digest.size, src->digest.sha256,
				  src->path.string());
		}
	}
	std::vector<fs::path> unproven;
	for (const auto &rel : rels)
		if (!w.written.count(w.staging / rel))
			unproven.push_back(w.staging / rel);
	auto sums = sha256_files(unproven, opts.jobs);
	for (std::size_t i = 0; i < unproven.size(); ++i)
		w.written[unproven[i]] = {fs::file_size(unproven[i]), sums[i]};
	for (const auto &rel : rels) {
		const FileDigest &fd = w.written.at(w.staging / rel);
		d.files.push_back({base + "/" + rel, fd.size, fd.sha256});
	}
	std::set<std::string> dirs(j.created_dirs.begin(), j.created_dirs.end());
	// The previous record's directories stay recorded while the new install has files in them;
	// the others are removed after the commit when empty.
	std::vector<std::string> old_dirs;
	if (previous)
		for (const auto &dir : previous->dirs) {
			if (std::any_of(new_paths.begin(), new_paths.end(), [&](const std::string &p) { return p.starts_with(dir + "/"); }))
				dirs.insert(dir);
			else
				old_dirs.push_back(dir);
		}
	// A directory another kernel's install created and this one puts files into (EFI/NAME,
	// TOKEN/): whichever of the two is removed last removes it.
	for (const auto &other : list_installed(root))
		if (other.release != kv)
			for (const auto &dir : other.dirs)
				for (const auto &p : new_paths)
					if (p.starts_with(dir + "/"))
						dirs.insert(dir);
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
			fs::path target = root.path(base + "/" + e.rel, false);
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
	if (!left_behind.empty() || !old_dirs.empty()) {
		// A directory not empty yet (another kernel's file in it) stays this install's to remove
		// once it is.
		auto still = remove_left_behind(root, kv, left_behind, old_dirs, log);
		if (!still.empty()) {
			dirs.insert(still.begin(), still.end());
			d.dirs.assign(dirs.begin(), dirs.end());
			detail::write_record(root, d);
		}
	}
	if (opts.src_symlink)
		update_src_symlink(root, kv, k.variant, log);
	if (choice.layout == Layout::installkernel)
		refresh_version_links(root, kv, d, log);
	if (choice.layout == Layout::efistub)
		detail::register_efistub(root, opts, kv, detail::root_kernel_cmdline(root, log), log);
	// Committed: a postinst hook that fails now leaves the kernel installed (and says so).
	std::string image_inside = "/boot/vmlinuz-" + kv;
	for (const auto &f : d.files)
		if (f.path == "/boot/vmlinux-" + kv || f.path == "/boot/kernel-" + kv)
			image_inside = f.path;
	auto post = detail::run_kernel_hooks(root, plan, "postinst", kv, image_inside, opts, log);
	res.hook_failure = post.failure;
	bool grub_hook = false;
	for (const auto &h : plan.postinst)
		grub_hook = grub_hook || (h.skip.empty() && is_grub_mkconfig_hook(h));
	if (plan.grub && !grub_hook && post.failure.empty())
		detail::run_grub_mkconfig(root, opts, log);
	res.deployment = std::move(d);
	res.plan = std::move(plan);
	res.total_seconds = seconds_since(t_start);
	return res;
}

// The lock file, created inside the root without following a link planted at its name.
constexpr std::string_view lock_inside = "/var/lib/distkernel/lock";

} // namespace

LayoutChoice choose_layout(const Root &root, Layout requested, const InstallConf &conf)
{
	if (requested != Layout::automatic)
		return {requested, "--layout " + std::string(to_string(requested)), {}};
	std::error_code ec;
	fs::path custom = root.path("/usr/local/bin/installkernel");
	if (fs::is_regular_file(custom, ec) && ::access(custom.c_str(), X_OK) == 0)
		return {Layout::custom, custom.string() + " exists and is executable", {}};
	if (conf.layout.set()) {
		const std::string &v = conf.layout.value;
		std::string says = conf.layout.source + " says layout=" + v;
		if (v == "bls")
			return {Layout::bls, says, {}};
		if (v == "compat" || v == "grub" || v == "other")
			return {Layout::installkernel, says + ": the traditional /boot/vmlinuz-KV layout", {}};
		if (v == "uki")
			return {Layout::uki, says + ": a unified kernel image in EFI/Linux of the ESP", {}};
		if (v == "efistub")
			return {Layout::efistub, says + ": the kernel as an EFI program in EFI/NAME of the ESP, booted by a firmware entry", {}};
		return {Layout::installkernel, says,
			says + ", which is none of compat, grub, bls, uki, efistub, other: installing the traditional "
			       "/boot/vmlinuz-KV layout"};
	}
	fs::path entries = root.path("/boot/loader/entries");
	if (fs::is_directory(entries, ec))
		return {Layout::bls, entries.string() + " exists (a Boot Loader Specification boot loader)", {}};
	std::string searched = conf.file.empty() ? "no install.conf" : "no layout= in " + conf.file.string();
	return {Layout::installkernel,
		"no " + custom.string() + ", " + searched + ", no " + entries.string() + ": the traditional /boot/vmlinuz-KV layout",
		{}};
}

LayoutChoice choose_layout(const Root &root, Layout requested)
{
	return choose_layout(root, requested, read_install_conf(root));
}

InstallPlan plan_install(const Root &root, const InstallOptions &opts)
{
	InstallPlan p;
	p.install_conf = read_install_conf(root, opts.install_conf);
	p.layout = choose_layout(root, opts.layout, p.install_conf);
	if (!p.layout.warning.empty())
		p.warnings.push_back(p.layout.warning);
	if (p.layout.layout == Layout::installkernel) {
		p.preinst = find_kernel_hooks(root, "preinst");
		p.postinst = find_kernel_hooks(root, "postinst");
	}
	p.remove = find_kernel_install_plugins(root);
	if (p.layout.layout == Layout::uki || p.layout.layout == Layout::efistub) {
		p.esp = detail::find_esp(root, opts);
		p.esp_target = detail::esp_target(root, p.layout.layout, p.esp.value);
	}
	if (p.layout.layout == Layout::uki) {
		p.efi_stub = detail::efi_stub_setting(root, opts);
		const BootSetting &gen = p.install_conf.uki_generator;
		if (gen.value == "dracut" || gen.value == "ukify")
			p.uki_generator = {gen.value, gen.source + " says uki_generator=" + gen.value};
		else if (gen.value == "none")
			p.uki_generator = {"objcopy", gen.source + " says uki_generator=none (no program of the machine's joins it): "
								  "distkernel joins it with objcopy"};
		else if (gen.set()) {
			p.uki_generator = {"objcopy", gen.source + " says uki_generator=" + gen.value + ", unknown: distkernel joins it with objcopy"};
			p.warnings.push_back(gen.source + " says uki_generator=" + gen.value +
					     ", which is none of dracut, ukify, none: distkernel joins the UKI with objcopy");
		} else
			p.uki_generator = {"objcopy", "the default (no uki_generator= in install.conf): distkernel joins it with objcopy"};
	}
	const KernelHook *grub_hook = nullptr;
	for (const auto &h : p.postinst)
		if (h.skip.empty() && is_grub_mkconfig_hook(h))
			grub_hook = &h;
	if (p.install_conf.layout.value == "grub") {
		p.grub = true;
		p.grub_reason = p.install_conf.layout.source + " says layout=grub: grub-mkconfig -o /boot/grub/grub.cfg after " +
				(grub_hook ? "removals (on install the hook " + grub_hook->path + " runs it)" : "installs and removals");
	} else if (grub_hook) {
		p.grub = true;
		p.grub_reason = "the hook " + grub_hook->path + " regenerates grub.cfg on install: grub-mkconfig after removals too";
	} else {
		p.grub_reason = "not regenerated: no layout=grub and no grub-mkconfig hook";
	}
	const BootSetting &gen = p.install_conf.initrd_generator;
	if (!opts.initramfs)
		p.initramfs = {"none", "--no-initramfs"};
	else if (gen.value == "none")
		p.initramfs = {"none", gen.source + " says initrd_generator=none"};
	else if (gen.value == "dracut")
		p.initramfs = {"dracut", gen.source + " says initrd_generator=dracut"};
	else if (gen.set()) {
		p.initramfs = {"dracut", gen.source + " says initrd_generator=" + gen.value};
		p.warnings.push_back(gen.source + " says initrd_generator=" + gen.value +
				     ": distkernel builds the initramfs with dracut (set initrd_generator=none for no initramfs)");
	} else
		p.initramfs = {"dracut", "the default (no initrd_generator= in install.conf)"};
	if (p.initramfs.value == "none") {
		if (p.uki_generator.value == "dracut")
			p.uki_generator = {"objcopy", p.uki_generator.source + ", but no initramfs is built (" + p.initramfs.source +
							      "): distkernel joins the UKI with objcopy"};
		return p;
	}
	p.dracut_conf = read_dracut_conf(root);
	const BootSetting &user = p.dracut_conf.hostonly;
	if (opts.hostonly) {
		p.hostonly = {"yes", "--hostonly"};
		p.pass_hostonly = true;
	} else if (user.set()) {
		p.hostonly = {user.value == "yes" ? "yes" : "no", user.source + " says hostonly=" + user.value};
	} else {
		p.hostonly = {"no", "the default of a binary package, which must boot any machine: --no-hostonly (no "
				    "hostonly= in the root's dracut.conf or dracut.conf.d)"};
		p.pass_no_hostonly = true;
	}
	if (p.hostonly.value == "yes" && !root.is_live_system())
		p.warnings.push_back("a host-only initramfs under --root " + root.dir().string() + " (" + p.hostonly.source +
				     "): dracut looks at this machine, not at the root");
	// dracut --uefi takes the os-release of the machine it runs on for the UKI's .osrel (dracut 059
	// knows no other source but --sysroot, which would take dracut's modules and every program
	// from the root too): under another root dracut builds the initramfs and distkernel joins
	// the UKI with the root's os-release.
	if (p.uki_generator.value == "dracut" && !root.is_live_system())
		p.uki_generator = {"objcopy", p.uki_generator.source + "; under --root " + root.dir().string() +
						      " dracut --uefi would put the build machine's os-release into the UKI: "
						      "dracut builds the initramfs, distkernel joins the UKI with objcopy and the "
						      "root's os-release"};
	if (p.uki_generator.value != "dracut" && p.dracut_conf.uefi.value == "yes")
		p.pass_no_uefi = true;
	if (!opts.prebuilt_initramfs.empty()) {
		p.prebuilt_refused = prebuilt_initramfs_refusal(root, p, opts, "", {});
		if (p.prebuilt_refused.empty())
			p.initramfs = {"prebuilt", "--prebuilt-initramfs " + opts.prebuilt_initramfs +
							   ": the package's generic initramfs, and nothing on this root asks for another"};
	}
	return p;
}

std::string prebuilt_initramfs_refusal(const Root &root, const InstallPlan &plan, const InstallOptions &opts,
				       const std::string &release, const std::vector<std::string> &staged_files)
{
	if (plan.hostonly.value == "yes")
		return "a host-only initramfs is asked for (" + plan.hostonly.source + ")";
	if (!plan.dracut_conf.first_setting.empty())
		return "the root's dracut configuration sets " + plan.dracut_conf.first_setting;
	if (!opts.dracut_args.empty())
		return "--dracut-arg " + opts.dracut_args.front() + " is given";
	if (plan.uki_generator.value == "dracut")
		return plan.uki_generator.source + ": dracut builds the initramfs and the UKI in one run";
	if (plan.layout.layout == Layout::uki && plan.install_conf.uki_generator.value == "dracut")
		return plan.install_conf.uki_generator.source + " says uki_generator=dracut: dracut builds the initramfs";
	if (release.empty())
		return {};
	// A module the package did not stage: an external module that the generic initramfs lacks.
	std::set<std::string> staged(staged_files.begin(), staged_files.end());
	const std::string inside = "/lib/modules/" + release;
	std::error_code ec;
	fs::recursive_directory_iterator it(root.path(inside), fs::directory_options::none, ec), end;
	for (; !ec && it != end; it.increment(ec)) {
		if (!it->is_regular_file(ec))
			continue;
		const std::string rel = it->path().lexically_relative(root.path(inside)).string();
		if (rel.find(".ko") == std::string::npos)
			continue;
		if (!staged.contains(inside + "/" + rel))
			return "ROOT" + inside + "/" + rel + " is not the package's (an external module, which the generic "
			       "initramfs does not have)";
	}
	return {};
}

void to_json(Json &doc, const InstallPlan &p)
{
	auto setting = [](const BootSetting &s) {
		return s.set() ? Json{{"value", s.value}, {"source", s.source}} : Json(nullptr);
	};
	doc = make_document("distkernel.install-plan", 1, 1);
	Json conf;
	conf["file"] = p.install_conf.file.empty() ? Json(nullptr) : Json(p.install_conf.file.string());
	conf["searched"] = Json::array();
	for (const auto &f : p.install_conf.searched)
		conf["searched"].push_back(f.string());
	conf["layout"] = setting(p.install_conf.layout);
	conf["initrd_generator"] = setting(p.install_conf.initrd_generator);
	conf["uki_generator"] = setting(p.install_conf.uki_generator);
	doc["install_conf"] = conf;
	doc["layout"] = {{"value", p.layout.layout}, {"source", p.layout.reason}};
	doc["esp"] = setting(p.esp);
	doc["esp_target"] = setting(p.esp_target);
	doc["efi_stub"] = setting(p.efi_stub);
	doc["uki_generator"] = setting(p.uki_generator);
	doc["initramfs"] = setting(p.initramfs);
	doc["prebuilt_refused"] = p.prebuilt_refused.empty() ? Json(nullptr) : Json(p.prebuilt_refused);
	doc["hostonly"] = setting(p.hostonly);
	Json dracut;
	dracut["files"] = Json::array();
	for (const auto &f : p.dracut_conf.files)
		dracut["files"].push_back(f.string());
	dracut["hostonly"] = setting(p.dracut_conf.hostonly);
	dracut["uefi"] = setting(p.dracut_conf.uefi);
	doc["dracut_conf"] = dracut;
	doc["dracut_options"] = dracut_options(p);
	Json hooks;
	for (auto [phase, list] :
	     {std::pair{"preinst", &p.preinst}, std::pair{"postinst", &p.postinst}, std::pair{"remove", &p.remove}}) {
		hooks[phase] = Json::array();
		for (const auto &h : *list)
			hooks[phase].push_back({{"name", h.name}, {"path", h.path}, {"action", h.skip.empty() ? "run" : "skip"},
						{"reason", h.skip.empty() ? Json(nullptr) : Json(h.skip)}});
	}
	doc["hooks"] = hooks;
	doc["grub"] = {{"regenerate", p.grub}, {"reason", p.grub_reason}};
	doc["warnings"] = p.warnings;
}

void to_json(Json &doc, const InstallResult &r)
{
	doc = r.deployment;
	doc["layout_reason"] = r.layout_reason;
	doc["initramfs_seconds"] = r.initramfs_seconds;
	doc["installer_seconds"] = r.installer_seconds;
	doc["total_seconds"] = r.total_seconds;
	doc["rolled_back_previous"] = r.rolled_back_previous;
}

Json reinstall_document(const std::vector<InstallResult> &results)
{
	Json doc = make_document("distkernel.reinstall-result", 1, 0);
	doc["kernels"] = results;
	return doc;
}

void require_root(const Root &root)
{
	std::error_code ec;
	if (!fs::is_directory(root.dir(), ec))
		throw Error("the root " + root.dir().string() + " is not a directory: check --root");
}

std::unique_ptr<FileLock> lock_installs(const Root &root, const InstallOptions &opts, const Logger &log)
{
	detail::make_state_dir(root);
	auto until = Clock::now() + std::chrono::seconds(opts.lock_timeout);
	bool said = false;
	for (;;) {
		try {
			return std::make_unique<FileLock>(root, lock_inside);
		} catch (const LockedError &) {
			if (Clock::now() >= until)
				throw LockedError("another distkernel process still holds " + root.path(lock_inside).string() + " after " +
						  std::to_string(opts.lock_timeout) +
						  " s; let it finish (or stop it) and try again, or wait longer with --lock-timeout SECONDS");
			if (!said)
				log.info("waiting for another distkernel process (it holds {}), up to {} s", root.path(lock_inside).string(),
					 opts.lock_timeout);
			said = true;
			::usleep(200 * 1000);
		}
	}
}

void to_json(Json &doc, const RemoveResult &r)
{
	doc = make_document("distkernel.remove-result", 1, 0);
	doc["release"] = r.release;
	doc["removed"] = r.removed;
	doc["kept"] = r.kept;
	doc["pretend"] = r.pretend;
}

InstallResult add(const Root &root, const std::string &release, const InstallOptions &opts, const Logger &log)
{
	validate_release(release);
	std::unique_ptr<FileLock> lock;
	if (!opts.lock_held)
		lock = lock_installs(root, opts, log);
	return add_locked(root, release, opts, log);
}

RemoveResult remove(const Root &root, const std::string &release, const InstallOptions &opts, const Logger &log)
{
	validate_release(release);
	RemoveResult res;
	res.release = release;
	res.pretend = opts.pretend;
	std::unique_ptr<FileLock> lock;
	if (!opts.pretend) {
		if (!opts.lock_held)
			lock = lock_installs(root, opts, log);
		recover(root, log);
	}
	auto d = find_installed(root, release);
	if (!d)
		return res;
	res.was_installed = true;
	// The live system's running kernel is uname -r; a root that describes another machine
	// says which one runs there through opts.running_release (as distkernel-clean does). The
	// root is the live system by what it is, not by how it is spelled: /alias -> / or a bind
	// mount of / is / too.
	bool check_running = is_same_directory(root.dir(), "/") || !opts.running_release.empty();
	if (check_running && release == running_release(opts) && !opts.force)
		throw Error("refusing to remove " + release + ": it is the running kernel (use --force to remove it anyway)");
	const std::set<std::string> shared = files_of_other_kernels(root, release, log);
	// kernel-install's plugins act on the removal first, as kernel-install remove runs them, with
	// the kernel's entry and files still there (an entry, a UKI, the firmware's boot entry, the
	// boot menu, the user's own); then the record's files that remain go.
	std::set<std::string> there;
	for (const auto &f : d->files)
		if (!shared.count(f.path) && exists_nofollow(root.path(f.path, false)))
			there.insert(f.path);
	auto plugins = detail::run_kernel_install_remove(root, release, opts, log);
	for (const auto &f : d->files) {
		if (shared.count(f.path)) {
			res.kept.push_back(f.path);
			continue;
		}
		if (opts.pretend) {
			if (there.count(f.path))
				res.removed.push_back(f.path);
			continue;
		}
		// Only what was there and went counts as removed (by a plugin or here).
		if (root.remove_file(f.path) || (there.count(f.path) && !exists_nofollow(root.path(f.path, false)))) {
			log.verbose("removed {}", root.path(f.path, false).string());
			res.removed.push_back(f.path);
		}
	}
	// The firmware's boot entry of an efistub kernel goes with its files.
	if (d->layout == Layout::efistub)
		detail::unregister_efistub(root, opts, release, opts.pretend, log);
	if (opts.pretend)
		return res;
	remove_empty_dirs(root, d->dirs);
	sync_path(root.path("/boot"));
	std::error_code ec;
	fs::remove(detail::record_path(root, release), ec);
	if (ec)
		throw SystemError("cannot remove " + detail::record_path(root, release).string(), ec.value());
	if (!plugins.failure.empty())
		throw Error(plugins.failure + "\n" + release + "'s files and record are removed; fix the plugin and run the command "
						     "again so that it acts on the removal");
	// GRUB's menu must not list a kernel that is gone (unless a plugin regenerated it just now).
	if (opts.update_boot_menu && !res.removed.empty() && !plugins.grub)
		update_boot_menu(root, opts, log);
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
