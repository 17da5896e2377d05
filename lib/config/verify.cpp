#include "distkernel/verify.hpp"
#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/rootfs.hpp"

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

std::string_view status_name(Finding::Status s)
{
	switch (s) {
	case Finding::Status::kept:
		return "kept";
	case Finding::Status::changed:
		return "changed";
	case Finding::Status::dropped:
		return "dropped";
	case Finding::Status::unknown:
		return "unknown";
	}
	return "?";
}

std::size_t VerifyReport::count(Finding::Status s) const
{
	return std::count_if(findings.begin(), findings.end(), [s](const Finding &f) { return f.status == s; });
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

std::string join(const std::vector<std::string> &v, std::string_view sep)
{
	std::string out;
	for (const auto &s : v) {
		if (!out.empty())
			out += sep;
		out += s;
	}
	return out;
}

std::string condition_text(const ExprPtr &e, const Evaluator &ev, Tristate want)
{
	std::string s = to_string(*e);
	auto b = ev.blockers(*e, want);
	return b.empty() ? s : fmt::format("{} ({})", s, join(b, ", "));
}

// A requested value that Kconfig cannot take for the symbol's type.
std::string type_mismatch(const Symbol &sym, const Value &v)
{
	Type t = sym.type();
	if (v.is_tristate()) {
		if (t == Type::string || t == Type::integer || t == Type::hex)
			return fmt::format("{} is a {} symbol: '{}' is not a value for it", sym.name, type_name(t), v.text());
		if (v.kind() == Value::Kind::module && t == Type::boolean)
			return fmt::format("{} is a bool symbol: it cannot be a module", sym.name);
		return {};
	}
	if (v.kind() == Value::Kind::string && t != Type::string && t != Type::unknown)
		return fmt::format("{} is a {} symbol: a string is not a value for it", sym.name, type_name(t));
	if (v.kind() == Value::Kind::number && (t == Type::boolean || t == Type::tristate))
		return fmt::format("{} is a {} symbol: a number is not a value for it", sym.name, type_name(t));
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
				reasons.push_back(by.empty() ? "it has no prompt: only its defaults set it"
							     : "it has no prompt: only a select sets it (selected by " +
								       join(by, ", ") + ")");
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
			if (s > want && (!r.condition || ev.eval(*r.condition) > want))
				reasons.push_back(fmt::format("selected by {} ({} is {}){}", r.symbol, r.symbol,
							      ev.string_of(Expr{Expr::Op::symbol, r.symbol, nullptr, nullptr}),
							      r.condition ? " if " + to_string(*r.condition) : ""));
		}
		if (reasons.empty() && !sym.prompted())
			reasons.push_back("it has no prompt: its default decides");
	}
	return join(reasons, "; ");
}

VerifyReport verify(const std::vector<Entry> &requested, const Config &final_config, const Kconfig *kconfig)
{
	VerifyReport r;
	r.findings.reserve(requested.size());
	Config asked;
	for (const auto &e : requested)
		asked.append(e);
	for (const auto &e : requested) {
		Finding f;
		f.symbol = e.symbol;
		f.requested = e.value;
		f.origin = e.origin;
		f.optional = e.optional;
		const Entry *fin = final_config.find(e.symbol);
		if (fin)
			f.final_value = fin->value;
		Value now = fin ? fin->value : Value();
		const Symbol *sym = kconfig ? kconfig->find(e.symbol) : nullptr;
		if (now == e.value) {
			f.status = Finding::Status::kept;
		} else if (kconfig && (!sym || sym->definitions.empty())) {
			f.status = Finding::Status::unknown;
			f.reason = "no such symbol in this kernel's Kconfig";
		} else {
			f.status = !e.value.is_off() && now.is_off() ? Finding::Status::dropped : Finding::Status::changed;
			if (sym)
				f.reason = explain(*sym, e.value, final_config, *kconfig, &asked);
			else if (!fin)
				f.reason = "absent from the final .config (unknown symbol or unmet dependency: give the tree to tell)";
		}
		f.survived = now == e.value;
		r.findings.push_back(std::move(f));
	}
	return r;
}

