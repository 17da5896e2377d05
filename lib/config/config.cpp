#include "distkernel/config.hpp"
#include "distkernel/error.hpp"
#include "distkernel/quote.hpp"
#include "distkernel/rootfs.hpp"
#include "sys/string_map.hpp"
#include "sys/text.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace distkernel {
namespace fs = std::filesystem;

struct Config::Index {
	StringMap<std::size_t> map;
};

namespace {

constexpr std::string_view config_prefix = "CONFIG_";
constexpr std::string_view not_set_suffix = " is not set";
constexpr std::string_view directive_prefix = "# distkernel:";

bool is_symbol_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_symbol_name(std::string_view s)
{
	return !s.empty() && std::all_of(s.begin(), s.end(), is_symbol_char);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_xdigit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// What a reader of an error message cannot see in the quoted line.
std::string invisible_hint(std::string_view line, bool cr_end)
{
	std::vector<std::string_view> seen;
	if (line.substr(0, 3) == "\xEF\xBB\xBF")
		seen.push_back("starts with a byte-order mark (U+FEFF)");
	if (!line.empty() && line.back() == ' ')
		seen.push_back("ends in a blank");
	if (!line.empty() && line.back() == '\t')
		seen.push_back("ends in a tab");
	if (line.find('\r') != std::string_view::npos)
		seen.push_back("holds a CR");
	if (cr_end)
		seen.push_back("ends in CR LF");
	if (seen.empty())
		return {};
	std::string out = " (the line ";
	for (std::size_t i = 0; i < seen.size(); i++) {
		if (i)
			out += i + 1 == seen.size() ? " and " : ", ";
		out += seen[i];
	}
	return out + ")";
}

} // namespace

std::string_view unusual_text(Entry::Unusual u)
{
	switch (u) {
	case Entry::Unusual::none:
		return "";
	case Entry::Unusual::text_after_not_set:
		return "text after 'is not set'";
	case Entry::Unusual::cr_after_not_set:
		return "a CR line end after 'is not set'";
	}
	return "";
}

std::string_view next_line(std::string_view text, std::size_t &pos)
{
	std::size_t nl = text.find('\n', pos);
	std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
	pos = nl == std::string_view::npos ? text.size() : nl + 1;
	if (!line.empty() && line.back() == '\r')
		line.remove_suffix(1);
	return line;
}

Origin::Origin(std::string file, std::size_t line) : line(line), file_(std::make_shared<const std::string>(std::move(file))) {}

const std::string &Origin::file() const noexcept
{
	static const std::string none;
	return file_ ? *file_ : none;
}

std::string Origin::str() const
{
	return line ? file() + ":" + std::to_string(line) : file();
}

std::optional<Value> Value::parse(std::string_view t, std::string *why)
{
	auto fail = [&](std::string reason) -> std::optional<Value> {
		if (why)
			*why = std::move(reason);
		return std::nullopt;
	};
	if (t == "y")
		return Value(Kind::yes, "y");
	if (t == "m")
		return Value(Kind::module, "m");
	if (t == "n")
		return Value(Kind::no, "n");
	if (t.empty())
		return fail("empty value (write \"\" for an empty string, or '# CONFIG_X is not set')");
	if (t.front() == '"') {
		// Kconfig's own rule: a backslash takes the next character literally, '"' ends the string.
		std::size_t i = 1;
		for (; i < t.size(); i++) {
			if (t[i] == '\\') {
				i++;
				continue;
			}
			if (t[i] == '"')
				break;
		}
		if (i >= t.size())
			return fail("string without its closing quote");
		if (i + 1 != t.size())
			return fail(fmt::format("unexpected text after the closing quote: {}", quote_input(t.substr(i + 1), 80)));
		return Value(Kind::string, std::string(t));
	}
	std::string_view digits = t;
	if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
		if (std::all_of(digits.begin() + 2, digits.end(), is_xdigit))
			return Value(Kind::number, std::string(t));
	} else {
		if (digits.front() == '-')
			digits.remove_prefix(1);
		if (!digits.empty() && std::all_of(digits.begin(), digits.end(), is_digit))
			return Value(Kind::number, std::string(t));
	}
	return fail("a value must be y, m, n, a \"string\" (Kconfig ignores an unquoted one), a decimal or a 0x hexadecimal number");
}

