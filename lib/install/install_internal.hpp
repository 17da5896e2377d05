// Internals of lib/install shared by its files (not installed).
#pragma once

#include "distkernel/install.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace distkernel::detail {

// state_dir(root), created with its kernels/ directory: for the writers (add, remove, reinstall).
std::filesystem::path make_state_dir(const Root &root);
std::filesystem::path record_path(const Root &root, const std::string &release);
void write_record(const Root &root, const Deployment &d);
std::filesystem::path journal_path(const Root &root);

// What an install is about to change under /boot, written before the first rename so that a
// killed run can be undone. Paths: boot, staging, backup inside the root; entries relative to boot.
struct Journal {
	struct Entry {
		std::string rel;
		bool remove = false; // an old file of the same release that the new install drops
	};
	std::string release;
	std::string boot, staging, backup;
	std::vector<Entry> entries;
	std::vector<std::string> created_dirs; // inside the root
	Json previous_record;                  // null: the release had no record
	Json to_json() const;
	static Journal from_json(const Json &doc, const std::string &source);
};

// Puts every entry back as it was before the journal's install (idempotent).
void roll_back(const Root &root, const Journal &j, const Logger &log);
void remove_leftovers(const Root &root, const Logger &log);

// The type of the root's root filesystem and where it was read: rootfstype= (or root=ZFS=) of
// ROOT/etc/kernel/cmdline, else the "/" line of ROOT/etc/fstab; empty type when neither says.
struct RootFilesystem {
	std::string type, source;
};
RootFilesystem root_filesystem(const Root &root, const Logger &log);
// Empty when kernel KV can mount the root's root filesystem (built in, or a module under
// ROOT/lib/modules/KV), or nothing says what it is; otherwise the message that names the
// filesystem, the missing module and what will bring the initramfs up to date.
std::string missing_root_module(const Root &root, const std::string &kv, const Logger &log);

// Error naming the fstab line when the root's fstab mounts base (or a directory above it, below
// /) from a filesystem of its own that is not mounted now: on the live system, and under a root
// that is itself a mount point (a machine being set up); a plain directory as root is not checked
// (its fstab is the future machine's).
void require_mounted(const Root &root, const std::string &base);

} // namespace distkernel::detail
