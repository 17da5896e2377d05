#include "catch.hpp"
#include "files.hpp"

#include "distkernel/boot.hpp"
#include "distkernel/error.hpp"
#include "distkernel/install.hpp"

#include <filesystem>
#include <fstream>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

using test::put;

std::string value(const ShellFile &f, const char *name)
{
	auto a = f.get(name);
	return a ? a->value : "<unset>";
}

} // namespace

TEST_CASE("shell assignment files are read as a shell sources them", "[install]")
{
	auto f = parse_shell_file("# a comment\n"
				  "\n"
				  "   layout=bls   # trailing comment\n"
				  "initrd_generator='none'\n"
				  "uki_generator=\"ukify\"\n"
				  "export A=1 B='two words';C=\"x\"'y'z\n"
				  "D=\"multi\n"
				  "line\"\n"
				  "E=a\\ b\n"
				  "F=\"q\\\"uote\\$\"\n"
				  "G=\n"
				  "add_dracutmodules+=\" lvm \"\n"
				  "add_dracutmodules+=\" crypt \"\n"
				  "H=#notacomment\n"
				  "layout=compat\n",
				  "install.conf");
	CHECK(f.problems.empty());
	CHECK(value(f, "initrd_generator") == "none");
	CHECK(value(f, "uki_generator") == "ukify");
	CHECK(value(f, "A") == "1");
	CHECK(value(f, "B") == "two words");
	CHECK(value(f, "C") == "xyz");
	CHECK(value(f, "D") == "multi\nline");
	CHECK(value(f, "E") == "a b");
	CHECK(value(f, "F") == "q\"uote$");
	CHECK(value(f, "G").empty());
	CHECK(value(f, "add_dracutmodules") == " lvm  crypt ");
	CHECK(value(f, "H") == "#notacomment");
	CHECK(value(f, "missing") == "<unset>");
	// The last assignment wins, with its line.
	auto layout = f.get("layout");
	REQUIRE(layout);
	CHECK(layout->value == "compat");
	CHECK(layout->line == 15);
	CHECK(f.get("D")->line == 7);
	CHECK(f.get("E")->line == 9);
}

TEST_CASE("what needs a shell is a problem naming the line, an error for a setting that is read", "[install]")
{
	auto f = parse_shell_file("ok=1\n"
				  "hostonly=$(detect)\n"
				  "uefi=\"$UEFI\"\n"
				  "if [ -e /x ]; then\n"
				  "  compress=zstd\n"
				  "fi\n"
				  "after=2\n"
				  "layout=bls reboot\n"
				  "bad='unterminated\n",
				  "/etc/dracut.conf");
	CHECK(value(f, "ok") == "1");
	CHECK(value(f, "after") == "2");
	REQUIRE(f.problems.size() == 6);
	CHECK(f.problems[0].line == 2);
	CHECK(f.problems[0].name == "hostonly");
	CHECK(f.problems[2].line == 4);
	CHECK(f.problems[3].name == "compress");
	CHECK(f.problems[4].name == "layout");
	CHECK(f.problems[4].reason.find("a command follows") != std::string::npos);
	CHECK(f.problems[5].name == "bad");
	try {
		f.get("hostonly");
		FAIL("no error");
	} catch (const ParseError &e) {
		CHECK(e.line() == 2);
		CHECK(std::string(e.what()).find("/etc/dracut.conf:2: cannot read hostonly") != std::string::npos);
	}
	CHECK_THROWS_AS(f.get("uefi"), ParseError);
	CHECK_THROWS_AS(f.get("compress"), ParseError);
	CHECK_THROWS_AS(f.get("layout"), ParseError);
}

TEST_CASE("install.conf is found where installkernel looks, the first one only", "[install]")
{
	TempDir t;
	Root root(t.path());
	auto c = read_install_conf(root);
	CHECK(c.file.empty());
	REQUIRE(c.searched.size() == 4);
	CHECK(c.searched[0] == t.path() / "etc/kernel/install.conf");
	CHECK(c.searched[3] == t.path() / "usr/lib/kernel/install.conf");
	CHECK_FALSE(c.layout.set());

	// Each location alone is found, the earlier one wins.
	const char *dirs[] = {"usr/lib/kernel", "usr/local/lib/kernel", "run/kernel", "etc/kernel"};
	const char *layouts[] = {"grub", "bls", "efistub", "compat"};
	for (int i = 0; i < 4; ++i) {
		fs::path file = t.path() / dirs[i] / "install.conf";
		put(file, std::string("# written by a test\nlayout=\"") + layouts[i] + "\"\ninitrd_generator=dracut # the default\n");
		c = read_install_conf(root);
		CHECK(c.file == file);
		CHECK(c.layout.value == layouts[i]);
		CHECK(c.layout.source == file.string() + ":2");
		CHECK(c.initrd_generator.value == "dracut");
		CHECK(c.initrd_generator.source == file.string() + ":3");
		CHECK_FALSE(c.uki_generator.set());
	}
	// A file without layout= still is the one: installkernel reads only the first.
	put(t.path() / "etc/kernel/install.conf", "uki_generator=ukify\n");
	c = read_install_conf(root);
	CHECK(c.file == t.path() / "etc/kernel/install.conf");
	CHECK_FALSE(c.layout.set());
	CHECK(c.uki_generator.value == "ukify");

	// $INSTALLKERNEL_CONF_ROOT is a directory inside the root and the only place looked at.
	InstallConfOverrides ov;
	ov.conf_root = "/etc/manual-kernel";
	c = read_install_conf(root, ov);
	CHECK(c.file.empty());
	REQUIRE(c.searched.size() == 1);
	CHECK(c.searched[0] == t.path() / "etc/manual-kernel/install.conf");
	put(t.path() / "etc/manual-kernel/install.conf", "layout=bls\ninitrd_generator=none\n");
	c = read_install_conf(root, ov);
	CHECK(c.layout.value == "bls");
	CHECK(c.initrd_generator.value == "none");
	ov.conf_root = "relative/dir";
	CHECK_THROWS_AS(read_install_conf(root, ov), UsageError);

	// installkernel's environment overrides the file.
	ov = {};
	ov.layout = "bls";
	ov.initrd_generator = "none";
	c = read_install_conf(root, ov);
	CHECK(c.layout.value == "bls");
	CHECK(c.layout.source == "$INSTALLKERNEL_LAYOUT");
	CHECK(c.initrd_generator.source == "$INSTALLKERNEL_INITRD_GENERATOR");
	CHECK(c.uki_generator.value == "ukify");
}

