// Reads a kernel tree's Kconfig files into a symbol table. Not a full Kconfig implementation:
// it keeps what explains a value (types, prompts, dependencies, defaults, selects, help, menus)
// and does not evaluate macros ($(shell,...), $(cc-option,...)).
#include "distkernel/error.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/quote.hpp"
#include "distkernel/rootfs.hpp"
#include "kconfig/lexer.hpp"
#include "sys/string_map.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/core.h>

namespace distkernel::kconfig {
namespace fs = std::filesystem;

Type Symbol::type() const
{
	for (const auto &d : definitions)
		if (d.type != Type::unknown)
			return d.type;
	return Type::unknown;
}

const Definition *Symbol::prompted() const
{
	for (const auto &d : definitions)
		if (!d.prompt.empty())
			return &d;
	return nullptr;
}


struct Kconfig::Symbols {
	StringMap<Symbol> map;
};

Symbol &Kconfig::target(const std::string &name)
{
	auto [it, fresh] = unshared(symbols_).map.try_emplace(name);
	if (fresh)
		it->second.name = name;
	return it->second;
}

const Symbol *Kconfig::find(std::string_view name) const
{
	if (!symbols_)
		return nullptr;
	auto it = symbols_->map.find(name);
	return it == symbols_->map.end() ? nullptr : &it->second;
}

namespace {

// Columns of leading whitespace, tabs to the next multiple of 8 (Kconfig's help rule).
std::size_t indentation(std::string_view line)
{
	std::size_t col = 0;
	for (char c : line) {
		if (c == ' ')
			col++;
		else if (c == '\t')
			col = (col & ~std::size_t(7)) + 8;
		else
			break;
	}
	return col;
}

bool blank(std::string_view line)
{
	return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

} // namespace

class Reader {
public:
	Reader(Kconfig &k, fs::path tree, const std::string &arch) : k_(k), tree_(std::move(tree))
	{
		vars_["SRCARCH"] = src_arch(arch);
		vars_["ARCH"] = arch;
		vars_["HEADER_ARCH"] = arch == "um" ? "x86" : src_arch(arch);
		vars_["srctree"] = tree_.string();
	}

	void read_file(const std::string &rel, const Location &from)
	{
		std::string text;
		fs::path p = tree_ / rel;
		std::error_code ec;
		if (!fs::is_regular_file(p, ec)) {
			if (from.line)
				throw ParseError(tree_ / from.file, from.line,
						 fmt::format("sourced file {} does not exist", quote_input(rel)));
			throw Error(fmt::format("{}: no Kconfig file (is this a kernel source tree?)", p.string()));
		}
		// A file that sources itself, directly or through others, would recurse forever: refuse
		// it as the kernel's kconfig does, with the chain of inclusions.
		std::string key = fs::path(rel).lexically_normal().string();
		for (const auto &open : sources_) {
			if (open.file != key)
				continue;
			std::string chain = fmt::format("\n  {} sources {}", from.str(), quote_input(rel));
			for (auto it = sources_.rbegin(); it != sources_.rend() && it->from.line; ++it)
				chain += fmt::format("\n  {} sources {}", it->from.str(), quote_input(it->file));
			throw ParseError(tree_ / from.file, from.line, "recursive inclusion detected:" + chain);
		}
		if (sources_.size() >= max_source_depth)
			throw ParseError(tree_ / from.file, from.line,
					 fmt::format("'source' nested deeper than {} files", max_source_depth));
		text = read_file_text(p);
		k_.files_++;
		sources_.push_back(Open{key, from});
		std::size_t depth = blocks_.size();
		parse(text, rel);
		finish_entry();
		if (blocks_.size() != depth)
			throw ParseError(p, blocks_.back().where.line,
					 fmt::format("this '{}' is not closed in this file", block_keyword(blocks_.back().kind)));
		sources_.pop_back();
	}

private:
	static std::string read_file_text(const fs::path &p) { return distkernel::read_file(p); }

