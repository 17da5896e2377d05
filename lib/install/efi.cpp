// The uki and efistub layouts: the kernel on the EFI system partition (see efi_internal.hpp).
#include "install/efi_internal.hpp"

#include "distkernel/error.hpp"
#include "distkernel/process.hpp"
#include "install/hooks_internal.hpp"
#include "sys/text.hpp"

#include <cstdint>
#include <fstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace distkernel::detail {
namespace fs = std::filesystem;

namespace {

std::string trimmed_file(const fs::path &f)
{
	return std::string(text::trim(read_file(f)));
}

bool is_machine_id(const std::string &s)
{
	return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos &&
	       s != std::string(32, '0');
}

// Where the sections of a UKI begin: after the stub's last section in memory, aligned as the
// stub's sections are (its PE header: image base, section alignment, section table).
struct PeLayout {
	std::uint64_t end = 0; // image base + end of the last section
	std::uint64_t align = 0x1000;
};

std::uint64_t le(const std::string &b, std::size_t at, int bytes, const fs::path &file)
{
	if (at + static_cast<std::size_t>(bytes) > b.size())
		throw Error(file.string() + ": not a PE file (truncated header)");
	std::uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; --i)
		v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
	return v;
}

PeLayout pe_layout(const fs::path &stub)
{
	std::string b = read_file(stub);
	if (b.size() < 0x40 || b[0] != 'M' || b[1] != 'Z')
		throw Error(stub.string() + ": not a PE file (no MZ header): not systemd's EFI stub");
	std::size_t pe = le(b, 0x3c, 4, stub);
	if (b.compare(pe, 4, std::string("PE\0\0", 4)) != 0)
		throw Error(stub.string() + ": not a PE file (no PE signature)");
	std::size_t sections = le(b, pe + 6, 2, stub);
	std::size_t opt = pe + 24, opt_size = le(b, pe + 20, 2, stub);
	std::uint64_t magic = le(b, opt, 2, stub);
	std::uint64_t base = magic == 0x20b ? le(b, opt + 24, 8, stub) : le(b, opt + 28, 4, stub);
	PeLayout out;
	out.align = le(b, opt + 32, 4, stub);
	if (out.align == 0)
		out.align = 0x1000;
	std::uint64_t end = 0;
	for (std::size_t i = 0; i < sections; ++i) {
		std::size_t s = opt + opt_size + i * 40;
		end = std::max(end, le(b, s + 12, 4, stub) + le(b, s + 8, 4, stub));
	}
	if (end == 0)
		throw Error(stub.string() + ": a PE file without sections: not systemd's EFI stub");
	out.end = base + end;
	return out;
}

std::uint64_t align_up(std::uint64_t v, std::uint64_t a)
{
	return (v + a - 1) / a * a;
}

std::string hex(std::uint64_t v)
{
	char buf[32];
	std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
	return buf;
}

// The label of KV's firmware boot entry.
std::string efistub_label(const Root &root, const std::string &kv)
{
	auto os = root_os_release(root);
	std::string name = os["NAME"].empty() ? "Linux" : os["NAME"];
	return name + " " + kv;
}

// The disk and partition number of the filesystem holding ROOT/ESP, from sysfs; empty when it is
// not a disk partition (tmpfs, a directory of the root filesystem on a whole disk, ...).
std::pair<std::string, std::string> esp_partition(const Root &root, const std::string &esp)
{
	struct stat st {};
	if (::stat(root.path(esp).c_str(), &st) != 0 || major(st.st_dev) == 0)
		return {};
	fs::path dev = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
	std::error_code ec;
	if (!fs::is_regular_file(dev / "partition", ec))
		return {};
	fs::path real = fs::canonical(dev, ec);
	if (ec)
		return {};
	return {"/dev/" + real.parent_path().filename().string(), trimmed_file(dev / "partition")};
}

// The places kernel-install and bootctl look for the ESP, in their order of preference.
constexpr const char *esp_places[] = {"/efi", "/boot/efi", "/boot"};

} // namespace

