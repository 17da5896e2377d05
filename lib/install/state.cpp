// The state of installs under ROOT/var/lib/distkernel: one record per installed kernel
// (kernels/KV.json, schema distkernel.deployment) and the journal of an install in progress.
#include "distkernel/error.hpp"
#include "distkernel/install.hpp"
#include "install_internal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace distkernel {
namespace fs = std::filesystem;

Layout parse_layout(std::string_view name)
{
	if (name == "auto")
		return Layout::automatic;
	if (name == "installkernel")
		return Layout::installkernel;
	if (name == "bls")
		return Layout::bls;
	if (name == "custom")
		return Layout::custom;
	throw UsageError("unknown layout '" + std::string(name) + "': use auto, installkernel, bls or custom");
}

std::string_view to_string(Layout l) noexcept
{
	switch (l) {
	case Layout::automatic: return "auto";
	case Layout::installkernel: return "installkernel";
	case Layout::bls: return "bls";
	case Layout::custom: return "custom";
	}
	return "auto";
}

Json Deployment::to_json() const
{
	Json doc = make_document(deployment_schema, deployment_major, deployment_minor);
	doc["release"] = release;
	doc["variant"] = variant;
	doc["layout"] = std::string(to_string(layout));
	doc["time"] = time;
	doc["initramfs"] = initramfs;
	doc["hostonly"] = hostonly;
	doc["dracut_args"] = dracut_args;
	Json f = Json::array();
	for (const auto &x : files)
		f.push_back({{"path", x.path}, {"size", x.size}, {"sha256", x.sha256}});
	doc["files"] = std::move(f);
	doc["dirs"] = dirs;
	return doc;
}

Deployment Deployment::from_json(const Json &doc, const std::string &source)
{
	check_document(doc, deployment_schema, deployment_major, source);
	Deployment d;
	try {
		d.release = doc.at("release").get<std::string>();
		d.variant = doc.value("variant", "");
		d.layout = parse_layout(doc.at("layout").get<std::string>());
		d.time = doc.value("time", "");
		d.initramfs = doc.value("initramfs", false);
		d.hostonly = doc.value("hostonly", false);
		if (doc.contains("dracut_args"))
			d.dracut_args = doc["dracut_args"].get<std::vector<std::string>>();
		for (const auto &f : doc.at("files"))
			d.files.push_back({f.at("path").get<std::string>(), f.at("size").get<std::uint64_t>(),
					   f.at("sha256").get<std::string>()});
		if (doc.contains("dirs"))
			d.dirs = doc["dirs"].get<std::vector<std::string>>();
	} catch (const Json::exception &e) {
		throw Error(source + ": not a valid deployment record: " + e.what());
	} catch (const UsageError &e) {
		throw Error(source + ": " + e.what());
	}
	if (!is_valid_release(d.release))
		throw Error(source + ": invalid release '" + d.release + "'");
	for (const auto &f : d.files)
		if (!f.path.starts_with("/boot/") || f.path.find("/../") != std::string::npos)
			throw Error(source + ": path outside /boot: '" + f.path + "'");
	return d;
}

fs::path state_dir(const Root &root)
{
	return root.path("/var/lib/distkernel");
}

namespace detail {

fs::path make_state_dir(const Root &root)
{
	fs::path d = state_dir(root);
	std::error_code ec;
	fs::create_directories(d / "kernels", ec);
	if (ec)
		throw SystemError("cannot create " + (d / "kernels").string(), ec.value());
	return d;
}

fs::path record_path(const Root &root, const std::string &release)
{
	return state_dir(root) / "kernels" / (release + ".json");
}

void write_record(const Root &root, const Deployment &d)
{
	make_state_dir(root);
	atomic_write(record_path(root, d.release), d.to_json().dump(1) + "\n");
}

} // namespace detail

std::optional<Deployment> find_installed(const Root &root, const std::string &release)
{
	validate_release(release);
	fs::path f = detail::record_path(root, release);
	std::error_code ec;
	if (!fs::exists(f, ec))
		return std::nullopt;
	return Deployment::from_json(read_document(f, deployment_schema, deployment_major), f.string());
}

std::vector<Deployment> list_installed(const Root &root)
{
	std::vector<Deployment> out;
	fs::path dir = state_dir(root) / "kernels";
	std::error_code ec;
	// No state directory: nothing was ever installed, and a read creates nothing.
	if (!fs::exists(dir, ec) && !ec)
		return out;
	for (const auto &e : fs::directory_iterator(dir, ec)) {
		if (e.path().extension() != ".json" || e.path().filename().string().front() == '.')
			continue;
		out.push_back(Deployment::from_json(read_document(e.path(), deployment_schema, deployment_major),
						    e.path().string()));
	}
	if (ec)
		throw SystemError("cannot list " + dir.string(), ec.value());
	std::sort(out.begin(), out.end(), [](const Deployment &a, const Deployment &b) {
		return a.time != b.time ? a.time > b.time : a.release > b.release;
	});
	return out;
}

namespace detail {

fs::path journal_path(const Root &root)
{
	return state_dir(root) / "journal.json";
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
		if (e.rel.empty() || e.rel.front() == '/' || e.rel.find("..") != std::string::npos)
			throw Error(source + ": bad path '" + e.rel + "'");
	return j;
}

void roll_back(const Root &root, const Journal &j, const Logger &log)
{
	fs::path boot = root.path(j.boot);
	fs::path staging = root.path(j.staging);
	fs::path backup = root.path(j.backup);
	std::error_code ec;
	// Reverse order: the last rename is undone first.
	for (auto it = j.entries.rbegin(); it != j.entries.rend(); ++it) {
		fs::path target = boot / it->rel;
		fs::path saved = backup / it->rel;
		if (fs::exists(fs::symlink_status(saved, ec))) {
			if (::rename(saved.c_str(), target.c_str()) != 0)
				throw SystemError("cannot restore " + target.string() + " from " + saved.string(), errno);
			log.verbose("restored {}", target.string());
		} else if (!it->remove && !fs::exists(fs::symlink_status(staging / it->rel, ec)) &&
			   fs::exists(fs::symlink_status(target, ec))) {
			// Moved into place from the staging directory and nothing was there before.
			fs::remove(target, ec);
			log.verbose("removed {}", target.string());
		}
	}
	std::vector<std::string> dirs = j.created_dirs;
	std::sort(dirs.rbegin(), dirs.rend()); // deepest first
	for (const auto &d : dirs) {
		fs::path p = root.path(d);
		if (fs::is_directory(p, ec) && fs::is_empty(p, ec))
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
	fs::path boot = root.path("/boot");
	std::error_code ec;
	if (!fs::is_directory(boot, ec))
		return;
	std::vector<fs::path> stale;
	for (const auto &e : fs::directory_iterator(boot, ec)) {
		const std::string n = e.path().filename().string();
		if (n.starts_with(".distkernel-new-") || n.starts_with(".distkernel-old-"))
			stale.push_back(e.path());
	}
	for (const auto &p : stale) {
		log.verbose("removing the leftover {}", p.string());
		fs::remove_all(p, ec);
	}
}

} // namespace detail

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
