// lib/boot/install_conf.cpp: install.conf where installkernel finds it, and its overrides.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/boot.hpp"
#include "distkernel/error.hpp"

using namespace distkernel;

TEST_CASE("install.conf: $INSTALLKERNEL_CONF_ROOT is the only place looked at", "[boot]")
{
	TempDir t;
	Root root(t.path());
	test::put(t.path() / "etc/kernel/install.conf", "layout=bls\n");
	test::put(t.path() / "srv/conf/install.conf", "layout=grub\n");
	InstallConfOverrides ov;
	ov.conf_root = "/srv/conf";
	InstallConf c = read_install_conf(root, ov);
	CHECK(c.file == root.path("/srv/conf/install.conf"));
	REQUIRE(c.searched.size() == 1);
	CHECK(c.layout.value == "grub");
	ov.conf_root = "srv/conf";
	CHECK_THROWS_AS(read_install_conf(root, ov), UsageError);
}

TEST_CASE("install.conf: the environment overrides the file, named as the source", "[boot]")
{
	TempDir t;
	Root root(t.path());
	test::put(t.path() / "usr/lib/kernel/install.conf", "layout=compat\ninitrd_generator=dracut\n");
	InstallConfOverrides ov;
	ov.layout = "bls";
	ov.initrd_generator = "";
	InstallConf c = read_install_conf(root, ov);
	CHECK(c.searched.size() == 4);
	CHECK(c.layout.value == "bls");
	CHECK(c.layout.source == "$INSTALLKERNEL_LAYOUT");
	CHECK(c.initrd_generator.value == "dracut");
	CHECK(c.initrd_generator.source == root.path("/usr/lib/kernel/install.conf").string() + ":2");
	CHECK_FALSE(c.uki_generator.set());
}
