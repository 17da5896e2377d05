// Staging a kernel into a destination root, from a kernel build or from an already-built kernel.
#include "distkernel/error.hpp"
#include "sys/dirs.hpp"
#include "distkernel/quote.hpp"
#include "distkernel/process.hpp"
#include "distkernel/stage.hpp"
#include "stage/parallel.hpp"

#include <algorithm>
#include <chrono>

namespace distkernel {
namespace fs = std::filesystem;

ModuleCompression parse_module_compression(std::string_view name)
{
	if (auto c = enum_from_name<ModuleCompression>(name))
		return *c;
	throw UsageError("unknown module compression '" + std::string(name) + "': use zstd, xz, gzip or none");
}

std::string to_string(ModuleCompression c)
{
	return enum_name(c);
}

void to_json(Json &doc, const StageResult &r)
{
	doc = make_document("distkernel.stage-result", 1, 0);
	doc["release"] = r.release;
	doc["manifest"] = r.manifest.string();
	doc["files"] = r.files;
	doc["bytes"] = r.bytes;
	doc["hash_seconds"] = r.hash_seconds;
}

namespace {

void check_relative(const std::string &rel, const char *what)
{
	fs::path p(rel);
	if (rel.empty() || p.is_absolute())
		throw UsageError(std::string(what) + " must be a relative in-tree path: '" + rel + "'");
	for (const auto &c : p)
		if (c == "..")
			throw UsageError(std::string(what) + " may not contain '..': '" + rel + "'");
}

void stage_file(const fs::path &from, const fs::path &to)
{
	make_dirs(to.parent_path());
	std::error_code ec;
	fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
	if (ec)
		throw SystemError("cannot copy " + from.string() + " to " + to.string(), ec.value());
}

void make_symlink(const fs::path &target, const fs::path &link)
{
	std::error_code ec;
	fs::remove(link, ec);
	fs::create_symlink(target, link, ec);
	if (ec)
		throw SystemError("cannot create the symlink " + link.string() + " -> " + target.string(), ec.value());
}

// The staged trees of one release, removed again when staging fails half-way, so that a bad
// input leaves nothing half-written in the destination.
class StagedDirs {
public:
	// Both trees resolved inside the destination: a link there (DEST/lib/modules -> /elsewhere)
	// leads inside DEST, never to the host. make, depmod and the copies then write below
	// these host paths, which must therefore be what the host's own resolution gives too.
	StagedDirs(const fs::path &dest, const std::string &kv)
	{
		Root root(dest);
		for (auto [in, out] : {std::pair{"/usr/src/linux-" + kv, &src_}, std::pair{"/lib/modules/" + kv, &mod_}}) {
			std::error_code ec;
			if (fs::exists(fs::symlink_status(root.path(in, false), ec)))
				throw Error(root.path(in, false).string() + " already exists: stage into an empty destination");
			fs::path resolved = root.path(in);
			if (fs::weakly_canonical(resolved, ec) != fs::weakly_canonical(root.dir() / fs::path(in).relative_path(), ec))
				throw Error(root.dir().string() + in + " leads outside " + root.dir().string() +
					    " through a symbolic link: stage into a destination without links out of it");
			root.make_dirs(fs::path(in).parent_path().string());
			*out = resolved;
		}
	}
	~StagedDirs()
	{
		if (done_)
			return;
		std::error_code ec;
		fs::remove_all(src_, ec);
		fs::remove_all(mod_, ec);
	}
	void done() { done_ = true; }
	const fs::path &src() const { return src_; }
	const fs::path &mod() const { return mod_; }

private:
	fs::path src_, mod_;
	bool done_ = false;
};

std::vector<fs::path> find_modules(const fs::path &dir)
{
	std::vector<fs::path> out;
	std::error_code ec;
	for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
	     it.increment(ec))
		if (it->is_regular_file() && it->path().filename().string().ends_with(".ko"))
			out.push_back(it->path());
	if (ec)
		throw SystemError("cannot list " + dir.string(), ec.value());
	std::sort(out.begin(), out.end());
	return out;
}

void compress_modules(const fs::path &moddir, ModuleCompression c, const Logger &log)
{
	if (c == ModuleCompression::none)
		return;
	auto modules = find_modules(moddir);
	log.step("compressing {} modules with {} in {}", modules.size(), to_string(c), moddir.string());
	std::vector<std::string> base;
	switch (c) {
	case ModuleCompression::zstd: base = {"zstd", "-q", "--rm", "-T1"}; break;
	case ModuleCompression::xz: base = {"xz", "-q", "--check=crc32", "--lzma2=dict=1MiB"}; break;
	case ModuleCompression::gzip: base = {"gzip", "-n", "-9"}; break;
	case ModuleCompression::none: return;
	}
	// A few hundred files per command: one process per module would cost more than compressing.
	const std::size_t batch = 200;
	std::vector<std::vector<std::string>> commands;
	for (std::size_t i = 0; i < modules.size(); i += batch) {
		std::vector<std::string> argv = base;
		argv.push_back("--");
		for (std::size_t j = i; j < std::min(modules.size(), i + batch); ++j)
			argv.push_back(modules[j].string());
		commands.push_back(std::move(argv));
	}
	std::vector<Result> results(commands.size());
	detail::parallel_for(commands.size(), 0, [&](std::size_t i) { results[i] = run(Command(commands[i])); });
	for (std::size_t i = 0; i < results.size(); ++i)
		if (!results[i].ok())
			throw Error(base[0] + " failed (exit " + std::to_string(results[i].exit_code) + ") compressing modules in " +
				    moddir.string() + ":\n" + results[i].tail());
}

void run_depmod(const fs::path &dest, const std::string &kv, const Logger &log)
{
	// -C points at an empty directory: the build machine's /etc/depmod.d says nothing about
	// the staged tree.
	TempDir noconf;
	std::vector<std::string> argv = {"depmod", "-b", dest.string(), "-C", noconf.path().string(), kv};
	log.step("running {}", to_display(argv));
	Result r = run(Command(argv));
	if (!r.ok())
		throw Error("depmod failed (exit " + std::to_string(r.exit_code) + ") on " + (dest / "lib/modules" / kv).string() +
			    ":\n" + r.tail());
}

// The symlinks that make /lib/modules/KV find its kernel (installkernel --all, kernel-install
// and external module builds use them).
void link_modules_dir(const StagedDirs &dirs, const std::string &kv, const std::string &image_path, bool has_map)
{
	const std::string up = "../../../usr/src/linux-" + kv;
	make_dirs(dirs.mod());
	make_symlink(up, dirs.mod() / "build");
	make_symlink(up, dirs.mod() / "source");
	make_symlink(up + "/" + image_path, dirs.mod() / "vmlinuz");
	make_symlink(up + "/.config", dirs.mod() / "config");
	if (has_map)
		make_symlink(up + "/System.map", dirs.mod() / "System.map");
}

struct Listing {
	std::vector<fs::path> files;
	std::vector<std::pair<fs::path, fs::path>> links;
};

void list_tree(const fs::path &dir, Listing &out)
{
	std::error_code ec;
	for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
	     it.increment(ec)) {
		// The manifest is JSON, whose strings are UTF-8: a name that is not cannot be recorded
		// (and would not read back as the same file).
		const std::string name = it->path().string();
		if (json_text(name) != name)
			throw Error("cannot stage " + printable(name) + ": its name is not UTF-8, which the manifest (JSON) "
				    "cannot record; rename or remove it");
		auto st = it->symlink_status();
		if (fs::is_symlink(st))
			out.links.emplace_back(it->path(), fs::read_symlink(it->path()));
		else if (fs::is_regular_file(st))
			out.files.push_back(it->path());
	}
	if (ec)
		throw SystemError("cannot list " + dir.string(), ec.value());
}

