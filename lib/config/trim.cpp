// The trim: what the machine needs (its devices' modaliases, loaded modules, mounts, crypto, the
// always-kept classes, the user's rules and layers) -> modules (libkmod on the base's own module
// tree) -> Kconfig symbols (the tree's Makefiles) -> the Kconfig closure (depends on, select),
// and every other module symbol of the base turned off in a layer.
#include "distkernel/trim.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/kmod.hpp"
#include "distkernel/quote.hpp"
#include "distkernel/rootfs.hpp"
#include "sys/text.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace distkernel {
namespace fs = std::filesystem;

const std::vector<TrimClass> &always_kept_classes()
{
	// Names as the kernel spells modules ('-' and '_' alike); those the base builds in or does
	// not have are skipped.
	static const std::vector<TrimClass> classes = {
		{"console", "a console on the first boot of the new kernel: serial ports, virtual terminals, firmware framebuffers",
		 {"8250", "8250_pci", "serial_core", "fbcon", "efifb", "vesafb", "simpledrm"}},
		{"usb-host", "USB ports must work for whatever is plugged in later (keyboard, stick)",
		 {"usbcore", "usb_common", "xhci_hcd", "xhci_pci", "ehci_hcd", "ehci_pci", "ohci_hcd", "ohci_pci", "uhci_hcd"}},
		{"usb-hid", "a USB keyboard or mouse plugged in later must work (rescue, new hardware)",
		 {"hid", "usbhid", "hid_generic", "evdev"}},
		{"usb-storage", "a USB stick, disk or optical drive plugged in later",
		 {"usb_storage", "uas", "sd_mod", "sr_mod", "cdrom"}},
		{"removable-filesystems", "the filesystems of removable media: FAT/exFAT sticks, ISO 9660 and UDF discs, NTFS disks, their code pages",
		 {"vfat", "fat", "msdos", "exfat", "isofs", "udf", "ntfs3", "nls_cp437", "nls_iso8859_1", "nls_utf8", "nls_ascii"}},
		{"system", "what a running system mounts or opens on demand: loop images, FUSE, overlay (containers), squashfs, "
			   "UEFI variables, autofs, tun",
		 {"loop", "fuse", "overlay", "squashfs", "efivarfs", "autofs4", "tun"}},
		{"crypto", "ciphers, hashes and their accelerated versions are loaded by name when something asks for them "
			   "(a LUKS volume of another cipher, IPsec, WireGuard, kTLS, the kernel keyring): no device shows that",
		 {},
		 {"crypto/", "arch/x86/crypto/", "lib/crypto/"}},
	};
	return classes;
}

std::vector<TrimRule> read_trim_rules(const fs::path &file)
{
	std::vector<TrimRule> out;
	auto shared = std::make_shared<const std::string>(file.string());
	std::string text = read_file(file);
	std::size_t pos = 0, lineno = 0;
	while (pos < text.size()) {
		std::string_view l = next_line(text, pos);
		++lineno;
		auto w = text::uncommented_words(l);
		if (w.empty())
			continue;
		if (w.size() != 2 || (w[0] != "keep" && w[0] != "drop"))
			throw ParseError(file, lineno, fmt::format("expected \"keep NAME\" or \"drop NAME\" (a module or CONFIG_ symbol), got {}",
								  quote_input(text::trim(l), 80)));
		out.push_back(TrimRule{w[0] == "keep", std::string(w[1]), Origin(shared, lineno)});
	}
	return out;
}

