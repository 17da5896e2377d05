// Install: on the target machine, a staged kernel (see stage.hpp) becomes a bootable installation
// in the machine's /boot layout, with an initramfs, atomically; what was deployed is recorded so
// that remove deletes exactly that.
//
// Atomicity: every layout's installer writes into a private staging directory on the /boot
// filesystem (ROOT/boot/.distkernel-new-KV); only when the initramfs, the installer and every copy
// succeeded are the files renamed into place, each old file first renamed into a backup
// directory beside it. A journal (ROOT/var/lib/distkernel/journal.json), written before the first
// rename, lets the next run roll back an install that was killed half-way. A lock
// (ROOT/var/lib/distkernel/lock) keeps two installs from running at once.
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/boot.hpp"
#include "distkernel/json.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/sign.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel {

inline constexpr const char *deployment_schema = "distkernel.deployment";
inline constexpr int deployment_major = 1;
inline constexpr int deployment_minor = 1; // 1.1: prebuilt_initramfs

enum class Layout {
	automatic,     // decided from the root (see choose_layout)
	installkernel, // installkernel VERSION IMAGE MAP DIR: /boot/vmlinuz-KV, initramfs-KV.img, ...
	bls,           // systemd's kernel-install add: BOOT/TOKEN/KV/{linux,initrd} + loader entry
	custom,        // the root's own /usr/local/bin/installkernel
	uki,           // one unified kernel image (systemd's stub + kernel + initramfs + cmdline): ESP/EFI/Linux/TOKEN-KV.efi
	efistub,       // the kernel as an EFI program: ESP/EFI/NAME/vmlinuz-KV.efi + initramfs-KV.img, a firmware boot entry
};
NLOHMANN_JSON_SERIALIZE_ENUM(Layout, {{Layout::automatic, "auto"},
				      {Layout::installkernel, "installkernel"},
				      {Layout::bls, "bls"},
				      {Layout::custom, "custom"},
				      {Layout::uki, "uki"},
				      {Layout::efistub, "efistub"}})
DISTKERNEL_API Layout parse_layout(std::string_view name); // auto|installkernel|bls|custom|uki|efistub, else UsageError
DISTKERNEL_API std::string to_string(Layout l);

struct DISTKERNEL_API LayoutChoice {
	Layout layout = Layout::installkernel;
	std::string reason;  // "ROOT/boot/loader/entries exists", shown at -v
	std::string warning; // a configured layout distkernel cannot honour yet, and what it does instead
};
// auto: ROOT/usr/local/bin/installkernel (executable) -> custom; layout= of install.conf (see
// read_install_conf: bls -> bls; uki -> uki; efistub -> efistub; compat, grub, other -> installkernel);
// ROOT/boot/loader/entries
// -> bls; otherwise installkernel.
DISTKERNEL_API LayoutChoice choose_layout(const Root &root, Layout requested, const InstallConf &conf);
DISTKERNEL_API LayoutChoice choose_layout(const Root &root, Layout requested); // reads install.conf itself

// How the root's installkernel hooks (and grub-mkconfig) are run. On the live system they run as
// installkernel runs them. Under another root they would act on the build machine (its /boot,
// its grub.cfg), so they run only inside the root through chroot when asked; otherwise each is
// printed as the command to run there.
enum class HookMode {
	automatic, // live system: run; another root: print
	chroot,    // run inside the root: chroot ROOT HOOK ARGS (needs root privileges and the root's shell)
	none,      // neither run nor printed
};
DISTKERNEL_API HookMode parse_hook_mode(std::string_view name); // auto|chroot|none, else UsageError

struct DISTKERNEL_API InstallOptions {
	Layout layout = Layout::automatic;
	bool initramfs = true;      // --no-initramfs clears it
	bool hostonly = false;      // dracut --hostonly (only meaningful on the live system)
	bool src_symlink = false;   // point /usr/src/linux at linux-KV
	bool force = false;         // remove: even the running kernel
	bool verify_modules = false; // add: also verify every staged module's hash (slow: ~400 MB)
	std::vector<std::string> dracut_args; // extra dracut arguments (after ours)
	std::string dracut = "dracut";
	std::string installkernel = "installkernel";
	std::string kernel_install = "kernel-install";
	std::string efi_stub;                // uki: systemd's EFI stub; empty: the root's /usr/lib/systemd/boot/efi/linuxx64.efi.stub
	std::string ukify;                   // uki_generator=ukify: the program; empty: /usr/lib/systemd/ukify, /lib/systemd/ukify
	std::string esp_path;                // uki, efistub: the ESP (/efi, /boot/efi or /boot); empty: found (fstab, content)
	std::string efibootmgr = "efibootmgr"; // efistub: the firmware's boot entries (live system only)
	std::string running_release; // remove refuses it (any root); empty: uname -r, live root only
	unsigned jobs = 0;
	InstallConfOverrides install_conf; // $INSTALLKERNEL_CONF_ROOT etc., as the tool's environment has them
	HookMode hooks = HookMode::automatic;
	std::string grub_mkconfig = "grub-mkconfig"; // run inside the root (chroot) or on the live system
	bool pretend = false;           // remove: say what would go, change nothing
	bool update_boot_menu = true;   // remove: regenerate grub.cfg afterwards (clean does it once at the end)
	unsigned lock_timeout = 300;    // seconds to wait for another distkernel process's lock
	bool lock_held = false;         // the caller holds lock_installs() already (clean)
	// add: a generic initramfs made when the package was built, used instead of running dracut
	// when nothing on the root asks for another (see prebuilt_initramfs_refusal); empty: dracut.
	std::string prebuilt_initramfs;
	// uki: the unified kernel image is signed with this key for Secure Boot (sign_efi_image) before
	// it reaches /boot; unset: it is left unsigned (a warning when the kernel was staged signed).
	SecureBootKey secureboot;
};