StageResult write_manifest(const fs::path &dest, const StagedDirs &dirs, Json doc, unsigned jobs, const Logger &log)
{
	Root root(dest);
	Listing l;
	list_tree(dirs.src(), l);
	list_tree(dirs.mod(), l);
	std::sort(l.files.begin(), l.files.end());
	std::sort(l.links.begin(), l.links.end());
	StageResult res;
	log.step("hashing {} staged files", l.files.size());
	auto t0 = std::chrono::steady_clock::now();
	auto sums = sha256_files(l.files, jobs);
	res.hash_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	Json files = Json::array();
	for (std::size_t i = 0; i < l.files.size(); ++i) {
		auto size = fs::file_size(l.files[i]);
		res.bytes += size;
		files.push_back({{"path", root.inside(l.files[i])}, {"size", size}, {"sha256", sums[i]}});
	}
	for (const auto &[link, target] : l.links)
		files.push_back({{"path", root.inside(link)}, {"link", target.string()}});
	res.files = l.files.size();
	log.verbose("hashed {} files ({:.0f} MB) in {:.2f} s", res.files, static_cast<double>(res.bytes) / 1e6, res.hash_seconds);
	doc["files"] = std::move(files);
	res.release = doc["release"].get<std::string>();
	res.manifest = dirs.src() / "distkernel.json";
	atomic_write(res.manifest, doc.dump(1) + "\n");
	return res;
}