namespace {

std::string trim_symbol_name(std::string_view s)
{
	return std::string(s.starts_with("CONFIG_") ? s.substr(7) : s);
}

// "drivers/net/wireless": the first three directories of a module's path, its class.
std::string trim_class_of(const std::string &path)
{
	fs::path dir = fs::path(path).parent_path();
	std::string out;
	int n = 0;
	for (const auto &c : dir) {
		if (n++ == 3)
			break;
		out += (out.empty() ? "" : "/") + c.string();
	}
	return out;
}

// The symbols an expression needs on, under an even number of negations (depends on A && !B
// needs A only).
void trim_needed_symbols(const kconfig::Expr *e, bool negated, std::vector<std::string> &out)
{
	if (!e)
		return;
	using Op = kconfig::Expr::Op;
	switch (e->op) {
	case Op::symbol:
		if (!negated)
			out.push_back(e->text);
		return;
	case Op::op_not:
		trim_needed_symbols(e->left.get(), !negated, out);
		return;
	case Op::op_and:
	case Op::op_or:
		trim_needed_symbols(e->left.get(), negated, out);
		trim_needed_symbols(e->right.get(), negated, out);
		return;
	case Op::equal:
		trim_needed_symbols(e->left.get(), negated, out);
		trim_needed_symbols(e->right.get(), negated, out);
		return;
	default:
		return;
	}
}

// How a rule was written, for messages: "--keep e1000" or "rules:3: keep e1000".
std::string trim_rule_text(const TrimRule &r)
{
	const char *verb = r.keep ? "keep" : "drop";
	if (r.origin.line == 0)
		return fmt::format("--{} {}", verb, quote_input(r.name));
	return fmt::format("{}: {} {}", r.origin.str(), verb, quote_input(r.name));
}

bool trim_is_module(const Config &c, const std::string &symbol)
{
	return c.value_of(symbol).kind() == Value::Kind::module;
}

// A reason once, and a few of them: enough to explain, not every device of a kind.
void trim_add_reason(std::vector<TrimReason> &reasons, const TrimReason &why)
{
	if (reasons.size() >= 8)
		return;
	for (const auto &r : reasons)
		if (r.kind == why.kind && r.detail == why.detail && r.where == why.where)
			return;
	reasons.push_back(why);
}

struct TrimState {
	const TrimOptions &o;
	const Logger &log;
	Config base;
	kconfig::Kconfig kconfig;
	KbuildTree kbuild;
	ModuleTree modules;
	std::map<std::string, std::vector<TrimReason>> module_reasons; // module -> why
	std::map<std::string, std::vector<TrimReason>> symbol_reasons; // symbol -> why
	std::map<std::string, TrimRule> dropped_by_rule;              // symbol -> rule
	std::set<std::string> root_symbols;                           // what the root needs: never dropped
	std::vector<std::string> unresolved, warnings;

	void need_module(const std::string &raw, const TrimReason &why)
	{
		std::string name = normalise_module_name(raw);
		trim_add_reason(module_reasons[name], why);
	}

	// What modprobe would load for the alias; false when nothing matches.
	bool need_alias(const std::string &alias, const TrimReason &why)
	{
		auto refs = modules.lookup(alias);
		for (const auto &m : refs)
			if (!m.builtin)
				need_module(m.name, why);
		return !refs.empty();
	}

	void need_device(const Device &d, const std::string &kind, const std::string &detail)
	{
		TrimReason why{kind, detail.empty() ? d.path + " " + d.modalias : detail + ": " + d.path + " " + d.modalias, ""};
		bool found = !d.modalias.empty() && need_alias(d.modalias, why);
		if (!d.module.empty()) {
			need_module(d.module, why);
			found = true;
		}
		if (!found && !d.modalias.empty() && d.driver.empty() && kind == "device")
			unresolved.push_back(d.path + " " + d.modalias + ": no module of " + o.module_dir.string() + " matches");
	}

	void need_mount(const Mount &mt, const std::string &kind)
	{
		const std::string what = mt.target + " (" + mt.fstype + " on " + mt.source + ")";
		if (!mt.fstype.empty() && !need_alias("fs-" + mt.fstype, {kind, what + ": its filesystem", ""}))
			need_alias(mt.fstype, {kind, what + ": its filesystem", ""});
		for (const auto &l : mt.chain) {
			const std::string layer = what + ": " + l.kind + " " + l.name;
			if (l.kind == "dm-crypt")
				for (const char *m : {"dm_mod", "dm_crypt"})
					need_alias(m, {kind, layer, ""});
			else if (l.kind == "lvm" || l.kind == "dm")
				need_alias("dm_mod", {kind, layer, ""});
			else if (l.kind == "md") {
				need_alias("md_mod", {kind, layer, ""});
				std::string level = l.level;
				if (level == "raid4" || level == "raid5" || level == "raid6")
					level = "raid456";
				if (!level.empty())
					need_alias(level, {kind, layer, ""});
			} else if (l.kind == "loop")
				need_alias("loop", {kind, layer, ""});
			for (const auto &d : l.devices)
				need_device(d, kind, layer);
		}
	}