Value Value::tristate(char c)
{
	switch (c) {
	case 'y':
		return Value(Kind::yes, "y");
	case 'm':
		return Value(Kind::module, "m");
	default:
		return Value(Kind::no, "n");
	}
}

Value Value::from_string(std::string_view plain)
{
	std::string t = "\"";
	for (char c : plain) {
		if (c == '"' || c == '\\')
			t += '\\';
		t += c;
	}
	t += '"';
	return Value(Kind::string, std::move(t));
}

std::string Value::plain() const
{
	if (kind_ != Kind::string)
		return text_;
	std::string out;
	for (std::size_t i = 1; i + 1 < text_.size(); i++) {
		if (text_[i] == '\\' && i + 2 < text_.size())
			i++;
		out += text_[i];
	}
	return out;
}

std::string format_entry(std::string_view symbol, const Value &value)
{
	if (value.is_off())
		return fmt::format("# {}{}{}", config_prefix, symbol, not_set_suffix);
	return fmt::format("{}{}={}", config_prefix, symbol, value.text());
}

Config Config::parse(std::string_view text, const std::string &source)
{
	return parse_owned(std::string(text), source);
}

Config Config::parse_owned(std::string owned, const std::string &source)
{
	Config c(source);
	c.text_ = std::move(owned);
	std::string_view text = c.text_;
	auto shared_source = std::make_shared<const std::string>(source);
	std::size_t line_count = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
	c.lines_.reserve(line_count);
	c.entries_.reserve(line_count);
	unshared(c.last_).map.reserve(line_count);
	bool optional_fragment = false;
	std::size_t pending_optional = 0; // line of a "# distkernel: optional" not yet used
	std::size_t lineno = 0;
	std::size_t pos = 0;
	c.final_newline_ = text.empty() || text.back() == '\n';
	while (pos < text.size()) {
		std::string_view line = next_line(text, pos);
		lineno++;
		// next_line leaves out a CR before the LF: Kconfig reads such a line the same, except
		// where merge_config.sh does not (below)
		std::size_t end = static_cast<std::size_t>(line.data() - text.data()) + line.size();
		bool cr_end = end < text.size() && text[end] == '\r';
		auto bad = [&](const std::string &what) {
			return ParseError(source, lineno,
					  fmt::format("{}: {}{}", what, quote_input(line, 160), invisible_hint(line, cr_end)));
		};

		Entry e;
		bool assignment = false;
		if (line.substr(0, config_prefix.size()) == config_prefix) {
			std::size_t eq = line.find('=');
			if (eq == std::string_view::npos)
				throw bad("assignment without '='");
			std::string_view name = line.substr(config_prefix.size(), eq - config_prefix.size());
			if (!is_symbol_name(name))
				throw bad(fmt::format("{} is not a symbol name (CONFIG_[A-Za-z0-9_]+)",
						      quote_input(line.substr(0, eq), 80)));
			std::string why;
			auto v = Value::parse(line.substr(eq + 1), &why);
			if (!v)
				throw bad(why);
			e.symbol = std::string(name);
			e.value = *v;
			assignment = true;
		} else if (line.substr(0, 2 + config_prefix.size()) == "# CONFIG_") {
			std::string_view rest = line.substr(2 + config_prefix.size());
			std::size_t sp = rest.find(' ');
			std::string_view name = rest.substr(0, sp);
			std::string_view tail = sp == std::string_view::npos ? std::string_view() : rest.substr(sp);
			if (tail.substr(0, not_set_suffix.size()) == not_set_suffix) {
				// Kconfig reads any line starting so as "not set" (it compares the prefix only);
				// merge_config.sh's pattern ends at the line end: remember where they differ.
				if (tail.size() != not_set_suffix.size())
					e.unusual = Entry::Unusual::text_after_not_set;
				else if (cr_end)
					e.unusual = Entry::Unusual::cr_after_not_set;
				if (!is_symbol_name(name))
					throw bad(fmt::format("{} is not a symbol name (CONFIG_[A-Za-z0-9_]+)",
							      quote_input("CONFIG_" + std::string(name), 80)));
				e.symbol = std::string(name);
				e.value = Value::tristate('n');
				assignment = true;
			}
		} else if (line.substr(0, directive_prefix.size()) == directive_prefix) {
			std::string_view d = text::trim(line.substr(directive_prefix.size()));
			if (d == "optional") {
				if (pending_optional)
					throw bad(fmt::format("'optional' on line {} is not followed by an assignment", pending_optional));
				pending_optional = lineno;
			} else if (d == "optional-fragment") {
				optional_fragment = true;
			} else {
				throw bad("unknown distkernel directive (known: 'optional', 'optional-fragment')");
			}
		} else if (!line.empty() && line.front() != '#') {
			std::string_view t = text::trim(line);
			if (!t.empty() && t.front() != '#') {
				if (t.substr(0, config_prefix.size()) == config_prefix || t.substr(0, 2) == "# ")
					throw bad("indented assignment (Kconfig ignores it)");
				throw bad("not a config line (CONFIG_X=value, '# CONFIG_X is not set', a comment or a blank line)");
			}
		}

		Line l{static_cast<std::size_t>(line.data() - text.data()), line.size()};
		if (assignment) {
			e.origin = Origin{shared_source, lineno};
			if (pending_optional) {
				e.optional = true;
				pending_optional = 0;
			}
			l.entry = c.entries_.size();
			c.last_->map.insert_or_assign(e.symbol, c.entries_.size());
			c.entries_.push_back(std::move(e));
		}
		c.lines_.push_back(std::move(l));
	}
	if (pending_optional)
		throw ParseError(source, pending_optional, "'# distkernel: optional' is not followed by an assignment");
	if (optional_fragment)
		for (auto &e : c.entries_)
			e.optional = true;
	return c;
}

