// The .config / fragment model: parse what Kconfig and users write, write it back byte for byte,
// apply layers in order with every value remembering where it came from (file:line).
#pragma once

#include "distkernel/export.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel {

// Where a value was written: the file as the user named it and the 1-based line. Every entry of a
// file shares one copy of its name.
class DISTKERNEL_API Origin {
public:
	Origin() = default;
	Origin(std::string file, std::size_t line);
	Origin(std::shared_ptr<const std::string> file, std::size_t line) noexcept : line(line), file_(std::move(file)) {}

	std::size_t line = 0;
	const std::string &file() const noexcept;
	std::string str() const; // "file:line", or "file" when line is 0
	bool operator==(const Origin &o) const noexcept { return line == o.line && file() == o.file(); }

private:
	std::shared_ptr<const std::string> file_;
};

// One value as Kconfig spells it after "CONFIG_X=".
class DISTKERNEL_API Value {
public:
	enum class Kind { no, module, yes, string, number };

	Value() = default; // n
	// Kconfig's spelling: y, m, n, "text with \"escapes\"" (quotes included), -12, 64, 0x1f.
	// nullopt when the text is none of these; why (if given) then says what is wrong.
	static std::optional<Value> parse(std::string_view text, std::string *why = nullptr);
	static Value tristate(char c); // 'y', 'm' or 'n'
	// A string value from its plain text: quotes added, '"' and '\' escaped as Kconfig does.
	static Value from_string(std::string_view plain);

	Kind kind() const noexcept { return kind_; }
	bool is_tristate() const noexcept { return kind_ == Kind::no || kind_ == Kind::module || kind_ == Kind::yes; }
	bool is_off() const noexcept { return kind_ == Kind::no; }
	// Exactly as written after '=' ("n" for "is not set").
	const std::string &text() const noexcept { return text_; }
	// The string with its quotes and escapes undone; text() for other kinds.
	std::string plain() const;
	// "n" and "is not set" are the same value; otherwise the spelling decides.
	bool operator==(const Value &o) const noexcept { return kind_ == o.kind_ && text_ == o.text_; }

private:
	Value(Kind k, std::string t) : kind_(k), text_(std::move(t)) {}
	Kind kind_ = Kind::no;
	std::string text_ = "n";
};

// One assignment: CONFIG_<symbol>=<value> or "# CONFIG_<symbol> is not set".
struct DISTKERNEL_API Entry {
	std::string symbol; // without the CONFIG_ prefix
	Value value;
	Origin origin;
	// Marked optional by a "# distkernel: optional" line before it, or by
	// "# distkernel: optional-fragment" anywhere in its file: verification reports it, never fails on it.
	bool optional = false;
	// From a layer that informs (a distribution's or variant's own fragment): verification
	// reports its values, never fails on them.
	bool informational = false;
	// How Kconfig and merge_config.sh read this line differently: Kconfig takes any line that
	// starts "# CONFIG_X is not set" as n, merge_config.sh's pattern (anchored at the line end)
	// misses one with more text after it or a CR line end, and then keeps the earlier lines of
	// the symbol in its output.
	enum class Unusual : unsigned char { none, text_after_not_set, cr_after_not_set };
	Unusual unusual = Unusual::none;
};
// What is unusual about the line, for messages ("" for none).
DISTKERNEL_API std::string_view unusual_text(Entry::Unusual u);

// The line of text that starts at pos, without its "\n" or "\r\n"; pos moves past it.
DISTKERNEL_API std::string_view next_line(std::string_view text, std::size_t &pos);

// "CONFIG_X=y" or "# CONFIG_X is not set", as Kconfig writes it (no newline).
DISTKERNEL_API std::string format_entry(std::string_view symbol, const Value &value);

// A .config or fragment as written, comments and blank lines included, so that write()
// gives back the same bytes (CRLF line ends come back as LF, which Kconfig reads the same).
class DISTKERNEL_API Config {
public:
	Config() = default;
	explicit Config(std::string source) : source_(std::move(source)) {}

	// Throws ParseError naming source:line and the offending text for a line that is not a
	// Kconfig assignment, comment or blank line, a bad symbol name, a string without its
	// closing quote, a value of no Kconfig kind or an unknown "# distkernel:" directive.
	static Config parse(std::string_view text, const std::string &source);
	static Config read(const std::filesystem::path &file);

