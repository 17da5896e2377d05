// lib/boot/hooks.cpp: installkernel's hooks under the root, in its order, with the ones
// distkernel does not run and why.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/boot.hpp"

#include <sys/stat.h>

using namespace distkernel;

namespace {

void hook(const std::filesystem::path &p, bool executable = true)
{
	test::put(p, "#!/bin/sh\nexit 0\n");
	::chmod(p.c_str(), executable ? 0755 : 0644);
}

} // namespace

TEST_CASE("hooks: /etc and /usr/lib merged by name, in sort -V order, /etc first", "[boot]")
{
	TempDir t;
	Root root(t.path());
	hook(t.path() / "usr/lib/kernel/postinst.d/10-late.install");
	hook(t.path() / "usr/lib/kernel/postinst.d/9-early.install");
	hook(t.path() / "usr/lib/kernel/postinst.d/50-same.install");
	hook(t.path() / "etc/kernel/postinst.d/50-same.install");
	hook(t.path() / "etc/kernel/preinst.d/00-other-phase.install");
	std::vector<KernelHook> hooks = find_kernel_hooks(root, "postinst");
	REQUIRE(hooks.size() == 3);
	CHECK(hooks[0].name == "9-early.install");
	CHECK(hooks[1].name == "10-late.install");
	CHECK(hooks[2].name == "50-same.install");
	CHECK(hooks[2].path == "/etc/kernel/postinst.d/50-same.install");
	for (const auto &h : hooks)
		CHECK(h.skip.empty());
	CHECK(find_kernel_hooks(root, "preinst").size() == 1);
	CHECK(find_kernel_hooks(root, "postrm").empty());
}

TEST_CASE("hooks: a non-executable /etc file masks /usr/lib's; initramfs, UKI and depmod hooks are skipped",
	  "[boot]")
{
	TempDir t;
	Root root(t.path());
	hook(t.path() / "usr/lib/kernel/postinst.d/90-masked.install");
	hook(t.path() / "etc/kernel/postinst.d/90-masked.install", false);
	hook(t.path() / "usr/lib/kernel/postinst.d/20-plain.install", false);
	hook(t.path() / "usr/lib/kernel/postinst.d/50-dracut.install");
	hook(t.path() / "usr/lib/kernel/postinst.d/60-ukify.install");
	hook(t.path() / "usr/lib/kernel/postinst.d/50-depmod.install");
	hook(t.path() / "usr/lib/kernel/postinst.d/91-grub-mkconfig.install");
	std::vector<KernelHook> hooks = find_kernel_hooks(root, "postinst");
	REQUIRE(hooks.size() == 6);
	auto skip_of = [&](const std::string &name) {
		for (const auto &h : hooks)
			if (h.name == name)
				return h.skip;
		FAIL("no hook " << name);
		return std::string();
	};
	CHECK(skip_of("90-masked.install") == "not executable: masks /usr/lib/kernel/postinst.d/90-masked.install");
	CHECK(skip_of("20-plain.install") == "not executable");
	CHECK(skip_of("50-dracut.install").find("initramfs (dracut)") != std::string::npos);
	CHECK(skip_of("60-ukify.install").find("unified kernel image") != std::string::npos);
	CHECK(skip_of("50-depmod.install").find("depmod") != std::string::npos);
	CHECK(skip_of("91-grub-mkconfig.install").empty());
	for (const auto &h : hooks)
		CHECK(is_grub_mkconfig_hook(h) == (h.name == "91-grub-mkconfig.install"));
}

TEST_CASE("kernel-install plugins: *.install only, in name order, /etc's masking /usr/lib's; depmod left out", "[boot]")
{
	TempDir t;
	Root root(t.path());
	hook(t.path() / "usr/lib/kernel/install.d/90-loaderentry.install");
	hook(t.path() / "usr/lib/kernel/install.d/50-depmod.install");
	hook(t.path() / "usr/lib/kernel/install.d/91-grub-mkconfig.install");
	hook(t.path() / "etc/kernel/install.d/91-grub-mkconfig.install", false);
	hook(t.path() / "etc/kernel/install.d/60-mine.install");
	hook(t.path() / "etc/kernel/install.d/README");
	std::vector<KernelHook> plugins = find_kernel_install_plugins(root);
	REQUIRE(plugins.size() == 4);
	CHECK(plugins[0].path == "/usr/lib/kernel/install.d/50-depmod.install");
	CHECK(plugins[0].skip.find("modules.dep") != std::string::npos);
	CHECK(plugins[1].path == "/etc/kernel/install.d/60-mine.install");
	CHECK(plugins[1].skip.empty());
	CHECK(plugins[2].path == "/usr/lib/kernel/install.d/90-loaderentry.install");
	CHECK(plugins[2].skip.empty());
	CHECK(plugins[3].path == "/etc/kernel/install.d/91-grub-mkconfig.install");
	CHECK(plugins[3].skip == "not executable: masks /usr/lib/kernel/install.d/91-grub-mkconfig.install");
}
