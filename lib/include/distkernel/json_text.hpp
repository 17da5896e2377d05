// A document as text, for stdout and report files.
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/json.hpp"

#include <string>

namespace distkernel {

// indent as nlohmann's dump (-1: one line). Strings hold what files, paths and the command line
// gave us, which are bytes: a sequence that is not UTF-8 is written as U+FFFD rather than
// failing the whole document (nlohmann throws on it).
DISTKERNEL_API std::string dump_json(const Json &doc, int indent = 2);

} // namespace distkernel
