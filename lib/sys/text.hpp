// Small text helpers shared by the library's files (private to lib/, not installed).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel::text {

// s without the leading and trailing characters in chars (blanks and line ends by default).
std::string_view trim(std::string_view s, std::string_view chars = " \t\r\n");

// The parts of text between separators: a last part without a separator counts, an empty text
// has none ("a::b" split at ':' is "a", "", "b").
std::vector<std::string_view> split(std::string_view text, char separator);

// The lines of text without their '\n' (split at '\n').
std::vector<std::string_view> lines(std::string_view text);

// The blank-separated words of a line ("  linux  /vmlinuz-6.1\t" is "linux", "/vmlinuz-6.1").
std::vector<std::string_view> words(std::string_view line);
// The same up to a '#' that starts a comment (fstab, rules files); line loses the comment too.
std::vector<std::string_view> uncommented_words(std::string_view &line);

// A field of fstab or mountinfo as written: the kernel and mount escape space, tab, newline and
// backslash there as \ooo (three octal digits). ParseError naming file:line for a lone backslash.
std::string unescape_mount(const std::string &s, const std::filesystem::path &file, std::size_t line);

// "a, b, c" for join({"a", "b", "c"}, ", ").
std::string join(const std::vector<std::string> &parts, std::string_view separator);

// A "KEY = VALUE" line of a configuration file: '#' starts a comment, blanks around KEY and
// VALUE do not count, blank lines are skipped.
struct KeyValue {
	std::size_t line = 0; // 1-based
	std::string key, value;
};
// Every KEY = VALUE of text; ParseError naming file:line for a line without '='.
std::vector<KeyValue> key_values(std::string_view text, const std::filesystem::path &file);

} // namespace distkernel::text
