// Cleaning /boot: keep the newest N kernels, the running one and the pinned ones; remove the
// rest through the same removal path as `distkernel-install remove` (behind KernelRemover), then
// their leftovers (/lib/modules/KV, /usr/src/linux-KV) when no package owns them any more.
// Never removes a file a kept kernel still uses.
#pragma once

#include "distkernel/export.hpp"
#include "distkernel/install.hpp"

#include "distkernel/json.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace distkernel {

// ROOT/etc/distkernel/clean.conf: "keep = N", "pin = KV" (repeatable), '#' comments.
struct DISTKERNEL_API CleanConfig {
	unsigned keep = 3;
	std::vector<std::string> pinned;
	std::string source; // the file read, empty when there was none
};
DISTKERNEL_API CleanConfig read_clean_config(const Root &root);

// -1, 0, 1 like strcmp, comparing digit runs as numbers ("6.1.0-9" < "6.1.0-10" < "6.12.1").
DISTKERNEL_API int compare_releases(const std::string &a, const std::string &b);

struct DISTKERNEL_API KernelFile {
	std::string path; // inside the root
	std::uint64_t bytes = 0;
	bool dir = false; // a whole directory (its bytes are the sum of its files)
};

struct DISTKERNEL_API InstalledKernel {
	std::string release;
	bool by_distkernel = false; // ROOT/var/lib/distkernel/kernels/KV.json records it
	std::string layout;         // installkernel, bls, uki, custom (distkernel's) or found: plain, bls, uki, modules-only
	std::vector<KernelFile> boot_files; // what the removal path takes from /boot (the record's files when by_distkernel)
	std::vector<std::string> boot_dirs; // directories to drop when they end up empty (BLS TOKEN/KV)
};

// Every kernel the root has: distkernel's records, plain /boot/vmlinuz-KV, BLS entries, UKIs
// and module trees without a kernel image.
// unreadable: given, a state record that cannot be read is skipped and its error added there
// (it is then found as a kernel distkernel did not install); not given, it throws.
DISTKERNEL_API std::vector<InstalledKernel> find_kernels(const Root &root, std::vector<std::string> *unreadable = nullptr);

struct DISTKERNEL_API CleanOptions {
	std::optional<unsigned> keep;   // overrides the config file
	std::vector<std::string> pinned; // added to the config file's
	std::string running;            // empty: from ROOT/proc/sys/kernel/osrelease (the root's own description)
	bool all = false;               // also kernels distkernel did not install
};

struct DISTKERNEL_API CleanDecision {
	InstalledKernel kernel;
	bool remove = false;
	std::string reason;             // "newest 3", "running", "pinned", "older than the newest 3", ...
	std::vector<KernelFile> files;  // what goes (remove) with the leftovers; nothing when kept
	std::vector<std::string> notes; // "/lib/modules/KV is owned by sys-kernel/...: kept"
	std::uint64_t bytes = 0;
};

struct DISTKERNEL_API CleanPlan {
	std::vector<CleanDecision> kernels; // newest first
	unsigned keep = 3;
	std::string running;
	std::string config;
	std::uint64_t bytes = 0; // freed when every removal is done
	bool carried_out = false; // execute_clean did every removal; until then the plan is a pretend one
	bool nothing_to_do() const;
	std::string to_text() const;
};
DISTKERNEL_API void to_json(Json &doc, const CleanPlan &plan); // schema "distkernel.clean" 1.0

DISTKERNEL_API CleanPlan plan_clean(const Root &root, const CleanOptions &opts, const Logger &log);

// The removal of one distkernel-installed kernel's deployed files: the install library's.
class DISTKERNEL_API KernelRemover {
public:
	virtual ~KernelRemover() = default;
	// Removes what KV's state record lists (not what another record lists); returns the paths
	// removed, inside the root.
	virtual std::vector<std::string> remove(const Root &root, const std::string &release, const Logger &log) = 0;
	// Tells the root's removal plugins that a kernel distkernel did not install is going, as
	// remove tells them of its own (kernel-install remove KV), before its files go; returns the
	// failure ("kernel-install remove failed (exit N): ..."), empty when none.
	virtual std::string tell_plugins(const Root &root, const std::string &release, const Logger &log) = 0;
};
// distkernel-install remove's path (lib/install); running: the kernel it must refuse to remove;
// opts: how the root's kernel-install plugins are run (hooks, kernel_install).
// The caller holds lock_installs() and regenerates the boot menu (update_boot_menu) afterwards.
DISTKERNEL_API std::unique_ptr<KernelRemover> install_remover(const std::string &running, const InstallOptions &opts = {});

// Carries out the plan: distkernel's kernels through remover, others (--all) and the leftovers
// directly, after remover told the plugins of each other kernel with a boot file; returns the
// paths removed and marks the plan carried_out. A plugin that fails stops the run after that
// kernel's files are gone (Error naming the plugin run).
DISTKERNEL_API std::vector<std::string> execute_clean(const Root &root, CleanPlan &plan, KernelRemover &remover, const Logger &log);

} // namespace distkernel
