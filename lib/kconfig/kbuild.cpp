// The tree's Makefiles as Kbuild reads their goals: "obj-$(CONFIG_X) += foo.o dir/", composite
// objects ("foo-y", "foo-objs", "foo-$(CONFIG_Z)") and the ifdef/ifeq blocks around them. Only
// what names a CONFIG_ symbol is understood; other make logic is taken at face value, so counts
// are estimates of the compile units, not a build.
#include "distkernel/trim.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kmod.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/target.hpp"
#include "sys/text.hpp"

#include <deque>

namespace distkernel {
namespace fs = std::filesystem;

namespace {

// The first CONFIG_ symbol named in s, without the prefix; empty when none.
std::string kbuild_config_symbol(std::string_view s)
{
	auto p = s.find("CONFIG_");
	if (p == std::string_view::npos)
		return {};
	std::size_t e = p + 7;
	while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_'))
		++e;
	return std::string(s.substr(p + 7, e - p - 7));
}

// The assignment operator of a make line outside $(...), or npos; op_len gets its length.
std::size_t kbuild_assignment(std::string_view line, std::size_t &op_len)
{
	int depth = 0;
	for (std::size_t i = 0; i < line.size(); ++i) {
		char c = line[i];
		if (c == '(' || c == '{')
			++depth;
		else if ((c == ')' || c == '}') && depth > 0)
			--depth;
		else if (depth == 0) {
			if (c == '=') {
				op_len = 1;
				return i;
			}
			if ((c == '+' || c == ':' || c == '?') && i + 1 < line.size() && line[i + 1] == '=') {
				op_len = 2;
				return i;
			}
			if (c == ':') // a rule ("foo.o: bar.h"), not an assignment
				return std::string_view::npos;
		}
	}
	return std::string_view::npos;
}

// One level of ifdef/ifeq: the conditions that hold inside it; dead when Kbuild would never read
// it as far as we can tell (the else of a test we cannot evaluate).
struct KbuildFrame {
	std::vector<KbuildCondition> conditions;
	bool dead = false;
};

// "ifdef CONFIG_X", "ifeq ($(CONFIG_X),y)", "ifneq ($(CONFIG_X),)" and so on; an empty symbol
// for a test on anything else.
KbuildCondition kbuild_test(std::string_view keyword, std::string_view rest)
{
	KbuildCondition c;
	c.symbol = kbuild_config_symbol(rest);
	if (c.symbol.empty())
		return c;
	if (keyword == "ifdef")
		return c;
	if (keyword == "ifndef") {
		c.negated = true;
		return c;
	}
	// ifeq/ifneq (A,B) or "A" "B": which side is the symbol, and is the other side empty?
	std::string_view args = text::trim(rest);
	if (!args.empty() && args.front() == '(' && args.back() == ')')
		args = args.substr(1, args.size() - 2);
	int depth = 0;
	std::size_t comma = std::string_view::npos;
	for (std::size_t i = 0; i < args.size() && comma == std::string_view::npos; ++i) {
		if (args[i] == '(')
			++depth;
		else if (args[i] == ')')
			--depth;
		else if (args[i] == ',' && depth == 0)
			comma = i;
	}
	std::string_view a = comma == std::string_view::npos ? args : args.substr(0, comma);
	std::string_view b = comma == std::string_view::npos ? std::string_view() : args.substr(comma + 1);
	std::string_view other = text::trim(a.find("CONFIG_") != std::string_view::npos ? b : a, " \t\"'");
	const bool empty_test = other.empty() || other == "n";
	// ifeq (X,y) and ifneq (X,) hold when X is on; ifeq (X,) and ifneq (X,y) when it is off.
	c.negated = (keyword == "ifeq") == empty_test;
	return c;
}

} // namespace

std::vector<std::size_t> KbuildTree::add_makefile(const std::string &dir, std::string_view text, const std::string &file, int via)
{
	std::size_t dir_id;
	if (auto it = dir_index_.find(dir); it != dir_index_.end()) {
		dir_id = it->second;
	} else {
		dir_id = dirs_.size();
		dirs_.push_back(Dir{dir, {}});
		dir_index_.emplace(dir, dir_id);
	}
	if (via >= 0)
		dirs_[dir_id].via.push_back(static_cast<std::size_t>(via));
	++makefiles_;
	std::vector<std::size_t> new_dirs;
	std::vector<KbuildFrame> stack;
	std::size_t pos = 0, lineno = 0;
	while (pos < text.size()) {
		// one logical line: backslash-newline continues it
		std::string line;
		std::size_t first = lineno + 1;
		for (;;) {
			std::string_view l = next_line(text, pos);
			++lineno;
			if (!l.empty() && l.back() == '\\') {
				line.append(l.substr(0, l.size() - 1));
				line += ' ';
				if (pos < text.size())
					continue;
			} else {
				line.append(l);
			}
			break;
		}
		if (auto hash = line.find('#'); hash != std::string::npos)
			line.erase(hash);
		std::string_view l = text::trim(line);
		if (l.empty())
			continue;
		auto words = text::words(l);
		std::string_view kw = words[0];
		std::string_view rest = l.substr(kw.size());
		if (kw == "ifdef" || kw == "ifndef" || kw == "ifeq" || kw == "ifneq") {
			KbuildFrame f;
			if (!stack.empty())
				f = stack.back();
			KbuildCondition c = kbuild_test(kw, rest);
			if (!c.symbol.empty())
				f.conditions.push_back(c);
			stack.push_back(std::move(f));
			continue;
		}
		if (kw == "else") {
			if (stack.empty())
				continue;
			KbuildFrame outer = stack.size() > 1 ? stack[stack.size() - 2] : KbuildFrame{};
			KbuildFrame &top = stack.back();
			if (top.conditions.size() > outer.conditions.size()) {
				// the opposite of this level's own test
				top.conditions.back().negated = !top.conditions.back().negated;
				top.dead = outer.dead;
			} else {
				top.dead = true; // the else of a test we could not read
			}
			if (words.size() > 1 && (words[1] == "ifdef" || words[1] == "ifndef" || words[1] == "ifeq" || words[1] == "ifneq")) {
				std::string_view kw2 = words[1];
				KbuildCondition c = kbuild_test(kw2, rest.substr(rest.find(kw2) + kw2.size()));
				if (!c.symbol.empty())
					top.conditions.push_back(c);
				top.dead = outer.dead;
			}
			continue;
		}
		if (kw == "endif") {
			if (!stack.empty())
				stack.pop_back();
			continue;
		}
		if (!stack.empty() && stack.back().dead)
			continue;
		std::size_t op_len = 0;
		std::size_t op = kbuild_assignment(l, op_len);
		if (op == std::string_view::npos)
			continue;
		std::string_view lhs = text::trim(l.substr(0, op));
		std::string_view rhs = l.substr(op + op_len);
		if (lhs.starts_with("override ") || lhs.starts_with("export "))
			lhs = text::trim(lhs.substr(lhs.find(' ')));
		const std::vector<KbuildCondition> conditions = stack.empty() ? std::vector<KbuildCondition>{} : stack.back().conditions;
		const std::string where = file + ":" + std::to_string(first);

		std::string symbol;
		char fixed = 0;
		std::string composite; // the object a "foo-y" line adds parts to
		if (lhs.starts_with("obj-") || lhs.starts_with("lib-")) {
			std::string_view suffix = lhs.substr(4);
			if (suffix == "y" || suffix == "m")
				fixed = suffix[0];
			else if (symbol = kbuild_config_symbol(suffix); symbol.empty())
				continue;
		} else {
			std::string_view base;
			for (std::string_view tail : {"-y", "-m", "-objs"})
				if (lhs.size() > tail.size() && lhs.ends_with(tail)) {
					base = lhs.substr(0, lhs.size() - tail.size());
					break;
				}
			if (base.empty()) {
				auto dash = lhs.find("-$(");
				if (dash == std::string_view::npos || dash == 0 || lhs.back() != ')')
					continue;
				symbol = kbuild_config_symbol(lhs.substr(dash));
				if (symbol.empty())
					continue;
				base = lhs.substr(0, dash);
			}
			if (base.find_first_of("$() \t/") != std::string_view::npos)
				continue;
			composite = fs::path(dir + std::string(base) + ".o").lexically_normal().string();
		}
		for (std::string_view w : text::words(rhs)) {
			if (w.find('$') != std::string_view::npos)
				continue;
			const bool is_dir = w.back() == '/';
			if (!is_dir && !w.ends_with(".o"))
				continue;
			std::string path = fs::path(dir + std::string(w)).lexically_normal().string();
			if (is_dir && path.back() != '/')
				path += '/';
			if (!composite.empty()) {
				if (!is_dir)
					parts_[composite].push_back(KbuildPart{path, symbol, conditions});
				continue;
			}
			std::size_t id = goals_.size();
			goals_.push_back(KbuildGoal{path, symbol, fixed, conditions, where, static_cast<int>(dir_id)});
			if (is_dir) {
				new_dirs.push_back(id);
			} else {
				by_path_.emplace(path, id);
				by_module_[normalise_module_name(fs::path(path).stem().string())].push_back(id);
			}
		}
	}
	return new_dirs;
}

KbuildTree KbuildTree::read(const fs::path &tree, const std::string &arch_in)
{
	const std::string arch = src_arch(arch_in.empty() ? std::string(default_arch) : arch_in);
	const fs::path top = tree / "Kbuild";
	std::error_code ec;
	if (!fs::is_regular_file(top, ec))
		throw Error(tree.string() + ": not a kernel tree of the Kbuild era (no top-level Kbuild file)");
	std::string text = read_file(top);
	// Kbuild's $(SRCARCH), and the arch's own directories its Makefile adds (core-y, libs-y,
	// drivers-$(CONFIG_PCI), ...) as Kbuild's $(ARCH_CORE)/$(ARCH_LIB)/$(ARCH_DRIVERS) do.
	for (std::size_t p; (p = text.find("$(SRCARCH)")) != std::string::npos;)
		text.replace(p, 10, arch);
	text += "\nobj-y += lib/\n";
	const fs::path arch_makefile = tree / "arch" / arch / "Makefile";
	if (fs::is_regular_file(arch_makefile, ec)) {
		const std::string arch_text = read_file(arch_makefile); // the lines below are views into it
		for (std::string_view l : text::lines(arch_text)) {
			for (std::string_view kind : {"core-", "libs-", "drivers-"}) {
				if (!l.starts_with(kind))
					continue;
				std::size_t op_len = 0;
				std::size_t op = kbuild_assignment(l, op_len);
				if (op == std::string_view::npos)
					continue;
				text += "obj-" + std::string(text::trim(l.substr(kind.size(), op - kind.size()))) + " += " +
					std::string(l.substr(op + op_len)) + "\n";
			}
		}
	}
	KbuildTree t;
	std::deque<std::size_t> queue;
	for (std::size_t g : t.add_makefile("", text, "Kbuild", -1))
		queue.push_back(g);
	std::set<std::string> read_dirs;
	while (!queue.empty()) {
		std::size_t g = queue.front();
		queue.pop_front();
		const std::string dir = t.goals_[g].path;
		if (!read_dirs.insert(dir).second) {
			// another goal leading to a directory already read (when it had a Makefile)
			if (auto it = t.dir_index_.find(dir); it != t.dir_index_.end())
				t.dirs_[it->second].via.push_back(g);
			continue;
		}
		fs::path file;
		for (const char *name : {"Kbuild", "Makefile"})
			if (fs::is_regular_file(tree / dir / name, ec)) {
				file = fs::path(dir) / name;
				break;
			}
		if (file.empty())
			continue; // a directory of another arch's, or one the tree does not ship
		for (std::size_t sub : t.add_makefile(dir, read_file(tree / file), file.string(), static_cast<int>(g)))
			queue.push_back(sub);
	}
	return t;
}

std::vector<const KbuildGoal *> KbuildTree::module(std::string_view name) const
{
	std::vector<const KbuildGoal *> out;
	if (auto it = by_module_.find(normalise_module_name(name)); it != by_module_.end())
		for (std::size_t i : it->second)
			out.push_back(&goals_[i]);
	return out;
}

const KbuildGoal *KbuildTree::object(std::string_view path) const
{
	auto it = by_path_.find(path);
	return it == by_path_.end() ? nullptr : &goals_[it->second];
}

const std::vector<KbuildPart> *KbuildTree::parts(std::string_view path) const
{
	auto it = parts_.find(path);
	return it == parts_.end() ? nullptr : &it->second;
}

namespace {

int kbuild_symbol_value(const Config &values, const std::string &symbol)
{
	Value v = values.value_of(symbol);
	return v.kind() == Value::Kind::yes ? 2 : v.kind() == Value::Kind::module ? 1 : v.is_off() ? 0 : 2;
}

bool kbuild_conditions_hold(const Config &values, const std::vector<KbuildCondition> &conditions)
{
	for (const auto &c : conditions)
		if ((kbuild_symbol_value(values, c.symbol) > 0) == c.negated)
			return false;
	return true;
}

} // namespace

// 2 built in, 1 module, 0 not built; dir_values memoises the directories (-1 unknown, -2 being
// computed: a cycle of directories counts as off).
int KbuildTree::value(const KbuildGoal &g, const Config &values, std::vector<int> &dir_values) const
{
	int own = g.symbol.empty() ? (g.fixed == 'm' ? 1 : 2) : kbuild_symbol_value(values, g.symbol);
	if (own == 0 || !kbuild_conditions_hold(values, g.conditions))
		return 0;
	const auto d = static_cast<std::size_t>(g.dir);
	if (dir_values[d] == -1) {
		dir_values[d] = -2;
		int v = dirs_[d].via.empty() ? 2 : 0;
		for (std::size_t via : dirs_[d].via)
			v = std::max(v, value(goals_[via], values, dir_values));
		dir_values[d] = v;
	}
	return std::min(own, std::max(dir_values[d], 0));
}

std::vector<std::string> KbuildTree::gates(const KbuildGoal &g, const Config &values) const
{
	std::vector<std::string> out;
	std::vector<int> dir_values(dirs_.size(), -1);
	std::set<int> seen;
	for (const KbuildGoal *cur = &g; cur;) {
		if (!cur->symbol.empty())
			out.push_back(cur->symbol);
		for (const auto &c : cur->conditions)
			if (!c.negated)
				out.push_back(c.symbol);
		if (!seen.insert(cur->dir).second)
			break;
		const Dir &d = dirs_[static_cast<std::size_t>(cur->dir)];
		const KbuildGoal *next = d.via.empty() ? nullptr : &goals_[d.via.front()];
		for (std::size_t via : d.via)
			if (value(goals_[via], values, dir_values) > 0) {
				next = &goals_[via];
				break;
			}
		cur = next;
	}
	return out;
}

KbuildCount KbuildTree::count(const Config &values) const
{
	KbuildCount c;
	std::vector<int> dir_values(dirs_.size(), -1);
	for (const auto &g : goals_) {
		if (g.directory())
			continue;
		int v = value(g, values, dir_values);
		if (v == 0)
			continue;
		std::size_t n = 1;
		if (const auto *p = parts(g.path)) {
			n = 0;
			for (const auto &part : *p)
				if ((part.symbol.empty() || kbuild_symbol_value(values, part.symbol) > 0) &&
				    kbuild_conditions_hold(values, part.conditions)) {
					++n;
					c.paths.insert(part.path);
				}
		} else {
			c.paths.insert(g.path);
		}
		c.objects += n;
		if (v == 1) {
			c.module_objects += n;
			c.modules.insert(normalise_module_name(fs::path(g.path).stem().string()));
		}
	}
	return c;
}

int KbuildTree::module_value(std::string_view name, const Config &values) const
{
	std::vector<int> dir_values(dirs_.size(), -1);
	int best = 0;
	for (const KbuildGoal *g : module(name))
		best = std::max(best, value(*g, values, dir_values));
	return best;
}

} // namespace distkernel
