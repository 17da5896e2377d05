// The small interface over libkmod (lib/sys/kmod.cpp is its only user): one kernel's module tree,
// opened by its own directory (lib/modules/KV of the NEW kernel), never the running kernel's.
#pragma once

#include "distkernel/export.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel {

struct DISTKERNEL_API ModuleRef {
	std::string name;          // normalised: '-' as '_'
	std::filesystem::path file; // host path of the module file; empty when built in
	bool builtin = false;
};

// "kernel/fs/ext4/ext4.ko.zst", "virtio-blk" -> "ext4", "virtio_blk": the name the kernel uses.
DISTKERNEL_API std::string normalise_module_name(std::string_view path_or_name);
// A kernel module file by its name: .ko, .ko.xz, .ko.zst, .ko.gz.
DISTKERNEL_API bool is_module_file_name(std::string_view path);

class DISTKERNEL_API ModuleTree {
public:
	// dir: host path of lib/modules/KV, after depmod (modules.dep.bin, modules.alias.bin).
	// config_dirs: modprobe.d directories whose "alias" lines count (the target's, under its
	// root); none by default, so the host's /etc/modprobe.d never leaks in. Throws Error naming
	// dir when it is not a module tree libkmod can read.
	explicit ModuleTree(const std::filesystem::path &dir, const std::vector<std::filesystem::path> &config_dirs = {});
	~ModuleTree();
	ModuleTree(const ModuleTree &) = delete;
	ModuleTree &operator=(const ModuleTree &) = delete;

	const std::filesystem::path &dir() const noexcept { return dir_; }

	// What modprobe would load for an alias (a modalias, "fs-ext4", a module name): the
	// modules, built-in ones included; empty when nothing matches.
	std::vector<ModuleRef> lookup(const std::string &alias) const;
	// A module by its name (after following aliases when the name itself is unknown, so a
	// renamed module is found by its old name); nullopt when this kernel has none.
	std::optional<ModuleRef> find(const std::string &name) const;
	bool is_builtin(const std::string &name) const;
	// Every module the named one needs (modules.dep, transitively), names normalised.
	std::vector<std::string> dependencies(const std::string &name) const;
	// A module file's .modinfo (vermagic, name, depends, ...); repeated keys joined with ' '.
	// Throws Error naming the file when it is not a module libkmod can read.
	std::map<std::string, std::string> info(const std::filesystem::path &module_file) const;

private:
	struct Impl;
	std::filesystem::path dir_;
	std::unique_ptr<Impl> impl_;
};

} // namespace distkernel
