// One error hierarchy for the whole library; tools catch it in one place (tools/common).
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/quote.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>

namespace distkernel {

// Exit codes shared by every tool (documented in README.md).
enum ExitCode : int {
	exit_ok = 0,
	exit_error = 1,
	exit_usage = 2,
	exit_nothing_to_do = 77,
};

// Anything that went wrong: the message is complete and meant for a person
// ("/etc/kernel/config.d/10-zfs.config:3: ...").
class DISTKERNEL_API Error : public std::runtime_error {
public:
	// Control bytes of quoted input escaped (a NUL would cut the message, an ESC reach the
	// terminal), and cut when huge.
	explicit Error(const std::string &message) : std::runtime_error(printable_message(message)) {}
	// Out of line, in the library: the class's type information (which a catch clause compares)
	// is then the library's exported one, not a copy in every program. Likewise below.
	~Error() override;
};

// The caller asked for something that makes no sense (bad option value, bad release string).
class DISTKERNEL_API UsageError : public Error {
public:
	using Error::Error;
	~UsageError() override;
};

// A bug in distkernel itself: a broken invariant, or a library call that cannot fail on valid
// input failing. The tools print "internal error" with a request for a bug report and exit 1
// (never 2: the caller did nothing wrong).
class DISTKERNEL_API InternalError : public Error {
public:
	using Error::Error;
	~InternalError() override;
};

// Input that cannot be read as what it claims to be; names the file and line.
class DISTKERNEL_API ParseError : public Error {
public:
	ParseError(std::filesystem::path file, std::size_t line, const std::string &what);
	~ParseError() override;
	const std::filesystem::path &file() const noexcept { return file_; }
	std::size_t line() const noexcept { return line_; }

private:
	std::filesystem::path file_;
	std::size_t line_;
};

// A system call failed; carries errno.
class DISTKERNEL_API SystemError : public Error {
public:
	SystemError(const std::string &what, int err);
	~SystemError() override;
	int code() const noexcept { return errno_; }

private:
	int errno_;
};

// Another process holds the lock we need.
class DISTKERNEL_API LockedError : public Error {
public:
	using Error::Error;
	~LockedError() override;
};

} // namespace distkernel