	struct Block {
		enum class Kind { menu, choice, cond } kind = Kind::menu;
		std::string title;
		ExprPtr depends, visible;
		int choice = -1;
		Location where;
		// The depends of this block and every enclosing one, computed once per block rather
		// than once per symbol (deep nesting would make reading quadratic).
		ExprPtr all_depends;
		bool all_known = false;
	};
	struct Open {
		std::string file;
		Location from;
	};
	// Each nested block adds a level to the depends of everything inside it, which evaluating
	// recurses through; the kernel's own tree nests fewer than 20.
	static constexpr std::size_t max_block_depth = 200;
	static constexpr std::size_t max_source_depth = 100;
	// A macro value that includes itself twice doubles with every line.
	static constexpr std::size_t max_value_size = 1 << 20;

	static std::string_view block_keyword(Block::Kind k)
	{
		return k == Block::Kind::menu ? "menu" : k == Block::Kind::choice ? "choice" : "if";
	}
	void push_block(Block::Kind kind, std::string title, ExprPtr depends, int choice, const Location &at)
	{
		if (blocks_.size() >= max_block_depth)
			throw Error(fmt::format("menu, choice and if blocks nested deeper than {} levels", max_block_depth));
		Block b;
		b.kind = kind;
		b.title = std::move(title);
		b.depends = std::move(depends);
		b.choice = choice;
		b.where = at;
		blocks_.push_back(std::move(b));
	}
	enum class EntryKind { none, symbol, menu, choice, comment };

	// $(VAR) for the variables we know; everything else stays as written.
	std::string expand(std::string_view s) const
	{
		std::string out;
		for (std::size_t i = 0; i < s.size(); i++) {
			if (out.size() > 4 * max_value_size)
				throw Error(fmt::format("text expands beyond {} bytes", 4 * max_value_size));
			if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '(') {
				std::size_t close = s.find(')', i);
				if (close != std::string_view::npos) {
					auto it = vars_.find(std::string(s.substr(i + 2, close - i - 2)));
					if (it != vars_.end()) {
						out += it->second;
						i = close;
						continue;
					}
				}
			}
			out += s[i];
		}
		return out;
	}

	void parse(std::string_view text, const std::string &file)
	{
		std::size_t pos = 0, lineno = 0;
		bool in_help = false;
		std::size_t help_indent = 0;
		std::string help;
		auto end_help = [&] {
			while (!help.empty() && help.back() == '\n')
				help.pop_back();
			if (entry_ == EntryKind::symbol)
				def_.help = std::move(help);
			help.clear();
			in_help = false;
		};
		while (pos < text.size()) {
			std::string_view line = next_line(text, pos);
			lineno++;

			if (in_help) {
				if (blank(line)) {
					if (help_indent)
						help += '\n';
					continue;
				}
				std::size_t ind = indentation(line);
				if (!help_indent)
					help_indent = ind;
				if (ind >= help_indent && ind > 0) {
					// keep what is indented beyond the first line's indentation
					std::size_t skip = 0, col = 0;
					while (skip < line.size() && col < help_indent) {
						col = line[skip] == '\t' ? (col & ~std::size_t(7)) + 8 : col + 1;
						skip++;
					}
					help += std::string(col > help_indent ? col - help_indent : 0, ' ');
					help += line.substr(skip);
					help += '\n';
					continue;
				}
				end_help();
			}

			std::size_t start = lineno;
			std::string logical(line);
			while (!logical.empty() && logical.back() == '\\' && pos < text.size()) {
				logical.pop_back();
				std::string_view next = next_line(text, pos);
				lineno++;
				logical += next;
			}
			try {
				if (statement(logical, Location{file, start})) {
					in_help = true;
					help_indent = 0;
					help.clear();
				}
			} catch (const ParseError &) {
				throw;
			} catch (const Error &e) {
				throw ParseError(tree_ / file, start, e.what());
			}
		}
		if (in_help)
			end_help();
	}