// The opaque report of distkernel-config, read before anything is staged: a bad one must not
// leave a half-written tree behind.
Json read_config_report(const fs::path &report)
{
	return report.empty() ? Json() : parse_json(read_file(report), report);
}

Json manifest_head(const std::string &kv, const std::string &variant, const std::string &arch, const char *source,
		   const std::string &image_path, bool has_map, ModuleCompression c, const fs::path &report,
		   const Json &report_doc)
{
	const std::string src = "/usr/src/linux-" + kv;
	Json doc = make_document(staged_schema, staged_major, staged_minor);
	doc["release"] = kv;
	doc["variant"] = variant;
	doc["arch"] = arch;
	doc["source"] = source;
	doc["image"] = src + "/" + image_path;
	doc["system_map"] = has_map ? Json(src + "/System.map") : Json(nullptr);
	doc["config"] = src + "/.config";
	doc["modules_dir"] = "/lib/modules/" + kv;
	doc["module_compression"] = c;
	if (report.empty()) {
		doc["config_origin"] = nullptr;
	} else {
		// An opaque document from distkernel-config: kept as it is, with its hash.
		doc["config_origin"] = {{"file", report.string()}, {"sha256", sha256_files({report})[0]}, {"report", report_doc}};
	}
	return doc;
}

bool config_enabled(const fs::path &config, const std::string &symbol)
{
	std::string text = read_file(config);
	return text.find("\n" + symbol + "=y") != std::string::npos || text.starts_with(symbol + "=y");
}

// What external modules need from the source tree: every Makefile and Kconfig (the build's
// skeleton), the headers, scripts/, the arch's headers. Everything else of the sources stays out.
void copy_source_skeleton(const fs::path &tree, const fs::path &to, const std::string &srcarch, const Logger &log)
{
	log.step("copying the headers and build skeleton of {} into {}", tree.string(), to.string());
	const std::vector<fs::path> whole = {"include", "scripts", fs::path("arch") / srcarch / "include"};
	std::error_code ec;
	for (auto it = fs::recursive_directory_iterator(tree, ec); !ec && it != fs::recursive_directory_iterator();
	     it.increment(ec)) {
		fs::path rel = it->path().lexically_relative(tree);
		const std::string first = rel.begin()->string();
		if (it->is_directory()) {
			// Dotted directories (.git) and other arches hold nothing for this kernel.
			if (first.front() == '.' || (first == "arch" && std::distance(rel.begin(), rel.end()) == 2 &&
						     rel.filename() != srcarch))
				it.disable_recursion_pending();
			continue;
		}
		if (!it->is_regular_file())
			continue;
		const std::string name = rel.filename().string();
		bool in_whole = false;
		for (const auto &w : whole) {
			auto m = std::mismatch(w.begin(), w.end(), rel.begin(), rel.end());
			if (m.first == w.end())
				in_whole = true;
		}
		if (in_whole || name.starts_with("Makefile") || name.starts_with("Kconfig"))
			stage_file(it->path(), to / rel);
	}
	if (ec)
		throw SystemError("cannot list " + tree.string(), ec.value());
}