	// The goal that builds a module: the one under the module's own directory in the tree when
	// several have its name.
	const KbuildGoal *goal_of(const std::string &module) const
	{
		auto goals = kbuild.module(module);
		if (goals.empty())
			return nullptr;
		if (auto ref = modules.find(module); ref && !ref->file.empty()) {
			std::string file = ref->file.string();
			for (const KbuildGoal *g : goals) {
				std::string stem = g->path.substr(0, g->path.size() - 2);
				if (file.find("/kernel/" + stem + ".ko") != std::string::npos)
					return g;
			}
		}
		return goals.front();
	}

	void need_symbol(const std::string &symbol, const TrimReason &why)
	{
		trim_add_reason(symbol_reasons[symbol], why);
	}

	// A module's symbols: its own, the directories above it, the parts of it the base builds.
	void need_module_symbols(const std::string &module, const std::vector<TrimReason> &why)
	{
		const KbuildGoal *g = goal_of(module);
		if (!g) {
			if (modules.find(module))
				warnings.push_back("module " + module + ": no Makefile of the tree builds it (kept as the base has it)");
			return;
		}
		TrimReason via{"dependency", "module " + module + (why.empty() ? "" : " (" + why.front().kind + ": " + why.front().detail + ")"),
			       why.empty() ? "" : why.front().where};
		for (const auto &s : kbuild.gates(*g, base))
			if (trim_is_module(base, s)) {
				if (s == g->symbol)
					for (const auto &w : why)
						need_symbol(s, w);
				else
					need_symbol(s, via);
			}
		if (const auto *parts = kbuild.parts(g->path))
			for (const auto &p : *parts)
				if (!p.symbol.empty() && trim_is_module(base, p.symbol))
					need_symbol(p.symbol, via);
	}

	// depends on and select of every kept symbol, until nothing more is needed.
	void closure()
	{
		kconfig::Evaluator eval(base, &kconfig);
		std::vector<std::string> work;
		for (const auto &[s, _] : symbol_reasons)
			work.push_back(s);
		while (!work.empty()) {
			std::string s = work.back();
			work.pop_back();
			const kconfig::Symbol *sym = kconfig.find(s);
			if (!sym)
				continue;
			auto add = [&](const std::string &t, const std::string &how) {
				if (!trim_is_module(base, t) || dropped_by_rule.count(t))
					return;
				bool fresh = !symbol_reasons.count(t);
				need_symbol(t, {"dependency", "CONFIG_" + s + " " + how + " it", ""});
				if (fresh)
					work.push_back(t);
			};
			for (const auto &d : sym->definitions) {
				std::vector<std::string> deps;
				trim_needed_symbols(d.depends.get(), false, deps);
				for (const auto &t : deps)
					add(t, "depends on");
				for (const auto &sel : d.selects)
					if (sel.value && sel.value->op == kconfig::Expr::Op::symbol &&
					    (!sel.condition || eval.eval(*sel.condition) != kconfig::Tristate::no))
						add(sel.value->text, "selects");
			}
		}
	}
};

} // namespace

