#include <chrono>
#include "catch.hpp"
#include "files.hpp"
#include "staged.hpp"

#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/install.hpp"
#include "distkernel/stage.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

using test::fake_stage;
using test::put;

std::string get(const fs::path &p)
{
	return read_file(p);
}

} // namespace

TEST_CASE("layouts parse and are chosen from the root", "[install]")
{
	CHECK(parse_layout("bls") == Layout::bls);
	CHECK(parse_layout("auto") == Layout::automatic);
	CHECK_THROWS_AS(parse_layout("grub"), UsageError);
	CHECK(to_string(Layout::automatic) == "auto");
	CHECK(Json(Layout::installkernel) == "installkernel");
	CHECK_FALSE(enum_from_name<Layout>("").has_value());
	TempDir t;
	Root root(t.path());
	CHECK(choose_layout(root, Layout::automatic).layout == Layout::installkernel);
	CHECK(choose_layout(root, Layout::bls).layout == Layout::bls);
	fs::create_directories(t.path() / "boot/loader/entries");
	auto c = choose_layout(root, Layout::automatic);
	CHECK(c.layout == Layout::bls);
	CHECK(c.reason.find("loader/entries") != std::string::npos);
	put(t.path() / "etc/kernel/install.conf", "# comment\nlayout=other\n");
	CHECK(choose_layout(root, Layout::automatic).layout == Layout::installkernel);
	put(t.path() / "usr/local/bin/installkernel", "#!/bin/sh\n");
	fs::permissions(t.path() / "usr/local/bin/installkernel", fs::perms::owner_all);
	CHECK(choose_layout(root, Layout::automatic).layout == Layout::custom);
}

TEST_CASE("a record naming another release than its file is refused", "[install]")
{
	TempDir t;
	Root root(t.path());
	Deployment a;
	a.release = "6.1.0-2-test";
	a.files = {{"/boot/vmlinuz-6.1.0-2-test", 1, ""}};
	put(state_dir(root) / "kernels/6.1.0-1-test.json", Json(a).dump());
	put(t.path() / "boot/vmlinuz-6.1.0-2-test", "x");
	Logger quiet(Verbosity::quiet);
	InstallOptions o;
	try {
		remove(root, "6.1.0-1-test", o, quiet);
		FAIL("no error");
	} catch (const Error &e) {
		CHECK(std::string(e.what()).find("field 'release': '6.1.0-2-test' differs from its file name (6.1.0-1-test.json)") !=
		      std::string::npos);
	}
	CHECK_THROWS_AS(list_installed(root), Error);
	CHECK(fs::exists(t.path() / "boot/vmlinuz-6.1.0-2-test"));
}

TEST_CASE("remove counts only what it removed and never a directory", "[install]")
{
	TempDir t;
	Root root(t.path());
	Deployment a;
	a.release = "A";
	a.files = {{"/boot/vmlinuz-A", 1, ""}, {"/boot/gone-already", 1, ""}, {"/boot/EFI/Linux/a.efi", 1, ""}};
	a.dirs = {"/boot/EFI/Linux", "/boot/EFI"};
	put(t.path() / "boot/vmlinuz-A", "a");
	put(t.path() / "elsewhere/keep", "k");
	fs::create_directories(t.path() / "boot");
	// boot/EFI leads elsewhere inside the root: the file there is found through it, the link stays.
	fs::create_directory_symlink("/elsewhere", t.path() / "boot/EFI");
	put(t.path() / "elsewhere/Linux/a.efi", "e");
	put(state_dir(root) / "kernels/A.json", Json(a).dump());
	Logger quiet(Verbosity::quiet);
	InstallOptions o;
	RemoveResult r = remove(root, "A", o, quiet);
	CHECK(r.removed == std::vector<std::string>{"/boot/vmlinuz-A", "/boot/EFI/Linux/a.efi"});
	CHECK(fs::exists(t.path() / "elsewhere/keep"));
	CHECK(fs::is_symlink(t.path() / "boot/EFI"));
}

