// Which kernels to keep and what removing the others frees; then removing them.
#include "distkernel/clean.hpp"
#include "distkernel/error.hpp"
#include "distkernel/install.hpp"
#include "install/hooks_internal.hpp"
#include "sys/text.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <fstream>
#include <map>
#include <iterator>
#include <set>

namespace distkernel {
namespace fs = std::filesystem;

int compare_releases(const std::string &a, const std::string &b)
{
	std::size_t i = 0, j = 0;
	while (i < a.size() && j < b.size()) {
		bool da = std::isdigit(static_cast<unsigned char>(a[i])), db = std::isdigit(static_cast<unsigned char>(b[j]));
		if (da && db) {
			std::size_t ie = i, je = j;
			while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie])))
				++ie;
			while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je])))
				++je;
			std::string na = a.substr(i, ie - i), nb = b.substr(j, je - j);
			na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
			nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
			if (na.size() != nb.size())
				return na.size() < nb.size() ? -1 : 1;
			if (na != nb)
				return na < nb ? -1 : 1;
			i = ie;
			j = je;
		} else {
			if (a[i] != b[j])
				return a[i] < b[j] ? -1 : 1;
			++i;
			++j;
		}
	}
	if (i < a.size() || j < b.size())
		return i < a.size() ? 1 : -1;
	return 0;
}

CleanConfig read_clean_config(const Root &root)
{
	CleanConfig c;
	fs::path file = root.path("/etc/distkernel/clean.conf");
	std::error_code ec;
	if (!fs::exists(file, ec))
		return c;
	c.source = file.string();
	for (const auto &[n, key, value] : text::key_values(read_file(file), file)) {
		if (key == "keep") {
			if (value.empty() || value.size() > 4 || value.find_first_not_of("0123456789") != std::string::npos)
				throw ParseError(file, n, "keep: '" + value + "' is not a number of kernels");
			c.keep = static_cast<unsigned>(std::stoul(value));
			if (c.keep == 0)
				throw ParseError(file, n, "keep: 0 would remove every kernel, the newest too: keep at least 1 "
							  "(distkernel-install remove KV removes one kernel)");
		} else if (key == "pin") {
			if (!is_valid_release(value))
				throw ParseError(file, n, "pin: '" + value + "' is not a kernel release");
			c.pinned.push_back(value);
		} else {
			throw ParseError(file, n, "unknown key '" + key + "' (known: keep, pin)");
		}
	}
	return c;
}

