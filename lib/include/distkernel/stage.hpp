// Stage: a built kernel goes to the interim, setup-independent location of a destination root
// (${ED} in an ebuild): /usr/src/linux-KV/ (image at its in-tree path, System.map, .config,
// Module.symvers, what external modules need to build), /lib/modules/KV/ (modules, depmod's
// indexes, symlinks build, source, vmlinuz, config, System.map) and a manifest,
// /usr/src/linux-KV/distkernel.json (schema "distkernel.staged"), that lists every staged file
// with its size and sha256. Nothing goes to /boot: that is install's job on the target machine.
#pragma once

#include "distkernel/export.hpp"
#include "distkernel/sign.hpp"

#include "distkernel/json.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/target.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel {

inline constexpr const char *staged_schema = "distkernel.staged";
inline constexpr int staged_major = 1;
inline constexpr int staged_minor = 0;

enum class ModuleCompression { none, gzip, xz, zstd };
NLOHMANN_JSON_SERIALIZE_ENUM(ModuleCompression, {{ModuleCompression::none, "none"},
						 {ModuleCompression::gzip, "gzip"},
						 {ModuleCompression::xz, "xz"},
						 {ModuleCompression::zstd, "zstd"}})
// "none", "gzip", "xz", "zstd"; UsageError naming the value otherwise.
DISTKERNEL_API ModuleCompression parse_module_compression(std::string_view name);
DISTKERNEL_API std::string to_string(ModuleCompression c);

// A kernel built with the kernel's own make (after `make` in BUILD).
struct DISTKERNEL_API BuildStageOptions {
	std::filesystem::path tree;      // the source tree
	std::filesystem::path build_dir; // O= (empty: the tree itself)
	std::filesystem::path dest;      // destination root (${ED})
	std::string arch = std::string(default_arch); // the kernel's ARCH
	std::string cross_compile;       // CROSS_COMPILE prefix
	bool llvm = false;               // LLVM=1
	std::string image_path;          // in-tree path of the image; empty: the arch's default
	std::string variant;
	std::filesystem::path config_report; // distkernel-config --report output, copied verbatim
	ModuleCompression compression = ModuleCompression::none;
	bool strip_modules = false; // INSTALL_MOD_STRIP=1
	unsigned jobs = 0;          // 0: the number of CPUs
	SecureBootKey secureboot;   // set: the staged image is signed with it (before the manifest)
};

// An already-built kernel: a -bin package, or the tests with Debian's prebuilt kernel.
struct DISTKERNEL_API PrebuiltStageOptions {
	std::string release;
	std::filesystem::path image;
	std::filesystem::path modules; // the /lib/modules/KV directory to copy
	std::filesystem::path config;
	std::filesystem::path system_map; // empty: none shipped
	std::filesystem::path dest;
	std::string arch = std::string(default_arch);
	std::string image_path; // in-tree path given to the image; empty: the arch's default
	std::string variant;
	std::filesystem::path config_report;
	ModuleCompression compression = ModuleCompression::none;
	unsigned jobs = 0;
	SecureBootKey secureboot; // set: the staged image is signed with it (before the manifest)
};

struct DISTKERNEL_API StageResult {
	std::string release;
	std::filesystem::path manifest; // host path
	std::size_t files = 0;
	std::uint64_t bytes = 0;
	double hash_seconds = 0; // time spent hashing every staged file
};
DISTKERNEL_API void to_json(Json &doc, const StageResult &r); // schema "distkernel.stage-result" 1.0

DISTKERNEL_API StageResult stage_build(const BuildStageOptions &opts, const Logger &log);
DISTKERNEL_API StageResult stage_prebuilt(const PrebuiltStageOptions &opts, const Logger &log);

// Where the manifest of release KV lives inside a root.
DISTKERNEL_API std::string manifest_path(std::string_view release);

// A staged kernel as read back from its manifest (by install, check, clean).
struct DISTKERNEL_API StagedFile {
	std::string path; // inside the root, absolute ("/usr/src/linux-KV/System.map")
	std::uint64_t size = 0;
	std::string sha256; // empty for a symlink
	std::string link;   // the symlink's target, for symlinks
};

struct DISTKERNEL_API StagedKernel {
	std::string release;
	std::string variant;
	std::string image;      // inside the root
	std::string system_map; // inside the root; empty when none was staged
	std::string config;     // inside the root
	std::string modules_dir;
	std::vector<StagedFile> files;
	Json document;
};

// Reads ROOT/usr/src/linux-KV/distkernel.json; Error naming the file when absent or invalid.
DISTKERNEL_API StagedKernel read_staged(const Root &root, const std::string &release);

// Verifies the size and sha256 of the listed staged files (paths inside the root) against the
// manifest, hashing on `jobs` threads. Error naming the file, the expected and the found hash.
DISTKERNEL_API void verify_staged(const Root &root, const StagedKernel &kernel, const std::vector<std::string> &paths,
		   unsigned jobs = 0);

// sha256 of many files on several threads (in the order given).
DISTKERNEL_API std::vector<std::string> sha256_files(const std::vector<std::filesystem::path> &files, unsigned jobs = 0);

} // namespace distkernel
