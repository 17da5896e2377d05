// The state of installs under ROOT/var/lib/distkernel: one record per installed kernel
// (kernels/KV.json, schema distkernel.deployment) and the journal of an install in progress.
#include "distkernel/error.hpp"
#include "distkernel/install.hpp"
#include "install/install_internal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace distkernel {
namespace fs = std::filesystem;

Layout parse_layout(std::string_view name)
{
	if (auto l = enum_from_name<Layout>(name))
		return *l;
	throw UsageError("unknown layout '" + std::string(name) + "': use auto, installkernel, bls, custom, uki or efistub");
}

std::string to_string(Layout l)
{
	return enum_name(l);
}

void to_json(Json &doc, const Deployment &d)
{
	doc = make_document(deployment_schema, deployment_major, deployment_minor);
	doc["release"] = d.release;
	doc["variant"] = d.variant;
	doc["layout"] = d.layout;
	doc["time"] = d.time;
	doc["initramfs"] = d.initramfs;
	doc["hostonly"] = d.hostonly;
	doc["dracut_args"] = d.dracut_args;
	doc["prebuilt_initramfs"] = d.prebuilt_initramfs;
	Json f = Json::array();
	for (const auto &x : d.files)
		f.push_back({{"path", x.path}, {"size", x.size}, {"sha256", x.sha256}});
	doc["files"] = std::move(f);
	doc["dirs"] = d.dirs;
}

Json installed_document(const std::vector<Deployment> &deployments)
{
	Json doc = make_document("distkernel.installed", 1, 0);
	doc["kernels"] = deployments;
	return doc;
}

namespace {

// A record's fields are read one by one so that a wrong one is named: "record R: field
// 'files[2].size': expected a number, got a string".
std::string kind_of(const Json &j)
{
	if (j.is_string())
		return "a string";
	if (j.is_boolean())
		return "a boolean";
	if (j.is_number())
		return "a number";
	if (j.is_array())
		return "an array";
	if (j.is_object())
		return "an object";
	return "null";
}

// The largest file a record may list: far above any kernel or initramfs, far below where a
// size stops being a number of bytes.
constexpr std::uint64_t max_recorded_size = std::uint64_t(1) << 40;

struct RecordReader {
	const std::string &source;

	[[noreturn]] void fail(const std::string &field, const std::string &what) const
	{
		throw Error("record " + source + ": field '" + field + "': " + what);
	}
	const Json &at(const Json &obj, const std::string &key, const std::string &name) const
	{
		if (!obj.is_object() || !obj.contains(key))
			fail(name, "missing");
		return obj[key];
	}
	std::string string(const Json &j, const std::string &name) const
	{
		if (!j.is_string())
			fail(name, "expected a string, got " + kind_of(j));
		return j.get<std::string>();
	}
	bool boolean(const Json &j, const std::string &name) const
	{
		if (!j.is_boolean())
			fail(name, "expected a boolean, got " + kind_of(j));
		return j.get<bool>();
	}
	std::uint64_t size(const Json &j, const std::string &name) const
	{
		if (!j.is_number())
			fail(name, "expected a number, got " + kind_of(j));
		if (!j.is_number_unsigned() || j.get<std::uint64_t>() > max_recorded_size)
			fail(name, j.dump() + " is not a file size (0 to " + std::to_string(max_recorded_size) + " bytes)");
		return j.get<std::uint64_t>();
	}
	const Json &array(const Json &j, const std::string &name) const
	{
		if (!j.is_array())
			fail(name, "expected an array, got " + kind_of(j));
		return j;
	}
	std::vector<std::string> strings(const Json &j, const std::string &name) const
	{
		std::vector<std::string> out;
		std::size_t i = 0;
		for (const auto &x : array(j, name))
			out.push_back(string(x, name + "[" + std::to_string(i++) + "]"));
		return out;
	}
	// A path the record's remove will delete: plain names strictly below /boot or /efi (the ESP
	// where it is not /boot or /boot/efi).
	std::string boot_path(const Json &j, const std::string &name) const
	{
		std::string p = string(j, name);
		if (!is_plain_path_under(p, "/boot") && !is_plain_path_under(p, "/efi"))
			fail(name, "'" + p + "' is not a path strictly below /boot or /efi made of plain names");
		return p;
	}
};

} // namespace

