#include "distkernel/rootfs.hpp"
#include "distkernel/error.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <fmt/core.h>
#include <random>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace distkernel {
namespace fs = std::filesystem;

Root::Root(fs::path dir)
{
	if (dir.empty())
		dir = "/";
	std::error_code ec;
	fs::path abs = fs::absolute(dir, ec);
	if (ec)
		throw SystemError("cannot resolve root " + dir.string(), ec.value());
	dir_ = abs.lexically_normal();
	if (dir_ != "/" && !dir_.has_filename())
		dir_ = dir_.parent_path();
}

fs::path Root::path(std::string_view inside, bool follow_last) const
{
	if (inside.empty() || inside.front() != '/')
		throw InternalError("path inside the root must be absolute: '" + std::string(inside) + "'");
	// The path itself may not climb above the root: "/.." is a mistake or an attack, and
	// mapping it to "/" would turn "remove /boot/.." into "remove the root".
	std::vector<std::string> todo;
	int depth = 0;
	for (const auto &c : fs::path(inside).relative_path()) {
		const std::string s = c.string();
		if (s == "..") {
			if (--depth < 0)
				throw Error("'" + std::string(inside) + "' climbs above the root " + dir_.string());
		} else if (!s.empty() && s != ".") {
			++depth;
		}
		todo.push_back(s);
	}
	// Resolve component by component, following symlinks relative to the root; a link's ".."
	// stops at the root (chroot semantics).
	std::vector<std::string> done;
	int links = 0;
	std::size_t i = 0;
	while (i < todo.size()) {
		const std::string c = todo[i++];
		if (c.empty() || c == ".")
			continue;
		if (c == "..") {
			if (!done.empty())
				done.pop_back();
			continue;
		}
		fs::path host = dir_;
		for (const auto &d : done)
			host /= d;
		host /= c;
		std::error_code ec;
		bool last = i == todo.size();
		if ((follow_last || !last) && fs::is_symlink(fs::symlink_status(host, ec))) {
			if (++links > 40)
				throw Error("too many levels of symbolic links under " + dir_.string() + " resolving " + std::string(inside));
			fs::path target = fs::read_symlink(host, ec);
			if (ec)
				throw SystemError("cannot read link " + host.string(), ec.value());
			std::vector<std::string> rest(todo.begin() + static_cast<long>(i), todo.end());
			todo.clear();
			if (target.is_absolute())
				done.clear();
			for (const auto &t : target.relative_path())
				todo.push_back(t.string());
			todo.insert(todo.end(), rest.begin(), rest.end());
			i = 0;
			continue;
		}
		done.push_back(c);
	}
	fs::path out = dir_;
	for (const auto &d : done)
		out /= d;
	return out;
}

std::string Root::read(std::string_view inside) const
{
	return read_file(path(inside));
}

void Root::write(std::string_view inside, std::string_view content, unsigned mode, Durability durability) const
{
	atomic_write(path(inside), content, mode, durability);
}

void Root::make_dirs(std::string_view inside) const
{
	// One component at a time: a link met on the way is resolved inside the root before the
	// next directory is created under it.
	std::string sofar;
	for (const auto &c : fs::path(inside).relative_path()) {
		sofar += "/" + c.string();
		fs::path p = path(sofar);
		std::error_code ec;
		if (fs::is_directory(fs::symlink_status(p, ec)))
			continue;
		int rc = ::mkdir(p.c_str(), 0755);
		if (rc != 0 && errno == ENOENT && p.parent_path() != dir_) {
			// A link led to a place whose parents do not exist yet: create them, inside the root.
			make_dirs(this->inside(p.parent_path()));
			rc = ::mkdir(p.c_str(), 0755);
		}
		if (rc != 0 && errno != EEXIST)
			throw SystemError("cannot create " + p.string(), errno);
		if (!fs::is_directory(fs::symlink_status(p, ec)))
			throw Error("cannot create " + p.string() + ": a file is in the way");
	}
}

