// Where the unit tests find the project's sources (fixtures, data): DK_SOURCE_ROOT, which meson's
// test environment sets, else the current directory.
#pragma once

#include <cstdlib>
#include <filesystem>

namespace distkernel::test {

inline std::filesystem::path source_root()
{
	const char *s = std::getenv("DK_SOURCE_ROOT");
	return s ? std::filesystem::path(s) : std::filesystem::current_path();
}

} // namespace distkernel::test
