#include "sys/text.hpp"

#include "distkernel/error.hpp"
#include "distkernel/quote.hpp"

#include <fmt/core.h>

namespace distkernel::text {

std::string_view trim(std::string_view s, std::string_view chars)
{
	std::size_t first = s.find_first_not_of(chars);
	if (first == std::string_view::npos)
		return {};
	return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

std::vector<std::string_view> split(std::string_view text, char separator)
{
	std::vector<std::string_view> out;
	while (!text.empty()) {
		std::size_t at = text.find(separator);
		out.push_back(text.substr(0, at));
		text.remove_prefix(at == std::string_view::npos ? text.size() : at + 1);
	}
	return out;
}

std::vector<std::string_view> lines(std::string_view text)
{
	return split(text, '\n');
}

std::vector<std::string_view> words(std::string_view line)
{
	constexpr std::string_view blanks = " \t\r\n\v\f";
	std::vector<std::string_view> out;
	for (std::size_t start = line.find_first_not_of(blanks); start != std::string_view::npos;) {
		std::size_t end = line.find_first_of(blanks, start);
		out.push_back(line.substr(start, end - start));
		start = end == std::string_view::npos ? end : line.find_first_not_of(blanks, end);
	}
	return out;
}

std::vector<std::string_view> uncommented_words(std::string_view &line)
{
	if (auto hash = line.find('#'); hash != std::string_view::npos)
		line = line.substr(0, hash);
	return words(line);
}

std::string join(const std::vector<std::string> &parts, std::string_view separator)
{
	std::string out;
	for (const auto &p : parts) {
		if (&p != &parts.front())
			out += separator;
		out += p;
	}
	return out;
}

std::vector<KeyValue> key_values(std::string_view text, const std::filesystem::path &file)
{
	std::vector<KeyValue> out;
	std::size_t n = 0;
	for (std::string_view line : lines(text)) {
		++n;
		line = trim(line.substr(0, line.find('#')));
		if (line.empty())
			continue;
		std::size_t eq = line.find('=');
		if (eq == std::string_view::npos)
			throw ParseError(file, n, "expected KEY = VALUE, got '" + std::string(line) + "'");
		out.push_back({n, std::string(trim(line.substr(0, eq))), std::string(trim(line.substr(eq + 1)))});
	}
	return out;
}

std::string unescape_mount(const std::string &s, const std::filesystem::path &file, std::size_t line)
{
	auto octal = [](char c) { return c >= '0' && c <= '7'; };
	std::string out;
	for (std::size_t i = 0; i < s.size(); ++i) {
		if (s[i] != '\\') {
			out += s[i];
			continue;
		}
		if (i + 3 >= s.size() || !octal(s[i + 1]) || !octal(s[i + 2]) || !octal(s[i + 3]) || s[i + 1] > '3')
			throw ParseError(file, line, fmt::format("{} holds {}, not an octal escape \\ooo", quote_input(s, 80),
								  quote_input(s.substr(i, 4))));
		out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
		i += 3;
	}
	return out;
}

} // namespace distkernel::text