namespace {

std::uint64_t bytes_of(const fs::path &p, bool &is_dir)
{
	std::error_code ec;
	auto st = fs::symlink_status(p, ec);
	is_dir = fs::is_directory(st);
	if (fs::is_regular_file(st))
		return fs::file_size(p, ec);
	if (!is_dir)
		return 0;
	std::uint64_t sum = 0;
	for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
		if (it->is_regular_file(ec) && !it->is_symlink(ec))
			sum += it->file_size(ec);
	return sum;
}

KernelFile file_at(const Root &root, const std::string &inside)
{
	KernelFile f{inside, 0, false};
	f.bytes = bytes_of(root.path(inside, false), f.dir);
	return f;
}

bool present(const Root &root, const std::string &inside)
{
	std::error_code ec;
	return fs::exists(fs::symlink_status(root.path(inside, false), ec));
}

// Host path p strictly below host directory dir (lexically: both are resolved already).
bool strictly_under(const fs::path &p, const fs::path &dir)
{
	fs::path rel = p.lexically_relative(dir);
	return !rel.empty() && rel != "." && *rel.begin() != "..";
}

// Whether inside is a boot file a cleaner may remove: a regular file (or a symlink itself)
// whose resolved place is strictly below the resolved boot directory.
bool removable_boot_file(const Root &root, const std::string &inside, const std::string &boot)
{
	std::error_code ec;
	fs::path p = root.path(inside, false);
	auto st = fs::symlink_status(p, ec);
	return (fs::is_regular_file(st) || fs::is_symlink(st)) && strictly_under(p, root.path(boot));
}

InstalledKernel &entry(std::map<std::string, InstalledKernel> &m, const std::string &kv, const char *layout)
{
	auto [it, added] = m.try_emplace(kv);
	if (added) {
		it->second.release = kv;
		it->second.layout = layout;
	}
	return it->second;
}

void add_file(InstalledKernel &k, KernelFile f)
{
	for (const auto &x : k.boot_files)
		if (x.path == f.path)
			return;
	k.boot_files.push_back(std::move(f));
}

// The state records of distkernel-install, read by the install library itself.
void recorded(const Root &root, std::map<std::string, InstalledKernel> &out, std::vector<std::string> *unreadable)
{
	for (const auto &d : list_installed(root, unreadable)) {
		InstalledKernel &k = entry(out, d.release, "");
		k.by_distkernel = true;
		k.layout = std::string(to_string(d.layout));
		for (const auto &f : d.files)
			add_file(k, KernelFile{f.path, f.size, false});
		k.boot_dirs = d.dirs;
	}
}

std::vector<std::string> boot_roots(const Root &root)
{
	std::vector<std::string> out;
	std::set<fs::path> seen;
	for (const char *d : {"/boot", "/efi", "/boot/efi"}) {
		std::error_code ec;
		fs::path p = root.path(d);
		if (fs::is_directory(p, ec) && seen.insert(p).second)
			out.push_back(d);
	}
	return out;
}

// Plain installkernel files: /boot/vmlinuz-KV and its companions.
void plain(const Root &root, std::map<std::string, InstalledKernel> &out)
{
	for (const auto &n : root.list("/boot")) {
		for (const char *prefix : {"vmlinuz-", "kernel-", "vmlinux-", "bzImage-"}) {
			std::string p = prefix;
			if (!n.starts_with(p))
				continue;
			std::string kv = n.substr(p.size());
			if (kv.size() > 4 && kv.compare(kv.size() - 4, 4, ".old") == 0)
				kv.resize(kv.size() - 4);
			if (!is_valid_release(kv))
				continue;
			InstalledKernel &k = entry(out, kv, "plain");
			for (const std::string &c : {std::string(prefix) + kv, "System.map-" + kv, "config-" + kv, "initramfs-" + kv + ".img",
						     "initrd.img-" + kv, "initrd-" + kv + ".img", "initrd-" + kv})
				for (const char *suffix : {"", ".old"})
					if (present(root, "/boot/" + c + suffix) && !k.by_distkernel)
						add_file(k, file_at(root, "/boot/" + c + suffix));
		}
	}
}

std::string entry_value(const std::string &text, const std::string &key)
{
	for (std::string_view line : text::lines(text)) {
		auto w = text::words(line);
		if (!w.empty() && w[0] == key) {
			line.remove_prefix(static_cast<std::size_t>(w[0].data() + w[0].size() - line.data()));
			return std::string(text::trim(line));
		}
	}
	return {};
}

// BLS type 1 entries: /boot/loader/entries/*.conf with their linux and initrd files.
void bls(const Root &root, std::map<std::string, InstalledKernel> &out)
{
	for (const auto &boot : boot_roots(root)) {
		for (const auto &name : root.list(boot + "/loader/entries")) {
			if (fs::path(name).extension() != ".conf")
				continue;
			std::string text = root.read(boot + "/loader/entries/" + name);
			std::string kv = entry_value(text, "version");
			if (!is_valid_release(kv))
				continue;
			InstalledKernel &k = entry(out, kv, "bls");
			if (k.by_distkernel)
				continue;
			if (k.layout == "plain")
				k.layout = "plain+bls";
			add_file(k, file_at(root, boot + "/loader/entries/" + name));
			for (std::string_view line : text::lines(text)) {
				auto w = text::words(line);
				if (w.size() < 2)
					continue;
				const std::string_view key = w[0];
				const std::string value(w[1]);
				// Only a regular file strictly below this boot directory is a kernel's file:
				// "linux /.." or "linux /somedir" name directories, never to be removed.
				if ((key == "linux" || key == "initrd") && is_plain_path(value) &&
				    removable_boot_file(root, boot + value, boot)) {
					add_file(k, file_at(root, boot + value));
					std::string parent = fs::path(value).parent_path().string();
					std::string dir = boot + parent;
					if (parent != "/" && std::find(k.boot_dirs.begin(), k.boot_dirs.end(), dir) == k.boot_dirs.end())
						k.boot_dirs.push_back(dir);
				}
			}
		}
	}
}

// Unified kernel images: EFI/Linux/TOKEN-KV[+tries].efi; KV is the longest valid tail that
// names a module tree, else what follows the first '-'.
void uki(const Root &root, std::map<std::string, InstalledKernel> &out)
{
	for (const auto &boot : boot_roots(root)) {
		for (const auto &n : root.list(boot + "/EFI/Linux")) {
			if (n.size() < 5 || n.compare(n.size() - 4, 4, ".efi") != 0)
				continue;
			std::string stem = n.substr(0, n.size() - 4);
			if (auto plus = stem.rfind('+'); plus != std::string::npos)
				stem.resize(plus);
			std::string kv;
			for (std::size_t dash = stem.find('-'); dash != std::string::npos; dash = stem.find('-', dash + 1)) {
				std::string tail = stem.substr(dash + 1);
				if (is_valid_release(tail) && (present(root, "/lib/modules/" + tail) || out.count(tail))) {
					kv = tail;
					break;
				}
			}
			if (kv.empty() && stem.find('-') != std::string::npos)
				kv = stem.substr(stem.find('-') + 1);
			if (!is_valid_release(kv))
				continue;
			InstalledKernel &k = entry(out, kv, "uki");
			if (!k.by_distkernel)
				add_file(k, file_at(root, boot + "/EFI/Linux/" + n));
		}
	}
}

void module_trees(const Root &root, std::map<std::string, InstalledKernel> &out)
{
	std::error_code ec;
	for (const auto &e : fs::directory_iterator(root.path("/lib/modules"), ec)) {
		std::string kv = e.path().filename().string();
		if (e.is_directory(ec) && is_valid_release(kv))
			entry(out, kv, "modules-only");
	}
}

// Package ownership from Portage's database (ROOT/var/db/pkg/CAT/PF/CONTENTS): the package
// owning something under each directory that matters.
std::map<std::string, std::string> owners(const Root &root, const std::set<std::string> &dirs)
{
	std::map<std::string, std::string> out;
	for (const auto &cat : root.list("/var/db/pkg")) {
		for (const auto &pkg : root.list("/var/db/pkg/" + cat)) {
			std::ifstream in(root.path("/var/db/pkg/" + cat + "/" + pkg + "/CONTENTS"));
			const std::string contents{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
			for (std::string_view line : text::lines(contents)) {
				auto w = text::words(line);
				if (w.size() < 2)
					continue;
				const std::string path(w[1]);
				for (const auto &d : dirs)
					if ((path == d || path.starts_with(d + "/")) && !out.count(d))
						out[d] = cat + "/" + pkg;
			}
		}
	}
	return out;
}

} // namespace

std::vector<InstalledKernel> find_kernels(const Root &root, std::vector<std::string> *unreadable)
{
	std::map<std::string, InstalledKernel> m;
	recorded(root, m, unreadable);
	plain(root, m);
	bls(root, m);
	uki(root, m);
	module_trees(root, m);
	std::vector<InstalledKernel> out;
	for (auto &[kv, k] : m)
		out.push_back(std::move(k));
	std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return compare_releases(a.release, b.release) > 0; });
	return out;
}

