// lib/install/hooks.cpp: running the root's installkernel hooks and grub-mkconfig as installkernel
// runs them: inside the root (chroot, a static busybox as its shell), with KV, the image and
// installkernel's environment; exit 77 skips the rest; a failure names the hook; under another
// root without --hooks chroot nothing runs.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/error.hpp"
#include "install/hooks_internal.hpp"

#include <sys/stat.h>
#include <unistd.h>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

// A root a hook can run in: /bin/sh is a static busybox (busybox-static, from scripts/install-deps).
void hooks_chroot_root(const fs::path &r)
{
	fs::create_directories(r / "bin");
	fs::copy_file("/bin/busybox", r / "bin/busybox");
	for (const char *tool : {"sh", "echo", "env", "cat", "touch"})
		fs::create_symlink("busybox", r / "bin" / tool);
	test::put(r / "etc/os-release", "NAME=\"Gentoo\"\nID=gentoo\nPRETTY_NAME=\"Gentoo Linux\"\n");
}

// A hook at path (inside the root) with body; returns what the plan lists.
KernelHook hooks_script(const fs::path &r, const std::string &path, const std::string &body)
{
	test::put(r / path.substr(1), "#!/bin/sh\n" + body);
	::chmod((r / path.substr(1)).c_str(), 0755);
	return {fs::path(path).filename().string(), path, ""};
}

bool hooks_cannot_chroot()
{
	if (::geteuid() == 0 && fs::is_regular_file("/bin/busybox"))
		return false;
	WARN("skipped: chroot needs root privileges and /bin/busybox");
	return true;
}

// A root hooks run in (--hooks chroot), and a plan with no hooks yet.
struct HooksChroot {
	TempDir t;
	fs::path r = t.path();
	Root root{r};
	Logger quiet{Verbosity::quiet};
	InstallOptions o;
	InstallPlan plan;
	explicit HooksChroot(const std::string &initramfs)
	{
		hooks_chroot_root(r);
		o.hooks = HookMode::chroot;
		plan.initramfs = {initramfs, "test"};
	}
};

} // namespace

TEST_CASE("install hooks: os-release values as written; one that needs a shell counts as unset", "[install]")
{
	TempDir t;
	Root root(t.path());
	CHECK(detail::root_os_release(root).empty());
	test::put(t.path() / "usr/lib/os-release", "NAME=Debian\n");
	test::put(t.path() / "etc/os-release", "NAME='Gentoo'\nID=$(echo gentoo)\nPRETTY_NAME=\"Gentoo Linux\"\n");
	auto os = detail::root_os_release(root);
	CHECK(os["NAME"] == "Gentoo"); // /etc first, /usr/lib not read then
	CHECK(os["PRETTY_NAME"] == "Gentoo Linux");
	CHECK(os.count("ID") == 0);
}

TEST_CASE("install hooks: run inside the root with KV, the image and installkernel's environment", "[install]")
{
	if (hooks_cannot_chroot())
		return;
	HooksChroot h("prebuilt");
	auto &[t, r, root, quiet, o, plan] = h;
	plan.postinst.push_back(hooks_script(r, "/etc/kernel/postinst.d/10-env.install",
					     "echo \"$# $1 $2 $INSTALLKERNEL_LAYOUT $INSTALLKERNEL_INITRD_GENERATOR "
					     "$INSTALLKERNEL_UKI_GENERATOR $NAME $ID $DISTKERNEL_INSTALLING\" > /out-env\n"
					     "echo \"$INSTALLKERNEL_POSTINST_PLUGINS\" > /out-list\n"
					     "[ -d \"$INSTALLKERNEL_STAGING_AREA\" ] && echo yes > /out-staging\n"));
	KernelHook skipped = hooks_script(r, "/etc/kernel/postinst.d/20-skipped.install", "touch /out-skipped\n");
	skipped.skip = "distkernel built the initramfs";
	plan.postinst.push_back(skipped);

	detail::HookOutcome out = detail::run_kernel_hooks(root, plan, "postinst", "6.1.0-1-dist",
							   "/boot/vmlinuz-6.1.0-1-dist", o, quiet);
	CHECK(out.failure.empty());
	CHECK(out.skipped_by.empty());
	// The layout defaults to compat; a prebuilt initramfs is dracut's; the guard variable is set
	// so that distkernel's own installer plugin steps aside.
	CHECK(read_file(r / "out-env") == "2 6.1.0-1-dist /boot/vmlinuz-6.1.0-1-dist compat dracut none Gentoo gentoo 1\n");
	CHECK(read_file(r / "out-list") == "/etc/kernel/postinst.d/10-env.install\n");
	CHECK(read_file(r / "out-staging") == "yes\n");
	CHECK_FALSE(fs::exists(r / "out-skipped"));

	// Another phase runs its own list only.
	CHECK(detail::run_kernel_hooks(root, plan, "preinst", "6.1.0-1-dist", "/x", o, quiet).failure.empty());
}

