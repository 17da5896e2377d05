#include "distkernel/verify.hpp"
#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/quote.hpp"
#include "distkernel/rootfs.hpp"
#include "sys/string_map.hpp"
#include "sys/text.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <ctime>
#include <sys/resource.h>
#include <unistd.h>
#include <fmt/core.h>

namespace distkernel {
namespace fs = std::filesystem;
using namespace kconfig;

std::size_t VerifyReport::count(Finding::Status s) const
{
	return std::count_if(findings.begin(), findings.end(), [s](const Finding &f) { return f.status == s; });
}

bool VerifyReport::all_survived() const
{
	return std::all_of(findings.begin(), findings.end(), [](const Finding &f) { return f.survived; });
}

std::size_t VerifyReport::failures() const
{
	return std::count_if(findings.begin(), findings.end(), [](const Finding &f) { return f.fails(); });
}

namespace {

Tristate level(const Value &v)
{
	switch (v.kind()) {
	case Value::Kind::no:
		return Tristate::no;
	case Value::Kind::module:
		return Tristate::mod;
	default:
		return Tristate::yes; // y, or any string/number: the symbol must be visible
	}
}

std::string condition_text(const ExprPtr &e, const Evaluator &ev, Tristate want)
{
	std::string s = to_string(*e);
	auto b = ev.blockers(*e, want);
	return b.empty() ? s : fmt::format("{} ({})", s, text::join(b, ", "));
}

// A requested value that Kconfig cannot take for the symbol's type.
std::string type_mismatch(const Symbol &sym, const Value &v)
{
	Type t = sym.type();
	if (v.is_tristate()) {
		if (t == Type::string || t == Type::integer || t == Type::hex)
			return fmt::format("{} is a {} symbol: '{}' is not a value for it", sym.name, enum_name(t), v.text());
		if (v.kind() == Value::Kind::module && t == Type::boolean)
			return fmt::format("{} is a bool symbol: it cannot be a module", sym.name);
		return {};
	}
	if (v.kind() == Value::Kind::string && t != Type::string && t != Type::unknown)
		return fmt::format("{} is a {} symbol: a string is not a value for it", sym.name, enum_name(t));
	if (v.kind() == Value::Kind::number && (t == Type::boolean || t == Type::tristate))
		return fmt::format("{} is a {} symbol: a number is not a value for it", sym.name, enum_name(t));
	return {};
}

// The $(...) macros of an expression, as written.
std::vector<std::string> macros_in(const ExprPtr &e)
{
	std::vector<std::string> out;
	if (!e)
		return out;
	if (e->op == Expr::Op::macro)
		out.push_back(e->text);
	for (const auto &c : {e->left, e->right})
		for (auto &m : macros_in(c))
			out.push_back(std::move(m));
	return out;
}

// " (default y if X86_64)": the first default whose condition holds, as Kconfig picks it.
std::string active_default(const Symbol &sym, const Evaluator &ev)
{
	for (const auto &d : sym.definitions)
		for (const auto &c : d.defaults)
			if (!c.condition || ev.eval(*c.condition) != Tristate::no)
				return fmt::format(" (default {}{})", to_string(*c.value),
						   c.condition ? " if " + to_string(*c.condition) : "");
	return {};
}

} // namespace

std::string explain(const Symbol &sym, const Value &requested, const Config &final_config, const Kconfig &kconfig,
		    const Config *requested_values)
{
	Evaluator ev(final_config, &kconfig);
	ev.set_requested(requested_values);
	if (std::string m = type_mismatch(sym, requested); !m.empty())
		return m;
	std::vector<std::string> reasons;
	Tristate want = level(requested);
	Tristate got = level(final_config.value_of(sym.name));
	if (!final_config.find(sym.name))
		got = Tristate::no;

	if (got < want || !requested.is_tristate()) {
		// Not high enough (or a value that did not stick): unmet dependencies first. A symbol
		// defined in several places is visible through any of them: only when every definition's
		// dependencies are unmet are they the reason.
		bool reachable = std::any_of(sym.definitions.begin(), sym.definitions.end(),
					     [&](const Definition &d) { return !d.depends || ev.eval(*d.depends) >= want; });
		if (!reachable)
			for (const auto &d : sym.definitions) {
				std::string r = "depends on " + condition_text(d.depends, ev, want);
				if (std::find(reasons.begin(), reasons.end(), r) == reasons.end())
					reasons.push_back(std::move(r));
			}
		if (reasons.empty()) {
			const Definition *p = sym.prompted();
			if (!p) {
				std::vector<std::string> by;
				for (const auto &r : sym.selected_by)
					by.push_back(r.symbol + (r.condition ? " if " + to_string(*r.condition) : ""));
				reasons.push_back(by.empty() ? "it has no prompt: only its defaults set it" + active_default(sym, ev)
							     : "it has no prompt: only a select sets it (selected by " +
								       text::join(by, ", ") + ")");
			} else if (p->prompt_condition && ev.eval(*p->prompt_condition) < Tristate::mod) {
				reasons.push_back("its prompt is hidden unless " + condition_text(p->prompt_condition, ev, Tristate::yes));
			}
		}
		for (const auto &d : sym.definitions) {
			if (d.choice < 0)
				continue;
			const Choice &c = kconfig.choices()[d.choice];
			for (const auto &m : c.members)
				if (m != sym.name && ev.symbol(m) == Tristate::yes) {
					reasons.push_back(fmt::format("in the choice \"{}\" CONFIG_{} is chosen", c.prompt, m));
					break;
				}
			break;
		}
		if (reasons.empty())
			for (const auto &d : sym.definitions)
				for (const auto &m : macros_in(d.depends))
					reasons.push_back("depends on " + m +
							  ", a Kconfig macro (a test of the build host): it failed here");
		if (requested.kind() == Value::Kind::number)
			for (const auto &d : sym.definitions)
				for (const auto &r : d.ranges)
					if (!r.condition || ev.eval(*r.condition) != Tristate::no)
						reasons.push_back(fmt::format("allowed range is {} to {}", ev.string_of(*r.value),
									      ev.string_of(*r.high)));
	}
	if (requested.is_tristate() && got > want) {
		// Higher than asked: forced by a select, or a default with no prompt to override it.
		for (const auto &r : sym.selected_by) {
			Tristate s = ev.symbol(r.symbol);
			if (s > want && (!r.condition || ev.eval(*r.condition) > want)) {
				const Entry *by = requested_values ? requested_values->find(r.symbol) : nullptr;
				reasons.push_back(fmt::format("selected by {} ({} is {}{}){}", r.symbol, r.symbol,
							      ev.string_of(Expr{Expr::Op::symbol, r.symbol, nullptr, nullptr}),
							      by ? " from " + by->origin.str() : "",
							      r.condition ? " if " + to_string(*r.condition) : ""));
			}
		}
		if (reasons.empty()) {
			const Definition *p = sym.prompted();
			std::string def = active_default(sym, ev);
			if (!p)
				reasons.push_back("it has no prompt: its default decides" + def);
			else if (p->prompt_condition && ev.eval(*p->prompt_condition) < Tristate::mod)
				reasons.push_back("its prompt is hidden unless " + condition_text(p->prompt_condition, ev, Tristate::yes) +
						  ": its default decides" + def);
		}
	}
	return text::join(reasons, "; ");
}

VerifyReport verify(const std::vector<Entry> &requested, const Config &final_config, const Kconfig *kconfig)
{
	VerifyReport r;
	r.findings.reserve(requested.size());
	std::optional<Config> asked; // for explanations only: made when the first one is needed
	for (const auto &e : requested) {
		Finding f;
		f.symbol = e.symbol;
		f.requested = e.value;
		f.origin = e.origin;
		f.optional = e.optional;
		f.informational = e.informational;
		const Entry *fin = final_config.find(e.symbol);
		if (fin)
			f.final_value = fin->value;
		Value now = fin ? fin->value : Value();
		const Symbol *sym = kconfig ? kconfig->find(e.symbol) : nullptr;
		bool unknown = kconfig && (!sym || sym->definitions.empty());
		f.survived = now == e.value && !unknown;
		if (unknown) {
			// "# CONFIG_TYPO is not set" is as unknown as CONFIG_TYPO=y
			f.status = Finding::Status::unknown;
			f.reason = "no such symbol in this kernel's Kconfig";
		} else if (now == e.value) {
			f.status = Finding::Status::kept;
		} else {
			f.status = !e.value.is_off() && now.is_off() ? Finding::Status::dropped : Finding::Status::changed;
			if (sym) {
				if (!asked) {
					asked.emplace();
					for (const auto &a : requested)
						asked->append(a);
				}
				f.reason = explain(*sym, e.value, final_config, *kconfig, &*asked);
			} else if (!fin)
				f.reason = "absent from the final .config (unknown symbol or unmet dependency: give the tree to tell)";
		}
		r.findings.push_back(std::move(f));
	}
	return r;
}

void choice_overrides(VerifyReport &report, const LayeredConfig &layered, const Kconfig &kconfig,
		      std::vector<Override> &overrides)
{
	auto replaced = [&](const Finding &f) -> const Entry * {
		if (f.survived || f.requested.kind() != Value::Kind::yes)
			return nullptr;
		const Symbol *sym = kconfig.find(f.symbol);
		if (!sym)
			return nullptr;
		std::size_t mine = layered.position(f.symbol);
		for (const auto &d : sym->definitions) {
			if (d.choice < 0)
				continue;
			for (const auto &m : kconfig.choices()[d.choice].members) {
				const Entry *other = m == f.symbol ? nullptr : layered.current(m);
				if (other && other->value.kind() == Value::Kind::yes && layered.position(m) > mine)
					return other;
			}
		}
		return nullptr;
	};
	auto &v = report.findings;
	auto out = v.begin();
	for (auto &f : v) {
		if (const Entry *by = replaced(f)) {
			overrides.push_back(Override{f.symbol, Entry{f.symbol, f.requested, f.origin, f.optional, f.informational}, *by});
			continue;
		}
		if (&*out != &f)
			*out = std::move(f);
		++out;
	}
	v.erase(out, v.end());
}

void name_other_arches(VerifyReport &report, const fs::path &tree, const std::string &arch)
{
	StringMap<std::vector<std::string>> wanted;
	for (const auto &f : report.findings)
		if (f.status == Finding::Status::unknown)
			wanted.try_emplace(f.symbol);
	if (wanted.empty())
		return;
	std::error_code ec;
	std::string own = src_arch(arch);
	std::vector<fs::path> arches;
	for (const auto &d : fs::directory_iterator(tree / "arch", ec))
		if (d.is_directory(ec) && d.path().filename() != own)
			arches.push_back(d.path());
	std::sort(arches.begin(), arches.end());
	for (const auto &a : arches) {
		std::string name = a.filename().string();
		for (auto it = fs::recursive_directory_iterator(a, ec); !ec && it != fs::recursive_directory_iterator();
		     it.increment(ec)) {
			if (!it->is_regular_file(ec) || it->path().filename().string().rfind("Kconfig", 0) != 0)
				continue;
			std::string text;
			try {
				text = read_file(it->path());
			} catch (const std::exception &) {
				continue; // a hint only: an unreadable file takes nothing away
			}
			std::size_t pos = 0;
			while (pos < text.size()) {
				std::string_view line = text::trim(next_line(text, pos));
				for (std::string_view kw : {"config ", "menuconfig "})
					if (line.substr(0, kw.size()) == kw) {
						std::string_view sym = line.substr(kw.size());
						sym = sym.substr(0, sym.find_first_of(" \t#"));
						auto w = wanted.find(sym);
						if (w != wanted.end() &&
						    std::find(w->second.begin(), w->second.end(), name) == w->second.end())
							w->second.push_back(name);
					}
			}
		}
	}
	for (auto &f : report.findings)
		if (auto w = wanted.find(f.symbol); w != wanted.end() && !w->second.empty())
			f.reason = "only defined for " + text::join(w->second, ", ");
}

std::string describe(const Finding &f)
{
	std::string line = fmt::format("{}: {} requested by {}", enum_name(f.status), format_entry(f.symbol, f.requested),
				       f.origin.str());
	if (f.status == Finding::Status::unknown) {
		line += ": no such symbol in this kernel";
		if (f.reason.substr(0, 4) == "only")
			line += " (" + f.reason + ")";
	}
	else if (f.status != Finding::Status::kept)
		line += " became " + (f.final_value ? f.final_value->text() : std::string("n (absent)"));
	if (!f.reason.empty() && f.status != Finding::Status::unknown)
		line += ": " + f.reason;
	if (f.optional && !f.survived)
		line += " (optional)";
	else if (f.informational && !f.survived)
		line += " (informational layer)";
	return printable_message(line);
}

void print_report(const VerifyReport &r, const Logger &log)
{
	for (const auto &f : r.findings)
		if (f.status != Finding::Status::kept) {
			if (f.fails())
				log.warn("{}", describe(f));
			else
				log.info("{}", describe(f));
		}
	log.info("verified {} requested values: {} kept, {} changed, {} dropped, {} unknown; {}", r.findings.size(),
		 r.count(Finding::Status::kept), r.count(Finding::Status::changed), r.count(Finding::Status::dropped),
		 r.count(Finding::Status::unknown),
		 r.ok() ? std::string("every required value survived")
			: fmt::format("{} required value(s) did not survive", r.failures()));
}

namespace {

void log_override(const Override &ov, const Logger &log)
{
	log.verbose("{}", printable_message(fmt::format("{} from {} overrides {} ({})",
							format_entry(ov.after.symbol, ov.after.value), ov.after.origin.str(),
							format_entry(ov.symbol, ov.before.value), ov.before.origin.str())));
}

// Lines that Kconfig and merge_config.sh read differently: the merged input does what
// merge_config.sh does (LayeredConfig::merged_text), and -v says so.
void note_unusual_lines(const Config &c, bool layer, const Logger &log)
{
	for (const auto &e : c.entries())
		if (e.unusual != Entry::Unusual::none)
			log.verbose("{}: '# CONFIG_{} is not set' with {}: read as n, as Kconfig reads it{}",
				    printable(e.origin.str()), e.symbol, unusual_text(e.unusual),
				    layer ? "; merge_config.sh's pattern misses the line, so the earlier lines of the symbol "
					    "stay in the merged input before it, as merge_config.sh -m leaves them"
					  : "");
}

} // namespace

MergeResult merge(const MergeOptions &o, const Logger &log)
{
	using clock = std::chrono::steady_clock;
	auto seconds = [](clock::time_point a) { return std::chrono::duration<double>(clock::now() - a).count(); };
	MergeResult r;
	auto t0 = clock::now();
	// Everything is read and checked before anything is written; the base (the largest file) is
	// parsed on the other core meanwhile.
	auto base_reader = std::async(std::launch::async, [&o] { return Config::read(o.base); });
	std::vector<Config> layers;
	std::exception_ptr layer_error;
	try {
		for (std::size_t i = 0; i < o.layers.size(); i++) {
			auto files = expand_layers({o.layers[i]});
			bool required = i >= o.required.size() || o.required[i];
			r.layer_files.insert(r.layer_files.end(), files.begin(), files.end());
			r.layer_required.insert(r.layer_required.end(), files.size(), required);
		}
		layers.reserve(r.layer_files.size());
		for (const auto &f : r.layer_files)
			layers.push_back(Config::read(f));
	} catch (...) {
		layer_error = std::current_exception();
	}
	auto layered = std::make_shared<LayeredConfig>(base_reader.get()); // the base's error comes first
	if (layer_error)
		std::rethrow_exception(layer_error);
	note_unusual_lines(layered->base(), false, log);
	for (std::size_t i = 0; i < layers.size(); i++) {
		note_unusual_lines(layers[i], true, log);
		layered->add_layer(std::move(layers[i]), r.layer_required[i]);
	}
	r.layered = layered;
	r.overrides = layered->overrides();
	for (const auto &ov : r.overrides)
		log_override(ov, log);
	fs::path build = o.make.build.empty() ? o.make.tree : o.make.build;
	fs::create_directories(build);
	r.final_config = build / ".config";
	log.step("merging {} and {} layer file(s) into {}", o.base.string(), r.layer_files.size(), r.final_config.string());
	atomic_write(r.final_config, layered->merged_text(), 0644, Durability::unsynced);
	r.parse_seconds = seconds(t0);
	if (!o.olddefconfig)
		return r;

	// While make runs, on the other core: the inputs' checksums (of the bytes that were merged)
	// and the tree's Kconfig files, which explain what did not survive (a few tenths of a second).
	auto background = std::async(std::launch::async, [&o, &r, layered] {
		// On a busy machine make gets the CPU first.
		::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
		r.base_sha256 = sha256_hex(layered->base().text());
		for (const auto &l : layered->layers())
			r.layer_sha256.push_back(sha256_hex(l.text()));
		// CPU time: waiting behind make on a busy machine is not work
		auto cpu = [] {
			timespec ts{};
			::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
			return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
		};
		double t = cpu();
		auto k = std::make_shared<const Kconfig>(Kconfig::read(o.make.tree, o.make.arch));
		r.kconfig_seconds = cpu() - t;
		return k;
	});
	auto t1 = clock::now();
	run_olddefconfig(o.make, log); // on an error, background's destructor waits for it before r goes
	r.olddefconfig_seconds = seconds(t1);

	auto t2 = clock::now();
	auto final_values = std::make_shared<const Config>(Config::read(r.final_config));
	r.final_values = final_values;
	std::string kconfig_error;
	try {
		r.kconfig = background.get(); // ready by now: make takes longer
	} catch (const std::exception &e) {
		kconfig_error = e.what();
	}
	r.report = verify(layered->requested(), *final_values, r.kconfig.get());
	if (r.kconfig) {
		std::size_t before = r.overrides.size();
		choice_overrides(r.report, *layered, *r.kconfig, r.overrides);
		for (std::size_t i = before; i < r.overrides.size(); i++)
			log_override(r.overrides[i], log);
		name_other_arches(r.report, o.make.tree, o.make.effective_arch());
	}
	if (!r.kconfig && !r.report.all_survived())
		log.warn("cannot read the Kconfig files to explain what did not survive: {}", kconfig_error);
	r.verify_seconds = seconds(t2);
	r.verified = true;
	return r;
}

namespace {

// The report has thousands of objects, so they are built with care: key by key (nlohmann's
// brace-list construction copies each element through a temporary), and with room for all their
// keys reserved first (an ordered_json object is a vector of pair<const string, json>: when it
// grows, its values are copied, not moved, deep).
Json object_with_room(std::size_t keys)
{
	Json j = Json::object();
	j.get_ref<Json::object_t &>().reserve(keys);
	return j;
}

Json origin_json(const Origin &o)
{
	Json j = object_with_room(2);
	j["file"] = json_text(o.file());
	j["line"] = o.line;
	return j;
}

Json value_json(const Entry &e, std::string_view symbol)
{
	Json j = object_with_room(3);
	if (e.symbol != symbol) // another member of a choice
		j["symbol"] = "CONFIG_" + e.symbol;
	j["value"] = json_text(e.value.text());
	j["origin"] = origin_json(e.origin);
	return j;
}

Json file_json(const fs::path &p, std::string sha256)
{
	Json j = object_with_room(3);
	j["path"] = json_text(p.string());
	j["sha256"] = std::move(sha256);
	return j;
}

} // namespace

Json findings_json(const VerifyReport &r)
{
	Json a = Json::array();
	a.get_ref<Json::array_t &>().reserve(r.findings.size());
	for (const auto &f : r.findings) {
		Json j = object_with_room(8);
		j["symbol"] = "CONFIG_" + f.symbol;
		j["status"] = f.status;
		j["requested"] = json_text(f.requested.text());
		j["final"] = f.final_value ? Json(json_text(f.final_value->text())) : Json(nullptr);
		j["origin"] = origin_json(f.origin);
		j["optional"] = f.optional;
		j["informational"] = f.informational;
		j["survived"] = f.survived;
		if (!f.reason.empty())
			j["reason"] = json_text(f.reason);
		a.push_back(std::move(j));
	}
	return a;
}

Json report_json(const MergeOptions &o, const MergeResult &r)
{
	Json doc = make_document("distkernel.config-report", 1, 0);
	doc.get_ref<Json::object_t &>().reserve(16);
	doc["tree"] = json_text(o.make.tree.string());
	doc["arch"] = o.make.arch;
	// Checksums of what was merged, made while make ran (of the files as they are now otherwise).
	auto sum = [](const std::string &known, const fs::path &p) { return known.empty() ? sha256_file(p) : known; };
	doc["base"] = file_json(o.base, sum(r.base_sha256, o.base));
	Json layers = Json::array();
	for (std::size_t i = 0; i < r.layer_files.size(); i++) {
		layers.push_back(file_json(r.layer_files[i], sum(i < r.layer_sha256.size() ? r.layer_sha256[i] : "", r.layer_files[i])));
		layers.back()["required"] = i >= r.layer_required.size() || r.layer_required[i];
	}
	doc["layers"] = std::move(layers);
	// merge() keeps the final values whenever it verified
	doc["final"] = r.verified ? file_json(r.final_config, sha256_hex(r.final_values->text()))
				  : Json{{"path", json_text(r.final_config.string())}};
	Json ov = Json::array();
	ov.get_ref<Json::array_t &>().reserve(r.overrides.size());
	for (const auto &x : r.overrides) {
		Json j = object_with_room(3);
		j["symbol"] = "CONFIG_" + x.symbol;
		j["before"] = value_json(x.before, x.symbol);
		j["after"] = value_json(x.after, x.symbol);
		ov.push_back(std::move(j));
	}
	doc["overrides"] = std::move(ov);
	doc["verified"] = r.verified;
	doc["findings"] = findings_json(r.report);
	doc["summary"] = Json{{"requested", r.report.findings.size()},
			      {"kept", r.report.count(Finding::Status::kept)},
			      {"changed", r.report.count(Finding::Status::changed)},
			      {"dropped", r.report.count(Finding::Status::dropped)},
			      {"unknown", r.report.count(Finding::Status::unknown)},
			      {"failures", r.report.failures()}};
	doc["ok"] = r.report.ok();
	doc["timings"] = Json{{"merge_seconds", r.parse_seconds},
			      {"olddefconfig_seconds", r.olddefconfig_seconds},
			      {"kconfig_seconds", r.kconfig_seconds},
			      {"verify_seconds", r.verify_seconds}};
	return doc;
}

Json verify_json(const fs::path &final_config, const VerifyReport &r)
{
	Json doc = make_document("distkernel.config-report", 1, 0);
	doc["final"] = Json{{"path", final_config.string()}};
	doc["findings"] = findings_json(r);
	doc["ok"] = r.ok();
	return doc;
}

void to_json(Json &doc, const ConfigDiff &d)
{
	auto list = [](const std::vector<ConfigDiff::Change> &v) {
		Json a = Json::array();
		for (const auto &c : v)
			a.push_back(Json{{"symbol", "CONFIG_" + c.symbol},
					 {"a", c.a ? Json(c.a->text()) : Json(nullptr)},
					 {"b", c.b ? Json(c.b->text()) : Json(nullptr)}});
		return a;
	};
	doc = make_document("distkernel.config-diff", 1, 0);
	doc["added"] = list(d.added);
	doc["removed"] = list(d.removed);
	doc["changed"] = list(d.changed);
}

} // namespace distkernel