bool Root::remove_file(std::string_view inside) const
{
	fs::path p = path(inside, false);
	struct stat st {};
	if (::lstat(p.c_str(), &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return false;
		throw SystemError("cannot remove " + p.string(), errno);
	}
	if (S_ISDIR(st.st_mode))
		throw Error("refusing to remove " + p.string() + ": a directory where a file is expected");
	if (::unlink(p.c_str()) != 0) {
		if (errno == ENOENT)
			return false;
		throw SystemError("cannot remove " + p.string(), errno);
	}
	return true;
}

std::vector<std::string> Root::list(std::string_view inside) const
{
	std::vector<std::string> out;
	fs::path p = path(inside);
	std::error_code ec;
	if (!fs::is_directory(fs::symlink_status(p, ec)))
		return out;
	for (const auto &e : fs::directory_iterator(p, ec))
		out.push_back(e.path().filename().string());
	if (ec)
		throw SystemError("cannot list " + p.string(), ec.value());
	std::sort(out.begin(), out.end());
	return out;
}

std::string Root::inside(const fs::path &host) const
{
	fs::path h = fs::absolute(host).lexically_normal();
	fs::path rel = h.lexically_relative(dir_);
	if (rel.empty() || *rel.begin() == "..")
		throw Error(host.string() + " is not under the root " + dir_.string());
	if (rel == ".")
		return "/";
	return "/" + rel.string();
}

bool is_valid_release(std::string_view r) noexcept
{
	if (r.empty() || r.size() > 128 || r.front() == '.' || r.front() == '-')
		return false;
	if (r.find("..") != std::string_view::npos)
		return false;
	for (char c : r) {
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			  c == '_' || c == '+' || c == '-' || c == '~';
		if (!ok)
			return false;
	}
	return true;
}

void validate_release(std::string_view r)
{
	if (!is_valid_release(r))
		throw UsageError("invalid kernel release '" + std::string(r) +
				 "': it must be letters, digits and ._+-~ only, without '/' or '..'");
}

bool is_plain_path(std::string_view value) noexcept
{
	if (value.size() < 2 || value.front() != '/' || value.back() == '/')
		return false;
	std::size_t pos = 1;
	while (pos <= value.size()) {
		std::size_t end = value.find('/', pos);
		if (end == std::string_view::npos)
			end = value.size();
		std::string_view c = value.substr(pos, end - pos);
		if (c.empty() || c == "." || c == "..")
			return false;
		pos = end + 1;
	}
	return true;
}

bool is_plain_path_under(std::string_view path, std::string_view dir) noexcept
{
	return is_plain_path(path) && path.size() > dir.size() + 1 && path.substr(0, dir.size()) == dir &&
	       path[dir.size()] == '/';
}

void sync_path(const fs::path &p)
{
	int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	::fsync(fd);
	::close(fd);
}

namespace {

// A new temporary file beside target, created exclusively under a random name: a link or file
// planted at a guessable name is never followed or reused. Returns the fd and sets tmp.
int create_temp_beside(const fs::path &target, unsigned mode, fs::path &tmp)
{
	static thread_local std::mt19937_64 rng(std::random_device{}() ^ (std::uint64_t(::getpid()) << 32));
	for (int attempt = 0; attempt < 100; ++attempt) {
		tmp = target.parent_path() / fmt::format(".{}.distkernel-{:016x}", target.filename().string(), rng());
		int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			throw SystemError("cannot create " + tmp.string(), errno);
	}
	throw SystemError("cannot create a temporary file beside " + target.string(), EEXIST);
}

void write_all(int fd, std::string_view data, const fs::path &name)
{
	while (!data.empty()) {
		ssize_t n = ::write(fd, data.data(), data.size());
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw SystemError("cannot write " + name.string(), errno);
		}
		data.remove_prefix(static_cast<std::size_t>(n));
	}
}

} // namespace

void atomic_write(const fs::path &target, std::string_view content, unsigned mode, Durability durability)
{
	const bool synced = durability == Durability::synced;
	fs::path tmp;
	int fd = create_temp_beside(target, mode, tmp);
	try {
		write_all(fd, content, tmp);
		if (synced && ::fsync(fd) != 0)
			throw SystemError("cannot write " + tmp.string(), errno);
		if (::fchmod(fd, mode) != 0)
			throw SystemError("cannot set permissions of " + tmp.string(), errno);
		if (::close(fd) != 0) {
			fd = -1;
			throw SystemError("cannot write " + tmp.string(), errno);
		}
		fd = -1;
		if (::rename(tmp.c_str(), target.c_str()) != 0)
			throw SystemError("cannot rename " + tmp.string() + " to " + target.string(), errno);
	} catch (...) {
		if (fd >= 0)
			::close(fd);
		::unlink(tmp.c_str());
		throw;
	}
	if (synced)
		sync_path(target.parent_path());
}

