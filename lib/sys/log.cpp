#include "distkernel/log.hpp"
#include "distkernel/quote.hpp"

#include <cstdio>

namespace distkernel {

void Logger::emit(Verbosity at, std::string_view prefix, const std::string &text) const
{
	if (static_cast<int>(at) > static_cast<int>(level_))
		return;
	std::string shown = printable_message(text);
	std::fprintf(stderr, "%.*s%s\n", static_cast<int>(prefix.size()), prefix.data(), shown.c_str());
	std::fflush(stderr);
}

} // namespace distkernel
