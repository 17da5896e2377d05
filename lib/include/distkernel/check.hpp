// "Will this kernel boot this machine, and drive its hardware?": the machine's description (live
// or a snapshot), the initramfs reader, and the check itself. The new kernel's modules are read
// with libkmod (kmod.hpp) from its own module tree.
#pragma once

#include "distkernel/export.hpp"

#include "distkernel/json.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace distkernel {

// ---- the machine ----------------------------------------------------------------------------

// A device in sysfs: what the new kernel must drive.
struct DISTKERNEL_API Device {
	std::string path;     // "/sys/devices/pci0000:00/0000:00:04.0"
	std::string modalias; // "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00"; may be empty
	std::string driver;   // the driver bound now ("virtio-pci"); empty when none
	std::string module;   // the module that driver lives in ("virtio_pci"); empty when built in
};

// One layer of the stack under a mounted filesystem, from the top (what is mounted) down.
struct DISTKERNEL_API BlockLayer {
	std::string name;  // "dm-0", "nvme0n1p2", "md0"
	std::string kind;  // "disk", "partition", "dm-crypt", "lvm", "dm", "md", "zfs", "loop", "other"
	std::string level; // md: "raid1", ...; empty otherwise
	std::vector<Device> devices; // a disk: its device and the controllers above it that have a driver
};

struct DISTKERNEL_API Mount {
	std::string target; // "/", "/boot"
	std::string fstype;
	std::string source;     // "/dev/mapper/root", "rpool/ROOT/gentoo"
	std::string device;     // "MAJ:MIN" from mountinfo
	std::vector<BlockLayer> chain;
	std::optional<std::uint64_t> free_bytes; // statvfs, for /boot
	std::optional<std::uint64_t> size_bytes;
	std::string options;  // fstab entries: the options field
	bool mounted = true;  // fstab entries: false when not mounted when the snapshot was taken
};

// A dm-crypt device and the cipher of its LUKS header ("aes-xts-plain64"; empty when unread).
struct DISTKERNEL_API CryptDevice {
	std::string device; // "dm-0"
	std::string cipher;
};

struct DISTKERNEL_API Machine {
	std::string origin;  // "live system under /", "snapshot machine.json"
	std::string release; // the running kernel ("uname -r" of the machine)
	std::string cmdline;
	std::vector<Device> devices; // every device with a modalias
	std::vector<std::string> loaded_modules;
	std::optional<Mount> root;
	std::optional<Mount> boot; // the mount holding /boot (may be the root's)
	// Every filesystem of the root's /etc/fstab (swap and pseudo filesystems included as written),
	// with its block stack when it is mounted.
	std::vector<Mount> fstab;
	std::vector<CryptDevice> crypto; // the dm-crypt devices under the root and fstab mounts
	std::vector<std::string> filesystems; // the types of every mount (mountinfo), sorted, once each
	std::vector<std::string> unreadable; // "what: why" for what could not be read
};

// Reads the machine under root (its /sys, /proc): never fails on what it cannot read, it lists
// it in unreadable instead.
DISTKERNEL_API Machine read_live_machine(const Root &root, const Logger &log);
// Schema "distkernel.machine", version 1.1 (1.1 added fstab, crypto and filesystems; 1.0
// snapshots read).
DISTKERNEL_API void to_json(Json &doc, const Machine &m);
// The snapshot's reader: checks the document and names source and the field in its errors.
DISTKERNEL_API Machine machine_from_json(const Json &doc, const std::string &source);
DISTKERNEL_API Machine read_machine_snapshot(const std::filesystem::path &file);

// ---- the initramfs --------------------------------------------------------------------------

struct DISTKERNEL_API InitramfsContents {
	std::filesystem::path image;       // the file read_initramfs read
	std::vector<std::string> segments; // "cpio", "cpio (zstd)", ... in file order
	std::vector<std::string> files;    // every path in the archives
	std::vector<std::string> modules;  // normalised names of the .ko(.xz|.zst|.gz) files
	std::vector<std::string> releases; // the KV directories under (usr/)lib/modules/
	bool has_module(const std::string &name) const;
};
// Schema "distkernel.initramfs" 1.0; of the files only their number.
DISTKERNEL_API void to_json(Json &doc, const InitramfsContents &c);