Config Config::read(const fs::path &file)
{
	return parse_owned(read_file(file), file.string());
}

std::string Config::write() const
{
	std::string out;
	out.reserve(lines_.size() * 32);
	for (const auto &l : lines_) {
		if (l.rewritten)
			out += format_entry(entries_[l.entry].symbol, entries_[l.entry].value);
		else
			out.append(text_, l.offset, l.length);
		out += '\n';
	}
	if (!final_newline_ && !out.empty())
		out.pop_back();
	return out;
}

std::size_t Config::symbol_count() const noexcept
{
	return last_ ? last_->map.size() : 0;
}

const Entry *Config::find(std::string_view symbol) const
{
	if (!last_)
		return nullptr;
	auto it = last_->map.find(symbol);
	return it == last_->map.end() ? nullptr : &entries_[it->second];
}

Value Config::value_of(std::string_view symbol) const
{
	const Entry *e = find(symbol);
	return e ? e->value : Value();
}

void Config::set(const std::string &symbol, const Value &value, const Origin &origin)
{
	auto it = last_ ? last_->map.find(symbol) : StringMap<std::size_t>::iterator();
	if (!last_ || it == last_->map.end()) {
		append(Entry{symbol, value, origin, false});
		return;
	}
	const std::size_t index = it->second;
	Entry &e = entries_[index];
	e.value = value;
	e.origin = origin;
	for (auto &l : lines_)
		if (l.entry == index)
			l.rewritten = true;
}

void Config::mark_informational()
{
	for (auto &e : entries_)
		e.informational = true;
}

void Config::append(Entry entry)
{
	final_newline_ = true;
	Line l;
	l.entry = entries_.size();
	l.rewritten = true;
	unshared(last_).map[entry.symbol] = entries_.size();
	entries_.push_back(std::move(entry));
	lines_.push_back(std::move(l));
}

struct LayeredConfig::State {
	StringMap<Entry> current;
	StringMap<std::size_t> first_requested;
	StringMap<std::size_t> position;
};

LayeredConfig::LayeredConfig(Config base) : base_(std::move(base))
{
	unshared(state_).current.reserve(base_.symbol_count() * 5 / 4);
	for (const auto &e : base_.entries())
		apply(e);
}

void LayeredConfig::apply(const Entry &e)
{
	State &s = unshared(state_);
	auto [it, fresh] = s.current.try_emplace(e.symbol, e);
	if (fresh)
		return;
	if (!(it->second.value == e.value))
		overrides_.push_back(Override{e.symbol, it->second, e});
	it->second = e;
}