TEST_CASE("remove deletes exactly the record's files, keeping shared ones", "[install]")
{
	TempDir t;
	Root root(t.path());
	const fs::path boot = t.path() / "boot";
	put(boot / "vmlinuz-A", "a");
	put(boot / "shared.img", "s");
	put(boot / "vmlinuz-B", "b");
	put(boot / "not-ours", "x");
	Deployment a;
	a.release = "A";
	a.time = "2026-01-01T00:00:00Z";
	a.files = {{"/boot/vmlinuz-A", 1, ""}, {"/boot/shared.img", 1, ""}};
	Deployment b = a;
	b.release = "B";
	b.files = {{"/boot/vmlinuz-B", 1, ""}, {"/boot/shared.img", 1, ""}};
	put(state_dir(root) / "kernels/A.json", Json(a).dump());
	put(state_dir(root) / "kernels/B.json", Json(b).dump());
	CHECK(list_installed(root).size() == 2);
	Logger quiet(Verbosity::quiet);
	InstallOptions o;
	RemoveResult r = remove(root, "A", o, quiet);
	CHECK(r.was_installed);
	CHECK(r.removed == std::vector<std::string>{"/boot/vmlinuz-A"});
	CHECK(r.kept == std::vector<std::string>{"/boot/shared.img"});
	CHECK_FALSE(fs::exists(boot / "vmlinuz-A"));
	CHECK(fs::exists(boot / "shared.img"));
	CHECK(fs::exists(boot / "not-ours"));
	CHECK_FALSE(find_installed(root, "A"));
	CHECK_FALSE(remove(root, "A", o, quiet).was_installed);
	CHECK_THROWS_AS(remove(root, "../B", o, quiet), UsageError);
}

TEST_CASE("remove refuses the running kernel unless forced", "[install]")
{
	// The running release is given (as a root that describes another machine would); on the
	// live system it is uname -r.
	TempDir t;
	Root root(t.path());
	put(t.path() / "boot/vmlinuz-R", "r");
	Deployment d;
	d.release = "R";
	d.time = "2026-01-01T00:00:00Z";
	d.files = {{"/boot/vmlinuz-R", 1, ""}};
	put(state_dir(root) / "kernels/R.json", Json(d).dump());
	Logger quiet(Verbosity::quiet);
	InstallOptions o;
	o.running_release = "R";
	CHECK_THROWS_WITH(remove(root, "R", o, quiet),
			  "refusing to remove R: it is the running kernel (use --force to remove it anyway)");
	CHECK(fs::exists(t.path() / "boot/vmlinuz-R"));
	CHECK(find_installed(root, "R"));
	o.force = true;
	CHECK(remove(root, "R", o, quiet).was_installed);
	CHECK_FALSE(fs::exists(t.path() / "boot/vmlinuz-R"));
}

TEST_CASE("a second install waits for the lock, then gives up after its timeout", "[install]")
{
	TempDir t;
	Root root(t.path());
	fake_stage(t.path(), "6.1.0-1-test");
	fs::create_directories(state_dir(root)); // an earlier install made it
	FileLock held(state_dir(root) / "lock");
	InstallOptions o;
	o.initramfs = false;
	o.lock_timeout = 1;
	auto t0 = std::chrono::steady_clock::now();
	try {
		add(root, "6.1.0-1-test", o, Logger(Verbosity::quiet));
		FAIL("no error");
	} catch (const LockedError &e) {
		CHECK(std::string(e.what()).find("var/lib/distkernel/lock") != std::string::npos);
		CHECK(std::string(e.what()).find("--lock-timeout") != std::string::npos);
	}
	CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::seconds(1));
}

TEST_CASE("add with the real installkernel and no initramfs, then remove", "[install]")
{
	TempDir t;
	Root root(t.path());
	fake_stage(t.path(), "6.1.0-1-test");
	InstallOptions o;
	o.initramfs = false;
	o.layout = Layout::installkernel;
	Logger quiet(Verbosity::quiet);
	InstallResult r = add(root, "6.1.0-1-test", o, quiet);
	CHECK(r.deployment.files.size() == 3); // vmlinuz, System.map, config
	CHECK(get(t.path() / "boot/vmlinuz-6.1.0-1-test") == "image");
	CHECK_FALSE(fs::exists(t.path() / "boot/.distkernel-new-6.1.0-1-test"));
	CHECK(find_installed(root, "6.1.0-1-test"));
	remove(root, "6.1.0-1-test", o, quiet);
	CHECK(fs::is_empty(t.path() / "boot"));
}

