// The machine's boot setup as the root describes it, each setting with where it came from:
// installkernel's and kernel-install's install.conf (layout=, initrd_generator=, uki_generator=),
// and the shell-syntax files these settings live in (install.conf, dracut.conf, os-release).
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/rootfs.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel {

// Files made of shell variable assignments, read without running a shell: NAME=value,
// NAME+=value, `export NAME=value`, several per line or separated by ';', values unquoted,
// '...' or "..." (also across lines, joined as a shell would), comments and blank lines.
// What needs a shell to evaluate ($VAR, $(...), `...`, commands, if/fi) is not guessed: it is a
// problem naming the line, and the name when the line assigns one.
struct DISTKERNEL_API ShellAssignment {
	std::string name;
	std::string value;
	std::size_t line = 0;
	bool append = false; // NAME+=value
};
struct DISTKERNEL_API ShellProblem {
	std::size_t line = 0;
	std::string name; // the variable the line assigns, when it does
	std::string reason;
};
struct DISTKERNEL_API ShellFile {
	std::filesystem::path file;
	std::vector<ShellAssignment> assignments; // in file order
	std::vector<ShellProblem> problems;
	// The last assignment of name (a shell's value after sourcing the file, += included), with
	// its line; nullopt when never assigned. Throws ParseError when a line that cannot be read
	// assigns name: its value would be a guess.
	std::optional<ShellAssignment> get(std::string_view name) const;
};
DISTKERNEL_API ShellFile parse_shell_file(std::string_view text, const std::filesystem::path &file);
DISTKERNEL_API ShellFile read_shell_file(const std::filesystem::path &file); // SystemError when unreadable

// One setting and its source: "ROOT/etc/kernel/install.conf:3", "$INSTALLKERNEL_LAYOUT",
// "--layout"; value and source empty when nothing sets it.
struct DISTKERNEL_API BootSetting {
	std::string value;
	std::string source;
	bool set() const noexcept { return !value.empty(); }
};

// What may override install.conf, as installkernel reads it from its environment. The tools
// pass their own environment's values; the library never reads the process environment.
struct DISTKERNEL_API InstallConfOverrides {
	std::optional<std::string> conf_root;        // $INSTALLKERNEL_CONF_ROOT, a directory inside the root
	std::optional<std::string> layout;           // $INSTALLKERNEL_LAYOUT
	std::optional<std::string> initrd_generator; // $INSTALLKERNEL_INITRD_GENERATOR
	std::optional<std::string> uki_generator;    // $INSTALLKERNEL_UKI_GENERATOR
};
// The overrides set in this process's environment (for the tools).
DISTKERNEL_API InstallConfOverrides install_conf_overrides_from_environment();

// install.conf as installkernel (and kernel-install) find it under the root: ROOT/$INSTALLKERNEL_CONF_ROOT
// alone when that is set, else the first of ROOT/etc/kernel, ROOT/run/kernel, ROOT/usr/local/lib/kernel,
// ROOT/usr/lib/kernel that has one. Under --root the root's files apply, never the build machine's.
struct DISTKERNEL_API InstallConf {
	std::filesystem::path file;                  // host path of the file read; empty: none found
	std::vector<std::filesystem::path> searched; // host paths looked at, in order
	BootSetting layout, initrd_generator, uki_generator;
	std::vector<ShellProblem> problems; // lines of the file that were not read (other settings)
};
// Throws ParseError (file:line) when a line that sets one of the three cannot be read.
DISTKERNEL_API InstallConf read_install_conf(const Root &root, const InstallConfOverrides &overrides = {});

// The root's own dracut configuration, as dracut reads it under --conf ROOT/etc/dracut.conf
// --confdir ROOT/etc/dracut.conf.d: the file, then each *.conf of the directory in name order,
// the last assignment winning. Only what decides how distkernel calls dracut is kept.
struct DISTKERNEL_API DracutConf {
	std::vector<std::filesystem::path> files; // host paths read, in order
	BootSetting hostonly;                     // "yes"/"no" as the user wrote it
	BootSetting uefi;                         // "yes" asks dracut for a UEFI executable
	std::vector<std::string> unread;          // "FILE:LINE: why" of lines not read (other settings)
	std::string first_setting;                // "name at FILE:LINE" of the first line that sets anything; empty: none
};
DISTKERNEL_API DracutConf read_dracut_conf(const Root &root); // ParseError when a hostonly= or uefi= line cannot be read

// installkernel's hooks under the root, as Gentoo's installkernel finds them: the file names of
// ROOT/etc/kernel/PHASE.d and ROOT/usr/lib/kernel/PHASE.d in version order (sort -V), each name
// taken from /etc when it is there (a non-executable file there masks /usr/lib's), run only when
// executable. Hooks whose work distkernel has done already are listed with the reason.
struct DISTKERNEL_API KernelHook {
	std::string name;   // "91-grub-mkconfig.install"
	std::string path;   // inside the root: "/usr/lib/kernel/postinst.d/91-grub-mkconfig.install"
	std::string skip;   // empty: distkernel runs it; else why not
};
// phase: "preinst" or "postinst".
DISTKERNEL_API std::vector<KernelHook> find_kernel_hooks(const Root &root, std::string_view phase);
// kernel-install's plugins under the root, as kernel-install finds them: the *.install files of
// ROOT/etc/kernel/install.d and ROOT/usr/lib/kernel/install.d in name order, /etc's masking
// /usr/lib's; those distkernel leaves out of kernel-install remove with the reason.
DISTKERNEL_API std::vector<KernelHook> find_kernel_install_plugins(const Root &root);
// Whether the hook regenerates GRUB's menu (Gentoo's 91-grub-mkconfig.install and the like).
DISTKERNEL_API bool is_grub_mkconfig_hook(const KernelHook &hook);

} // namespace distkernel