// The lock add, remove, reinstall and clean take (ROOT/var/lib/distkernel/lock): waits for
// another process (a parallel pkg_postinst) up to opts.lock_timeout seconds, saying so once;
// LockedError after that.
// Error unless the root is an existing directory: a mistyped --root is never created.
DISTKERNEL_API void require_root(const Root &root);

DISTKERNEL_API std::unique_ptr<FileLock> lock_installs(const Root &root, const InstallOptions &opts, const Logger &log);

// What add decides for a root before it runs anything, each decision with its source: the layout,
// whether and how an initramfs is built. Shown at -v and by distkernel-install inspect.
struct DISTKERNEL_API InstallPlan {
	InstallConf install_conf;
	DracutConf dracut_conf;
	LayoutChoice layout;
	BootSetting initramfs; // "dracut", "prebuilt" (InstallOptions::prebuilt_initramfs) or "none"
	std::string prebuilt_refused; // a prebuilt initramfs was offered and is not used: why (dracut builds one)
	BootSetting hostonly;  // "yes" or "no"; the source says why
	bool pass_hostonly = false;    // dracut gets --hostonly (asked for on the command line)
	bool pass_no_hostonly = false; // dracut gets --no-hostonly (nobody set hostonly)
	bool pass_no_uefi = false;     // dracut.conf says uefi=yes: the initramfs must stay one
	std::vector<KernelHook> preinst, postinst; // the root's installkernel hooks (installkernel layout)
	std::vector<KernelHook> remove;            // kernel-install's plugins, run by kernel-install remove on removal
	BootSetting esp;               // uki, efistub: where the ESP is mounted (/efi, /boot/efi, /boot)
	BootSetting esp_target;        // uki, efistub: where KV's files go on the ESP ("/boot/EFI/Linux/TOKEN-KV.efi")
	BootSetting efi_stub;          // uki: systemd's EFI stub
	// uki: what joins the unified kernel image, as install.conf's uki_generator= says: "objcopy"
	// (distkernel's own join: unset or none), "dracut" (dracut --uefi builds initramfs and UKI in
	// one run) or "ukify" (systemd's ukify build)
	BootSetting uki_generator;
	bool grub = false;             // grub.cfg is regenerated after add and removals
	std::string grub_reason;       // why (layout=grub, a grub-mkconfig hook) or why not
	std::vector<std::string> warnings;
};
DISTKERNEL_API InstallPlan plan_install(const Root &root, const InstallOptions &opts);

// The rule for a prebuilt generic initramfs (InstallOptions::prebuilt_initramfs): it is used only
// when the initramfs this root would get from dracut is the generic one the package was built
// with. Returns why not, or empty when it may be used: a host-only initramfs (--hostonly or
// hostonly=yes in the root's dracut configuration), any setting in the root's dracut.conf or
// dracut.conf.d (modules, drivers, files the generic one lacks), --dracut-arg, or a module in
// ROOT/lib/modules/KV that the staged manifest does not list (an external module, such as ZFS,
// that must be in the initramfs). staged_modules: the manifest's paths under /lib/modules/KV.
DISTKERNEL_API std::string prebuilt_initramfs_refusal(const Root &root, const InstallPlan &plan,
						      const InstallOptions &opts, const std::string &release,
						      const std::vector<std::string> &staged_files);
DISTKERNEL_API void to_json(Json &doc, const InstallPlan &plan); // schema "distkernel.install-plan" 1.0

struct DISTKERNEL_API DeployedFile {
	std::string path; // inside the root ("/boot/vmlinuz-6.1.0-56-amd64")
	std::uint64_t size = 0;
	std::string sha256;
};

// What one install put on the machine (the state record of one kernel).
struct DISTKERNEL_API Deployment {
	std::string release;
	std::string variant;
	Layout layout = Layout::installkernel;
	std::string time; // UTC, ISO 8601
	std::vector<DeployedFile> files;
	std::vector<std::string> dirs; // directories the install created (removed when empty)
	bool initramfs = false;
	bool hostonly = false;
	std::vector<std::string> dracut_args; // the extra dracut arguments (reinstall repeats them)
	bool prebuilt_initramfs = false;      // the package's generic initramfs, not one dracut built here
	// The record's reader: checks the document and names source and the field in its errors.
	static Deployment from_json(const Json &doc, const std::string &source);
};
DISTKERNEL_API void to_json(Json &doc, const Deployment &d); // schema deployment_schema
// "distkernel.installed" 1.0: the records of list_installed.
DISTKERNEL_API Json installed_document(const std::vector<Deployment> &deployments);