TEST_CASE("a prebuilt generic initramfs is installed without dracut, and recorded", "[install]")
{
	TempDir t;
	Root root(t.path());
	fake_stage(t.path(), "6.1.0-1-test");
	put(t.path() / "generic.img", "generic initramfs");
	InstallOptions o;
	o.layout = Layout::installkernel;
	o.prebuilt_initramfs = (t.path() / "generic.img").string();
	o.dracut = "/nonexistent/dracut"; // a dracut run would fail the install
	Logger quiet(Verbosity::quiet);
	InstallResult r = add(root, "6.1.0-1-test", o, quiet);
	CHECK(r.plan.initramfs.value == "prebuilt");
	CHECK(get(t.path() / "boot/initramfs-6.1.0-1-test.img") == "generic initramfs");
	auto d = find_installed(root, "6.1.0-1-test");
	REQUIRE(d);
	CHECK(d->initramfs);
	CHECK(d->prebuilt_initramfs);

	o.prebuilt_initramfs = (t.path() / "missing.img").string();
	CHECK_THROWS_WITH(add(root, "6.1.0-1-test", o, quiet), Catch::Matchers::Contains("missing.img is not a file"));
	CHECK(get(t.path() / "boot/initramfs-6.1.0-1-test.img") == "generic initramfs");
}

TEST_CASE("the prebuilt initramfs is refused when the root asks for another", "[install]")
{
	TempDir t;
	Root root(t.path());
	InstallOptions o;
	o.prebuilt_initramfs = "/generic.img";
	auto why = [&](const std::vector<std::string> &staged = {}) {
		return prebuilt_initramfs_refusal(root, plan_install(root, o), o, "6.1.0-1-test", staged);
	};
	CHECK(why().empty());
	CHECK(plan_install(root, o).initramfs.value == "prebuilt");
	put(t.path() / "etc/dracut.conf.d/10-comment.conf", "# nothing set here\n\n");
	CHECK(why().empty());
	put(t.path() / "etc/dracut.conf.d/20-compress.conf", "compress=\"zstd\"\n");
	CHECK_THAT(why(), Catch::Matchers::Contains("sets compress at"));
	CHECK_THAT(why(), Catch::Matchers::Contains("20-compress.conf:1"));
	CHECK(plan_install(root, o).initramfs.value == "dracut");
	CHECK_FALSE(plan_install(root, o).prebuilt_refused.empty());
	fs::remove(t.path() / "etc/dracut.conf.d/20-compress.conf");
	put(t.path() / "etc/dracut.conf", "hostonly=\"yes\"\n");
	CHECK_THAT(why(), Catch::Matchers::Contains("host-only"));
	fs::remove(t.path() / "etc/dracut.conf");
	o.dracut_args = {"--add=lvm"};
	CHECK_THAT(why(), Catch::Matchers::Contains("--dracut-arg --add=lvm"));
	o.dracut_args.clear();
	put(t.path() / "lib/modules/6.1.0-1-test/kernel/fs/ext4.ko", "ko");
	CHECK(why({"/lib/modules/6.1.0-1-test/kernel/fs/ext4.ko"}).empty());
	put(t.path() / "lib/modules/6.1.0-1-test/extra/zfs.ko.xz", "ko");
	CHECK_THAT(why({"/lib/modules/6.1.0-1-test/kernel/fs/ext4.ko"}), Catch::Matchers::Contains("extra/zfs.ko.xz"));
}

TEST_CASE("the ESP of uki and efistub: --esp-path, then fstab, then an EFI directory, else /boot", "[install]")
{
	TempDir t;
	Root root(t.path());
	InstallOptions o;
	o.layout = Layout::uki;
	auto esp = [&] { return plan_install(root, o).esp; };
	CHECK(esp().value == "/boot");
	fs::create_directories(t.path() / "boot/efi/EFI");
	CHECK(esp().value == "/boot/efi");
	CHECK(esp().source == (t.path() / "boot/efi/EFI").string() + " exists");
	// A commented line and an ext4 /boot do not count; a vfat /boot does; /efi/ is /efi.
	put(t.path() / "etc/fstab", "# /efi vfat\nUUID=1 /boot ext4 defaults 0 2\nUUID=2\t/efi/\tvfat\tumask=0077 0 2\n");
	CHECK(esp().value == "/efi");
	CHECK(esp().source == (t.path() / "etc/fstab").string() + ":3 mounts vfat on /efi");
	put(t.path() / "etc/fstab", "UUID=1 /boot vfat defaults 0 2\n");
	CHECK(esp().value == "/boot");
	o.esp_path = "/boot/efi";
	CHECK(esp().value == "/boot/efi");
	CHECK(esp().source == "--esp-path");
	o.esp_path = "/boot/../etc";
	CHECK_THROWS_AS(esp(), UsageError);
	o.layout = Layout::installkernel;
	o.esp_path.clear();
	CHECK_FALSE(esp().set());
}