	std::string write() const;
	const std::string &source() const noexcept { return source_; }
	// The bytes parsed (empty for a config built with set() and append()).
	const std::string &text() const noexcept { return text_; }

	// Every assignment in file order, a symbol written twice appears twice.
	const std::vector<Entry> &entries() const noexcept { return entries_; }
	// The assignment that counts (the last one of the symbol), or null.
	const Entry *find(std::string_view symbol) const;
	// The value that counts; n when the symbol is absent.
	Value value_of(std::string_view symbol) const;
	// Number of distinct symbols.
	std::size_t symbol_count() const noexcept;

	// Replaces the value of the assignment that counts (in place) or appends one.
	void set(const std::string &symbol, const Value &value, const Origin &origin);
	// Appends an assignment line.
	void append(Entry entry);
	// Every entry informs (Entry::informational).
	void mark_informational();

private:
	static Config parse_owned(std::string text, const std::string &source);
	struct Line {
		std::size_t offset = 0, length = 0;               // as written in text_, without the line end
		std::size_t entry = static_cast<std::size_t>(-1); // index into entries_, or none
		bool rewritten = false;                          // set() changed it: write canonically
	};
	std::string source_;
	std::string text_; // what was parsed
	std::vector<Line> lines_;
	std::vector<Entry> entries_;
	// symbol -> index of its last entry; shared by copies until one of them changes
	struct Index;
	std::shared_ptr<Index> last_;
	bool final_newline_ = true;
};

// A layer's value replaced an earlier one (merge_config.sh's "Value of X is redefined").
struct DISTKERNEL_API Override {
	std::string symbol;
	Entry before;
	Entry after;
};

// A base config with layers applied in order: a later layer overrides an earlier one.
class DISTKERNEL_API LayeredConfig {
public:
	explicit LayeredConfig(Config base);
	// required false: the layer informs (its entries are marked informational).
	void add_layer(Config layer, bool required = true);

	const Config &base() const noexcept { return base_; }
	const std::vector<Config> &layers() const noexcept { return layers_; }
	// Every replaced value, in the order the layers replaced them (repeats of the same value
	// are not overrides).
	const std::vector<Override> &overrides() const noexcept { return overrides_; }
	// What the layers ask for: the assignment that counts for each symbol any layer sets, in the
	// order the symbols were first requested.
	std::vector<Entry> requested() const;
	// The assignment that counts for a symbol (base or layer), or null.
	const Entry *current(std::string_view symbol) const;
	// Where a layer's assignment that counts comes in the order of all layers' lines (larger is
	// later); 0 when no layer sets the symbol.
	std::size_t position(std::string_view symbol) const;
	// The merged input for olddefconfig: the same assignments in the same order as
	// `merge_config.sh -m BASE LAYERS...` leaves them (an earlier source's lines of a symbol
	// that a later source sets are removed, each source's remaining lines follow in order), so
	// Kconfig (where order matters for choices and repeats) reads the same thing. A line that
	// merge_config.sh's patterns miss (Entry::unusual) does not remove the earlier lines of its
	// symbol, as in merge_config.sh.
	std::string merged_text() const;

private:
	void apply(const Entry &e);
	Config base_;
	std::vector<Config> layers_;
	std::vector<Override> overrides_;
	// the assignment that counts, the order of first requests and the position of each symbol;
	// shared by copies until one of them changes
	struct State;
	std::shared_ptr<State> state_;
	std::size_t lines_applied_ = 0;
	std::vector<std::string> requested_order_;
};

// Expands layer arguments: a file stays, a directory gives its "*.config" files in lexical
// order (names starting with '.' skipped, as the shell's glob does). Throws Error for a path
// that is neither and for a dangling "*.config" symlink in a directory.
DISTKERNEL_API std::vector<std::filesystem::path> expand_layers(const std::vector<std::filesystem::path> &args);

// Symbol-level difference of two configs ("is not set" and absent are not the same here:
// a symbol only one side mentions is added or removed).
struct DISTKERNEL_API ConfigDiff {
	struct Change {
		std::string symbol;
		std::optional<Value> a, b; // absent on one side for removed / added
	};
	std::vector<Change> added, removed, changed;
};
DISTKERNEL_API ConfigDiff diff_configs(const Config &a, const Config &b);

} // namespace distkernel
