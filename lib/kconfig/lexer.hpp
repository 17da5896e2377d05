// Private to lib/kconfig: the tokens of one Kconfig line, shared by the reader and the
// expression parser.
#pragma once

#include "distkernel/kconfig.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace distkernel::kconfig {

struct Token {
	enum class Kind { word, string, macro, op };
	Kind kind;
	std::string text; // strings without quotes and escapes
};

// Splits a logical line (continuations already joined) up to its '#' comment. Throws Error.
std::vector<Token> tokenize(std::string_view line);
// Parses [begin, end) as one expression. Throws Error.
ExprPtr parse_tokens(const Token *begin, const Token *end);

} // namespace distkernel::kconfig
