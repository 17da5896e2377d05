#include "distkernel/error.hpp"

#include <cstring>

namespace distkernel {

Error::~Error() = default;
UsageError::~UsageError() = default;
InternalError::~InternalError() = default;
ParseError::~ParseError() = default;
SystemError::~SystemError() = default;
LockedError::~LockedError() = default;

ParseError::ParseError(std::filesystem::path file, std::size_t line, const std::string &what)
	: Error(file.string() + (line ? ":" + std::to_string(line) : std::string()) + ": " + what),
	  file_(std::move(file)), line_(line)
{
}

SystemError::SystemError(const std::string &what, int err)
	: Error(what + ": " + std::strerror(err)), errno_(err)
{
}

} // namespace distkernel
