// A configuration layer trimmed to one machine: which modules its devices, mounts and rules need
// (modalias -> module through the base kernel's own module aliases, module -> Kconfig symbol
// through the tree's Makefiles, then the Kconfig closure), every other module of the base turned
// off. The result is an ordinary layer that merge verifies like any other.
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/check.hpp"
#include "distkernel/config.hpp"
#include "distkernel/json.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel {

// ---- the tree's Makefiles (Kbuild) ------------------------------------------------------------

// "ifdef CONFIG_X" (negated: ifndef) around an assignment; conditions Kbuild tests on anything
// but one CONFIG_ symbol are taken as true in their "if" branch and false in their "else".
struct DISTKERNEL_API KbuildCondition {
	std::string symbol;
	bool negated = false;
};

// One goal of a Makefile: "obj-$(CONFIG_X) += foo.o" (an object, a module when X is m) or
// "obj-$(CONFIG_Y) += dir/" (a subdirectory: everything beneath is gated by Y).
struct DISTKERNEL_API KbuildGoal {
	std::string path;   // relative to the tree: "drivers/net/ethernet/intel/e1000/e1000.o", "drivers/net/"
	std::string symbol; // X of obj-$(CONFIG_X); empty for obj-y / obj-m
	char fixed = 0;     // 'y' (obj-y, lib-y) or 'm' (obj-m) when symbol is empty
	std::vector<KbuildCondition> conditions;
	std::string where;  // "drivers/net/Makefile:12"
	int dir = -1;       // the directory whose Makefile says it (index into KbuildTree::dirs())
	bool directory() const { return !path.empty() && path.back() == '/'; }
};

// A part of a composite object: "foo-y += a.o", "foo-objs := a.o b.o", "foo-$(CONFIG_Z) += c.o".
struct DISTKERNEL_API KbuildPart {
	std::string path; // "fs/ext4/super.o"
	std::string symbol;
	std::vector<KbuildCondition> conditions;
};

// What a config builds, counted from the Makefiles without building.
struct DISTKERNEL_API KbuildCount {
	std::size_t objects = 0;        // compile units: composite objects counted by their parts
	std::size_t module_objects = 0; // of which in modules
	std::set<std::string> modules;  // module names (normalised), as modules.order would list them
	std::set<std::string> paths;    // the compile units' objects ("fs/ext4/super.o")
};

class DISTKERNEL_API KbuildTree {
public:
	// Reads TREE/Kbuild and, through every "obj-... += dir/", the Kbuild or Makefile of each
	// directory, plus the arch's core/libs/drivers directories (arch/ARCH/Makefile). Throws Error
	// naming the tree when it has no top-level Kbuild.
	static KbuildTree read(const std::filesystem::path &tree, const std::string &arch);
	// One Makefile's text as if it were DIR/Makefile of a tree (for tests and for read()).
	// dir ends in '/' ("" at the top); via: the directory goal that leads there, -1 at the top.
	// Returns the directory goals it adds, for the caller to read next.
	std::vector<std::size_t> add_makefile(const std::string &dir, std::string_view text, const std::string &file, int via);

	struct Dir {
		std::string path;             // "drivers/net/"
		std::vector<std::size_t> via; // the goals that lead here (several: any of them on)
	};
	const std::vector<KbuildGoal> &goals() const noexcept { return goals_; }
	const std::vector<Dir> &dirs() const noexcept { return dirs_; }
	// The object goals that build a module of this name ('-' and '_' alike), nullptr when none.
	std::vector<const KbuildGoal *> module(std::string_view name) const;
	// The goal of an object by its path ("drivers/block/virtio_blk.o"), nullptr when none.
	const KbuildGoal *object(std::string_view path) const;
	// The composite parts of an object path; empty when it is a plain object.
	const std::vector<KbuildPart> *parts(std::string_view path) const;
	// The symbols a goal needs: its own, its conditions', those of the directories above it. A
	// directory that several goals lead to counts through the first one values builds.
	std::vector<std::string> gates(const KbuildGoal &g, const Config &values) const;
	// What values builds (symbols absent are n).
	KbuildCount count(const Config &values) const;
	// How values builds a module by its name: 2 built in, 1 a module, 0 not at all (or unknown).
	int module_value(std::string_view name, const Config &values) const;
	std::size_t makefile_count() const noexcept { return makefiles_; }

private:
	int value(const KbuildGoal &g, const Config &values, std::vector<int> &dir_values) const;
	std::vector<KbuildGoal> goals_;
	std::vector<Dir> dirs_;
	std::map<std::string, std::size_t, std::less<>> dir_index_;
	std::map<std::string, std::vector<KbuildPart>, std::less<>> parts_;
	std::map<std::string, std::size_t, std::less<>> by_path_;
	std::map<std::string, std::vector<std::size_t>, std::less<>> by_module_;
	std::size_t makefiles_ = 0;
};

// ---- the trim -------------------------------------------------------------------------------

