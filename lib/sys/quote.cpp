#include "distkernel/quote.hpp"

#include <cstdint>
#include <fmt/core.h>

namespace distkernel {

namespace {

// Length of the valid UTF-8 sequence of a printable character starting at s[i], 0 when none.
std::size_t utf8_length(std::string_view s, std::size_t i)
{
	auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
	unsigned char c = byte(i);
	std::size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
	if (!n || c > 0xf4 || i + n > s.size())
		return 0;
	for (std::size_t k = 1; k < n; k++)
		if ((byte(i + k) & 0xc0) != 0x80)
			return 0;
	std::uint32_t cp = n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
	for (std::size_t k = 1; k < n; k++)
		cp = (cp << 6) | (byte(i + k) & 0x3f);
	bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
	if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0; // C1 controls are as active on a terminal as ESC
	return n;
}

std::string escape(std::string_view s, std::size_t max, bool quotes, bool keep_lines)
{
	std::string out;
	std::size_t i = 0;
	for (; i < s.size() && out.size() < max; i++) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		if (c >= 0x80) {
			if (std::size_t n = utf8_length(s, i)) {
				out.append(s.substr(i, n));
				i += n - 1;
			} else {
				out += fmt::format("\\x{:02x}", c);
			}
			continue;
		}
		switch (c) {
		case '\n':
			out += keep_lines ? "\n" : "\\n";
			break;
		case '\t':
			out += keep_lines ? "\t" : "\\t";
			break;
		case '\r':
			out += "\\r";
			break;
		case 0x1b:
			out += "\\e";
			break;
		case '\\':
			out += quotes ? "\\\\" : "\\";
			break;
		case '\'':
			out += quotes ? "\\'" : "'";
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				out += fmt::format("\\x{:02x}", c);
			else
				out += static_cast<char>(c);
		}
	}
	if (i < s.size())
		out += fmt::format("... ({} bytes)", s.size());
	return out;
}

} // namespace

std::string json_text(std::string_view text)
{
	std::string out;
	out.reserve(text.size());
	for (std::size_t i = 0; i < text.size(); i++) {
		unsigned char c = static_cast<unsigned char>(text[i]);
		if (c < 0x80) {
			out += static_cast<char>(c);
		} else if (std::size_t n = utf8_length(text, i)) {
			out.append(text.substr(i, n));
			i += n - 1;
		} else {
			out += fmt::format("\\x{:02x}", c);
		}
	}
	return out;
}

std::string printable(std::string_view text, std::size_t max)
{
	return escape(text, max, false, false);
}

std::string quote_input(std::string_view text, std::size_t max)
{
	return "'" + escape(text, max, true, false) + "'";
}

std::string printable_message(std::string_view message, std::size_t max)
{
	return escape(message, max, false, true);
}

} // namespace distkernel