TEST_CASE("the layout and the initramfs follow install.conf, each with its source", "[install]")
{
	TempDir t;
	Root root(t.path());
	fs::path file = t.path() / "usr/lib/kernel/install.conf";
	put(file, "layout=bls\n");
	InstallOptions opts;
	auto p = plan_install(root, opts);
	CHECK(p.layout.layout == Layout::bls);
	CHECK(p.layout.reason == file.string() + ":1 says layout=bls");
	CHECK(p.initramfs.value == "dracut");

	put(file, "layout='compat'\ninitrd_generator=none\n");
	p = plan_install(root, opts);
	CHECK(p.layout.layout == Layout::installkernel);
	CHECK(p.initramfs.value == "none");
	CHECK(p.initramfs.source == file.string() + ":2 says initrd_generator=none");
	CHECK(Json(p)["initramfs"]["value"] == "none");

	put(file, "layout=uki\n");
	p = plan_install(root, opts);
	CHECK(p.layout.layout == Layout::uki);
	CHECK(p.warnings.empty());
	put(file, "layout=efistub\n");
	p = plan_install(root, opts);
	CHECK(p.layout.layout == Layout::efistub);
	CHECK(p.layout.reason.find(file.string() + ":1 says layout=efistub") == 0);
	put(file, "layout=uki\n");

	opts.initramfs = false;
	p = plan_install(root, opts);
	CHECK(p.initramfs.source == "--no-initramfs");
	opts.layout = Layout::bls;
	CHECK(plan_install(root, opts).layout.reason == "--layout bls");
}

TEST_CASE("the user's dracut.conf decides host-only and uefi; nothing set gives --no-hostonly", "[install]")
{
	TempDir t;
	Root root(t.path());
	InstallOptions opts;
	auto p = plan_install(root, opts);
	CHECK(p.hostonly.value == "no");
	CHECK(p.pass_no_hostonly);
	CHECK_FALSE(p.pass_hostonly);
	CHECK(p.hostonly.source.find("--no-hostonly") != std::string::npos);

	put(t.path() / "etc/dracut.conf", "hostonly=\"yes\"\n");
	put(t.path() / "etc/dracut.conf.d/10-a.conf", "compress=zstd\n");
	put(t.path() / "etc/dracut.conf.d/20-b.conf", "# generic after all\nhostonly=no\n");
	put(t.path() / "etc/dracut.conf.d/30-c.conf.disabled", "hostonly=yes\n");
	p = plan_install(root, opts);
	CHECK(p.hostonly.value == "no");
	CHECK(p.hostonly.source == (t.path() / "etc/dracut.conf.d/20-b.conf").string() + ":2 says hostonly=no");
	CHECK_FALSE(p.pass_no_hostonly);
	CHECK_FALSE(p.pass_hostonly);
	CHECK(p.dracut_conf.files.size() == 3);

	fs::remove(t.path() / "etc/dracut.conf.d/20-b.conf");
	p = plan_install(root, opts);
	CHECK(p.hostonly.value == "yes");
	CHECK_FALSE(p.pass_no_hostonly);
	REQUIRE(p.warnings.size() == 1); // host-only under a root that is not /
	CHECK(p.warnings[0].find("dracut looks at this machine") != std::string::npos);

	opts.hostonly = true;
	p = plan_install(root, opts);
	CHECK(p.pass_hostonly);
	CHECK(p.hostonly.source == "--hostonly");

	CHECK_FALSE(p.pass_no_uefi);
	put(t.path() / "etc/dracut.conf.d/90-uki.conf", "uefi=yes\n");
	p = plan_install(root, opts);
	CHECK(p.pass_no_uefi);
	CHECK(p.dracut_conf.uefi.source == (t.path() / "etc/dracut.conf.d/90-uki.conf").string() + ":1");

	put(t.path() / "etc/dracut.conf.d/95-bad.conf", "hostonly=$(guess)\n");
	CHECK_THROWS_AS(plan_install(root, opts), ParseError);
}
