// Paths confined to a root (--root), atomic writes and locks. Every path a tool touches on a
// system goes through Root: nothing reads or writes "/" behind the caller's back, and nothing
// below the root leads out of it (callers never join host paths below a resolved one).
#pragma once

#include "distkernel/export.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel {

// An absolute path made of plain names only ("/boot/TOKEN/KV/linux"): not "/", no empty, "."
// or ".." component, no trailing '/'. What a record or a boot entry may name to be removed.
DISTKERNEL_API bool is_plain_path(std::string_view path) noexcept;
// is_plain_path and strictly below dir ("/boot/x" under "/boot"; "/boot" itself is not).
DISTKERNEL_API bool is_plain_path_under(std::string_view path, std::string_view dir) noexcept;

// synced: on disk before it replaces the target, and the directory too (what boots and what records
// it); unsynced: replaced just as atomically, left to the page cache (build outputs such as a
// merged .config or a report, which a crash may lose and a rerun makes again).
enum class Durability { synced, unsynced };

class DISTKERNEL_API Root {
public:
	explicit Root(std::filesystem::path dir = "/");
	const std::filesystem::path &dir() const noexcept { return dir_; }
	bool is_live_system() const noexcept { return dir_ == "/"; }

	// Maps an absolute path inside the root ("/boot/vmlinuz-6.1") to the host path, resolved
	// component by component: symlinks met on the way are followed as if the root were "/" (an
	// absolute link target stays inside the root, a link's ".." stops at the root as in a
	// chroot). Throws InternalError for a relative input, Error when the path itself climbs above
	// the root ("/..", "/boot/../..") or links loop. follow_last=false leaves a final symlink
	// itself (to remove or replace it).
	std::filesystem::path path(std::string_view inside, bool follow_last = true) const;

	// The operations the tools need, each on a path inside the root resolved as path() does.
	// Reads a whole regular file; throws SystemError naming the host path.
	std::string read(std::string_view inside) const;
	// Replaces the file atomically (atomic_write), the resolved target's directory must exist.
	void write(std::string_view inside, std::string_view content, unsigned mode = 0644,
		   Durability durability = Durability::synced) const;
	// mkdir -p, each component resolved inside the root.
	void make_dirs(std::string_view inside) const;
	// Removes a file or a symlink itself (never a directory: Error); true when it removed one,
	// false when nothing was there.
	bool remove_file(std::string_view inside) const;
	// The names in a directory, sorted; empty when it does not exist.
	std::vector<std::string> list(std::string_view inside) const;
	// The reverse: a host path under dir() back to its path inside the root ("/boot/...").
	// Throws Error when host is not under the root.
	std::string inside(const std::filesystem::path &host) const;

private:
	std::filesystem::path dir_;
};

// A kernel release ("6.1.0-56-amd64", "6.12.3-gentoo-dist") as it becomes a path component:
// non-empty, at most 128 bytes, letters, digits and "._+-~", no leading '.' or '-', no "..".
// Throws UsageError naming the value otherwise.
DISTKERNEL_API void validate_release(std::string_view release);
DISTKERNEL_API bool is_valid_release(std::string_view release) noexcept;

// Writes content to target atomically: a temporary file beside it (a random name created
// exclusively, never through a link planted there), fsync (when synced), rename,
// fsync of the directory (when synced). On failure the target is untouched and the temporary
// removed. mode: permissions.
DISTKERNEL_API void atomic_write(const std::filesystem::path &target, std::string_view content, unsigned mode = 0644,
		  Durability durability = Durability::synced);
// Copies a file atomically in the same way (target's directory must exist).
DISTKERNEL_API void atomic_copy(const std::filesystem::path &from, const std::filesystem::path &target, unsigned mode = 0644);
// Reads a whole regular file; throws SystemError naming the path when it cannot, Error when it is
// no regular file (a FIFO, a device: never waits on one, never reads without end).
DISTKERNEL_API std::string read_file(const std::filesystem::path &file);
// fsync a file or directory by path (errors ignored only where the filesystem cannot sync).
DISTKERNEL_API void sync_path(const std::filesystem::path &p);

// An exclusive advisory lock (flock) on a lock file, released on destruction or process death,
// so a killed holder never leaves a stale lock behind. Throws LockedError when another process
// holds it and wait is false.
class DISTKERNEL_API FileLock {
public:
	FileLock(const std::filesystem::path &file, bool wait = false);
	// The lock file at a path inside the root, created without following a final link.
	FileLock(const Root &root, std::string_view inside, bool wait = false);
	~FileLock();
	FileLock(const FileLock &) = delete;
	FileLock &operator=(const FileLock &) = delete;

private:
	int fd_ = -1;
};

// A private temporary directory, removed (recursively) on destruction.
class DISTKERNEL_API TempDir {
public:
	explicit TempDir(const std::filesystem::path &parent = {}, std::string_view prefix = "distkernel");
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	const std::filesystem::path &path() const noexcept { return path_; }

private:
	std::filesystem::path path_;
};

} // namespace distkernel