void LayeredConfig::add_layer(Config layer, bool required)
{
	if (!required)
		layer.mark_informational();
	State &s = unshared(state_);
	for (const auto &e : layer.entries()) {
		apply(e);
		s.position.insert_or_assign(e.symbol, ++lines_applied_);
		if (s.first_requested.try_emplace(e.symbol, requested_order_.size()).second)
			requested_order_.push_back(e.symbol);
	}
	layers_.push_back(std::move(layer));
}

std::vector<Entry> LayeredConfig::requested() const
{
	std::vector<Entry> out;
	out.reserve(requested_order_.size());
	for (const auto &s : requested_order_)
		out.push_back(state_->current.at(s));
	return out;
}

const Entry *LayeredConfig::current(std::string_view symbol) const
{
	auto it = state_->current.find(symbol);
	return it == state_->current.end() ? nullptr : &it->second;
}

std::size_t LayeredConfig::position(std::string_view symbol) const
{
	auto it = state_->position.find(symbol);
	return it == state_->position.end() ? 0 : it->second;
}

std::string LayeredConfig::merged_text() const
{
	// The last layer (1-based; 0: none) whose line of a symbol merge_config.sh recognises: it
	// removes every earlier line of the symbol; the lines of that layer and of later ones stay.
	std::unordered_map<std::string_view, std::size_t> last_source;
	last_source.reserve(state_->current.size());
	for (std::size_t i = 0; i < layers_.size(); i++)
		for (const auto &e : layers_[i].entries())
			if (e.unusual == Entry::Unusual::none)
				last_source[e.symbol] = i + 1;

	std::string out;
	out.reserve((base_.entries().size() + state_->current.size()) * 40);
	auto emit = [&](const Config &c, std::size_t index) {
		out += fmt::format("# --- from {}\n", c.source().empty() ? "(base)" : c.source());
		for (const auto &e : c.entries()) {
			auto it = last_source.find(e.symbol);
			if (it != last_source.end() && it->second > index)
				continue;
			out += format_entry(e.symbol, e.value);
			out += '\n';
		}
	};
	emit(base_, 0);
	for (std::size_t i = 0; i < layers_.size(); i++)
		emit(layers_[i], i + 1);
	return out;
}

std::vector<fs::path> expand_layers(const std::vector<fs::path> &args)
{
	std::vector<fs::path> out;
	for (const auto &a : args) {
		std::error_code ec;
		if (fs::is_directory(a, ec)) {
			std::vector<fs::path> files;
			for (const auto &d : fs::directory_iterator(a)) {
				const auto &p = d.path();
				std::string name = p.filename().string();
				// the shell's *.config glob (the eclass's /etc/kernel/config.d) skips dot-files
				if (name.front() == '.' || p.extension() != ".config")
					continue;
				if (d.is_symlink(ec) && !fs::exists(d.status(ec)))
					throw Error(fmt::format("{}: dangling symlink (to {}): remove it or fix its target",
								printable(p.string()),
								quote_input(fs::read_symlink(p, ec).string())));
				if (d.is_regular_file(ec))
					files.push_back(p);
			}
			std::sort(files.begin(), files.end(),
				  [](const fs::path &x, const fs::path &y) { return x.filename().string() < y.filename().string(); });
			out.insert(out.end(), files.begin(), files.end());
		} else if (fs::is_regular_file(a, ec)) {
			out.push_back(a);
		} else {
			throw Error(fmt::format("{}: no such fragment file or directory", printable(a.string())));
		}
	}
	return out;
}

ConfigDiff diff_configs(const Config &a, const Config &b)
{
	ConfigDiff d;
	std::unordered_map<std::string_view, bool> seen;
	for (const auto &e : a.entries()) {
		if (seen.count(e.symbol))
			continue;
		seen[e.symbol] = true;
		const Entry *ea = a.find(e.symbol);
		const Entry *eb = b.find(e.symbol);
		if (!eb)
			d.removed.push_back({e.symbol, ea->value, std::nullopt});
		else if (!(ea->value == eb->value))
			d.changed.push_back({e.symbol, ea->value, eb->value});
	}
	for (const auto &e : b.entries()) {
		if (seen.count(e.symbol))
			continue;
		seen[e.symbol] = true;
		d.added.push_back({e.symbol, std::nullopt, b.find(e.symbol)->value});
	}
	return d;
}

} // namespace distkernel