TEST_CASE("install hooks: exit 77 skips the rest; a failure names the hook and its exit", "[install]")
{
	if (hooks_cannot_chroot())
		return;
	HooksChroot h("dracut");
	auto &[t, r, root, quiet, o, plan] = h;
	plan.postinst.push_back(hooks_script(r, "/usr/lib/kernel/postinst.d/10-stop.install", "exit 77\n"));
	plan.postinst.push_back(hooks_script(r, "/usr/lib/kernel/postinst.d/20-late.install", "touch /out-late\n"));
	detail::HookOutcome out = detail::run_kernel_hooks(root, plan, "postinst", "6.1.0-1-dist", "/boot/vmlinuz", o, quiet);
	CHECK(out.skipped_by == "/usr/lib/kernel/postinst.d/10-stop.install");
	CHECK(out.failure.empty());
	CHECK_FALSE(fs::exists(r / "out-late"));

	plan.postinst.front() = hooks_script(r, "/usr/lib/kernel/postinst.d/10-stop.install", "echo broken >&2; exit 3\n");
	out = detail::run_kernel_hooks(root, plan, "postinst", "6.1.0-1-dist", "/boot/vmlinuz", o, quiet);
	CHECK(out.failure.starts_with("postinst hook /usr/lib/kernel/postinst.d/10-stop.install failed (exit 3): "));
	CHECK(out.failure.find("broken") != std::string::npos);
	CHECK_FALSE(fs::exists(r / "out-late"));
}

TEST_CASE("install hooks: under another root, hooks and grub-mkconfig run only with --hooks chroot", "[install]")
{
	TempDir t;
	const fs::path r = t.path();
	Root root(r);
	Logger quiet(Verbosity::quiet);
	InstallOptions o; // hooks: auto
	InstallPlan plan;
	plan.initramfs = {"dracut", "test"};
	plan.postinst.push_back(hooks_script(r, "/etc/kernel/postinst.d/10-mark.install", "touch /out-mark\n"));
	o.grub_mkconfig = (r / "grub-mkconfig").string();
	test::put(o.grub_mkconfig, "#!/bin/sh\ntouch " + (r / "out-grub").string() + "\n");
	::chmod(o.grub_mkconfig.c_str(), 0755);

	for (HookMode mode : {HookMode::automatic, HookMode::none}) {
		o.hooks = mode;
		CHECK(detail::run_kernel_hooks(root, plan, "postinst", "6.1.0-1-dist", "/boot/vmlinuz", o, quiet).failure.empty());
		detail::run_grub_mkconfig(root, o, quiet);
	}
	CHECK_FALSE(fs::exists(r / "out-mark"));
	CHECK_FALSE(fs::exists(r / "out-grub"));
	CHECK_FALSE(fs::exists(r / "boot"));
}

TEST_CASE("install hooks: grub-mkconfig failing inside the root is an error naming the command", "[install]")
{
	if (hooks_cannot_chroot())
		return;
	HooksChroot h("dracut");
	auto &[t, r, root, quiet, o, plan] = h;
	o.grub_mkconfig = "/usr/sbin/grub-mkconfig";
	test::put(r / "usr/sbin/grub-mkconfig", "#!/bin/sh\necho \"$@\" > /out-args\necho 'no device' >&2\nexit 1\n");
	::chmod((r / "usr/sbin/grub-mkconfig").c_str(), 0755);
	std::string what;
	try {
		detail::run_grub_mkconfig(root, o, quiet);
	} catch (const Error &e) {
		what = e.what();
	}
	CHECK(what.starts_with("grub-mkconfig failed (exit 1): chroot " + r.string() + " /usr/sbin/grub-mkconfig -o /boot/grub/grub.cfg"));
	CHECK(what.find("no device") != std::string::npos);
	CHECK(read_file(r / "out-args") == "-o /boot/grub/grub.cfg\n");
	CHECK(fs::is_directory(r / "boot/grub"));
}
