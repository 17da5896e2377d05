// lib/install/efi.cpp: the uki and efistub layouts' pieces: the root's command line and entry
// token, the names on the ESP, the unified kernel image joined with the real systemd stub and
// objcopy, and the firmware boot entry (printed, never run, under another root).
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/error.hpp"
#include "distkernel/process.hpp"
#include "install/efi_internal.hpp"

#include <sys/stat.h>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

const fs::path debian_stub = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";

struct UkiSection {
	std::string name;
	unsigned long long vma = 0, size = 0;
};

// objdump -h's sections of a PE file, in file order.
std::vector<UkiSection> efi_sections(const fs::path &pe)
{
	Result r = run(Command({"objdump", "-h", pe.string()}));
	REQUIRE(r.ok());
	std::vector<UkiSection> out;
	std::istringstream in(r.out);
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream l(line);
		std::string idx, name, size, vma;
		if (!(l >> idx >> name >> size >> vma) || idx.find_first_not_of("0123456789") != std::string::npos)
			continue;
		out.push_back({name, std::stoull(vma, nullptr, 16), std::stoull(size, nullptr, 16)});
	}
	return out;
}

// The PE header's SectionAlignment (objdump -p).
unsigned long long efi_section_alignment(const fs::path &pe)
{
	Result r = run(Command({"objdump", "-p", pe.string()}));
	REQUIRE(r.ok());
	std::istringstream in(r.out);
	std::string key, value;
	while (in >> key)
		if (key == "SectionAlignment" && in >> value)
			return std::stoull(value, nullptr, 16);
	FAIL("no SectionAlignment in objdump -p " + pe.string());
	return 0;
}

// A program that leaves a mark when it runs: what must not run under another root.
fs::path efi_marker_program(const fs::path &dir)
{
	fs::path p = dir / "efibootmgr";
	test::put(p, "#!/bin/sh\ntouch \"$0.ran\"\n");
	::chmod(p.c_str(), 0755);
	return p;
}

} // namespace

TEST_CASE("efi: the command line from the root's /etc/kernel/cmdline, never the build machine's", "[install]")
{
	TempDir t;
	Root root(t.path());
	Logger quiet(Verbosity::quiet);
	CHECK(detail::root_kernel_cmdline(root, quiet).empty());
	test::put(t.path() / "etc/kernel/cmdline", "# the root\nroot=/dev/vda  rw\n\n  console=ttyS0  \n");
	CHECK(detail::root_kernel_cmdline(root, quiet) == "root=/dev/vda  rw console=ttyS0");
}