Deployment Deployment::from_json(const Json &doc, const std::string &source)
{
	check_document(doc, deployment_schema, deployment_major, source);
	RecordReader r{source};
	Deployment d;
	d.release = r.string(r.at(doc, "release", "release"), "release");
	if (!is_valid_release(d.release))
		r.fail("release", "invalid release '" + d.release + "'");
	if (doc.contains("variant"))
		d.variant = r.string(doc["variant"], "variant");
	try {
		d.layout = parse_layout(r.string(r.at(doc, "layout", "layout"), "layout"));
	} catch (const UsageError &e) {
		r.fail("layout", e.what());
	}
	if (doc.contains("time"))
		d.time = r.string(doc["time"], "time");
	if (doc.contains("initramfs"))
		d.initramfs = r.boolean(doc["initramfs"], "initramfs");
	if (doc.contains("hostonly"))
		d.hostonly = r.boolean(doc["hostonly"], "hostonly");
	if (doc.contains("dracut_args"))
		d.dracut_args = r.strings(doc["dracut_args"], "dracut_args");
	if (doc.contains("prebuilt_initramfs"))
		d.prebuilt_initramfs = r.boolean(doc["prebuilt_initramfs"], "prebuilt_initramfs");
	std::size_t i = 0;
	for (const auto &f : r.array(r.at(doc, "files", "files"), "files")) {
		const std::string n = "files[" + std::to_string(i++) + "]";
		d.files.push_back({r.boot_path(r.at(f, "path", n + ".path"), n + ".path"), r.size(r.at(f, "size", n + ".size"), n + ".size"),
				   r.string(r.at(f, "sha256", n + ".sha256"), n + ".sha256")});
	}
	if (doc.contains("dirs")) {
		i = 0;
		for (const auto &x : r.array(doc["dirs"], "dirs")) {
			const std::string n = "dirs[" + std::to_string(i++) + "]";
			d.dirs.push_back(r.boot_path(x, n));
		}
	}
	return d;
}

fs::path state_dir(const Root &root)
{
	return root.path("/var/lib/distkernel");
}

namespace detail {

fs::path make_state_dir(const Root &root)
{
	root.make_dirs("/var/lib/distkernel/kernels");
	return state_dir(root);
}

fs::path record_path(const Root &root, const std::string &release)
{
	return root.path("/var/lib/distkernel/kernels/" + release + ".json");
}

void write_record(const Root &root, const Deployment &d)
{
	make_state_dir(root);
	atomic_write(record_path(root, d.release), Json(d).dump(1) + "\n");
}

} // namespace detail

namespace {

// A record is named after its release: one that says another release would make remove
// delete that kernel's files under this one's name.
Deployment read_record(const fs::path &file, const std::string &release)
{
	Deployment d = Deployment::from_json(read_document(file, deployment_schema, deployment_major), file.string());
	if (d.release != release)
		throw Error("record " + file.string() + ": field 'release': '" + d.release + "' differs from its file name (" +
			    release + ".json); move it to " + d.release + ".json or delete it");
	return d;
}

} // namespace

std::optional<Deployment> find_installed(const Root &root, const std::string &release)
{
	validate_release(release);
	fs::path f = detail::record_path(root, release);
	std::error_code ec;
	if (!fs::exists(f, ec))
		return std::nullopt;
	return read_record(f, release);
}

std::vector<Deployment> list_installed(const Root &root)
{
	return list_installed(root, nullptr);
}

std::vector<Deployment> list_installed(const Root &root, std::vector<std::string> *unreadable)
{
	std::vector<Deployment> out;
	// No state directory: nothing was ever installed, and a read creates nothing (list finds
	// no directory and returns nothing).
	for (const auto &name : root.list("/var/lib/distkernel/kernels")) {
		if (name.size() <= 5 || !name.ends_with(".json") || name.front() == '.')
			continue;
		const std::string kv = name.substr(0, name.size() - 5);
		const fs::path file = root.path("/var/lib/distkernel/kernels/" + name);
		try {
			out.push_back(read_record(file, kv));
		} catch (const Error &e) {
			if (!unreadable)
				throw;
			unreadable->push_back(std::string(e.what()) + "\n  skipped: fix " + file.string() + ", or move it away (" + kv +
					      "'s files stay in /boot until `distkernel-install add " + kv + "` records them again)");
		}
	}
	std::sort(out.begin(), out.end(), [](const Deployment &a, const Deployment &b) {
		return a.time != b.time ? a.time > b.time : a.release > b.release;
	});
	return out;
}