TEST_CASE("uki_generator=dracut under another root: dracut builds the initramfs, objcopy joins the UKI", "[install]")
{
	TempDir t;
	Root root(t.path());
	InstallOptions o;
	put(t.path() / "etc/kernel/install.conf", "layout=uki\nuki_generator=dracut\n");
	InstallPlan p = plan_install(root, o);
	CHECK(p.uki_generator.value == "objcopy");
	CHECK_THAT(p.uki_generator.source, Catch::Matchers::StartsWith((t.path() / "etc/kernel/install.conf").string() +
									 ":2 says uki_generator=dracut; under --root"));
	CHECK_THAT(p.uki_generator.source, Catch::Matchers::Contains("the root's os-release"));
	CHECK(p.warnings.empty());
	const Json options = Json(p)["dracut_options"];
	CHECK(std::find(options.begin(), options.end(), "--uefi") == options.end());
	// The root's dracut.conf asking for a UEFI executable: the initramfs must stay one.
	put(t.path() / "etc/dracut.conf.d/90-uki.conf", "uefi=yes\n");
	CHECK(plan_install(root, o).pass_no_uefi);
	fs::remove(t.path() / "etc/dracut.conf.d/90-uki.conf");
	// As on the live system, the initramfs is this machine's own, never the prebuilt generic one.
	o.prebuilt_initramfs = "/generic.img";
	p = plan_install(root, o);
	CHECK(p.initramfs.value == "dracut");
	CHECK_THAT(p.prebuilt_refused, Catch::Matchers::Contains("says uki_generator=dracut"));
}

TEST_CASE("a reinstall onto another ESP removes the previous install's files once it has committed", "[install]")
{
	const fs::path systemd_stub = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
	REQUIRE(fs::is_regular_file(systemd_stub)); // systemd-boot-efi, installed by scripts/install-deps
	TempDir t;
	Root root(t.path());
	const std::string kv = "6.1.0-1-test";
	fake_stage(t.path(), kv);
	InstallOptions o;
	o.initramfs = false;
	o.layout = Layout::uki;
	o.efi_stub = systemd_stub.string();
	o.esp_path = "/efi";
	Logger quiet(Verbosity::quiet);
	add(root, kv, o, quiet);
	const fs::path on_efi = t.path() / ("efi/EFI/Linux/distkernel-" + kv + ".efi");
	const fs::path on_boot_efi = t.path() / ("boot/efi/EFI/Linux/distkernel-" + kv + ".efi");
	REQUIRE(fs::is_regular_file(on_efi));

	// Failing before its commit (the prebuilt initramfs offered is a UEFI program): the UKI on /efi
	// stays, recorded.
	o.esp_path = "/boot/efi";
	o.initramfs = true;
	o.prebuilt_initramfs = systemd_stub.string();
	CHECK_THROWS_WITH(add(root, kv, o, quiet), Catch::Matchers::Contains("is a UEFI executable"));
	CHECK(fs::is_regular_file(on_efi));
	CHECK_FALSE(fs::exists(on_boot_efi));
	CHECK(find_installed(root, kv)->files.at(0).path == "/efi/EFI/Linux/distkernel-" + kv + ".efi");

	// Another kernel's record listing the same file keeps it, as remove would.
	Deployment other = *find_installed(root, kv);
	other.release = "6.1.0-2-test";
	atomic_write(state_dir(root) / "kernels/6.1.0-2-test.json", Json(other).dump());
	o.initramfs = false;
	o.prebuilt_initramfs.clear();
	add(root, kv, o, quiet);
	CHECK(fs::is_regular_file(on_boot_efi));
	CHECK(fs::is_regular_file(on_efi));
	fs::remove(state_dir(root) / "kernels/6.1.0-2-test.json");

	// Committed: the UKI on /boot/efi is recorded, the one on /efi and its directories are gone.
	o.esp_path = "/efi";
	add(root, kv, o, quiet);
	o.esp_path = "/boot/efi";
	add(root, kv, o, quiet);
	CHECK(fs::is_regular_file(on_boot_efi));
	CHECK_FALSE(fs::exists(t.path() / "efi/EFI"));
	auto d = find_installed(root, kv);
	REQUIRE(d);
	REQUIRE(d->files.size() == 1);
	CHECK(d->files[0].path == "/boot/efi/EFI/Linux/distkernel-" + kv + ".efi");
	CHECK(std::none_of(d->dirs.begin(), d->dirs.end(), [](const std::string &dir) { return dir.starts_with("/efi"); }));
}