TrimResult trim(const TrimOptions &o, const Logger &log)
{
	std::error_code ec;
	if (!fs::is_regular_file(o.module_dir / "modules.alias", ec) && !fs::is_regular_file(o.module_dir / "modules.alias.bin", ec))
		throw Error(o.module_dir.string() +
			    ": no modules.alias: not a module tree after depmod (run depmod -b ROOT KV on the base's modules)");
	log.step("reading the base {}, the Kconfig and Makefiles of {}, the module tree {}", o.base.string(), o.tree.string(),
		 o.module_dir.string());
	TrimState st{o, log, Config::read(o.base), kconfig::Kconfig::read(o.tree, o.arch), KbuildTree::read(o.tree, o.arch),
		     ModuleTree(o.module_dir), {}, {}, {}, {}, {}, {}};
	const Machine &m = o.machine;

	// the rules: later ones win; unknown names are errors
	std::map<std::string, const TrimRule *> last_rule;
	for (const auto &r : o.rules) {
		std::string sym = trim_symbol_name(r.name);
		bool is_symbol = r.name.starts_with("CONFIG_") || (st.kconfig.find(sym) && st.kbuild.module(r.name).empty());
		if (!is_symbol && st.kbuild.module(r.name).empty() && !st.modules.find(normalise_module_name(r.name)))
			throw UsageError(fmt::format("{}: no module of that name in {} or {}, and no such Kconfig symbol", trim_rule_text(r),
						     o.module_dir.string(), o.tree.string()));
		if (is_symbol && !st.kconfig.find(sym))
			throw UsageError(fmt::format("{}: no such Kconfig symbol in {}", trim_rule_text(r), o.tree.string()));
		last_rule[is_symbol ? "CONFIG_" + sym : normalise_module_name(r.name)] = &r;
	}

	// what the machine needs
	if (m.root)
		st.need_mount(*m.root, "root");
	if (m.boot && m.boot->target != "/")
		st.need_mount(*m.boot, "mount");
	for (const auto &mt : m.fstab)
		st.need_mount(mt, "mount");
	// every filesystem mounted at snapshot time, fstab or not (an automounted ESP, a USB stick)
	for (const auto &fs_type : m.filesystems)
		st.need_alias("fs-" + fs_type, {"mount", "a " + fs_type + " filesystem was mounted", ""});
	for (const auto &d : m.devices)
		st.need_device(d, "device", "");
	for (const auto &name : m.loaded_modules)
		st.need_module(name, {"loaded", "loaded on the machine", ""});
	for (const auto &c : m.crypto) {
		for (const auto &part : text::split(c.cipher, '-'))
			if (!part.empty())
				st.need_alias("crypto-" + std::string(part), {"crypto", c.device + " " + c.cipher, ""});
	}
	for (const auto &cls : always_kept_classes()) {
		const TrimReason why{"class", cls.name + ": " + cls.why, ""};
		for (const auto &name : cls.modules)
			if (auto ref = st.modules.find(name); ref && !ref->builtin)
				st.need_module(ref->name, why);
		for (const auto &g : st.kbuild.goals())
			if (!g.directory() && !g.symbol.empty() && trim_is_module(st.base, g.symbol) &&
			    std::any_of(cls.directories.begin(), cls.directories.end(), [&](const std::string &d) { return g.path.starts_with(d); }))
				st.need_module(fs::path(g.path).stem().string(), why);
	}
	// the root's own modules and their dependencies: no rule drops them
	std::set<std::string> root_modules;
	for (const auto &[name, why] : st.module_reasons)
		if (std::any_of(why.begin(), why.end(), [](const TrimReason &r) { return r.kind == "root"; }))
			root_modules.insert(name);

	for (const auto &[key, r] : last_rule) {
		if (key.starts_with("CONFIG_")) {
			std::string sym = key.substr(7);
			if (r->keep) {
				if (!trim_is_module(st.base, sym) && st.base.value_of(sym).is_off())
					throw UsageError(fmt::format("{}: the base does not build it (n): trim only keeps what the "
								     "base has; set it in a config.d layer",
								     trim_rule_text(*r)));
				st.need_symbol(sym, {"rule", "keep " + r->name, r->origin.str()});
			} else {
				st.dropped_by_rule.emplace(sym, *r);
			}
		} else if (r->keep) {
			st.need_module(key, {"rule", "keep " + r->name, r->origin.str()});
		} else {
			if (root_modules.count(key))
				throw UsageError(fmt::format("{}: the root filesystem needs it", trim_rule_text(*r)));
			st.module_reasons.erase(key);
			if (const KbuildGoal *g = st.goal_of(key); g && !g->symbol.empty())
				st.dropped_by_rule.emplace(g->symbol, *r);
		}
	}

	// modules.dep: what the needed modules need
	std::vector<std::string> needed;
	for (const auto &[name, _] : st.module_reasons)
		needed.push_back(name);
	for (const auto &name : needed)
		for (const auto &dep : st.modules.dependencies(name))
			st.need_module(dep, {"dependency", "module " + name + " needs it (modules.dep)", ""});

	for (const auto &[name, why] : st.module_reasons)
		st.need_module_symbols(name, why);

	// the user's layers: what they set to y or m stays
	for (const auto &f : expand_layers(o.layers)) {
		Config layer = Config::read(f);
		for (const auto &e : layer.entries())
			if ((e.value.kind() == Value::Kind::module || e.value.kind() == Value::Kind::yes) && trim_is_module(st.base, e.symbol))
				st.need_symbol(e.symbol, {"layer", format_entry(e.symbol, e.value), e.origin.str()});
	}
	for (const auto &[sym, rule] : st.dropped_by_rule) {
		for (const auto &s : root_modules)
			if (const KbuildGoal *g = st.goal_of(s); g && g->symbol == sym)
				throw UsageError(fmt::format("{}: the root filesystem needs it (module {})", trim_rule_text(rule), s));
		if (st.symbol_reasons.count(sym))
			st.warnings.push_back(fmt::format("CONFIG_{} dropped by {} although {} needs it", sym, trim_rule_text(rule),
							  st.symbol_reasons[sym].front().detail));
		st.symbol_reasons.erase(sym);
	}
	st.closure();

	TrimResult r;
	r.trimmed = st.base;
	const Origin layer_origin("trim", 0);
	for (const auto &e : st.base.entries()) {
		if (e.value.kind() != Value::Kind::module || &e != st.base.find(e.symbol))
			continue;
		++r.base_module_symbols;
		if (st.symbol_reasons.count(e.symbol)) {
			++r.trimmed_module_symbols;
			continue;
		}
		r.off_symbols.push_back(e.symbol);
		r.trimmed.set(e.symbol, Value(), layer_origin);
	}
	r.kept_symbols = st.symbol_reasons;
	r.base_count = st.kbuild.count(st.base);
	r.trimmed_count = st.kbuild.count(r.trimmed);

	// the layer, grouped by class
	std::map<std::string, std::string> class_of_symbol;
	for (const auto &g : st.kbuild.goals())
		if (!g.directory() && !g.symbol.empty() && !class_of_symbol.count(g.symbol))
			class_of_symbol[g.symbol] = trim_class_of(g.path);
	for (const auto &name : r.base_count.modules) {
		std::uintmax_t bytes = 0;
		if (auto ref = st.modules.find(name); ref && !ref->file.empty()) {
			std::error_code size_ec;
			bytes = fs::file_size(ref->file, size_ec);
			if (size_ec)
				bytes = 0;
		}
		r.base_module_bytes += bytes;
		if (r.trimmed_count.modules.count(name))
			r.trimmed_module_bytes += bytes;
		const KbuildGoal *g = st.goal_of(name);
		TrimModule tm{name, g ? g->symbol : "", g ? trim_class_of(g->path) : "", {}};
		if (r.trimmed_count.modules.count(name)) {
			if (auto it = st.module_reasons.find(name); it != st.module_reasons.end())
				tm.reasons = it->second;
			else if (auto s = st.symbol_reasons.find(tm.symbol); s != st.symbol_reasons.end())
				tm.reasons = s->second;
			else
				tm.reasons.push_back({"built", "CONFIG_" + tm.symbol + " stays as the base has it", ""});
			r.kept.push_back(std::move(tm));
		} else {
			r.dropped.push_back(std::move(tm));
		}
	}
	std::map<std::string, std::vector<std::string>> by_class;
	for (const auto &s : r.off_symbols)
		by_class[class_of_symbol.count(s) ? class_of_symbol[s] : "(no module of its own)"].push_back(s);
	std::string &t = r.layer_text;
	t += fmt::format("# distkernel-config trim: the modules of {} off except what the machine of {} needs\n", o.base.string(),
			 o.machine_source.empty() ? m.origin : o.machine_source);
	t += "# (its devices, loaded modules, mounts, the always-kept classes, rules and layers; built-in options untouched).\n";
	t += fmt::format("# {} of {} module symbols kept; {} of {} modules; `distkernel-config trim --explain` says why.\n",
			 r.trimmed_module_symbols, r.base_module_symbols, r.trimmed_count.modules.size(), r.base_count.modules.size());
	// A symbol the user cannot set (no prompt, or one hidden under the base) follows from the
	// others through its defaults: olddefconfig decides it, the layer does not ask.
	kconfig::Evaluator visible(st.base, &st.kconfig);
	auto settable = [&](const std::string &s) {
		const kconfig::Symbol *sym = st.kconfig.find(s);
		if (!sym)
			return false;
		for (const auto &d : sym->definitions)
			if (!d.prompt.empty() && (!d.prompt_condition || visible.eval(*d.prompt_condition) != kconfig::Tristate::no))
				return true;
		return false;
	};
	for (auto &[cls, syms] : by_class) {
		std::erase_if(syms, [&](const std::string &s) { return !settable(s); });
		if (syms.empty())
			continue;
		t += fmt::format("\n# {}: {} symbol(s) off: no device, mount, loaded module, class or rule of the machine needs them\n", cls,
				 syms.size());
		for (const auto &s : syms) {
			if (auto it = st.dropped_by_rule.find(s); it != st.dropped_by_rule.end())
				t += "# dropped by " + trim_rule_text(it->second) + "\n";
			t += format_entry(s, Value()) + "\n";
		}
	}
	r.unresolved = std::move(st.unresolved);
	r.warnings = std::move(st.warnings);
	log.verbose("trim: {} Makefiles, {} module symbols of the base, {} kept", st.kbuild.makefile_count(), r.base_module_symbols,
		    r.trimmed_module_symbols);
	return r;
}