void atomic_copy(const fs::path &from, const fs::path &target, unsigned mode)
{
	int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
	if (in < 0)
		throw SystemError("cannot open " + from.string(), errno);
	fs::path tmp;
	int out = -1;
	try {
		out = create_temp_beside(target, mode, tmp);
	} catch (...) {
		::close(in);
		throw;
	}
	try {
		std::vector<char> buf(1 << 20);
		for (;;) {
			ssize_t n = ::read(in, buf.data(), buf.size());
			if (n < 0) {
				if (errno == EINTR)
					continue;
				throw SystemError("cannot read " + from.string(), errno);
			}
			if (n == 0)
				break;
			write_all(out, std::string_view(buf.data(), static_cast<std::size_t>(n)), tmp);
		}
		if (::fsync(out) != 0)
			throw SystemError("cannot write " + tmp.string(), errno);
		::fchmod(out, mode);
		if (::close(out) != 0) {
			out = -1;
			throw SystemError("cannot write " + tmp.string(), errno);
		}
		out = -1;
		if (::rename(tmp.c_str(), target.c_str()) != 0)
			throw SystemError("cannot rename " + tmp.string() + " to " + target.string(), errno);
	} catch (...) {
		if (out >= 0)
			::close(out);
		::close(in);
		::unlink(tmp.c_str());
		throw;
	}
	::close(in);
	sync_path(target.parent_path());
}

std::string read_file(const fs::path &file)
{
	// O_NONBLOCK: opening a FIFO nobody writes to returns at once, and is refused below instead
	// of waiting forever; regular files ignore it.
	int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		throw SystemError("cannot read " + file.string(), errno);
	struct stat st {};
	if (::fstat(fd, &st) != 0) {
		int e = errno;
		::close(fd);
		throw SystemError("cannot read " + file.string(), e);
	}
	if (!S_ISREG(st.st_mode)) {
		::close(fd);
		if (S_ISDIR(st.st_mode))
			throw SystemError("cannot read " + file.string(), EISDIR);
		const char *kind = S_ISFIFO(st.st_mode)  ? "a FIFO"
				   : S_ISCHR(st.st_mode) ? "a character device"
				   : S_ISBLK(st.st_mode) ? "a block device"
				   : S_ISSOCK(st.st_mode) ? "a socket"
							  : "not a file";
		throw Error("cannot read " + file.string() + ": not a regular file (" + kind + ")");
	}
	// st_size is a hint only: /proc's and /sys's files say 0.
	std::string out;
	out.reserve(static_cast<std::size_t>(st.st_size));
	char buf[65536];
	for (;;) {
		ssize_t n = ::read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			::close(fd);
			throw SystemError("cannot read " + file.string(), e);
		}
		if (n == 0)
			break;
		out.append(buf, static_cast<std::size_t>(n));
	}
	::close(fd);
	return out;
}

FileLock::FileLock(const Root &root, std::string_view inside, bool wait) : FileLock(root.path(inside), wait) {}

FileLock::FileLock(const fs::path &file, bool wait)
{
	// O_NOFOLLOW: a link planted at the lock's name is not followed to create a file elsewhere.
	fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd_ < 0)
		throw SystemError("cannot open lock file " + file.string(), errno);
	if (::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
		int e = errno;
		::close(fd_);
		fd_ = -1;
		if (e == EWOULDBLOCK)
			throw LockedError("another distkernel process holds " + file.string() + "; wait for it to finish and try again");
		throw SystemError("cannot lock " + file.string(), e);
	}
}

FileLock::~FileLock()
{
	if (fd_ >= 0)
		::close(fd_);
}

TempDir::TempDir(const fs::path &parent, std::string_view prefix)
{
	fs::path base = parent.empty() ? fs::temp_directory_path() : parent;
	std::string tmpl = (base / (std::string(prefix) + ".XXXXXX")).string();
	if (!::mkdtemp(tmpl.data()))
		throw SystemError("cannot create a temporary directory in " + base.string(), errno);
	path_ = tmpl;
}

TempDir::~TempDir()
{
	std::error_code ec;
	fs::remove_all(path_, ec);
}

} // namespace distkernel
