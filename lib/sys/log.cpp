#include "distkernel/log.hpp"

#include <cstdio>

namespace distkernel {

void Logger::emit(Verbosity at, std::string_view prefix, const std::string &text) const
{
	if (static_cast<int>(at) > static_cast<int>(level_))
		return;
	std::fprintf(stderr, "%.*s%s\n", static_cast<int>(prefix.size()), prefix.data(), text.c_str());
	std::fflush(stderr);
}

} // namespace distkernel