BootSetting find_esp(const Root &root, const InstallOptions &opts)
{
	if (!opts.esp_path.empty()) {
		if (std::find(std::begin(esp_places), std::end(esp_places), opts.esp_path) == std::end(esp_places))
			throw UsageError("--esp-path must be /efi, /boot/efi or /boot (inside the root), not '" + opts.esp_path + "'");
		return {opts.esp_path, "--esp-path"};
	}
	std::error_code ec;
	// fstab: the ESP is where the root mounts it (a vfat line for /boot counts; /efi and
	// /boot/efi are ESPs whatever their type).
	fs::path fstab = root.path("/etc/fstab");
	if (fs::is_regular_file(fstab, ec)) {
		const std::string text = read_file(fstab);
		std::size_t n = 0;
		for (std::string_view line : text::lines(text)) {
			++n;
			auto f = text::uncommented_words(line);
			if (f.size() < 3)
				continue;
			std::string where = text::unescape_mount(std::string(f[1]), fstab, n);
			while (where.size() > 1 && where.back() == '/')
				where.pop_back();
			if (where == "/efi" || where == "/boot/efi" || (where == "/boot" && f[2] == "vfat"))
				return {where, fstab.string() + ":" + std::to_string(n) + " mounts " + std::string(f[2]) + " on " + where};
		}
	}
	// Content: the first of the places with an EFI directory.
	for (const char *p : esp_places)
		if (fs::is_directory(root.path(std::string(p) + "/EFI"), ec))
			return {p, root.path(std::string(p) + "/EFI").string() + " exists"};
	return {"/boot", "no ESP in " + fstab.string() + " and no EFI directory in /efi, /boot/efi or /boot: /boot"};
}

std::string root_kernel_cmdline(const Root &root, const Logger &log)
{
	std::error_code ec;
	fs::path f = root.path("/etc/kernel/cmdline");
	if (fs::is_regular_file(f, ec)) {
		std::string out;
		const std::string text = read_file(f);
		for (std::string_view line : text::lines(text)) {
			auto t = text::trim(line);
			if (t.empty() || t.front() == '#')
				continue;
			out += (out.empty() ? "" : " ") + std::string(t);
		}
		return out;
	}
	if (root.is_live_system())
		return trimmed_file("/proc/cmdline");
	log.warn("{} does not exist: the kernel gets no command line from the boot entry", f.string());
	return {};
}

BootSetting root_entry_token(const Root &root)
{
	std::error_code ec;
	fs::path token = root.path("/etc/kernel/entry-token");
	if (fs::is_regular_file(token, ec))
		if (std::string t = trimmed_file(token); !t.empty())
			return {t, token.string()};
	fs::path mid = root.path("/etc/machine-id");
	if (fs::is_regular_file(mid, ec))
		if (std::string m = trimmed_file(mid); is_machine_id(m))
			return {m, mid.string()};
	return {"distkernel", "neither " + token.string() + " nor a machine id in " + mid.string()};
}

BootSetting esp_target(const Root &root, Layout layout, const std::string &esp)
{
	if (layout == Layout::uki) {
		BootSetting token = root_entry_token(root);
		return {esp + "/" + uki_rel(root, "KV"), "entry token from " + token.source};
	}
	fs::path os = root_os_release_file(root);
	return {esp + "/" + efistub_dir_rel(root) + "/vmlinuz-KV.efi",
		os.empty() ? "no os-release in the root" : "NAME= of " + os.string()};
}

BootSetting efi_stub_setting(const Root &root, const InstallOptions &opts)
{
	fs::path stub = opts.efi_stub.empty() ? root.path("/usr/lib/systemd/boot/efi/linuxx64.efi.stub") : fs::path(opts.efi_stub);
	std::error_code ec;
	std::string source = opts.efi_stub.empty() ? "the root's systemd-boot" : "--efi-stub";
	return {stub.string(), source + (fs::is_regular_file(stub, ec) ? "" : " (missing: add fails)")};
}

fs::path root_os_release_file(const Root &root)
{
	std::error_code ec;
	for (const char *f : {"/etc/os-release", "/usr/lib/os-release"})
		if (fs::is_regular_file(root.path(f), ec))
			return root.path(f);
	return {};
}

fs::path efi_stub(const Root &root, const InstallOptions &opts)
{
	fs::path stub = opts.efi_stub.empty() ? root.path("/usr/lib/systemd/boot/efi/linuxx64.efi.stub") : fs::path(opts.efi_stub);
	std::error_code ec;
	if (!fs::is_regular_file(stub, ec))
		throw Error("no EFI stub at " + stub.string() +
			    ": a unified kernel image is built on systemd's stub (Gentoo: sys-apps/systemd[boot] or "
			    "sys-apps/systemd-utils[boot]; Debian: systemd-boot-efi), or name one with --efi-stub");
	return stub;
}