// What the build generated that external modules need: generated headers, host tools in
// scripts/, objtool; no objects, no command files, no private signing key.
void copy_build_outputs(const fs::path &build, const fs::path &to, const std::string &srcarch, const Logger &log)
{
	log.step("copying the generated headers and tools of {} into {}", build.string(), to.string());
	const std::vector<fs::path> dirs = {"include", "scripts", fs::path("arch") / srcarch / "include", "tools/objtool",
					    "certs"};
	for (const auto &d : dirs) {
		fs::path from = build / d;
		std::error_code ec;
		if (!fs::is_directory(from, ec))
			continue;
		for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::recursive_directory_iterator();
		     it.increment(ec)) {
			if (!it->is_regular_file())
				continue;
			const std::string name = it->path().filename().string();
			if (name.front() == '.' || name.ends_with(".o") || name.ends_with(".a") || name.ends_with(".cmd") ||
			    name == "Makefile")
				continue;
			if (name == "signing_key.pem") {
				log.warn("not staging the private module signing key {}: keep it out of binary packages",
					 it->path().string());
				continue;
			}
			if (d == "tools/objtool" && name != "objtool")
				continue;
			stage_file(it->path(), to / it->path().lexically_relative(build));
		}
		if (ec)
			throw SystemError("cannot list " + from.string(), ec.value());
	}
	for (const char *f : {"Module.symvers", "System.map", ".config", "scripts/module.lds"}) {
		std::error_code ec;
		if (fs::is_regular_file(build / f, ec))
			stage_file(build / f, to / f);
	}
}

} // namespace

StageResult stage_build(const BuildStageOptions &opts, const Logger &log)
{
	// make -C changes directory: relative paths would point elsewhere.
	BuildStageOptions o = opts;
	o.tree = fs::absolute(o.tree).lexically_normal();
	fs::path build = o.build_dir.empty() ? o.tree : fs::absolute(o.build_dir).lexically_normal();
	std::error_code ec;
	if (!fs::is_regular_file(o.tree / "Makefile", ec))
		throw UsageError("--tree " + o.tree.string() + " is not a kernel source tree (no Makefile)");
	if (!fs::is_regular_file(build / ".config", ec))
		throw UsageError(build.string() + "/.config does not exist: configure and build the kernel first");
	const BuildTarget target{o.tree, build, o.arch, o.cross_compile, o.llvm};
	std::string image_path = o.image_path.empty() ? built_image_path(target) : o.image_path;
	check_relative(image_path, "--image-path");
	// A bad Secure Boot key stops the staging before anything is copied.
	if (o.secureboot.set())
		check_signing_key(o.secureboot.key, o.secureboot.cert);
	if (!fs::is_regular_file(build / image_path, ec))
		throw Error("no kernel image at " + (build / image_path).string() + ": run make first (or give --image-path)");

	std::string kv = make_print(target, "kernelrelease");
	validate_release(kv);
	const Json report = read_config_report(o.config_report);
	make_dirs(o.dest);
	fs::path dest = fs::absolute(o.dest).lexically_normal();
	StagedDirs dirs(dest, kv);
	const std::string srcarch = src_arch(o.arch);

	bool modules = config_enabled(build / ".config", "CONFIG_MODULES");
	if (modules) {
		// Not silent: a person may watch this one. depmod runs below, after compression,
		// against the staged tree only.
		std::vector<std::string> args{"INSTALL_MOD_PATH=" + dest.string()};
		if (o.strip_modules)
			args.push_back("INSTALL_MOD_STRIP=1");
		args.insert(args.end(), {"DEPMOD=true", "modules_install"});
		std::vector<std::string> argv = target.make_argv(args);
		log.step("running {}", to_display(argv));
		Command c(argv);
		c.output = Command::Output::to_stderr;
		Result r = run(c);
		if (!r.ok())
			throw Error(to_display(argv) + " failed (exit " + std::to_string(r.exit_code) + ")");
	}
	copy_source_skeleton(o.tree, dirs.src(), srcarch, log);
	copy_build_outputs(build, dirs.src(), srcarch, log);
	stage_file(build / image_path, dirs.src() / image_path);
	if (o.secureboot.set()) {
		sign_efi_image(dirs.src() / image_path, o.secureboot, log);
		// The public half, for distkernel-check to verify the image that will boot.
		stage_file(o.secureboot.cert, dirs.src() / "certs/secureboot.crt");
	}
	const bool has_map = fs::is_regular_file(dirs.src() / "System.map", ec);
	link_modules_dir(dirs, kv, image_path, has_map);
	if (modules) {
		compress_modules(dirs.mod(), o.compression, log);
		run_depmod(dest, kv, log);
	}
	Json doc = manifest_head(kv, o.variant, o.arch, "build", image_path, has_map, o.compression, o.config_report, report);
	StageResult res = write_manifest(dest, dirs, std::move(doc), o.jobs, log);
	dirs.done();
	return res;
}

