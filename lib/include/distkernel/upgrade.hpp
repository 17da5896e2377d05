// Configuration that survives upgrades: the user's own delta (savedconfig save), carrying it onto
// a new base in a new tree (rebase), named feature presets, and the options a new kernel brings.
// All of it goes through the configure pipeline of verify.hpp: the kernel's own olddefconfig
// decides, verify() says what survived and why.
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/config.hpp"
#include "distkernel/json.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/verify.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace distkernel {

// ---- savedconfig: the user's delta ----

// First line of a saved delta; rebase tells a delta from a full config by it.
constexpr std::string_view savedconfig_marker = "# distkernel savedconfig";

// "6.1.158" from the "# Linux/x86 6.1.158 Kernel Configuration" line Kconfig writes; empty if none.
DISTKERNEL_API std::string kernel_version_of(const Config &config);
DISTKERNEL_API bool is_saved_delta(const Config &config);

// What a saved config is, as the eclass needs to know before it applies one: a delta written by
// save (applied as it is) or a full .config, and the kernel version its header names (a full
// config's "# Linux/ARCH VERSION Kernel Configuration", a delta's "# kernel: VERSION"; empty
// when it names none).
struct DISTKERNEL_API SavedInfo {
	std::filesystem::path file;
	bool delta = false;
	std::string kernel_version;
};
// ParseError naming file:line when it is not a config Kconfig could read.
DISTKERNEL_API SavedInfo saved_info(const std::filesystem::path &file);
DISTKERNEL_API void to_json(Json &doc, const SavedInfo &info); // schema "distkernel.saved-info" 1.0

// What final_config sets differently from reference (the layers alone after olddefconfig), in
// final_config's order; a symbol that reference has on (or with a value) and final_config lacks
// or has off becomes "is not set". Origins point into final_config.
DISTKERNEL_API std::vector<Entry> config_delta(const Config &reference, const Config &final_config);

struct DISTKERNEL_API SavedHeader {
	std::string kernel_version;
	std::string base;        // the base as the user named it
	std::string base_sha256;
	std::vector<std::string> layers;
};
// The fragment text: marker line, header comments, then one assignment per line.
DISTKERNEL_API std::string savedconfig_text(const SavedHeader &h, const std::vector<Entry> &delta);

struct DISTKERNEL_API SaveOptions {
	kconfig::MakeOptions make; // tree; build: an O= directory of the save's own (overwritten)
	std::filesystem::path final_config;
	std::filesystem::path base;
	std::vector<std::filesystem::path> layers;
	std::string kernel_version; // empty: from final_config's header line
};
struct DISTKERNEL_API SaveResult {
	SavedHeader header;
	std::vector<Entry> delta;
	std::string text;
};
// Runs the layers alone through olddefconfig (in make.build, or a temporary directory) and
// returns the difference of final_config from that.
DISTKERNEL_API SaveResult save_delta(const SaveOptions &o, const Logger &log);
DISTKERNEL_API void to_json(Json &doc, const SaveResult &r); // schema "distkernel.savedconfig" 1.0

// ---- rebase: three-way ----

// One of the user's own changes (user vs old base) and what the new base did to the same symbol.
struct DISTKERNEL_API UserChange {
	enum class Kind { apply, already, conflict };
	std::string symbol;
	std::optional<Value> old_base, user, new_base; // absent: the file does not mention it
	Origin origin;                                   // where the user set it
	Kind kind = Kind::apply;
};
// The user's changes: every symbol user sets differently from old_base (a saved delta: each of
// its assignments). "Absent" and "n" are the same for a tristate; a string or number the user's
// config lacks is a consequence of a dependency, not a change, and is left out. kind: the new
// base already has the user's value (already), changed it from old_base to something else
// (conflict), or left it alone (apply).
DISTKERNEL_API std::vector<UserChange> user_changes(const Config &old_base, const Config &user, const Config &new_base);