std::string describe(const Finding &f)
{
	std::string line = fmt::format("{}: {} requested by {}", status_name(f.status), format_entry(f.symbol, f.requested),
				       f.origin.str());
	if (f.status == Finding::Status::unknown)
		line += ": no such symbol in this kernel";
	else if (f.status != Finding::Status::kept)
		line += " became " + (f.final_value ? f.final_value->text() : std::string("n (absent)"));
	if (!f.reason.empty() && f.status != Finding::Status::unknown)
		line += ": " + f.reason;
	if (f.optional && !f.survived)
		line += " (optional)";
	return line;
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

MergeResult merge(const MergeOptions &o, const Logger &log)
{
	using clock = std::chrono::steady_clock;
	auto seconds = [](clock::time_point a) { return std::chrono::duration<double>(clock::now() - a).count(); };
	MergeResult r;
	auto t0 = clock::now();
	// Everything is read and checked before anything is written.
	LayeredConfig layered(Config::read(o.base));
	r.layer_files = expand_layers(o.layers);
	for (const auto &f : r.layer_files)
		layered.add_layer(Config::read(f));
	r.overrides = layered.overrides();
	for (const auto &ov : r.overrides)
		log.verbose("{} overrides {} ({})", format_entry(ov.symbol, ov.after.value) + " from " + ov.after.origin.str(),
			    format_entry(ov.symbol, ov.before.value), ov.before.origin.str());
	fs::path build = o.make.build.empty() ? o.make.tree : o.make.build;
	fs::create_directories(build);
	r.final_config = build / ".config";
	log.step("merging {} and {} layer file(s) into {}", o.base.string(), r.layer_files.size(), r.final_config.string());
	atomic_write(r.final_config, layered.merged_text());
	r.parse_seconds = seconds(t0);
	if (!o.olddefconfig)
		return r;

	// The Kconfig files are only needed to explain what did not survive, but reading them takes a
	// few tenths of a second: do it on the other core while make runs.
	auto kconfig_reader = std::async(std::launch::async, [&o, &r] {
		// Background work: on a busy machine make gets the CPU first (errors do not matter).
		::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
		// CPU time: waiting behind make on a busy machine is not work
		auto cpu = [] {
			timespec ts{};
			::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
			return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
		};
		double t = cpu();
		Kconfig k = Kconfig::read(o.make.tree, o.make.arch.empty() ? "x86_64" : o.make.arch);
		r.kconfig_seconds = cpu() - t;
		return k;
	});
	auto t1 = clock::now();
	run_olddefconfig(o.make, log);
	r.olddefconfig_seconds = seconds(t1);

	auto t2 = clock::now();
	Config final_config = Config::read(r.final_config);
	auto requested = layered.requested();
	r.report = verify(requested, final_config, nullptr);
	r.verify_seconds = seconds(t2);
	if (!std::all_of(r.report.findings.begin(), r.report.findings.end(), [](const Finding &f) { return f.survived; })) {
		try {
			Kconfig k = kconfig_reader.get();
			auto t4 = clock::now();
			r.report = verify(requested, final_config, &k);
			r.verify_seconds += seconds(t4);
		} catch (const Error &e) {
			log.warn("cannot read the Kconfig files to explain what did not survive: {}", e.what());
		}
	}
	r.verified = true;
	return r;
}

namespace {

Json origin_json(const Origin &o)
{
	return Json{{"file", o.file}, {"line", o.line}};
}

Json file_json(const fs::path &p)
{
	return Json{{"path", p.string()}, {"sha256", sha256_file(p)}};
}

} // namespace

Json findings_json(const VerifyReport &r)
{
	Json a = Json::array();
	for (const auto &f : r.findings) {
		Json j{{"symbol", "CONFIG_" + f.symbol},
		       {"status", status_name(f.status)},
		       {"requested", f.requested.text()},
		       {"final", f.final_value ? Json(f.final_value->text()) : Json(nullptr)},
		       {"origin", origin_json(f.origin)},
		       {"optional", f.optional},
		       {"survived", f.survived}};
		if (!f.reason.empty())
			j["reason"] = f.reason;
		a.push_back(std::move(j));
	}
	return a;
}

Json report_json(const MergeOptions &o, const MergeResult &r)
{
	Json doc = make_document("distkernel.config-report", 1, 0);
	doc["tree"] = o.make.tree.string();
	doc["arch"] = o.make.arch;
	doc["base"] = file_json(o.base);
	Json layers = Json::array();
	for (const auto &f : r.layer_files)
		layers.push_back(file_json(f));
	doc["layers"] = layers;
	doc["final"] = r.verified ? file_json(r.final_config) : Json{{"path", r.final_config.string()}};
	Json ov = Json::array();
	for (const auto &x : r.overrides)
		ov.push_back(Json{{"symbol", "CONFIG_" + x.symbol},
				  {"before", Json{{"value", x.before.value.text()}, {"origin", origin_json(x.before.origin)}}},
				  {"after", Json{{"value", x.after.value.text()}, {"origin", origin_json(x.after.origin)}}}});
	doc["overrides"] = ov;
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

} // namespace distkernel
