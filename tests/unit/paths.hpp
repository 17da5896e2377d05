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

// The small Kconfig tree of the fixtures (the reader's and verification's tests).
inline std::filesystem::path kconfig_fixture_tree()
{
	return source_root() / "tests/fixtures/config/ktree";
}

} // namespace distkernel::test
