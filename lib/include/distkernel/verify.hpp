// Verification: every value the layers request, checked against the final .config that the
// kernel's own olddefconfig produced, with the reason when it did not survive; and the whole
// configure pipeline (layers -> merged input -> olddefconfig -> verification).
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/config.hpp"
#include "distkernel/json.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/log.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace distkernel {

// Exit status of `distkernel-config merge/verify` when a required value did not survive.
constexpr int exit_config_dropped = 3;

struct DISTKERNEL_API Finding {
	enum class Status { kept, changed, dropped, unknown };
	std::string symbol;
	Value requested;
	Origin origin;
	bool optional = false;
	bool informational = false; // from a layer that informs (Entry::informational)
	std::optional<Value> final_value; // absent from the final .config
	Status status = Status::kept;
	// What the final .config holds is what was asked ("n" and absent are the same value).
	bool survived = true;
	// Why, from the tree's Kconfig, when it could be found ("depends on X86 && PCI (PCI is n)").
	std::string reason;
	// Counts against the exit status: did not survive, not optional, from a required layer.
	bool fails() const noexcept { return !survived && !optional && !informational; }
};
NLOHMANN_JSON_SERIALIZE_ENUM(Finding::Status, {{Finding::Status::kept, "kept"},
					       {Finding::Status::changed, "changed"},
					       {Finding::Status::dropped, "dropped"},
					       {Finding::Status::unknown, "unknown"}})

struct DISTKERNEL_API VerifyReport {
	std::vector<Finding> findings; // in the order the symbols were first requested
	std::size_t count(Finding::Status s) const;
	std::size_t failures() const;
	bool ok() const { return failures() == 0; }
	bool all_survived() const;
};

// Classifies each requested value against the final .config. kconfig (may be null) tells
// unknown symbols apart (whatever the value asked: an unknown symbol never survives) and explains
// drops and changes.
DISTKERNEL_API VerifyReport verify(const std::vector<Entry> &requested, const Config &final_config, const kconfig::Kconfig *kconfig);

// A value that a later layer replaced by choosing another member of the same choice is an
// override (as merge_config.sh's user sees it), not a drop: its finding moves to overrides.
DISTKERNEL_API void choice_overrides(VerifyReport &report, const LayeredConfig &layered, const kconfig::Kconfig &kconfig,
		      std::vector<Override> &overrides);

// Unknown symbols that the tree defines only for other architectures say so ("only defined for
// arm64").
DISTKERNEL_API void name_other_arches(VerifyReport &report, const std::filesystem::path &tree, const std::string &arch);

// The reason a requested value became another one, from the Kconfig and the final values; empty
// when none was found. requested_values (may be null) lets it say which layer set a blocker.
DISTKERNEL_API std::string explain(const kconfig::Symbol &sym, const Value &requested, const Config &final_config,
		    const kconfig::Kconfig &kconfig, const Config *requested_values = nullptr);

// "dropped: CONFIG_X=y requested by FILE:LINE became n: depends on Y (Y is n)"
DISTKERNEL_API std::string describe(const Finding &f);
// Short human report: one line per finding that is not kept, then a count line.
DISTKERNEL_API void print_report(const VerifyReport &r, const Logger &log);

struct DISTKERNEL_API MergeOptions {
	kconfig::MakeOptions make; // tree, O=, ARCH, CROSS_COMPILE, LLVM
	std::filesystem::path base;
	std::vector<std::filesystem::path> layers; // files and directories, as given
	// Per layer argument (empty: all required): false for a layer that informs (a distribution's
	// or variant's own fragment): its values are reported, never fail the merge.
	std::vector<bool> required;
	bool olddefconfig = true; // false: write the merged input only (timing, debugging)
};

struct DISTKERNEL_API MergeResult {
	std::filesystem::path final_config; // BUILD/.config
	std::vector<std::filesystem::path> layer_files;
	std::vector<bool> layer_required; // per layer file
	std::vector<Override> overrides;
	VerifyReport report;
	bool verified = false; // false when olddefconfig was skipped
	// What the report was made from, for callers that want to look further: the layered input,
	// the final .config and the tree's Kconfig (null when not verified, or when the Kconfig files
	// could not be read). Shared so that freeing them is the caller's choice: they are many
	// small allocations, and a tool about to exit need not free them one by one.
	std::shared_ptr<const LayeredConfig> layered;
	std::shared_ptr<const Config> final_values;
	std::shared_ptr<const kconfig::Kconfig> kconfig;
	// sha256 of the bytes that were merged (made while make runs; empty when not verified)
	std::string base_sha256;
	std::vector<std::string> layer_sha256;
	// Seconds spent in each step (kconfig_seconds: CPU time of reading the Kconfig files, which
	// happens while make runs).
	double parse_seconds = 0, olddefconfig_seconds = 0, kconfig_seconds = 0, verify_seconds = 0;
};

// Reads and merges the layers (any bad line fails before anything is written), writes the merged
// input to BUILD/.config, runs the kernel's olddefconfig, verifies. The tree's Kconfig files are
// read while make runs and used when some value did not survive (to tell why).
DISTKERNEL_API MergeResult merge(const MergeOptions &o, const Logger &log);

// The JSON report (schema distkernel.config-report 1.0).
DISTKERNEL_API Json report_json(const MergeOptions &o, const MergeResult &r);
DISTKERNEL_API Json findings_json(const VerifyReport &r);
// "distkernel.config-report" 1.0 of a verification alone: the final config's path, findings, ok.
DISTKERNEL_API Json verify_json(const std::filesystem::path &final_config, const VerifyReport &r);
// "distkernel.config-diff" 1.0: added, removed and changed symbols with their values on each side.
DISTKERNEL_API void to_json(Json &doc, const ConfigDiff &d);

} // namespace distkernel