bool CleanPlan::nothing_to_do() const
{
	return std::none_of(kernels.begin(), kernels.end(), [](const CleanDecision &d) { return d.remove; });
}

CleanPlan plan_clean(const Root &root, const CleanOptions &opts, const Logger &log)
{
	for (const auto &p : opts.pinned)
		validate_release(p);
	CleanConfig conf = read_clean_config(root);
	CleanPlan plan;
	plan.keep = opts.keep ? *opts.keep : conf.keep;
	// The newest kernel is what the machine boots next: clean never takes it.
	if (plan.keep == 0)
		throw UsageError("--keep 0 would remove every kernel, the newest too: keep at least 1 "
				 "(distkernel-install remove KV removes one kernel)");
	plan.config = conf.source;
	std::set<std::string> pinned(conf.pinned.begin(), conf.pinned.end());
	pinned.insert(opts.pinned.begin(), opts.pinned.end());
	plan.running = opts.running;
	if (plan.running.empty()) {
		try {
			std::string r = read_file(root.path("/proc/sys/kernel/osrelease"));
			plan.running = r.substr(0, r.find_first_of("\n "));
		} catch (const Error &e) {
			log.warn("the running kernel is unknown ({}): give it with --running KV", e.what());
		}
	}
	log.verbose("keeping the newest {}{}, the running kernel {} and the pinned ones", plan.keep,
		    conf.source.empty() ? "" : " (" + conf.source + ")", plan.running.empty() ? "(unknown)" : plan.running);

	// Newest N among the kernels in scope (distkernel's, or all with --all) that boot: a bare
	// module tree is not a kernel to count. Running and pinned kernels are kept in addition.
	unsigned counted = 0;
	std::vector<std::string> unreadable;
	auto found = find_kernels(root, &unreadable);
	for (const auto &u : unreadable)
		log.warn("{}", u);
	for (auto &k : found) {
		CleanDecision d;
		bool bootable = k.layout != "modules-only";
		bool in_scope = k.by_distkernel || opts.all;
		bool newest = bootable && in_scope && counted < plan.keep;
		if (newest)
			++counted;
		if (k.release == plan.running)
			d.reason = "running";
		else if (pinned.count(k.release))
			d.reason = "pinned";
		else if (newest)
			d.reason = fmt::format("among the newest {}", plan.keep);
		else if (!in_scope)
			d.reason = bootable ? "not installed by distkernel (--all removes it)"
					    : "a module tree without a kernel, not installed by distkernel (--all removes it)";
		else {
			d.remove = true;
			d.reason = bootable ? fmt::format("older than the newest {}", plan.keep) : "a module tree without a kernel";
		}
		d.kernel = std::move(k);
		plan.kernels.push_back(std::move(d));
	}

	// What the kept kernels use stays, whatever the removed ones list.
	std::set<std::string> kept_paths;
	for (const auto &d : plan.kernels)
		if (!d.remove) {
			for (const auto &f : d.kernel.boot_files)
				kept_paths.insert(f.path);
			kept_paths.insert("/lib/modules/" + d.kernel.release);
			kept_paths.insert("/usr/src/linux-" + d.kernel.release);
		}
	std::set<std::string> leftover_dirs;
	for (const auto &d : plan.kernels)
		if (d.remove)
			for (const std::string &p : {"/lib/modules/" + d.kernel.release, "/usr/src/linux-" + d.kernel.release})
				leftover_dirs.insert(p);
	auto owner = owners(root, leftover_dirs);
	for (auto &d : plan.kernels) {
		if (!d.remove)
			continue;
		for (const auto &f : d.kernel.boot_files) {
			if (kept_paths.count(f.path)) {
				d.notes.push_back(f.path + " is also used by a kept kernel: kept");
				continue;
			}
			if (!present(root, f.path))
				continue;
			KernelFile real = file_at(root, f.path);
			if (real.dir || !is_plain_path(f.path) ||
			    !(removable_boot_file(root, f.path, "/boot") || removable_boot_file(root, f.path, "/efi"))) {
				d.notes.push_back(f.path + " is not a file: kept");
				continue;
			}
			d.files.push_back(real);
		}
		for (const std::string &p : {"/lib/modules/" + d.kernel.release, "/usr/src/linux-" + d.kernel.release}) {
			if (!present(root, p))
				continue;
			if (auto o = owner.find(p); o != owner.end()) {
				d.notes.push_back(fmt::format("{} is owned by {}: kept (unmerge the package to remove it)", p, o->second));
				continue;
			}
			d.files.push_back(file_at(root, p));
		}
		for (const auto &f : d.files)
			d.bytes += f.bytes;
		plan.bytes += d.bytes;
	}
	return plan;
}