void build_uki(const fs::path &stub, const fs::path &os_release, const std::string &cmdline, const fs::path &initrd,
	       const fs::path &kernel, const fs::path &out, const fs::path &tmp, const Logger &log)
{
	PeLayout pe = pe_layout(stub);
	fs::path cmdline_file = tmp / "uki-cmdline";
	atomic_write(cmdline_file, cmdline);
	std::vector<std::pair<std::string, fs::path>> sections;
	if (!os_release.empty())
		sections.emplace_back(".osrel", os_release);
	sections.emplace_back(".cmdline", cmdline_file);
	if (!initrd.empty())
		sections.emplace_back(".initrd", initrd);
	// The kernel last: the stub hands it the memory after its section.
	sections.emplace_back(".linux", kernel);
	Command c;
	c.argv = {"objcopy"};
	std::uint64_t at = align_up(pe.end, pe.align);
	for (const auto &[name, file] : sections) {
		c.argv.push_back("--add-section");
		c.argv.push_back(name + "=" + file.string());
		c.argv.push_back("--change-section-vma");
		c.argv.push_back(name + "=" + hex(at));
		at = align_up(at + fs::file_size(file), pe.align);
	}
	c.argv.push_back(stub.string());
	c.argv.push_back(out.string());
	log.step("joining the unified kernel image: {}", to_display(c.argv));
	Result r = run(c);
	if (!r.ok())
		throw Error("objcopy failed (exit " + std::to_string(r.exit_code) + ") joining the unified kernel image: " +
			    to_display(c.argv) + (r.tail().empty() ? "" : "\n" + r.tail()));
}

fs::path ukify_program(const InstallOptions &opts)
{
	if (!opts.ukify.empty())
		return opts.ukify;
	std::error_code ec;
	for (const char *p : {"/usr/lib/systemd/ukify", "/lib/systemd/ukify"})
		if (fs::is_regular_file(p, ec) && ::access(p, X_OK) == 0)
			return p;
	throw Error("install.conf says uki_generator=ukify, and there is no /usr/lib/systemd/ukify or /lib/systemd/ukify "
		    "(Gentoo: sys-apps/systemd[ukify] or sys-apps/systemd-utils[ukify]); name one with --ukify, or set "
		    "uki_generator=dracut or none");
}

void build_uki_ukify(const fs::path &ukify, const fs::path &stub, const fs::path &os_release, const std::string &cmdline,
		     const fs::path &initrd, const fs::path &kernel, const std::string &kv, const fs::path &out,
		     const fs::path &tmp, const Logger &log)
{
	fs::path cmdline_file = tmp / "ukify-cmdline";
	atomic_write(cmdline_file, cmdline);
	Command c;
	c.argv = {ukify.string(), "build", "--linux=" + kernel.string(), "--uname=" + kv, "--stub=" + stub.string(),
		  "--cmdline=@" + cmdline_file.string(), "--output=" + out.string()};
	if (!initrd.empty())
		c.argv.push_back("--initrd=" + initrd.string());
	if (!os_release.empty())
		c.argv.push_back("--os-release=@" + os_release.string());
	log.step("joining the unified kernel image: {}", to_display(c.argv));
	Result r = run(c);
	std::error_code ec;
	if (!r.ok() || !fs::is_regular_file(out, ec))
		throw Error("ukify failed (exit " + std::to_string(r.exit_code) + ") joining the unified kernel image: " +
			    to_display(c.argv) + (r.tail().empty() ? "" : "\n" + r.tail()));
}

std::string uki_rel(const Root &root, const std::string &kv)
{
	return "EFI/Linux/" + root_entry_token(root).value + "-" + kv + ".efi";
}

std::string efistub_dir_rel(const Root &root)
{
	auto os = root_os_release(root);
	std::string name = os["NAME"].empty() ? "Linux" : os["NAME"];
	// A directory name on FAT: no separators or characters FAT refuses.
	for (char &ch : name)
		if (ch == '/' || ch == '\\' || ch == ':' || ch == '*' || ch == '?' || ch == '"' || ch == '<' || ch == '>' ||
		    ch == '|' || static_cast<unsigned char>(ch) < 0x20)
			ch = '_';
	if (name == "." || name == "..")
		name = "Linux";
	return "EFI/" + name;
}

