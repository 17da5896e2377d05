// savedconfig save and rebase: the user's delta, taken against what the layers alone give and
// carried three-way onto a new base through the configure pipeline (merge(): olddefconfig, verify).
#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/quote.hpp"
#include "distkernel/upgrade.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <unordered_set>

namespace distkernel {
namespace fs = std::filesystem;

std::string kernel_version_of(const Config &config)
{
	// "# Linux/x86 6.1.192 Kernel Configuration", within the first lines Kconfig writes.
	constexpr std::string_view head = "# Linux/", tail = " Kernel Configuration";
	std::string text = config.write();
	std::size_t pos = 0;
	for (int n = 0; n < 10 && pos < text.size(); n++) {
		std::size_t nl = text.find('\n', pos);
		std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
		pos = nl == std::string::npos ? text.size() : nl + 1;
		if (line.substr(0, head.size()) != head || line.size() < head.size() + tail.size() ||
		    line.substr(line.size() - tail.size()) != tail)
			continue;
		std::string_view mid = line.substr(head.size(), line.size() - head.size() - tail.size());
		std::size_t sp = mid.find(' ');
		if (sp != std::string_view::npos && sp > 0 && mid.find(' ', sp + 1) == std::string_view::npos && sp + 1 < mid.size())
			return std::string(mid.substr(sp + 1));
	}
	return {};
}

bool is_saved_delta(const Config &config)
{
	std::string text = config.write();
	return text.starts_with(savedconfig_marker);
}

SavedInfo saved_info(const fs::path &file)
{
	Config config = Config::read(file);
	SavedInfo info;
	info.file = file;
	info.delta = is_saved_delta(config);
	if (!info.delta) {
		info.kernel_version = kernel_version_of(config);
		return info;
	}
	// savedconfig_text's "# kernel: VERSION" line ("unknown" when save knew none)
	constexpr std::string_view kernel = "# kernel: ";
	const std::string &text = config.text();
	std::size_t pos = 0;
	for (int n = 0; n < 10 && pos < text.size(); n++) {
		std::string_view line = next_line(text, pos);
		if (line.starts_with(kernel)) {
			std::string_view version = line.substr(kernel.size());
			if (version != "unknown")
				info.kernel_version = version;
			break;
		}
	}
	return info;
}

void to_json(Json &doc, const SavedInfo &info)
{
	doc = make_document("distkernel.saved-info", 1, 0);
	doc["file"] = json_text(info.file.string());
	doc["format"] = info.delta ? "delta" : "config";
	doc["kernel_version"] = info.kernel_version;
}

namespace {

// Entries that count (the last assignment of each symbol), in file order.
std::vector<const Entry *> effective(const Config &c)
{
	std::vector<const Entry *> out;
	for (const auto &e : c.entries())
		if (c.find(e.symbol) == &e)
			out.push_back(&e);
	return out;
}

} // namespace

std::vector<Entry> config_delta(const Config &reference, const Config &final_config)
{
	// A symbol final_config lacks entirely is invisible there: a consequence of some other value
	// of the delta, which Kconfig cannot be asked for directly.
	std::vector<Entry> out;
	for (const Entry *e : effective(final_config))
		if (reference.value_of(e->symbol) != e->value)
			out.push_back(*e);
	return out;
}

std::string savedconfig_text(const SavedHeader &h, const std::vector<Entry> &delta)
{
	std::string out(savedconfig_marker);
	out += "\n# The user's own values: what the final .config sets differently from the base and layers\n"
	       "# below after the kernel's olddefconfig. `distkernel-config rebase` carries them to a new base.\n";
	out += fmt::format("# kernel: {}\n", h.kernel_version.empty() ? "unknown" : h.kernel_version);
	out += fmt::format("# base: {} sha256={}\n", h.base, h.base_sha256);
	for (const auto &l : h.layers)
		out += fmt::format("# layer: {}\n", l);
	for (const auto &e : delta)
		out += format_entry(e.symbol, e.value) + "\n";
	return out;
}

SaveResult save_delta(const SaveOptions &o, const Logger &log)
{
	// Read everything first: a bad input leaves nothing written.
	Config final_config = Config::read(o.final_config);
	SaveResult r;
	r.header.kernel_version = o.kernel_version.empty() ? kernel_version_of(final_config) : o.kernel_version;
	r.header.base = o.base.string();
	r.header.base_sha256 = sha256_file(o.base);

	std::optional<TempDir> tmp;
	MergeOptions m;
	m.make = o.make;
	if (m.make.build.empty() || fs::weakly_canonical(m.make.build) == fs::weakly_canonical(m.make.tree)) {
		// Never in the tree itself: it may be read-only or hold the user's build.
		tmp.emplace(fs::path{}, "distkernel-save");
		m.make.build = tmp->path();
	}
	m.base = o.base;
	m.layers = o.layers;
	log.step("computing what the base and {} layer path(s) alone give, to take the user's delta", o.layers.size());
	MergeResult mr = merge(m, log);
	for (const auto &f : mr.layer_files)
		r.header.layers.push_back(f.string());
	Config reference = Config::read(mr.final_config);
	r.delta = config_delta(reference, final_config);
	r.text = savedconfig_text(r.header, r.delta);
	return r;
}

std::vector<UserChange> user_changes(const Config &old_base, const Config &user, const Config &new_base)
{
	std::vector<UserChange> out;
	bool delta = is_saved_delta(user);
	auto add = [&](const Entry &e) {
		UserChange c;
		c.symbol = e.symbol;
		if (const Entry *o = old_base.find(e.symbol))
			c.old_base = o->value;
		c.user = e.value;
		c.origin = e.origin;
		if (const Entry *n = new_base.find(e.symbol))
			c.new_base = n->value;
		Value old_v = old_base.value_of(e.symbol), new_v = new_base.value_of(e.symbol);
		if (new_v == e.value)
			c.kind = UserChange::Kind::already;
		else if (new_v != old_v)
			c.kind = UserChange::Kind::conflict;
		out.push_back(std::move(c));
	};
	for (const Entry *e : effective(user))
		if (delta || old_base.value_of(e->symbol) != e->value)
			add(*e);
	if (delta)
		return out;
	// Turned off by leaving it out: only a tristate can be (a string without its dependency is
	// simply not written).
	for (const Entry *o : effective(old_base))
		if (!user.find(o->symbol) && o->value.is_tristate() && !o->value.is_off()) {
			Entry off{o->symbol, Value(), Origin{user.source(), 0}, false};
			add(off);
		}
	return out;
}

std::size_t RebaseResult::count(RebaseItem::Status s) const
{
	return std::count_if(items.begin(), items.end(), [s](const RebaseItem &i) { return i.status == s; });
}

namespace {

std::string text_of(const std::optional<Value> &v)
{
	return v ? v->text() : std::string("absent");
}

} // namespace

namespace {

// Values the build host decides (the compiler, linker, pahole found): never a user's change.
bool host_fact(std::string_view symbol)
{
	for (std::string_view f : {"CC_VERSION_TEXT", "GCC_VERSION", "CLANG_VERSION", "LD_VERSION", "LLD_VERSION", "AS_VERSION",
				   "PAHOLE_VERSION", "RUSTC_VERSION", "RUSTC_LLVM_VERSION", "BINDGEN_VERSION"})
		if (symbol == f)
			return true;
	for (std::string_view p : {"CC_IS_", "LD_IS_", "AS_IS_", "CC_HAS_", "CC_CAN_", "AS_HAS_", "LD_CAN_", "TOOLS_SUPPORT_"})
		if (symbol.substr(0, p.size()) == p)
			return true;
	return false;
}

// A full saved config's real delta: the symbols its file sets, where it through olddefconfig
// differs from its old base through olddefconfig (both in the new tree): what olddefconfig
// derived for either (menus new or off, compiler facts) is no change of the user's.
std::vector<UserChange> full_config_changes(const Config &old_base, const Config &user, const Config &new_base,
					     const Config &old_resolved, const Config &user_resolved,
					     const kconfig::Kconfig *kconfig)
{
	std::vector<UserChange> out;
	for (const Entry *e : effective(user)) {
		if (host_fact(e->symbol) || user_resolved.value_of(e->symbol) == old_resolved.value_of(e->symbol) ||
		    old_base.value_of(e->symbol) == e->value)
			continue;
		if (kconfig) {
			// a symbol without a prompt only follows others: the user cannot have set it
			const kconfig::Symbol *sym = kconfig->find(e->symbol);
			if (sym && !sym->definitions.empty() && !sym->prompted())
				continue;
		}
		UserChange c;
		c.symbol = e->symbol;
		if (const Entry *o = old_base.find(e->symbol))
			c.old_base = o->value;
		c.user = e->value;
		c.origin = e->origin;
		if (const Entry *n = new_base.find(e->symbol))
			c.new_base = n->value;
		Value old_v = old_base.value_of(e->symbol), new_v = new_base.value_of(e->symbol);
		if (new_v == e->value)
			c.kind = UserChange::Kind::already;
		else if (c.new_base && c.old_base && new_v != old_v)
			c.kind = UserChange::Kind::conflict;
		out.push_back(std::move(c));
	}
	// Left out of the full config although the user could see it: turned off by deleting the line.
	if (kconfig) {
		kconfig::Evaluator ev(user_resolved, kconfig);
		for (const Entry *o : effective(old_base)) {
			if (user.find(o->symbol) || !o->value.is_tristate() || o->value.is_off() ||
			    !user_resolved.value_of(o->symbol).is_off() || host_fact(o->symbol))
				continue;
			const kconfig::Symbol *sym = kconfig->find(o->symbol);
			if (!sym || !sym->prompted() ||
			    std::none_of(sym->definitions.begin(), sym->definitions.end(), [&](const kconfig::Definition &d) {
				    return !d.depends || ev.eval(*d.depends) != kconfig::Tristate::no;
			    }))
				continue;
			UserChange c;
			c.symbol = o->symbol;
			c.old_base = o->value;
			c.user = Value();
			c.origin = Origin{user.source(), 0};
			if (const Entry *n = new_base.find(o->symbol))
				c.new_base = n->value;
			if (new_base.value_of(o->symbol).is_off())
				c.kind = UserChange::Kind::already;
			else if (c.new_base && new_base.value_of(o->symbol) != o->value)
				c.kind = UserChange::Kind::conflict;
			out.push_back(std::move(c));
		}
	}
	return out;
}

// BASE alone through the new tree's olddefconfig, in build (which the final merge reuses).
MergeResult resolve(const RebaseOptions &o, const fs::path &base, const Logger &log)
{
	MergeOptions m;
	m.make = o.make;
	m.base = base;
	return merge(m, log);
}

} // namespace

RebaseResult rebase(const RebaseOptions &o, const Logger &log)
{
	Config old_base = Config::read(o.old_base), user = Config::read(o.user), new_base = Config::read(o.new_base);
	if (o.make.build.empty() || fs::weakly_canonical(o.make.build) == fs::weakly_canonical(o.make.tree))
		throw UsageError("rebase needs a build directory of its own (-O BUILD): it never writes into the tree");
	RebaseResult r;
	std::vector<UserChange> changes;
	if (is_saved_delta(user)) {
		changes = user_changes(old_base, user, new_base);
	} else {
		log.step("reducing the full config {} to the user's changes against {} (both through olddefconfig)",
			 o.user.string(), o.old_base.string());
		MergeResult old_r = resolve(o, o.old_base, log);
		Config old_resolved = *old_r.final_values;
		MergeResult user_r = resolve(o, o.user, log);
		changes = full_config_changes(old_base, user, new_base, old_resolved, *user_r.final_values, user_r.kconfig.get());
	}
	for (auto &c : changes)
		r.items.push_back(RebaseItem{std::move(c), RebaseItem::Status::kept, std::nullopt, {}});
	log.info("{} change(s) of the user in {} against {}", r.items.size(), o.user.string(), o.old_base.string());

	// The layer: the changes that can be applied, named after the user's file in the report.
	std::string layer = fmt::format("# the user's changes from {}, carried onto {}\n", o.user.string(), o.new_base.string());
	for (const auto &i : r.items)
		if (i.change.kind == UserChange::Kind::apply)
			layer += format_entry(i.change.symbol, *i.change.user) + "\n";
	fs::create_directories(o.make.build);
	fs::path layer_file = o.make.build / "distkernel-rebase.config";
	atomic_write(layer_file, layer);

	MergeOptions m;
	m.make = o.make;
	m.base = o.new_base;
	m.layers = {layer_file};
	MergeResult mr = merge(m, log);
	r.final_config = mr.final_config;
	r.olddefconfig_seconds = mr.olddefconfig_seconds;
	Config final_config = Config::read(r.final_config);

	std::unordered_map<std::string, const Finding *> found;
	for (const auto &f : mr.report.findings)
		found[f.symbol] = &f;
	std::vector<Entry> kept;
	for (auto &i : r.items) {
		if (const Entry *e = final_config.find(i.change.symbol))
			i.final_value = e->value;
		switch (i.change.kind) {
		case UserChange::Kind::conflict:
			if (i.final_value && *i.final_value == *i.change.user) {
				// the new config has the user's value after all: nothing to choose
				i.status = RebaseItem::Status::kept;
				i.reason = fmt::format("the new base changed it from {} to {}; the new config has the user's {}",
						       text_of(i.change.old_base), text_of(i.change.new_base), text_of(i.change.user));
				kept.push_back(Entry{i.change.symbol, *i.change.user, i.change.origin, false});
				break;
			}
			i.status = RebaseItem::Status::conflict;
			i.reason = fmt::format("the new base changed it from {} to {}; the user had {}; the new config keeps {} "
					       "until you choose",
					       text_of(i.change.old_base), text_of(i.change.new_base), text_of(i.change.user),
					       text_of(i.final_value));
			break;
		case UserChange::Kind::already:
			i.status = final_config.value_of(i.change.symbol) == *i.change.user ? RebaseItem::Status::kept
											    : RebaseItem::Status::dropped;
			i.reason = i.status == RebaseItem::Status::kept ? "the new base has the same value"
								       : "the new base has the same value, but olddefconfig changed it";
			break;
		case UserChange::Kind::apply: {
			auto it = found.find(i.change.symbol);
			if (it == found.end() || it->second->survived) {
				i.status = RebaseItem::Status::kept;
				kept.push_back(Entry{i.change.symbol, *i.change.user, i.change.origin, false});
			} else {
				i.status = RebaseItem::Status::dropped;
				i.reason = it->second->reason.empty() ? enum_name(it->second->status)
								      : it->second->reason;
			}
			break;
		}
		}
	}
	r.delta.header.kernel_version = kernel_version_of(final_config);
	r.delta.header.base = o.new_base.string();
	r.delta.header.base_sha256 = sha256_file(o.new_base);
	r.delta.delta = std::move(kept);
	r.delta.text = savedconfig_text(r.delta.header, r.delta.delta);
	return r;
}

Json rebase_json(const RebaseOptions &o, const RebaseResult &r)
{
	Json doc = make_document("distkernel.rebase-report", 1, 0);
	doc["tree"] = o.make.tree.string();
	doc["old_base"] = o.old_base.string();
	doc["user"] = o.user.string();
	doc["new_base"] = Json{{"path", o.new_base.string()}, {"sha256", r.delta.header.base_sha256}};
	doc["final"] = r.final_config.string();
	doc["kernel_version"] = r.delta.header.kernel_version;
	auto val = [](const std::optional<Value> &v) { return v ? Json(v->text()) : Json(nullptr); };
	Json items = Json::array();
	for (const auto &i : r.items) {
		Json j{{"symbol", "CONFIG_" + i.change.symbol},
		       {"status", i.status},
		       {"old_base", val(i.change.old_base)},
		       {"user", val(i.change.user)},
		       {"new_base", val(i.change.new_base)},
		       {"final", val(i.final_value)},
		       {"origin", i.change.origin.line ? Json{{"file", i.change.origin.file()}, {"line", i.change.origin.line}}
						       : Json{{"file", i.change.origin.file()}}}};
		if (!i.reason.empty())
			j["reason"] = i.reason;
		items.push_back(std::move(j));
	}
	doc["changes"] = items;
	doc["summary"] = Json{{"changes", r.items.size()},
			      {"kept", r.count(RebaseItem::Status::kept)},
			      {"dropped", r.count(RebaseItem::Status::dropped)},
			      {"conflict", r.count(RebaseItem::Status::conflict)}};
	doc["clean"] = r.clean();
	doc["olddefconfig_seconds"] = r.olddefconfig_seconds;
	return doc;
}

void to_json(Json &doc, const SaveResult &r)
{
	doc = make_document("distkernel.savedconfig", 1, 0);
	doc["kernel_version"] = r.header.kernel_version;
	doc["base"] = Json{{"path", r.header.base}, {"sha256", r.header.base_sha256}};
	doc["layers"] = r.header.layers;
	Json d = Json::array();
	for (const auto &e : r.delta)
		d.push_back(Json{{"symbol", "CONFIG_" + e.symbol}, {"value", e.value.text()}});
	doc["delta"] = std::move(d);
}

} // namespace distkernel
