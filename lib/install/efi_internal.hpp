// The layouts that put the kernel on the EFI system partition (lib/install/efi.cpp): uki (one
// unified kernel image, EFI/Linux/TOKEN-KV.efi) and efistub (the kernel as an EFI program,
// EFI/NAME/vmlinuz-KV.efi, its initramfs beside it, booted by a firmware boot entry). The ESP is
// the root's /efi, /boot/efi or /boot (find_esp): what these functions return is written there by
// add's transaction.
#pragma once

#include "distkernel/boot.hpp"
#include "distkernel/install.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace distkernel::detail {

// Where the root's ESP is mounted, with the source: --esp-path (one of /efi, /boot/efi, /boot;
// UsageError otherwise), else the first /efi or /boot/efi mount point (or a vfat /boot) in
// ROOT/etc/fstab, else the first of /efi, /boot/efi, /boot holding an EFI directory, else /boot.
BootSetting find_esp(const Root &root, const InstallOptions &opts);

// The kernel command line for an entry of the root: ROOT/etc/kernel/cmdline (lines joined); on
// the live system without one, /proc/cmdline; under another root without one, empty (with a
// warning: the build machine's command line says nothing about the target).
std::string root_kernel_cmdline(const Root &root, const Logger &log);

// The entry token as the bls layout names its entries: ROOT/etc/kernel/entry-token, else the
// root's machine id, else "distkernel"; the source says which.
BootSetting root_entry_token(const Root &root);

// systemd's EFI stub: opts.efi_stub when set, else the root's
// /usr/lib/systemd/boot/efi/linuxx64.efi.stub. Error naming the path and the package otherwise.
std::filesystem::path efi_stub(const Root &root, const InstallOptions &opts);

// Joins stub + os-release + cmdline + (initrd) + kernel into a UKI at out with objcopy, each
// section placed after the stub's last one as the stub expects (.linux last).
void build_uki(const std::filesystem::path &stub, const std::filesystem::path &os_release, const std::string &cmdline,
	       const std::filesystem::path &initrd, const std::filesystem::path &kernel, const std::filesystem::path &out,
	       const std::filesystem::path &tmp, const Logger &log);

// uki_generator=ukify: opts.ukify, else the build machine's /usr/lib/systemd/ukify or
// /lib/systemd/ukify (as Gentoo's 60-ukify.install looks); Error naming the package otherwise.
std::filesystem::path ukify_program(const InstallOptions &opts);
// The same UKI as build_uki, joined by `ukify build` (--linux, --initrd, --cmdline=@, --os-release=@,
// --uname, --stub, --output).
void build_uki_ukify(const std::filesystem::path &ukify, const std::filesystem::path &stub,
		     const std::filesystem::path &os_release, const std::string &cmdline, const std::filesystem::path &initrd,
		     const std::filesystem::path &kernel, const std::string &kv, const std::filesystem::path &out,
		     const std::filesystem::path &tmp, const Logger &log);

// The root's os-release file (host path; /etc, else /usr/lib); empty when it has none.
std::filesystem::path root_os_release_file(const Root &root);

// Where uki and efistub put KV's files, and from what, for inspect: "EFI/Linux/TOKEN-KV.efi" with
// the token's source; "EFI/NAME/vmlinuz-KV.efi" with os-release's.
BootSetting esp_target(const Root &root, Layout layout, const std::string &esp);
// The stub uki would use, with its source ("--efi-stub", "the root's systemd-boot (missing)").
BootSetting efi_stub_setting(const Root &root, const InstallOptions &opts);

// Paths on the ESP (relative to it) of each layout's files.
std::string uki_rel(const Root &root, const std::string &kv);                     // EFI/Linux/TOKEN-KV.efi
std::string efistub_dir_rel(const Root &root);                                    // EFI/NAME (os-release NAME)
// The efibootmgr command that makes the firmware boot KV's efistub install.
std::vector<std::string> efibootmgr_create(const Root &root, const InstallOptions &opts, const std::string &kv,
					   const std::string &cmdline);
// After the commit: on the live system runs efibootmgr (a failure is a warning: the files are
// installed); under another root prints the command to run on the target.
void register_efistub(const Root &root, const InstallOptions &opts, const std::string &kv, const std::string &cmdline,
		      const Logger &log);
// After KV's efistub files are gone: deletes the firmware entries labelled for KV on the live
// system, prints how to do it otherwise.
void unregister_efistub(const Root &root, const InstallOptions &opts, const std::string &kv, bool pretend,
			const Logger &log);

} // namespace distkernel::detail