StageResult stage_prebuilt(const PrebuiltStageOptions &o, const Logger &log)
{
	validate_release(o.release);
	const std::string &kv = o.release;
	std::error_code ec;
	for (const auto &[p, what] : {std::pair{o.image, "--image"}, {o.config, "--config"}})
		if (!fs::is_regular_file(p, ec))
			throw UsageError(std::string(what) + " " + p.string() + " is not a file");
	if (!o.system_map.empty() && !fs::is_regular_file(o.system_map, ec))
		throw UsageError("--system-map " + o.system_map.string() + " is not a file");
	if (!fs::is_directory(o.modules, ec))
		throw UsageError("--modules " + o.modules.string() + " is not a directory");
	if (o.modules.filename() != kv && fs::path(o.modules).parent_path().filename() != kv)
		log.warn("--modules {} is not named after the release {}", o.modules.string(), kv);
	std::string image_path = o.image_path.empty() ? default_image_path(o.arch) : o.image_path;
	check_relative(image_path, "--image-path");
	if (o.secureboot.set())
		check_signing_key(o.secureboot.key, o.secureboot.cert);

	const Json report = read_config_report(o.config_report);
	make_dirs(o.dest);
	fs::path dest = fs::absolute(o.dest).lexically_normal();
	StagedDirs dirs(dest, kv);
	log.step("copying the modules of {} into {}", o.modules.string(), dirs.mod().string());
	make_dirs(dirs.mod().parent_path());
	fs::copy(o.modules, dirs.mod(), fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
	if (ec)
		throw SystemError("cannot copy " + o.modules.string() + " to " + dirs.mod().string(), ec.value());
	// The package's own links (build -> a headers package) mean nothing here: ours replace them.
	for (const char *l : {"build", "source", "vmlinuz", "config", "System.map"})
		fs::remove(dirs.mod() / l, ec);
	stage_file(o.image, dirs.src() / image_path);
	if (o.secureboot.set()) {
		sign_efi_image(dirs.src() / image_path, o.secureboot, log);
		// The public half, for distkernel-check to verify the image that will boot.
		stage_file(o.secureboot.cert, dirs.src() / "certs/secureboot.crt");
	}
	stage_file(o.config, dirs.src() / ".config");
	if (!o.system_map.empty())
		stage_file(o.system_map, dirs.src() / "System.map");
	link_modules_dir(dirs, kv, image_path, !o.system_map.empty());
	compress_modules(dirs.mod(), o.compression, log);
	run_depmod(dest, kv, log);
	Json doc = manifest_head(kv, o.variant, o.arch, "prebuilt", image_path, !o.system_map.empty(), o.compression,
				 o.config_report, report);
	StageResult res = write_manifest(dest, dirs, std::move(doc), o.jobs, log);
	dirs.done();
	return res;
}

} // namespace distkernel