TrimSettings read_trim_settings(const Root &root, const std::string &inside, const fs::path &tree)
{
	const fs::path file = root.path(inside);
	TrimSettings s;
	for (const auto &kv : text::key_values(read_file(file), file)) {
		fs::path *target = kv.key == "snapshot" ? &s.snapshot : kv.key == "modules" ? &s.module_dir : kv.key == "rules" ? &s.rules : nullptr;
		if (!target)
			throw ParseError(file, kv.line, fmt::format("unknown key {} (snapshot, modules, rules)", quote_input(kv.key)));
		if (kv.value.empty() || kv.value.front() != '/')
			throw ParseError(file, kv.line, fmt::format("{} = {}: not an absolute path (inside {})", kv.key, quote_input(kv.value),
								  root.dir().string()));
		*target = root.path(kv.value);
	}
	if (s.snapshot.empty())
		throw ParseError(file, 0, "names no snapshot (snapshot = /path/of/the/machine.json)");
	if (!s.module_dir.empty())
		return s;
	// The tree's series from its Makefile's VERSION and PATCHLEVEL.
	std::string series;
	std::error_code ec;
	if (fs::is_regular_file(tree / "Makefile", ec)) {
		std::string version, patchlevel;
		const std::string makefile = read_file(tree / "Makefile"); // the lines below are views into it
		for (std::string_view l : text::lines(makefile)) {
			if (l.starts_with("VERSION = "))
				version = text::trim(l.substr(10));
			else if (l.starts_with("PATCHLEVEL = "))
				patchlevel = text::trim(l.substr(13));
		}
		if (!version.empty() && !patchlevel.empty())
			series = version + "." + patchlevel + ".";
	}
	std::vector<std::string> same, any;
	for (const char *dir : {"/lib/modules", "/usr/lib/modules"}) {
		fs::path d = root.path(dir);
		if (!fs::is_directory(d, ec))
			continue;
		for (const auto &e : fs::directory_iterator(d, ec)) {
			if (!fs::is_regular_file(e.path() / "modules.alias", ec))
				continue;
			any.push_back(e.path().string());
			if (!series.empty() && e.path().filename().string().starts_with(series))
				same.push_back(e.path().string());
		}
	}
	auto newest = [](std::vector<std::string> &v) {
		std::sort(v.begin(), v.end(), [](const std::string &a, const std::string &b) { return strverscmp(a.c_str(), b.c_str()) < 0; });
		return fs::path(v.back());
	};
	if (!same.empty())
		s.module_dir = newest(same);
	else if (!any.empty())
		s.module_dir = newest(any);
	else
		throw Error(file.string() + ": names no module tree (modules = ...) and " + root.path("/lib/modules").string() +
			    " has none with modules.alias to map the machine's devices to modules");
	return s;
}