namespace {

// The last guard before anything is removed: a file strictly below its place, a directory only
// where the project puts kernels' trees (/lib/modules/KV, /usr/src/linux-KV), and never the
// root, nor a parent of anything a kept kernel uses.
void check_removable(const Root &root, const KernelFile &f, const fs::path &p, const std::vector<fs::path> &kept)
{
	bool ok;
	if (f.dir) {
		const std::string rel = f.path.rfind("/lib/modules/", 0) == 0 ? f.path.substr(13)
					: f.path.rfind("/usr/src/linux-", 0) == 0 ? f.path.substr(15)
										  : std::string();
		const char *parent = f.path.rfind("/lib/modules/", 0) == 0 ? "/lib/modules" : "/usr/src";
		ok = is_valid_release(rel) && strictly_under(p, root.path(parent));
	} else {
		std::error_code ec;
		ok = strictly_under(p, root.dir()) && !fs::is_directory(fs::symlink_status(p, ec));
	}
	for (const auto &k : kept)
		if (k == p || strictly_under(k, p))
			ok = false;
	if (!ok || p == root.dir())
		throw Error("refusing to remove " + p.string() + " (" + f.path + "): not a file or kernel tree of its own, or a kept kernel uses what is under it");
}

} // namespace

std::vector<std::string> execute_clean(const Root &root, CleanPlan &plan, KernelRemover &remover, const Logger &log)
{
	std::vector<std::string> removed;
	// What the kept kernels use, resolved: nothing removed may be it or contain it.
	std::vector<fs::path> kept;
	for (const auto &d : plan.kernels)
		if (!d.remove) {
			for (const auto &f : d.kernel.boot_files)
				if (is_plain_path(f.path))
					kept.push_back(root.path(f.path, false));
			for (const std::string &p : {"/lib/modules/" + d.kernel.release, "/usr/src/linux-" + d.kernel.release})
				kept.push_back(root.path(p, false));
		}
	for (const auto &d : plan.kernels) {
		if (!d.remove)
			continue;
		log.step("removing {} ({})", d.kernel.release, d.reason);
		std::set<std::string> done;
		if (d.kernel.by_distkernel)
			for (auto &p : remover.remove(root, d.kernel.release, log))
				done.insert(p);
		// Another kernel's plugins act on its removal with its files still there, as for
		// distkernel's own; what was there and a plugin took counts as removed.
		std::set<std::string> there;
		std::string plugin_failure;
		if (!d.kernel.by_distkernel && d.kernel.layout != "modules-only") {
			for (const auto &f : d.files)
				if (present(root, f.path))
					there.insert(f.path);
			plugin_failure = remover.tell_plugins(root, d.kernel.release, log);
		}
		for (const auto &f : d.files) {
			if (done.count(f.path))
				continue;
			if (there.count(f.path) && !present(root, f.path)) {
				log.verbose("removed {} (by a plugin)", root.path(f.path, false).string());
				done.insert(f.path);
				continue;
			}
			std::error_code ec;
			fs::path p = root.path(f.path, false);
			check_removable(root, f, p, kept);
			bool gone = f.dir ? fs::remove_all(p, ec) > 0 : fs::remove(p, ec);
			if (ec)
				throw SystemError("cannot remove " + p.string(), ec.value());
			if (!gone)
				continue;
			log.verbose("removed {}", p.string());
			done.insert(f.path);
		}
		if (!d.kernel.by_distkernel) {
			std::vector<std::string> dirs = d.kernel.boot_dirs;
			std::sort(dirs.rbegin(), dirs.rend());
			for (const auto &dir : dirs) {
				std::error_code ec;
				if (!is_plain_path(dir))
					continue;
				fs::path p = root.path(dir, false);
				if (!strictly_under(p, root.path("/boot")) && !strictly_under(p, root.path("/efi")))
					continue;
				if (fs::is_directory(fs::symlink_status(p, ec)) && fs::is_empty(p, ec) && fs::remove(p, ec))
					done.insert(dir);
			}
		}
		removed.insert(removed.end(), done.begin(), done.end());
		if (!plugin_failure.empty())
			throw Error(plugin_failure + "\n" + d.kernel.release + "'s files are removed; fix the plugin and run that "
									"command so that it acts on the removal");
	}
	sync_path(root.path("/boot"));
	plan.carried_out = true;
	return removed;
}

