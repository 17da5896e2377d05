// Small files the unit tests write (fixtures made in a TempDir).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace distkernel::test {

// Writes content to p, creating its directories.
inline void put(const std::filesystem::path &p, const std::string &content)
{
	std::filesystem::create_directories(p.parent_path());
	std::ofstream(p, std::ios::binary) << content;
}

} // namespace distkernel::test