namespace {

Json trim_reasons_json(const std::vector<TrimReason> &reasons)
{
	Json a = Json::array();
	for (const auto &w : reasons) {
		Json j{{"kind", w.kind}, {"detail", w.detail}};
		if (!w.where.empty())
			j["where"] = w.where;
		a.push_back(j);
	}
	return a;
}

} // namespace

Json trim_json(const TrimOptions &o, const TrimResult &r, const std::string &layer_file)
{
	Json j = make_document("distkernel.trim", 1, 1);
	j["machine"] = o.machine_source;
	j["tree"] = o.tree.string();
	j["base"] = o.base.string();
	j["modules_dir"] = o.module_dir.string();
	j["layer"] = layer_file;
	j["counts"] = {{"base_modules", r.base_count.modules.size()},
		       {"trimmed_modules", r.trimmed_count.modules.size()},
		       {"base_module_symbols", r.base_module_symbols},
		       {"trimmed_module_symbols", r.trimmed_module_symbols},
		       {"base_module_bytes", r.base_module_bytes},
		       {"trimmed_module_bytes", r.trimmed_module_bytes},
		       {"base_objects", r.base_count.objects},
		       {"trimmed_objects", r.trimmed_count.objects},
		       {"base_module_objects", r.base_count.module_objects},
		       {"trimmed_module_objects", r.trimmed_count.module_objects}};
	// what the base builds and the trimmed config does not: for a benchmark's sample of the
	// compile time saved
	j["left_out_objects"] = Json::array();
	std::set_difference(r.base_count.paths.begin(), r.base_count.paths.end(), r.trimmed_count.paths.begin(),
			    r.trimmed_count.paths.end(), std::back_inserter(j["left_out_objects"]));
	j["kept"] = Json::array();
	for (const auto &m : r.kept)
		j["kept"].push_back({{"module", m.module}, {"symbol", m.symbol}, {"class", m.klass}, {"reasons", trim_reasons_json(m.reasons)}});
	j["dropped"] = Json::array();
	std::map<std::string, std::size_t> classes;
	for (const auto &m : r.dropped) {
		j["dropped"].push_back({{"module", m.module}, {"symbol", m.symbol}, {"class", m.klass}});
		++classes[m.klass];
	}
	j["dropped_classes"] = Json::array();
	for (const auto &[c, n] : classes)
		j["dropped_classes"].push_back({{"class", c},
						{"modules", n},
						{"why", "no device, mount, loaded module, always-kept class or rule of the machine needs them"}});
	j["off_symbols"] = r.off_symbols;
	j["unresolved"] = r.unresolved;
	j["warnings"] = r.warnings;
	return j;
}

