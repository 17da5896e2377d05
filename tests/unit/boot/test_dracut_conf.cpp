// lib/boot/dracut_conf.cpp: the root's dracut.conf and dracut.conf.d, as dracut reads them.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/boot.hpp"
#include "distkernel/error.hpp"

using namespace distkernel;

TEST_CASE("dracut.conf.d: *.conf in name order after dracut.conf, the last one winning", "[boot]")
{
	TempDir t;
	Root root(t.path());
	test::put(t.path() / "etc/dracut.conf", "hostonly=\"yes\"\n");
	test::put(t.path() / "etc/dracut.conf.d/20-b.conf", "hostonly=no\n");
	test::put(t.path() / "etc/dracut.conf.d/10-a.conf", "uefi=yes\nhostonly=yes\n");
	test::put(t.path() / "etc/dracut.conf.d/30-c.conf.disabled", "hostonly=yes\n");
	DracutConf c = read_dracut_conf(root);
	REQUIRE(c.files.size() == 3);
	CHECK(c.files[1].filename() == "10-a.conf");
	CHECK(c.hostonly.value == "no");
	CHECK(c.hostonly.source == root.path("/etc/dracut.conf.d/20-b.conf").string() + ":1");
	CHECK(c.uefi.value == "yes");
}

TEST_CASE("dracut.conf: other settings that need a shell are listed, hostonly= that does is an error", "[boot]")
{
	TempDir t;
	Root root(t.path());
	test::put(t.path() / "etc/dracut.conf", "add_drivers+=\" $(ls) \"\n");
	DracutConf c = read_dracut_conf(root);
	REQUIRE(c.unread.size() == 1);
	CHECK(c.unread[0].starts_with(root.path("/etc/dracut.conf").string() + ":1: "));
	test::put(t.path() / "etc/dracut.conf", "hostonly=$(x)\n");
	CHECK_THROWS_AS(read_dracut_conf(root), ParseError);
}
