// SHA-256 of files and strings, as lowercase hex (manifests and deployment records).
#pragma once

#include "distkernel/export.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace distkernel {

DISTKERNEL_API std::string sha256_hex(std::string_view data);
DISTKERNEL_API std::string sha256_file(const std::filesystem::path &file);

} // namespace distkernel