std::vector<std::string> trim_uncovered(const Machine &m, const KbuildTree &kbuild, const fs::path &module_dir, const Config &final_config)
{
	ModuleTree modules(module_dir);
	std::vector<std::string> out;
	auto check = [&](const std::string &what, const std::string &alias) {
		auto refs = modules.lookup(alias);
		if (refs.empty())
			return;
		std::vector<std::string> missing;
		for (const auto &ref : refs) {
			if (ref.builtin)
				return;
			if (kbuild.module_value(ref.name, final_config) > 0)
				return;
			auto goals = kbuild.module(ref.name);
			if (std::find_if(missing.begin(), missing.end(), [&](const std::string &x) { return x.starts_with("module " + ref.name + " "); }) !=
			    missing.end())
				continue;
			missing.push_back(fmt::format("module {} ({})", ref.name,
						      goals.empty() || goals.front()->symbol.empty() ? "not built"
												   : "CONFIG_" + goals.front()->symbol + " is n"));
		}
		out.push_back(what + ": " + text::join(missing, ", "));
	};
	for (const auto &d : m.devices)
		if (!d.modalias.empty() && !d.driver.empty())
			check(d.path + " " + d.modalias, d.modalias);
	std::vector<const Mount *> mounts;
	if (m.root)
		mounts.push_back(&*m.root);
	for (const auto &mt : m.fstab)
		mounts.push_back(&mt);
	for (const Mount *mt : mounts) {
		if (!mt->fstype.empty())
			check(mt->target + " (" + mt->source + "): filesystem " + mt->fstype, "fs-" + mt->fstype);
		for (const auto &l : mt->chain)
			for (const auto &d : l.devices)
				if (!d.modalias.empty())
					check(mt->target + " (" + mt->source + "): " + l.kind + " " + l.name + ": " + d.path + " " + d.modalias, d.modalias);
	}
	return out;
}

} // namespace distkernel
