// Shell assignment files read as a shell would source them, for the subset these files use.
#include "distkernel/boot.hpp"
#include "distkernel/error.hpp"

#include <cctype>

namespace distkernel {
namespace fs = std::filesystem;

namespace {

bool name_start(char c)
{
	return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}

bool name_char(char c)
{
	return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

class Parser {
public:
	Parser(std::string_view text, ShellFile &out) : s_(text), out_(out) {}

	void run()
	{
		while (skip_separators()) {
			if (s_[pos_] == '#') {
				skip_line();
				continue;
			}
			statement();
		}
	}

private:
	// Blanks, newlines and ';' between statements; false at the end of the text.
	bool skip_separators()
	{
		while (pos_ < s_.size() && (blank(s_[pos_]) || s_[pos_] == '\n' || s_[pos_] == ';'))
			advance();
		return pos_ < s_.size();
	}

	void advance()
	{
		if (s_[pos_] == '\n')
			++line_;
		++pos_;
	}

	void skip_line()
	{
		while (pos_ < s_.size() && s_[pos_] != '\n')
			++pos_;
	}

	std::string rest_of_line() const
	{
		std::size_t end = s_.find('\n', pos_);
		return std::string(s_.substr(pos_, end == std::string_view::npos ? std::string_view::npos : end - pos_));
	}

	void problem(std::size_t line, const std::string &name, const std::string &reason)
	{
		out_.problems.push_back({line, name, reason});
		skip_line();
	}

	void statement()
	{
		const std::size_t line = line_;
		if (s_.substr(pos_, 7) == "export " || s_.substr(pos_, 7) == "export\t") {
			pos_ += 7;
			while (pos_ < s_.size() && blank(s_[pos_]))
				++pos_;
		}
		std::size_t start = pos_;
		std::size_t word_end = pos_;
		while (word_end < s_.size() && !blank(s_[word_end]) && s_[word_end] != '\n' && s_[word_end] != ';')
			++word_end;
		std::string_view word = s_.substr(pos_, word_end - pos_);
		// Assignments inside if/for/while/case depend on what the shell would find there.
		if (word == "if" || word == "for" || word == "while" || word == "until" || word == "case" || word == "{") {
			++depth_;
			return problem(line, "", "a shell " + std::string(word) + " block: '" + rest_of_line() + "'");
		}
		if (word == "elif" && depth_ > 0) {
			skip_line();
			return;
		}
		if (word == "fi" || word == "done" || word == "esac" || word == "}" || word == "then" || word == "else" ||
		    word == "do") {
			if ((word == "fi" || word == "done" || word == "esac" || word == "}") && depth_ > 0)
				--depth_;
			pos_ = word_end;
			return;
		}
		if (pos_ < s_.size() && name_start(s_[pos_]))
			while (pos_ < s_.size() && name_char(s_[pos_]))
				++pos_;
		std::string name(s_.substr(start, pos_ - start));
		bool append = false;
		if (!name.empty() && s_.substr(pos_, 2) == "+=") {
			append = true;
			pos_ += 2;
		} else if (!name.empty() && pos_ < s_.size() && s_[pos_] == '=') {
			++pos_;
		} else {
			pos_ = start;
			return problem(line, "", "not a variable assignment: '" + rest_of_line() + "'");
		}
		std::string value, why;
		if (!read_value(value, why))
			return problem(line, name, why);
		while (pos_ < s_.size() && blank(s_[pos_]))
			++pos_;
		if (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != ';' && s_[pos_] != '#') {
			// Another assignment on the same line is fine; anything else makes the line a
			// command run with NAME set only for it.
			std::size_t p = pos_;
			while (p < s_.size() && name_char(s_[p]))
				++p;
			bool next_assignment = p > pos_ && name_start(s_[pos_]) && p < s_.size() &&
					       (s_[p] == '=' || s_.substr(p, 2) == "+=");
			if (!next_assignment)
				return problem(line, name, "a command follows the assignment: '" + rest_of_line() + "'");
		}
		if (depth_ > 0)
			return problem(line, name, "assigned inside a shell if/for/while/case block");
		out_.assignments.push_back({name, value, line, append});
	}

	// One word: unquoted, '...' and "..." parts joined. False (with why) for what needs a shell.
	bool read_value(std::string &value, std::string &why)
	{
		while (pos_ < s_.size()) {
			char c = s_[pos_];
			if (blank(c) || c == '\n' || c == ';')
				return true;
			if (c == '\'') {
				std::size_t end = s_.find('\'', pos_ + 1);
				if (end == std::string_view::npos) {
					why = "unterminated '";
					return false;
				}
				for (++pos_; pos_ < end; advance())
					value += s_[pos_];
				++pos_;
			} else if (c == '"') {
				for (++pos_;; advance()) {
					if (pos_ >= s_.size()) {
						why = "unterminated \"";
						return false;
					}
					char d = s_[pos_];
					if (d == '"')
						break;
					if (d == '\\' && pos_ + 1 < s_.size()) {
						char e = s_[pos_ + 1];
						if (e == '\n') {
							advance();
							continue;
						}
						if (e == '$' || e == '`' || e == '"' || e == '\\') {
							++pos_;
							value += e;
							continue;
						}
					}
					if (d == '$' || d == '`') {
						why = std::string("needs a shell to expand ") + d + " in \"...\"";
						return false;
					}
					value += d;
				}
				++pos_;
			} else if (c == '\\') {
				if (pos_ + 1 < s_.size()) {
					if (s_[pos_ + 1] != '\n')
						value += s_[pos_ + 1];
					++pos_;
					advance();
				} else {
					++pos_;
				}
			} else if (c == '$' || c == '`' || c == '(' || c == ')' || c == '|' || c == '&' || c == '<' ||
				   c == '>') {
				why = std::string("needs a shell to evaluate '") + c + "'";
				return false;
			} else {
				value += c;
				++pos_;
			}
		}
		return true;
	}

	std::string_view s_;
	ShellFile &out_;
	std::size_t pos_ = 0;
	std::size_t line_ = 1;
	int depth_ = 0; // open if/for/while/case blocks
};

} // namespace

ShellFile parse_shell_file(std::string_view text, const fs::path &file)
{
	ShellFile f;
	f.file = file;
	Parser(text, f).run();
	return f;
}

ShellFile read_shell_file(const fs::path &file)
{
	return parse_shell_file(read_file(file), file);
}

std::optional<ShellAssignment> ShellFile::get(std::string_view name) const
{
	for (const auto &p : problems)
		if (p.name == name)
			throw ParseError(file, p.line, "cannot read " + p.name + ": " + p.reason +
							       " (plain assignments are read: " + p.name + "=value, '...', \"...\")");
	std::optional<ShellAssignment> out;
	for (const auto &a : assignments) {
		if (a.name != name)
			continue;
		if (a.append && out) {
			out->value += a.value;
			out->line = a.line;
		} else {
			out = a;
			out->append = false;
		}
	}
	return out;
}

} // namespace distkernel