	// One logical line; true when it starts help text.
	bool statement(const std::string &line, const Location &at)
	{
		if (assignment(line))
			return false;
		std::vector<Token> t = tokenize(line);
		if (t.empty())
			return false;
		if (t[0].kind == Token::Kind::macro) // $(error-if,...) and the like: checks we do not run
			return false;
		if (t[0].kind != Token::Kind::word)
			throw Error(fmt::format("unexpected {}", quote_input(t[0].text, 80)));
		const std::string &kw = t[0].text;
		auto rest = [&](std::size_t from) { return std::vector<Token>(t.begin() + std::min(from, t.size()), t.end()); };
		auto need_word = [&](std::size_t i) -> const std::string & {
			if (i >= t.size() || t[i].kind != Token::Kind::word)
				throw Error(fmt::format("{} needs a name", quote_input(kw, 80)));
			return t[i].text;
		};
		auto need_string = [&](std::size_t i) -> std::string {
			if (i >= t.size() || t[i].kind != Token::Kind::string)
				throw Error(fmt::format("{} needs a quoted text", quote_input(kw, 80)));
			return expand(t[i].text);
		};

		if (kw == "config" || kw == "menuconfig") {
			finish_entry();
			start_symbol(need_word(1), at, kw == "menuconfig");
			return false;
		}
		if (kw == "choice") {
			finish_entry();
			Choice c;
			c.where = at;
			k_.choices_.push_back(std::move(c));
			push_block(Block::Kind::choice, {}, nullptr, int(k_.choices_.size() - 1), at);
			entry_ = EntryKind::choice;
			return false;
		}
		if (kw == "endchoice" || kw == "endmenu" || kw == "endif") {
			finish_entry();
			Block::Kind want = kw == "endchoice" ? Block::Kind::choice
					   : kw == "endmenu" ? Block::Kind::menu
							     : Block::Kind::cond;
			if (blocks_.empty() || blocks_.back().kind != want)
				throw Error(fmt::format("'{}' without its opening statement", kw));
			if (want == Block::Kind::choice) {
				Choice &c = k_.choices_[blocks_.back().choice];
				c.depends = block_depends(blocks_.size());
			}
			blocks_.pop_back();
			return false;
		}
		if (kw == "menu") {
			finish_entry();
			push_block(Block::Kind::menu, need_string(1), nullptr, -1, at);
			entry_ = EntryKind::menu;
			return false;
		}
		if (kw == "if") {
			finish_entry();
			auto r = rest(1);
			push_block(Block::Kind::cond, {}, parse_tokens(r.data(), r.data() + r.size()), -1, at);
			return false;
		}
		if (kw == "comment") {
			finish_entry();
			entry_ = EntryKind::comment;
			return false;
		}
		if (kw == "mainmenu") {
			finish_entry();
			return false;
		}
		if (kw == "source") {
			finish_entry();
			read_file(need_string(1), at);
			return false;
		}
		if (t.size() == 1 && (kw == "help" || kw == "---help---"))
			return true;
		if (kw == "depends") {
			if (t.size() < 2 || t[1].text != "on")
				throw Error("'depends' without 'on'");
			auto r = rest(2);
			ExprPtr e = parse_tokens(r.data(), r.data() + r.size());
			if (entry_ == EntryKind::symbol)
				own_depends_ = expr_and(own_depends_, e);
			else if ((entry_ == EntryKind::menu || entry_ == EntryKind::choice) && !blocks_.empty()) {
				blocks_.back().depends = expr_and(blocks_.back().depends, e);
				blocks_.back().all_known = false;
			}
			return false;
		}
		if (kw == "visible") {
			auto r = rest(2);
			if (entry_ == EntryKind::menu && !blocks_.empty())
				blocks_.back().visible = expr_and(blocks_.back().visible, parse_tokens(r.data(), r.data() + r.size()));
			return false;
		}
		static const std::pair<std::string_view, Type> types[] = {
			{"bool", Type::boolean},   {"boolean", Type::boolean}, {"tristate", Type::tristate},
			{"string", Type::string},  {"int", Type::integer},      {"hex", Type::hex},
			{"def_bool", Type::boolean}, {"def_tristate", Type::tristate}};
		for (auto [name, type] : types) {
			if (kw != name)
				continue;
			bool is_default = kw.starts_with("def_");
			if (entry_ == EntryKind::symbol) {
				def_.type = type;
				if (is_default)
					def_.defaults.push_back(conditional(t, 1, at));
				else if (t.size() > 1)
					set_prompt(t, 1);
			} else if (entry_ == EntryKind::choice && t.size() > 1 && t[1].kind == Token::Kind::string) {
				k_.choices_[blocks_.back().choice].prompt = expand(t[1].text);
			}
			return false;
		}
		if (kw == "prompt") {
			if (entry_ == EntryKind::symbol)
				set_prompt(t, 1);
			else if (entry_ == EntryKind::choice)
				k_.choices_[blocks_.back().choice].prompt = need_string(1);
			return false;
		}
		if (kw == "default") {
			if (entry_ == EntryKind::symbol)
				def_.defaults.push_back(conditional(t, 1, at));
			return false;
		}
		if (kw == "select" || kw == "imply") {
			if (entry_ == EntryKind::symbol)
				(kw == "select" ? def_.selects : def_.implies).push_back(conditional(t, 1, at));
			return false;
		}
		if (kw == "range") {
			if (entry_ == EntryKind::symbol)
				def_.ranges.push_back(range(t, at));
			return false;
		}
		if (kw == "option" || kw == "modules" || kw == "optional" || kw == "defconfig_list" ||
		    kw == "allnoconfig_y" || kw == "transitional")
			return false;
		throw Error(fmt::format("unknown Kconfig statement {}", quote_input(kw, 80)));
	}