// --keep / --drop and the lines of a rules file ("keep NAME", "drop CONFIG_X"): a module name or
// a Kconfig symbol (with or without CONFIG_), with where it was written.
struct DISTKERNEL_API TrimRule {
	bool keep = true;
	std::string name;
	Origin origin; // "--keep" (line 0) or FILE:LINE
};
// Reads a rules file: "keep NAME" / "drop NAME" per line, '#' comments, blank lines. Throws
// ParseError naming file:line for anything else.
DISTKERNEL_API std::vector<TrimRule> read_trim_rules(const std::filesystem::path &file);

// The classes of modules kept whatever the machine shows (hot-plug, console, removable media):
// one table, documented in docs/trim.md.
struct DISTKERNEL_API TrimClass {
	std::string name;                 // "usb-storage"
	std::string why;
	std::vector<std::string> modules; // names in the base's module tree; absent ones are skipped
	// Every module the Makefiles of these tree directories build ("crypto/"): classes loaded by
	// name on demand, which no device shows.
	std::vector<std::string> directories = {};
};
DISTKERNEL_API const std::vector<TrimClass> &always_kept_classes();

struct DISTKERNEL_API TrimOptions {
	Machine machine;
	std::string machine_source;          // the snapshot's file, for messages and the layer's header
	std::filesystem::path tree;
	std::string arch;                    // empty: default_arch
	std::filesystem::path base;
	std::filesystem::path module_dir;    // lib/modules/KV of the same series, after depmod
	std::vector<TrimRule> rules;         // in order; a later rule on the same name wins
	std::vector<std::filesystem::path> layers; // the user's config.d: what they set to y/m is kept
};

// Why a module is kept.
struct DISTKERNEL_API TrimReason {
	std::string kind;   // "device", "loaded", "root", "mount", "crypto", "class", "rule", "layer", "dependency"
	std::string detail; // sysfs path and modalias, the mount, the class, the module that needs it
	std::string where;  // FILE:LINE of a rule or layer; empty otherwise
};

struct DISTKERNEL_API TrimModule {
	std::string module;  // normalised name
	std::string symbol;  // the Kconfig symbol that builds it (empty when none was found)
	std::string klass;   // its directory class: "drivers/net/wireless"
	std::vector<TrimReason> reasons; // kept: why; dropped: empty
};

struct DISTKERNEL_API TrimResult {
	std::vector<TrimModule> kept, dropped;
	// Symbols the layer turns off (base =m), with the reason kept ones were kept.
	std::vector<std::string> off_symbols;
	std::map<std::string, std::vector<TrimReason>> kept_symbols;
	std::vector<std::string> unresolved; // "path modalias: why"
	std::vector<std::string> warnings;
	KbuildCount base_count, trimmed_count;
	std::size_t base_module_symbols = 0, trimmed_module_symbols = 0;
	// The size of the module files in MODULE_DIR of what base and trimmed build (a module the
	// tree builds and MODULE_DIR lacks counts 0): the sizes a build of the same series ships.
	std::uintmax_t base_module_bytes = 0, trimmed_module_bytes = 0;
	std::string layer_text; // the layer, ready to write
	Config trimmed;         // base with the layer applied (before olddefconfig)
};

// Throws Error naming the file or value for a module tree without modules.alias, an unknown
// --keep name, a rule that drops what the root filesystem needs.
DISTKERNEL_API TrimResult trim(const TrimOptions &o, const Logger &log);
// Schema "distkernel.trim" 1.0.
DISTKERNEL_API Json trim_json(const TrimOptions &o, const TrimResult &r, const std::string &layer_file);

// /etc/kernel/distkernel-trim: what the eclass trims for. "KEY = VALUE" lines, '#' comments:
//   snapshot = /etc/kernel/machine.json   (required) the machine's snapshot
//   modules = /lib/modules/6.1.0-57-amd64 (optional) the module tree whose aliases map
//             modaliases; default: the newest ROOT/lib/modules/* with modules.alias of the tree's
//             own series (VERSION.PATCHLEVEL), else the newest of any series
//   rules = /etc/kernel/distkernel-trim.rules (optional) keep/drop rules
// Paths are inside root. Throws ParseError naming file:line for an unknown key or a relative path.
struct DISTKERNEL_API TrimSettings {
	std::filesystem::path snapshot, module_dir, rules; // host paths (under the root)
};
inline constexpr const char *trim_settings_file = "/etc/kernel/distkernel-trim";
DISTKERNEL_API TrimSettings read_trim_settings(const Root &root, const std::string &inside, const std::filesystem::path &tree);

// Devices of a machine whose module a final config does not build: what a kernel trimmed for
// another machine lacks here. Each entry: "PATH MODALIAS: module M (CONFIG_X is n)".
DISTKERNEL_API std::vector<std::string> trim_uncovered(const Machine &m, const KbuildTree &kbuild,
							const std::filesystem::path &module_dir, const Config &final_config);

} // namespace distkernel