struct DISTKERNEL_API RebaseOptions {
	kconfig::MakeOptions make; // the NEW tree; build: O= directory for the new .config
	std::filesystem::path old_base, user, new_base;
};
struct DISTKERNEL_API RebaseItem {
	enum class Status { kept, dropped, conflict };
	UserChange change;
	Status status = Status::kept;
	std::optional<Value> final_value; // in the new .config
	std::string reason;               // dropped: verify's reason; conflict/kept: what happened
};
NLOHMANN_JSON_SERIALIZE_ENUM(RebaseItem::Status, {{RebaseItem::Status::kept, "kept"},
						  {RebaseItem::Status::dropped, "dropped"},
						  {RebaseItem::Status::conflict, "conflict"}})
struct DISTKERNEL_API RebaseResult {
	std::vector<RebaseItem> items;
	std::filesystem::path final_config; // BUILD/.config
	SaveResult delta;                   // the user's delta against the new base (kept changes)
	double olddefconfig_seconds = 0;
	std::size_t count(RebaseItem::Status s) const;
	bool clean() const { return count(RebaseItem::Status::kept) == items.size(); }
};
// Applies the user's non-conflicting changes as a layer over NEW-BASE in the new tree (merge():
// olddefconfig and verification), classifies each change. Conflicts keep the new base's value
// and are reported, never resolved.
DISTKERNEL_API RebaseResult rebase(const RebaseOptions &o, const Logger &log);
DISTKERNEL_API Json rebase_json(const RebaseOptions &o, const RebaseResult &r);

// ---- presets ----

struct DISTKERNEL_API PresetValue {
	Entry entry;
	std::string note; // the comment lines right above the assignment: why it is there
};
struct DISTKERNEL_API Preset {
	std::string name;
	std::filesystem::path file;
	std::string summary; // the first comment line after the marker
	std::vector<PresetValue> values;
};
// NAME.config in dir; throws UsageError naming the presets there when there is none.
DISTKERNEL_API std::filesystem::path preset_file(const std::filesystem::path &dir, const std::string &name);
DISTKERNEL_API Preset read_preset(const std::filesystem::path &file);
DISTKERNEL_API std::vector<Preset> list_presets(const std::filesystem::path &dir);
// "distkernel.presets" 1.0 with "presets": each one's name, file, summary and number of values.
DISTKERNEL_API Json presets_json(const std::vector<Preset> &presets);

// The presets ROOT/etc/kernel/distkernel-presets selects (names separated by blanks or lines,
// '#' comments), as files of dir, in the order written. None when the file does not exist;
// ParseError naming file:line for an unknown name.
DISTKERNEL_API std::vector<std::filesystem::path> selected_presets(const Root &root, const std::filesystem::path &dir);
constexpr std::string_view presets_selection_file = "/etc/kernel/distkernel-presets";
// "distkernel.presets" 1.0 with "selected": the files of selected_presets.
DISTKERNEL_API Json selected_presets_json(const std::vector<std::filesystem::path> &files);

// Does config satisfy the preset: verify() of its values; a preset's "=m" is satisfied by y too.
DISTKERNEL_API VerifyReport check_preset(const Preset &p, const Config &config, const kconfig::Kconfig *kconfig);
DISTKERNEL_API Json check_preset_json(const Preset &p, const VerifyReport &r);

// ---- new options ----

struct DISTKERNEL_API NewOption {
	std::string symbol;
	kconfig::Type type = kconfig::Type::unknown;
	std::string prompt, help;
	std::vector<std::string> menus;
	kconfig::Location where;
	std::optional<Value> value; // in the new config; absent when it does not mention it
};
// What `make listnewconfig` lists: symbols old does not mention that the user could set now
// (a visible prompt, not forced by a select), judged against values (the new .config; old itself
// when there is none). In Kconfig order.
DISTKERNEL_API std::vector<NewOption> new_options(const Config &old, const kconfig::Kconfig &k, const Config &values);
// "General setup > Timers subsystem", or "(top level)".
DISTKERNEL_API std::string menu_path(const NewOption &o);
DISTKERNEL_API Json new_options_json(const std::vector<NewOption> &opts);

} // namespace distkernel
