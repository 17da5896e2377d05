// The staged kernel's manifest: reading it back and verifying files against it, and the
// parallel hashing both staging and verification use.
#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/stage.hpp"
#include "stage/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace distkernel {
namespace fs = std::filesystem;

std::string manifest_path(std::string_view release)
{
	return "/usr/src/linux-" + std::string(release) + "/distkernel.json";
}

namespace detail {

void parallel_for(std::size_t n, unsigned jobs, const std::function<void(std::size_t)> &work)
{
	if (jobs == 0)
		jobs = std::max(1u, std::thread::hardware_concurrency());
	jobs = std::min<unsigned>(jobs, static_cast<unsigned>(std::max<std::size_t>(1, n)));
	std::atomic<std::size_t> next{0};
	std::exception_ptr failure;
	std::mutex failure_mutex;
	auto worker = [&] {
		for (std::size_t i; (i = next++) < n;) {
			try {
				work(i);
			} catch (...) {
				std::lock_guard<std::mutex> g(failure_mutex);
				if (!failure)
					failure = std::current_exception();
				next = n;
				return;
			}
		}
	};
	std::vector<std::thread> threads;
	for (unsigned t = 1; t < jobs; ++t)
		threads.emplace_back(worker);
	worker();
	for (auto &t : threads)
		t.join();
	if (failure)
		std::rethrow_exception(failure);
}

} // namespace detail

std::vector<std::string> sha256_files(const std::vector<fs::path> &files, unsigned jobs)
{
	// 4000 modules are about 400 MB: one thread per CPU keeps this at the disk's or the
	// CPUs' speed rather than one core's.
	std::vector<std::string> out(files.size());
	detail::parallel_for(files.size(), jobs, [&](std::size_t i) { out[i] = sha256_file(files[i]); });
	return out;
}

namespace {

std::string string_field(const Json &doc, const char *key, const std::string &source, bool required = true)
{
	auto it = doc.find(key);
	if (it == doc.end() || it->is_null()) {
		if (required)
			throw Error(source + ": missing \"" + key + "\"");
		return {};
	}
	if (!it->is_string())
		throw Error(source + ": \"" + key + "\" is not a string: " + json_excerpt(*it));
	return it->get<std::string>();
}

} // namespace

StagedKernel read_staged(const Root &root, const std::string &release)
{
	validate_release(release);
	fs::path file = root.path(manifest_path(release));
	std::error_code ec;
	if (!fs::exists(file, ec))
		throw Error("no staged kernel " + release + ": " + file.string() +
			    " does not exist (was the package's src_install run with distkernel-stage?)");
	Json doc = read_document(file, staged_schema, staged_major);
	const std::string src = file.string();
	StagedKernel k;
	k.release = string_field(doc, "release", src);
	if (k.release != release)
		throw Error(src + ": \"release\" is " + k.release + ", expected " + release);
	k.variant = string_field(doc, "variant", src, false);
	k.image = string_field(doc, "image", src);
	k.system_map = string_field(doc, "system_map", src, false);
	k.config = string_field(doc, "config", src);
	k.modules_dir = string_field(doc, "modules_dir", src);
	auto files = doc.find("files");
	if (files == doc.end() || !files->is_array())
		throw Error(src + ": missing \"files\" array");
	std::size_t n = 0;
	for (const auto &f : *files) {
		++n;
		const std::string where = src + ": files[" + std::to_string(n - 1) + "]";
		if (!f.is_object())
			throw Error(where + " is not an object");
		StagedFile sf;
		sf.path = string_field(f, "path", where);
		if (sf.path.empty() || sf.path.front() != '/' || sf.path.find("/../") != std::string::npos)
			throw Error(where + ": bad path '" + sf.path + "'");
		if (f.contains("link")) {
			sf.link = string_field(f, "link", where);
		} else {
			sf.sha256 = string_field(f, "sha256", where);
			if (!f.contains("size") || !f["size"].is_number_unsigned())
				throw Error(where + ": missing or bad \"size\"");
			sf.size = f["size"].get<std::uint64_t>();
		}
		k.files.push_back(std::move(sf));
	}
	k.document = std::move(doc);
	return k;
}

void verify_staged(const Root &root, const StagedKernel &kernel, const std::vector<std::string> &paths, unsigned jobs)
{
	std::vector<const StagedFile *> want;
	std::vector<fs::path> host;
	for (const auto &p : paths) {
		const StagedFile *found = nullptr;
		for (const auto &f : kernel.files)
			if (f.path == p && f.link.empty())
				found = &f;
		if (!found)
			throw Error(root.path(manifest_path(kernel.release)).string() + " does not list " + p);
		fs::path h = root.path(p);
		std::error_code ec;
		auto size = fs::file_size(h, ec);
		if (ec)
			throw Error("staged file " + h.string() + " is missing or unreadable (" + ec.message() +
				    "): the staged kernel is incomplete; reinstall the package");
		if (size != found->size)
			throw Error("staged file " + h.string() + " has " + std::to_string(size) + " bytes, the manifest says " +
				    std::to_string(found->size) + ": the staged kernel is corrupted; reinstall the package");
		want.push_back(found);
		host.push_back(h);
	}
	auto sums = sha256_files(host, jobs);
	for (std::size_t i = 0; i < sums.size(); ++i)
		if (sums[i] != want[i]->sha256)
			throw Error("staged file " + host[i].string() + " has sha256 " + sums[i] + ", the manifest says " +
				    want[i]->sha256 + ": the staged kernel is corrupted; reinstall the package");
}

} // namespace distkernel