namespace detail {

fs::path journal_path(const Root &root)
{
	return root.path("/var/lib/distkernel/journal.json");
}

Json Journal::to_json() const
{
	Json doc = make_document("distkernel.journal", 1, 0);
	doc["release"] = release;
	doc["boot"] = boot;
	doc["staging"] = staging;
	doc["backup"] = backup;
	Json e = Json::array();
	for (const auto &x : entries)
		e.push_back({{"path", x.rel}, {"op", x.remove ? "remove" : "new"}});
	doc["entries"] = std::move(e);
	doc["created_dirs"] = created_dirs;
	doc["previous_record"] = previous_record;
	return doc;
}

Journal Journal::from_json(const Json &doc, const std::string &source)
{
	check_document(doc, "distkernel.journal", 1, source);
	Journal j;
	try {
		j.release = doc.at("release").get<std::string>();
		j.boot = doc.at("boot").get<std::string>();
		j.staging = doc.at("staging").get<std::string>();
		j.backup = doc.at("backup").get<std::string>();
		for (const auto &e : doc.at("entries"))
			j.entries.push_back({e.at("path").get<std::string>(), e.at("op").get<std::string>() == "remove"});
		j.created_dirs = doc.at("created_dirs").get<std::vector<std::string>>();
		j.previous_record = doc.at("previous_record");
	} catch (const Json::exception &e) {
		throw Error(source + ": not a valid journal: " + e.what());
	}
	for (const auto &e : j.entries)
		if (!is_plain_path("/" + e.rel))
			throw Error(source + ": bad path '" + e.rel + "'");
	if ((j.boot != "/boot" && j.boot != "/efi" && j.boot != "/boot/efi") || !is_plain_path_under(j.staging, j.boot) ||
	    !is_plain_path_under(j.backup, j.boot))
		throw Error(source + ": boot must be /boot, /efi or /boot/efi, staging and backup directories below it");
	for (const auto &d : j.created_dirs)
		if (!is_plain_path_under(d, j.boot))
			throw Error(source + ": bad directory '" + d + "'");
	return j;
}

void roll_back(const Root &root, const Journal &j, const Logger &log)
{
	fs::path boot = root.path(j.boot);
	std::error_code ec;
	// Reverse order: the last rename is undone first. Each path is resolved inside the root,
	// never joined below a resolved one.
	for (auto it = j.entries.rbegin(); it != j.entries.rend(); ++it) {
		fs::path target = root.path(j.boot + "/" + it->rel, false);
		fs::path saved = root.path(j.backup + "/" + it->rel, false);
		fs::path staged = root.path(j.staging + "/" + it->rel, false);
		if (fs::exists(fs::symlink_status(saved, ec))) {
			if (::rename(saved.c_str(), target.c_str()) != 0)
				throw SystemError("cannot restore " + target.string() + " from " + saved.string(), errno);
			log.verbose("restored {}", target.string());
		} else if (!it->remove && !fs::exists(fs::symlink_status(staged, ec)) &&
			   fs::exists(fs::symlink_status(target, ec))) {
			// Moved into place from the staging directory and nothing was there before.
			fs::remove(target, ec);
			log.verbose("removed {}", target.string());
		}
	}
	std::vector<std::string> dirs = j.created_dirs;
	std::sort(dirs.rbegin(), dirs.rend()); // deepest first
	for (const auto &d : dirs) {
		fs::path p = root.path(d, false);
		if (fs::is_directory(fs::symlink_status(p, ec)) && fs::is_empty(p, ec))
			fs::remove(p, ec);
	}
	if (j.previous_record.is_null())
		fs::remove(record_path(root, j.release), ec);
	else
		atomic_write(record_path(root, j.release), j.previous_record.dump(1) + "\n");
	sync_path(boot);
}

// Private directories of a past run (.distkernel-new-KV, .distkernel-old-KV) that no journal
// refers to any more: leftovers of a run killed before its journal existed or after its commit.
void remove_leftovers(const Root &root, const Logger &log)
{
	std::error_code ec;
	std::vector<fs::path> stale;
	for (const char *base : {"/boot", "/efi", "/boot/efi"}) {
		fs::path boot = root.path(base);
		if (!fs::is_directory(boot, ec))
			continue;
		for (const auto &e : fs::directory_iterator(boot, ec)) {
			const std::string n = e.path().filename().string();
			if (n.starts_with(".distkernel-new-") || n.starts_with(".distkernel-old-"))
				stale.push_back(e.path());
		}
	}
	for (const auto &p : stale) {
		log.verbose("removing the leftover {}", p.string());
		fs::remove_all(p, ec);
	}
}

} // namespace detail

std::string interrupted_install(const Root &root)
{
	fs::path jf = detail::journal_path(root);
	std::error_code ec;
	if (!fs::exists(jf, ec))
		return {};
	try {
		return detail::Journal::from_json(read_document(jf, "distkernel.journal", 1), jf.string()).release;
	} catch (const Error &e) {
		return "(unreadable journal: " + std::string(e.what()) + ")";
	}
}

bool recover(const Root &root, const Logger &log)
{
	fs::path jf = detail::journal_path(root);
	std::error_code ec;
	bool had = fs::exists(jf, ec);
	if (had) {
		detail::Journal j = detail::Journal::from_json(read_document(jf, "distkernel.journal", 1), jf.string());
		log.warn("an install of {} was interrupted (journal {}): rolling it back", j.release, jf.string());
		detail::roll_back(root, j, log);
		fs::remove(jf, ec);
		sync_path(jf.parent_path());
	}
	detail::remove_leftovers(root, log);
	return had;
}

} // namespace distkernel
