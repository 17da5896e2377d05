#include "sys/text.hpp"

#include "distkernel/error.hpp"

namespace distkernel::text {

std::string_view trim(std::string_view s, std::string_view chars)
{
	std::size_t first = s.find_first_not_of(chars);
	if (first == std::string_view::npos)
		return {};
	return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

std::vector<std::string_view> lines(std::string_view text)
{
	std::vector<std::string_view> out;
	while (!text.empty()) {
		std::size_t nl = text.find('\n');
		out.push_back(text.substr(0, nl));
		text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
	}
	return out;
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

} // namespace distkernel::text