// Reads concatenated cpio newc archives, uncompressed (dracut's early-microcode prefix) and
// then compressed (gzip, xz, zstd, lz4, bzip2, lzma: decompressed by the real programs).
// Throws ParseError naming the image and the offset for a damaged archive.
DISTKERNEL_API InitramfsContents read_initramfs(const std::filesystem::path &image, const Logger &log);
// The same on bytes already in memory (no compressed part allowed at the top level when
// decompress is false); name is for errors.
DISTKERNEL_API void parse_cpio(std::string_view data, const std::string &name, InitramfsContents &out);

// A kernel trimmed for one machine keeps that machine's snapshot as /usr/src/linux-KV/ + this
// name (the eclass installs it); the check says when it runs on another machine.
inline constexpr const char *trimmed_for_file = "distkernel-trim-machine.json";

// ---- the check ------------------------------------------------------------------------------

enum class Verdict { ok, losses, no_boot };
NLOHMANN_JSON_SERIALIZE_ENUM(Verdict, {{Verdict::ok, "ok"},
				       {Verdict::losses, "will boot with losses"},
				       {Verdict::no_boot, "will not boot"}})
// Exit statuses of distkernel-check by verdict (docs/distkernel-check.md).
DISTKERNEL_API int verdict_exit_code(Verdict v);
DISTKERNEL_API std::string verdict_text(Verdict v);

struct DISTKERNEL_API CheckFinding {
	enum class Severity { error, loss, warning, info };
	Severity severity;
	std::string area; // "root", "hardware", "modules", "external", "room", "machine"
	std::string message;
	Json detail = Json::object();
};
NLOHMANN_JSON_SERIALIZE_ENUM(CheckFinding::Severity, {{CheckFinding::Severity::error, "error"},
						      {CheckFinding::Severity::loss, "loss"},
						      {CheckFinding::Severity::warning, "warning"},
						      {CheckFinding::Severity::info, "info"}})
DISTKERNEL_API void to_json(Json &doc, const CheckFinding &f);

struct DISTKERNEL_API CheckOptions {
	std::string release;
	std::filesystem::path module_dir;   // host path; empty: ROOT/lib/modules/KV (or /usr/lib/...)
	std::filesystem::path initramfs;    // host path; empty: looked for in ROOT/boot
	std::filesystem::path image;        // host path of the kernel image; empty: looked for
	std::vector<std::filesystem::path> external_modules; // more module files to check (vermagic)
	bool use_modprobe_d = true;         // honour ROOT/etc/modprobe.d etc. aliases
};

struct DISTKERNEL_API CheckReport {
	std::string release;
	Verdict verdict = Verdict::ok;
	std::vector<CheckFinding> findings;
	Json summary = Json::object(); // counts and the files used
	std::string to_text() const;   // verdict line first, then the findings
};
DISTKERNEL_API void to_json(Json &doc, const CheckReport &r); // schema "distkernel.check" 1.0

DISTKERNEL_API CheckReport check_kernel(const Root &root, const Machine &machine, const CheckOptions &opts, const Logger &log);

// Hardware coverage alone (the benchmarked part): devices whose modalias the tree cannot
// resolve although a driver has them now, and loaded modules without a counterpart.
class ModuleTree;
struct DISTKERNEL_API Coverage {
	std::size_t resolved = 0;
	std::vector<const Device *> lost_devices;    // had a driver, none in the new kernel
	std::vector<const Device *> unclaimed;       // no driver now, none in the new kernel either
	// Driven now by a driver built into the running kernel, with no alias in the new one: the
	// new kernel may build it in too (built-in code without module aliases leaves no trace).
	std::vector<const Device *> unverified;
	std::vector<std::string> lost_modules;       // loaded now, no counterpart
};
DISTKERNEL_API Coverage hardware_coverage(const ModuleTree &tree, const Machine &machine);

} // namespace distkernel