	// NAME := value, NAME = value, NAME += value (Kconfig's macro language): raw text, not tokens.
	bool assignment(std::string_view line)
	{
		std::size_t b = line.find_first_not_of(" \t");
		if (b == std::string_view::npos)
			return false;
		std::size_t e = b;
		while (e < line.size() && (std::isalnum(static_cast<unsigned char>(line[e])) || line[e] == '_' || line[e] == '-'))
			e++;
		if (e == b)
			return false;
		std::size_t op = line.find_first_not_of(" \t", e);
		if (op == std::string_view::npos)
			return false;
		bool append = false;
		if (line.substr(op, 2) == ":=" || line.substr(op, 2) == "+=") {
			append = line[op] == '+';
			op += 2;
		} else if (line[op] == '=') {
			op += 1;
		} else {
			return false;
		}
		std::string name(line.substr(b, e - b));
		std::size_t v = line.find_first_not_of(" \t", op);
		std::string value = v == std::string_view::npos ? std::string() : expand(line.substr(v));
		std::string &var = vars_[name];
		if (value.size() + (append ? var.size() + 1 : 0) > max_value_size)
			throw Error(fmt::format("the value of {} grows beyond {} bytes (does it include itself?)", quote_input(name),
						max_value_size));
		var = append && !var.empty() ? var + " " + value : value;
		return true;
	}

	// "[prompt] "text" [if COND]" from token i.
	void set_prompt(const std::vector<Token> &t, std::size_t i)
	{
		if (i >= t.size() || t[i].kind != Token::Kind::string)
			throw Error("a prompt must be a quoted text");
		def_.prompt = expand(t[i].text);
		if (i + 1 < t.size()) {
			if (t[i + 1].kind != Token::Kind::word || t[i + 1].text != "if")
				throw Error(fmt::format("unexpected {} after the prompt", quote_input(t[i + 1].text, 80)));
			def_.prompt_condition = parse_tokens(t.data() + i + 2, t.data() + t.size());
		}
	}

	// "VALUE [if COND]" from token i.
	static Conditional conditional(const std::vector<Token> &t, std::size_t i, const Location &at)
	{
		std::size_t split = t.size();
		int depth = 0;
		for (std::size_t j = i; j < t.size(); j++) {
			if (t[j].kind == Token::Kind::op && t[j].text == "(")
				depth++;
			else if (t[j].kind == Token::Kind::op && t[j].text == ")")
				depth--;
			else if (depth == 0 && t[j].kind == Token::Kind::word && t[j].text == "if" && j > i) {
				split = j;
				break;
			}
		}
		Conditional c;
		c.where = at;
		c.value = parse_tokens(t.data() + i, t.data() + split);
		if (split < t.size())
			c.condition = parse_tokens(t.data() + split + 1, t.data() + t.size());
		return c;
	}

