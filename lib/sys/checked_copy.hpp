// Copies that are proven, not trusted: what goes into /boot must be whole there. A library call
// that reports success is no proof (libstdc++ 12's std::filesystem::copy_file reports success on a
// full ext4 and leaves a partial copy), so each copy is written with its own loop, synced, then
// read back and compared with the source by size and sha256. Internal to libdistkernel.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace distkernel {

// A file's size and sha256 (lowercase hex).
struct FileDigest {
	std::uint64_t size = 0;
	std::string sha256;
	bool operator==(const FileDigest &) const = default;
};

FileDigest digest_file(const std::filesystem::path &file);

// Copies `from` to `to` (created, or truncated; then given `mode`): every write until all bytes
// are written (short writes continue, EINTR retried), fsync, close, then `to` read back and compared
// with `from`. Returns the digest both share. On any failure `to` is removed and SystemError is
// thrown (errno kept: ENOSPC, EDQUOT, EFBIG for a full filesystem, EIO), or Error when the read-back
// differs; the message names the file, the bytes written and, for a full filesystem, the space left.
// `source` is from's digest when the caller has it already (it is computed otherwise).
FileDigest checked_copy(const std::filesystem::path &from, const std::filesystem::path &to, unsigned mode = 0644,
			const std::optional<FileDigest> &source = std::nullopt);

// Reads `file` back and compares it with `expected` (the digest of `source`, named in the message).
// Returns the file's digest; throws Error naming both sizes or both hashes when they differ.
FileDigest verify_written(const std::filesystem::path &file, const FileDigest &expected,
			  const std::filesystem::path &source);

// True for the errno values that mean "the filesystem has no room" (ENOSPC, EDQUOT, EFBIG).
bool is_no_space(int err) noexcept;

} // namespace distkernel