namespace {

class InstallRemover : public KernelRemover {
public:
	InstallRemover(std::string running, InstallOptions base) : running_(std::move(running)), base_(std::move(base)) {}
	std::vector<std::string> remove(const Root &root, const std::string &release, const Logger &log) override
	{
		InstallOptions o = base_;
		o.running_release = running_;
		// distkernel-clean holds the lock for the whole run and regenerates the boot menu once.
		o.lock_held = true;
		o.update_boot_menu = false;
		RemoveResult r = distkernel::remove(root, release, o, log);
		return r.removed;
	}
	std::string tell_plugins(const Root &root, const std::string &release, const Logger &log) override
	{
		return detail::run_kernel_install_remove(root, release, base_, log).failure;
	}

private:
	std::string running_;
	InstallOptions base_;
};

} // namespace

std::unique_ptr<KernelRemover> install_remover(const std::string &running, const InstallOptions &opts)
{
	return std::make_unique<InstallRemover>(running, opts);
}

void to_json(Json &j, const CleanPlan &plan)
{
	j = make_document("distkernel.clean", 1, 0);
	j["pretend"] = !plan.carried_out;
	j["keep"] = plan.keep;
	j["running"] = plan.running;
	j["config"] = plan.config;
	j["kernels"] = Json::array();
	for (const auto &d : plan.kernels) {
		Json k;
		k["release"] = d.kernel.release;
		k["installed_by_distkernel"] = d.kernel.by_distkernel;
		k["layout"] = d.kernel.layout;
		k["action"] = d.remove ? "remove" : "keep";
		k["reason"] = d.reason;
		k["files"] = Json::array();
		for (const auto &f : d.files)
			k["files"].push_back({{"path", f.path}, {"bytes", f.bytes}, {"dir", f.dir}});
		k["notes"] = d.notes;
		k["bytes"] = d.bytes;
		j["kernels"].push_back(k);
	}
	j["bytes_freed"] = plan.bytes;
}

std::string CleanPlan::to_text() const
{
	const bool pretend = !carried_out;
	std::string out;
	for (const auto &d : kernels) {
		out += fmt::format("{} {} ({}{}): {}\n", d.remove ? (pretend ? "would remove" : "remove") : "keep", d.kernel.release,
				   d.kernel.layout.empty() ? "" : d.kernel.layout + ", ",
				   d.kernel.by_distkernel ? "installed by distkernel" : "not installed by distkernel", d.reason);
		for (const auto &f : d.files)
			out += fmt::format("  {}{} ({} bytes)\n", f.path, f.dir ? "/" : "", f.bytes);
		for (const auto &n : d.notes)
			out += "  note: " + n + "\n";
	}
	out += fmt::format("{} bytes {}\n", bytes, pretend ? "would be freed" : "freed");
	return out;
}

} // namespace distkernel
