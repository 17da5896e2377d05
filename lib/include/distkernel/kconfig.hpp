// The kernel's Kconfig, read from a source tree: every symbol with its type, prompt, dependencies
// (its own "depends on" and those of the enclosing if/menu/choice blocks), defaults,
// select/imply (and the reverse: who selects me), help text and enclosing menus. Expressions can
// be evaluated against a final .config to name the symbols that keep a condition off.
// Also runs the kernel's own `make olddefconfig`.
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/config.hpp"
#include "distkernel/json.hpp"
#include "distkernel/log.hpp"
#include "distkernel/target.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace distkernel::kconfig {

enum class Tristate : int { no = 0, mod = 1, yes = 2 };

// A Kconfig expression. y, m and n are symbols named so; a quoted string or number is a
// constant; $(...) is a macro we do not run (a compiler test): it evaluates to y.
struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;
struct DISTKERNEL_API Expr {
	enum class Op { symbol, constant, macro, op_not, op_and, op_or, equal, unequal, less, less_equal, greater, greater_equal };
	Op op = Op::symbol;
	std::string text; // symbol name, constant text or macro text
	ExprPtr left, right;
	unsigned depth = 1; // of the tree below: what evaluating it recurses
};

// Parses an expression as written after "depends on"; throws Error saying what is wrong, also
// for an expression nested deeper than max_expr_depth (evaluating one recurses that deep).
inline constexpr unsigned max_expr_depth = 200;
DISTKERNEL_API ExprPtr parse_expr(std::string_view text);
// Kconfig's own spelling, parenthesised only where needed.
DISTKERNEL_API std::string to_string(const Expr &e);
// a && b, where a null operand means "no condition".
DISTKERNEL_API ExprPtr expr_and(ExprPtr a, ExprPtr b);

enum class Type { unknown, boolean, tristate, string, integer, hex };
// Kconfig's names of the types ("unknown" first: nlohmann gives the first for anything else).
NLOHMANN_JSON_SERIALIZE_ENUM(Type, {{Type::unknown, "unknown"},
				    {Type::boolean, "bool"},
				    {Type::tristate, "tristate"},
				    {Type::string, "string"},
				    {Type::integer, "int"},
				    {Type::hex, "hex"}})

struct DISTKERNEL_API Location {
	std::string file; // relative to the tree
	std::size_t line = 0;
	std::string str() const { return file + ":" + std::to_string(line); }
};

// "default VALUE if COND", "select SYMBOL if COND", "range LOW HIGH if COND".
struct DISTKERNEL_API Conditional {
	ExprPtr value;
	ExprPtr high; // range only
	ExprPtr condition; // null: always
	Location where;
};

// One "config SYMBOL" block (a symbol may be defined in several places, e.g. per arch).
struct DISTKERNEL_API Definition {
	Location where;
	Type type = Type::unknown;
	std::string prompt;       // empty: none (the symbol cannot be set by a user)
	ExprPtr prompt_condition; // "prompt ... if C" and the "visible if" of enclosing menus
	ExprPtr depends;          // own "depends on" and the enclosing if/menu/choice blocks', ANDed
	std::vector<Conditional> defaults, selects, implies, ranges;
	std::string help;
	std::vector<std::string> menus; // titles of the enclosing menus, outermost first
	int choice = -1;                // index into Kconfig::choices(), -1 when not in a choice
	bool menuconfig = false;
};

// A symbol that selects (or implies) another: "selected by S if COND".
struct DISTKERNEL_API ReverseDependency {
	std::string symbol;
	ExprPtr condition; // null: always
	Location where;
};

struct DISTKERNEL_API Symbol {
	std::string name;
	std::vector<Definition> definitions;
	std::vector<ReverseDependency> selected_by, implied_by;

	Type type() const;
	// The first prompt of any definition, or null.
	const Definition *prompted() const;
};

struct DISTKERNEL_API Choice {
	std::string prompt;
	Location where;
	ExprPtr depends;
	std::vector<std::string> members;
};

using distkernel::src_arch;

class DISTKERNEL_API Kconfig {
public:
	// Reads TREE/Kconfig and every file it sources ($(SRCARCH) and the like expanded for
	// arch; empty: default_arch). Throws Error naming file:line for what cannot be read.
	static Kconfig read(const std::filesystem::path &tree, const std::string &arch);

	const Symbol *find(std::string_view name) const;
	const std::vector<Choice> &choices() const noexcept { return choices_; }
	// Symbol names in the order of their first definition.
	const std::vector<std::string> &names() const noexcept { return order_; }
	std::size_t file_count() const noexcept { return files_; }

private:
	friend class Reader;
	Symbol &target(const std::string &name); // created when only selected, never defined
	struct Symbols; // by name; shared by copies until one of them changes
	std::shared_ptr<Symbols> symbols_;
	std::vector<std::string> order_;
	std::vector<Choice> choices_;
	std::size_t files_ = 0;
};

// Evaluates expressions against a final .config (absent symbols are n, or "" for strings and
// numbers when the Kconfig says so).
class DISTKERNEL_API Evaluator {
public:
	Evaluator(const Config &values, const Kconfig *kconfig = nullptr) : values_(values), kconfig_(kconfig) {}
	Tristate eval(const Expr &e) const;
	Tristate symbol(std::string_view name) const;
	// The value of a symbol as Kconfig prints it in comparisons ("y", "n", "64", "text").
	std::string string_of(const Expr &e) const;
	// Why e stays below want: the atoms that keep it there ("X86_64 is n", "COMPILE_TEST is y",
	// "NR_CPUS > 64 is false (NR_CPUS is 8)"). Empty when e reaches want.
	std::vector<std::string> blockers(const Expr &e, Tristate want) const;
	// Blockers that a layer asked for say where: "KVM is n (set by 20-virt.config:1)".
	void set_requested(const Config *requested) { requested_ = requested; }

private:
	void collect(const Expr &e, Tristate want, bool negated, std::vector<std::string> &out) const;
	const Config &values_;
	const Kconfig *kconfig_;
	const Config *requested_ = nullptr;
};

// The kernel's own make, as the kernel's build wants it.
using MakeOptions = BuildTarget;
// make -C SRC [O=BUILD] [ARCH=..] [CROSS_COMPILE=..] [LLVM=1] TARGET
DISTKERNEL_API std::vector<std::string> make_argv(const MakeOptions &o, const std::string &target);
// Runs `make olddefconfig` on the .config already in BUILD; throws Error with make's last lines.
DISTKERNEL_API void run_olddefconfig(const MakeOptions &o, const Logger &log);

} // namespace distkernel::kconfig