TEST_CASE("efi: the entry token: entry-token, else a machine id, else distkernel", "[install]")
{
	TempDir t;
	Root root(t.path());
	CHECK(detail::root_entry_token(root).value == "distkernel");
	test::put(t.path() / "etc/machine-id", std::string(32, '0') + "\n"); // "uninitialized": not an id
	CHECK(detail::root_entry_token(root).value == "distkernel");
	test::put(t.path() / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
	BootSetting id = detail::root_entry_token(root);
	CHECK(id.value == "0123456789abcdef0123456789abcdef");
	CHECK(id.source == (t.path() / "etc/machine-id").string());
	test::put(t.path() / "etc/kernel/entry-token", "gentoo\n");
	CHECK(detail::root_entry_token(root).value == "gentoo");
	CHECK(detail::uki_rel(root, "6.1.0-1-dist") == "EFI/Linux/gentoo-6.1.0-1-dist.efi");
	CHECK(detail::esp_target(root, Layout::uki, "/boot").value == "/boot/EFI/Linux/gentoo-KV.efi");
}

TEST_CASE("efi: the efistub directory is os-release's NAME made safe for FAT", "[install]")
{
	TempDir t;
	Root root(t.path());
	CHECK(detail::efistub_dir_rel(root) == "EFI/Linux");
	test::put(t.path() / "usr/lib/os-release", "NAME=\"Gentoo\"\n");
	CHECK(detail::efistub_dir_rel(root) == "EFI/Gentoo");
	test::put(t.path() / "etc/os-release", "NAME='a/b:c*d?'\n"); // /etc wins over /usr/lib
	CHECK(detail::efistub_dir_rel(root) == "EFI/a_b_c_d_");
	test::put(t.path() / "etc/os-release", "NAME=..\n");
	CHECK(detail::efistub_dir_rel(root) == "EFI/Linux");
}

TEST_CASE("efi: no stub is an error naming the path and the package", "[install]")
{
	TempDir t;
	Root root(t.path());
	InstallOptions o;
	std::string what;
	try {
		detail::efi_stub(root, o);
	} catch (const Error &e) {
		what = e.what();
	}
	CHECK(what.find((t.path() / "usr/lib/systemd/boot/efi/linuxx64.efi.stub").string()) != std::string::npos);
	CHECK(what.find("systemd-boot-efi") != std::string::npos);
	CHECK(detail::efi_stub_setting(root, o).source == "the root's systemd-boot (missing: add fails)");
	o.efi_stub = debian_stub.string();
	CHECK(detail::efi_stub(root, o) == debian_stub);
	CHECK(detail::efi_stub_setting(root, o).source == "--efi-stub");
}

TEST_CASE("efi: a UKI joined on systemd's real stub has its sections after the stub's, in order", "[install]")
{
	REQUIRE(fs::is_regular_file(debian_stub)); // systemd-boot-efi, installed by scripts/install-deps
	TempDir t;
	Logger quiet(Verbosity::quiet);
	test::put(t.path() / "os-release", "NAME=Gentoo\nID=gentoo\n");
	test::put(t.path() / "initrd", std::string(5000, 'i'));
	test::put(t.path() / "vmlinuz", std::string(70000, 'k'));
	const fs::path out = t.path() / "uki.efi";
	detail::build_uki(debian_stub, t.path() / "os-release", "root=/dev/vda rw", t.path() / "initrd",
			  t.path() / "vmlinuz", out, t.path(), quiet);

	std::vector<UkiSection> stub = efi_sections(debian_stub), uki = efi_sections(out);
	REQUIRE(uki.size() == stub.size() + 4);
	unsigned long long stub_end = 0;
	for (const auto &s : stub)
		stub_end = std::max(stub_end, s.vma + s.size);
	const unsigned long long align = efi_section_alignment(debian_stub);
	const std::vector<std::string> added = {".osrel", ".cmdline", ".initrd", ".linux"};
	unsigned long long at = stub_end;
	for (std::size_t i = 0; i < added.size(); ++i) {
		const UkiSection &s = uki[stub.size() + i];
		CHECK(s.name == added[i]);
		CHECK(s.vma >= at);         // after the stub and after the section before
		CHECK(s.vma % align == 0);  // the stub's section alignment
		at = s.vma + s.size;
	}
	CHECK(uki[stub.size() + 1].size == std::string("root=/dev/vda rw").size());
	CHECK(uki.back().size == 70000);

	// No initramfs, no os-release: only .cmdline and .linux.
	detail::build_uki(debian_stub, {}, "quiet", {}, t.path() / "vmlinuz", out, t.path(), quiet);
	uki = efi_sections(out);
	REQUIRE(uki.size() == stub.size() + 2);
	CHECK(uki[stub.size()].name == ".cmdline");
	CHECK(uki.back().name == ".linux");
}

TEST_CASE("efi: a stub that is not a PE file is refused, naming it", "[install]")
{
	TempDir t;
	Logger quiet(Verbosity::quiet);
	test::put(t.path() / "stub", "#!/bin/sh\n");
	test::put(t.path() / "vmlinuz", "k");
	std::string what;
	try {
		detail::build_uki(t.path() / "stub", {}, "", {}, t.path() / "vmlinuz", t.path() / "out", t.path(), quiet);
	} catch (const Error &e) {
		what = e.what();
	}
	CHECK(what == (t.path() / "stub").string() + ": not a PE file (no MZ header): not systemd's EFI stub");
	CHECK_FALSE(fs::exists(t.path() / "out"));
}

TEST_CASE("efi: the firmware boot entry is printed under another root, never created or deleted", "[install]")
{
	TempDir t;
	Root root(t.path());
	Logger quiet(Verbosity::quiet);
	InstallOptions o;
	o.efibootmgr = efi_marker_program(t.path() / "bin").string();
	test::put(t.path() / "etc/os-release", "NAME=Gentoo\n");

	std::vector<std::string> argv = detail::efibootmgr_create(root, o, "6.1.0-1-dist", "root=/dev/vda");
	auto after = [&](const std::string &flag) {
		auto it = std::find(argv.begin(), argv.end(), flag);
		REQUIRE(it != argv.end());
		REQUIRE(it + 1 != argv.end());
		return *(it + 1);
	};
	CHECK(argv.front() == o.efibootmgr);
	CHECK(after("--label") == "Gentoo 6.1.0-1-dist");
	CHECK(after("--loader") == "\\EFI\\Gentoo\\vmlinuz-6.1.0-1-dist.efi");
	CHECK(after("--unicode") == "root=/dev/vda");
	// /boot is no partition of a disk here: the command names what to fill in.
	CHECK(after("--disk") == "ESP-DISK");

	// With the initramfs beside the kernel, the firmware passes it as initrd=.
	test::put(t.path() / "boot/EFI/Gentoo/initramfs-6.1.0-1-dist.img", "i");
	argv = detail::efibootmgr_create(root, o, "6.1.0-1-dist", "root=/dev/vda");
	CHECK(after("--unicode") == "initrd=\\EFI\\Gentoo\\initramfs-6.1.0-1-dist.img root=/dev/vda");

	detail::register_efistub(root, o, "6.1.0-1-dist", "root=/dev/vda", quiet);
	detail::unregister_efistub(root, o, "6.1.0-1-dist", false, quiet);
	CHECK_FALSE(fs::exists(o.efibootmgr + ".ran"));
}
