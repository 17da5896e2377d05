// Directories the library creates. Internal to libdistkernel.
#pragma once

#include <filesystem>

namespace distkernel {

// Creates d and its missing parents; a SystemError naming d when it cannot.
void make_dirs(const std::filesystem::path &d);

} // namespace distkernel