struct DISTKERNEL_API InstallResult {
	Deployment deployment;
	std::string layout_reason;
	InstallPlan plan;
	double initramfs_seconds = 0;
	double installer_seconds = 0;
	double total_seconds = 0;
	bool rolled_back_previous = false; // a killed install was found and undone first
	std::string skipped_by;            // a preinst hook exited 77: nothing was installed
	std::string hook_failure;          // a postinst hook failed after the commit: the kernel is installed
};
// The deployment's record with the timings and the layout's reason.
DISTKERNEL_API void to_json(Json &doc, const InstallResult &r);
// "distkernel.reinstall-result" 1.0: the results of reinstall.
DISTKERNEL_API Json reinstall_document(const std::vector<InstallResult> &results);

// Installs staged kernel KV of the root. Throws Error naming what failed and how to retry; on any
// failure the root's /boot and state are exactly as before.
DISTKERNEL_API InstallResult add(const Root &root, const std::string &release, const InstallOptions &opts, const Logger &log);

struct DISTKERNEL_API RemoveResult {
	std::string release;
	std::vector<std::string> removed; // paths inside the root
	std::vector<std::string> kept;    // listed but still used by another kernel's record
	bool was_installed = false;       // false: nothing recorded (tools exit 77)
	bool pretend = false;             // removed and kept say what would happen
};

// After kernels left /boot: grub.cfg regenerated when the plan says GRUB's menu is kept by
// grub-mkconfig (as the hook would on install); under another root as HookMode says. Throws Error
// naming the command when it fails.
DISTKERNEL_API void update_boot_menu(const Root &root, const InstallOptions &opts, const Logger &log);
DISTKERNEL_API void to_json(Json &doc, const RemoveResult &r); // schema "distkernel.remove-result" 1.0
// Removes exactly what KV's state record lists, except files another kernel's record also lists.
// Refuses the running kernel on the live system unless opts.force. Public for distkernel-clean.
DISTKERNEL_API RemoveResult remove(const Root &root, const std::string &release, const InstallOptions &opts, const Logger &log);

// Regenerates the initramfs (and redeploys) of the named kernels, or every installed one when
// releases is empty, each with add's atomicity and the layout it was installed with.
DISTKERNEL_API std::vector<InstallResult> reinstall(const Root &root, const std::vector<std::string> &releases,
				     const InstallOptions &opts, const Logger &log);

// The variable distkernel-install puts into the environment of the installers and hooks it runs:
// a plugin that routes installer calls into distkernel (route_installer_call) steps aside when it
// sees it, so that distkernel's own call of installkernel or kernel-install does not come back.
inline constexpr const char *install_guard_variable = "DISTKERNEL_INSTALLING";

// A call of installkernel (its preinst.d hooks: KV IMAGE) or kernel-install (its install.d
// plugins: add|remove KV ...) seen by distkernel's plugin. handled: distkernel did the work in one
// transaction with its record (add, or reinstall of a recorded kernel, or remove of one), and the
// installer must skip the rest (exit 77 in both conventions). Not handled: the kernel is not one
// distkernel staged (no manifest), the remove is of a kernel distkernel did not install, or the
// call comes from distkernel itself; reason says which.
struct DISTKERNEL_API RouteResult {
	bool handled = false;
	std::string action; // "add", "reinstall" or "remove" when handled
	std::string reason;
	std::vector<InstallResult> installed;
	RemoveResult removed;
};
// action: "add" or "remove" (anything else is a UsageError). guard: the value of
// install_guard_variable in the caller's environment (nullptr when unset). image: the kernel image
// the installer was given (a host path, relative to the caller's directory as `make install`
// passes it; empty when the call names none): an add of a staged release with another image (a
// kernel built by hand under distkernel's release) is an Error naming both files, never an
// install of the staged one in its place.
DISTKERNEL_API RouteResult route_installer_call(const Root &root, const std::string &action, const std::string &release,
				 const InstallOptions &opts, const char *guard, const Logger &log,
				 const std::filesystem::path &image = {});

// The kernels recorded as installed, newest install first.
DISTKERNEL_API std::vector<Deployment> list_installed(const Root &root);
// The same, going on past a record that cannot be read: each such record's error, with the way
// out, goes to unreadable.
DISTKERNEL_API std::vector<Deployment> list_installed(const Root &root, std::vector<std::string> *unreadable);
// The install whose journal is there (killed half-way: the next add, remove or clean rolls it
// back); empty when none.
DISTKERNEL_API std::string interrupted_install(const Root &root);
DISTKERNEL_API std::optional<Deployment> find_installed(const Root &root, const std::string &release);

// Undoes a half-done install recorded in the journal (killed process); true when there was one.
// add, remove and reinstall call it under the lock first.
DISTKERNEL_API bool recover(const Root &root, const Logger &log);

// ROOT/var/lib/distkernel, where the records live (a read never creates it; add does).
DISTKERNEL_API std::filesystem::path state_dir(const Root &root);

} // namespace distkernel
