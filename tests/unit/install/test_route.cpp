// lib/install/route.cpp: which installer calls distkernel's plugin takes over, and which it
// leaves to the installer. (The calls it takes over run add, reinstall or remove: the eclass-routes
// integration test runs them with the real kernel-install and dracut.)
#include "catch.hpp"
#include "files.hpp"
#include "staged.hpp"

#include "distkernel/error.hpp"
#include "distkernel/install.hpp"

using namespace distkernel;

TEST_CASE("routes: the guard, an unknown kernel and an unrecorded remove are left to the installer", "[install]")
{
	TempDir t;
	Root root(t.path());
	InstallOptions o;
	Logger quiet(Verbosity::quiet);

	RouteResult r = route_installer_call(root, "add", "6.1.0-1-test", o, "1", quiet);
	CHECK_FALSE(r.handled);
	CHECK(r.reason == "called from distkernel-install itself (DISTKERNEL_INSTALLING is set)");

	r = route_installer_call(root, "add", "6.1.0-1-test", o, nullptr, quiet);
	CHECK_FALSE(r.handled);
	CHECK(r.reason.starts_with("no kernel 6.1.0-1-test staged by distkernel ("));

	r = route_installer_call(root, "remove", "6.1.0-1-test", o, "", quiet);
	CHECK_FALSE(r.handled);
	CHECK(r.reason == "6.1.0-1-test was not installed by distkernel");

	CHECK_THROWS_AS(route_installer_call(root, "install", "6.1.0-1-test", o, nullptr, quiet), UsageError);
	CHECK_THROWS_AS(route_installer_call(root, "add", "../../etc", o, nullptr, quiet), UsageError);
}

TEST_CASE("routes: an add with another image than the staged one is refused, naming both", "[install]")
{
	TempDir t;
	Root root(t.path() / "root");
	test::fake_stage(root.dir(), "6.1.0-1-test");
	InstallOptions o;
	Logger quiet(Verbosity::quiet);
	test::put(t.path() / "built-by-hand/bzImage", "another image");
	try {
		route_installer_call(root, "add", "6.1.0-1-test", o, nullptr, quiet, t.path() / "built-by-hand/bzImage");
		FAIL("no error");
	} catch (const Error &e) {
		const std::string m = e.what();
		CHECK(m.starts_with((t.path() / "built-by-hand/bzImage").string() + " is not the kernel distkernel staged as 6.1.0-1-test (" +
				    (t.path() / "root/usr/src/linux-6.1.0-1-test/arch/x86/boot/bzImage").string() + ", sha256 "));
		CHECK(m.find("distkernel-install reinstall 6.1.0-1-test") != std::string::npos);
	}
	CHECK_THROWS_WITH(route_installer_call(root, "add", "6.1.0-1-test", o, nullptr, quiet, t.path() / "missing"),
			  "the installer was given " + (t.path() / "missing").string() +
				  " as the image of 6.1.0-1-test, and it is not a file");
	CHECK_FALSE(root.list("/var/lib/distkernel/kernels").size());
}