std::vector<std::string> efibootmgr_create(const Root &root, const InstallOptions &opts, const std::string &kv,
					   const std::string &cmdline)
{
	std::string dir = efistub_dir_rel(root);
	auto dos = [](std::string p) {
		for (char &ch : p)
			if (ch == '/')
				ch = '\\';
		return "\\" + p;
	};
	const std::string esp = find_esp(root, opts).value;
	auto [disk, part] = esp_partition(root, esp);
	std::vector<std::string> argv = {opts.efibootmgr, "--create", "--disk", disk.empty() ? "ESP-DISK" : disk,
					 "--part", part.empty() ? "ESP-PARTITION-NUMBER" : part, "--label",
					 efistub_label(root, kv), "--loader", dos(dir + "/vmlinuz-" + kv + ".efi")};
	std::string args = cmdline;
	std::error_code ec;
	if (fs::exists(root.path(esp + "/" + dir + "/initramfs-" + kv + ".img"), ec))
		args = "initrd=" + dos(dir + "/initramfs-" + kv + ".img") + (cmdline.empty() ? "" : " " + cmdline);
	argv.insert(argv.end(), {"--unicode", args});
	return argv;
}

void register_efistub(const Root &root, const InstallOptions &opts, const std::string &kv, const std::string &cmdline,
		      const Logger &log)
{
	auto argv = efibootmgr_create(root, opts, kv, cmdline);
	bool known = std::find(argv.begin(), argv.end(), "ESP-DISK") == argv.end();
	std::string where = known ? "" : " (ESP-DISK, ESP-PARTITION-NUMBER: the disk and partition number of the ESP, "
					 "which is not a partition here)";
	if (!root.is_live_system() || !known) {
		log.info("the firmware boots {} once it has a boot entry; on the target machine run:\n  {}{}", kv,
			 to_display(argv), where);
		return;
	}
	log.step("creating the firmware's boot entry: {}", to_display(argv));
	Command c(argv);
	Result r = run(c);
	if (!r.ok())
		log.warn("efibootmgr failed (exit {}): {} is installed but the firmware has no boot entry for it; run:\n  {}\n{}",
			 r.exit_code, kv, to_display(argv), r.tail());
}

void unregister_efistub(const Root &root, const InstallOptions &opts, const std::string &kv, bool pretend,
			const Logger &log)
{
	std::string label = efistub_label(root, kv);
	if (!root.is_live_system()) {
		log.info("on the target machine, delete the firmware's boot entry '{}': `{}` lists its number NNNN, "
			 "`{} --bootnum NNNN --delete-bootnum` deletes it",
			 label, opts.efibootmgr, opts.efibootmgr);
		return;
	}
	Result list = run(Command({opts.efibootmgr}));
	if (!list.ok()) {
		log.warn("efibootmgr failed (exit {}): the firmware may still list '{}'\n{}", list.exit_code, label, list.tail());
		return;
	}
	// "Boot0003* Gentoo 6.1.0-1 HD(...)..." : the number, the active mark, the label, a tab or
	// the path.
	for (std::string_view line : text::lines(list.out)) {
		if (!line.starts_with("Boot") || line.size() < 10 || line.substr(4, 4).find_first_not_of("0123456789ABCDEFabcdef") != std::string_view::npos)
			continue;
		std::string_view rest = text::trim(line.substr(line[8] == '*' ? 9 : 8));
		if (!rest.starts_with(label) || (rest.size() > label.size() && rest[label.size()] != '\t' && rest[label.size()] != ' '))
			continue;
		std::vector<std::string> argv = {opts.efibootmgr, "--bootnum", std::string(line.substr(4, 4)), "--delete-bootnum"};
		if (pretend) {
			log.info("would run {}", to_display(argv));
			continue;
		}
		log.step("deleting the firmware's boot entry: {}", to_display(argv));
		Result r = run(Command(argv));
		if (!r.ok())
			log.warn("efibootmgr failed (exit {}): {}\n{}", r.exit_code, to_display(argv), r.tail());
	}
}

} // namespace distkernel::detail
