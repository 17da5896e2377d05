// The options a new kernel brings: what `make listnewconfig` lists (a symbol the old config does
// not mention, whose prompt the user could answer now), with its prompt, help and menu.
#include "distkernel/upgrade.hpp"

#include <algorithm>
#include <unordered_map>

namespace distkernel {
using namespace kconfig;

namespace {

Tristate eval_or_yes(const Evaluator &ev, const ExprPtr &e)
{
	return e ? ev.eval(*e) : Tristate::yes;
}

// Kconfig's sym_calc_visibility and sym_is_changeable: visible above what selects force.
bool changeable(const Symbol &sym, const Evaluator &ev)
{
	Tristate vis = Tristate::no;
	for (const auto &d : sym.definitions) {
		if (d.prompt.empty())
			continue;
		vis = std::max(vis, std::min(eval_or_yes(ev, d.depends), eval_or_yes(ev, d.prompt_condition)));
	}
	Tristate rev = Tristate::no;
	for (const auto &r : sym.selected_by)
		rev = std::max(rev, std::min(ev.symbol(r.symbol), eval_or_yes(ev, r.condition)));
	if (sym.type() != Type::tristate) {
		// A bool is either on or off: "m" reaches it as y.
		if (vis == Tristate::mod)
			vis = Tristate::yes;
		if (rev == Tristate::mod)
			rev = Tristate::yes;
	}
	return vis > rev;
}

} // namespace

std::vector<NewOption> new_options(const Config &old, const Kconfig &k, const Config &values)
{
	Evaluator ev(values, &k);
	std::vector<NewOption> out;
	for (const auto &name : k.names()) {
		if (old.find(name))
			continue;
		const Symbol *sym = k.find(name);
		if (!sym || sym->definitions.empty() || !changeable(*sym, ev))
			continue;
		const Definition *p = sym->prompted();
		NewOption o;
		o.symbol = name;
		o.type = sym->type();
		o.prompt = p->prompt;
		o.menus = p->menus;
		o.where = p->where;
		for (const auto &d : sym->definitions)
			if (!d.help.empty()) {
				o.help = d.help;
				break;
			}
		if (const Entry *e = values.find(name))
			o.value = e->value;
		out.push_back(std::move(o));
	}
	return out;
}

std::string menu_path(const NewOption &o)
{
	if (o.menus.empty())
		return "(top level)";
	std::string s;
	for (const auto &m : o.menus)
		s += (s.empty() ? "" : " > ") + m;
	return s;
}

Json new_options_json(const std::vector<NewOption> &opts)
{
	Json doc = make_document("distkernel.new-options", 1, 0);
	// Grouped by menu, menus in the order their first new option appears.
	Json menus = Json::array();
	std::unordered_map<std::string, std::size_t> index;
	for (const auto &o : opts) {
		std::string m = menu_path(o);
		auto [it, fresh] = index.try_emplace(m, menus.size());
		if (fresh)
			menus.push_back(Json{{"menu", m}, {"options", Json::array()}});
		menus[it->second]["options"].push_back(Json{{"symbol", "CONFIG_" + o.symbol},
							    {"type", o.type},
							    {"prompt", o.prompt},
							    {"value", o.value ? Json(o.value->text()) : Json(nullptr)},
							    {"help", o.help},
							    {"defined_at", o.where.str()}});
	}
	doc["count"] = opts.size();
	doc["menus"] = menus;
	return doc;
}

} // namespace distkernel