	static Conditional range(const std::vector<Token> &t, const Location &at)
	{
		if (t.size() < 3)
			throw Error("'range' needs two values");
		Conditional c;
		c.where = at;
		c.value = parse_tokens(t.data() + 1, t.data() + 2);
		c.high = parse_tokens(t.data() + 2, t.data() + 3);
		if (t.size() > 3) {
			if (t[3].text != "if")
				throw Error(fmt::format("unexpected {} after the range", quote_input(t[3].text, 80)));
			c.condition = parse_tokens(t.data() + 4, t.data() + t.size());
		}
		return c;
	}

	ExprPtr block_depends(std::size_t count)
	{
		std::size_t known = count;
		while (known > 0 && !blocks_[known - 1].all_known)
			known--;
		ExprPtr d = known ? blocks_[known - 1].all_depends : nullptr;
		for (std::size_t i = known; i < count; i++) {
			d = expr_and(d, blocks_[i].depends);
			blocks_[i].all_depends = d;
			blocks_[i].all_known = true;
		}
		return d;
	}

	void start_symbol(const std::string &name, const Location &at, bool menuconfig)
	{
		entry_ = EntryKind::symbol;
		name_ = name;
		def_ = Definition{};
		def_.where = at;
		def_.menuconfig = menuconfig;
		own_depends_ = nullptr;
	}

	void finish_entry()
	{
		if (entry_ == EntryKind::symbol) {
			def_.depends = expr_and(block_depends(blocks_.size()), own_depends_);
			ExprPtr visible;
			for (const auto &b : blocks_) {
				if (b.kind == Block::Kind::menu) {
					def_.menus.push_back(b.title);
					visible = expr_and(visible, b.visible);
				}
				if (b.kind == Block::Kind::choice)
					def_.choice = b.choice;
			}
			if (visible && !def_.prompt.empty())
				def_.prompt_condition = expr_and(visible, def_.prompt_condition);
			auto [it, fresh] = unshared(k_.symbols_).map.try_emplace(name_);
			if (fresh) {
				it->second.name = name_;
				k_.order_.push_back(name_);
			}
			if (def_.choice >= 0) {
				auto &members = k_.choices_[def_.choice].members;
				if (std::find(members.begin(), members.end(), name_) == members.end())
					members.push_back(name_);
			}
			it->second.definitions.push_back(std::move(def_));
			def_ = Definition{};
		}
		entry_ = EntryKind::none;
	}

	Kconfig &k_;
	fs::path tree_;
	std::unordered_map<std::string, std::string> vars_;
	std::vector<Block> blocks_;
	std::vector<Open> sources_;
	EntryKind entry_ = EntryKind::none;
	std::string name_;
	Definition def_;
	ExprPtr own_depends_;
};

Kconfig Kconfig::read(const fs::path &tree, const std::string &arch)
{
	Kconfig k;
	unshared(k.symbols_).map.reserve(1 << 15); // the 6.1 tree has about 16500 symbols for x86
	Reader r(k, tree, arch.empty() ? std::string(default_arch) : arch);
	r.read_file("Kconfig", Location{});
	// the reverse dependencies: who selects / implies each symbol
	for (const auto &name : k.order_) {
		for (const auto &d : k.symbols_->map.at(name).definitions) {
			for (const auto &s : d.selects)
				if (s.value && s.value->op == Expr::Op::symbol)
					k.target(s.value->text).selected_by.push_back({name, s.condition, s.where});
			for (const auto &s : d.implies)
				if (s.value && s.value->op == Expr::Op::symbol)
					k.target(s.value->text).implied_by.push_back({name, s.condition, s.where});
		}
	}
	return k;
}

} // namespace distkernel::kconfig
