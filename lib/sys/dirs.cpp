#include "sys/dirs.hpp"

#include "distkernel/error.hpp"

#include <system_error>

namespace distkernel {

void make_dirs(const std::filesystem::path &d)
{
	std::error_code ec;
	std::filesystem::create_directories(d, ec);
	if (ec)
		throw SystemError("cannot create " + d.string(), ec.value());
}

} // namespace distkernel
