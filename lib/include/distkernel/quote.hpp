// Input quoted in a message: whatever a file or a program gave us may hold control bytes (an
// ESC would reach the terminal, a NUL cut the message) or be megabytes long.
#pragma once

#include "distkernel/export.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace distkernel {

// The text with every byte a terminal would act on escaped (\n, \t, \e, \x00, ...; valid UTF-8
// stays as it is), cut to about max bytes with "... (N bytes)" when longer.
DISTKERNEL_API std::string printable(std::string_view text, std::size_t max = 200);
// The same in single quotes, quotes and backslashes inside escaped: 'a\'b'.
DISTKERNEL_API std::string quote_input(std::string_view text, std::size_t max = 200);
// A whole message for a terminal: like printable(), keeping line breaks and tabs.
DISTKERNEL_API std::string printable_message(std::string_view message, std::size_t max = 65536);
// The text for a JSON document, whose writer escapes control bytes itself but takes only UTF-8:
// each byte outside a valid sequence (and each C1 control) written \xNN, nothing cut.
DISTKERNEL_API std::string json_text(std::string_view text);

} // namespace distkernel
