#include "catch.hpp"

#include "cli.hpp"
#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"

#include <cerrno>
#include <iostream>
#include <sstream>
#include <stdexcept>

using namespace distkernel;

namespace {

struct Outcome {
	int rc;
	std::string err;
};

// run_main of a tool named "dk-test" whose body throws what `body` throws; stderr captured.
Outcome run_tool(const std::function<int()> &body)
{
	CLI::App app{"test", "dk-test"};
	std::ostringstream err;
	auto *old = std::cerr.rdbuf(err.rdbuf());
	char name[] = "dk-test";
	char *argv[] = {name, nullptr};
	int rc = cli::run_main(app, 1, argv, body);
	std::cerr.rdbuf(old);
	return {rc, err.str()};
}

} // namespace

TEST_CASE("an internal error exits 1 and asks for a bug report, never 2", "[sys]")
{
	auto o = run_tool([]() -> int { throw InternalError("layout not chosen"); });
	CHECK(o.rc == exit_error);
	CHECK(o.err.find("dk-test: internal error: layout not chosen\n") == 0);
	CHECK(o.err.find("please report it") != std::string::npos);

	// An exception that is not ours is a bug too.
	o = run_tool([]() -> int { throw std::out_of_range("vector::at"); });
	CHECK(o.rc == exit_error);
	CHECK(o.err.find("dk-test: internal error: vector::at\n") == 0);
	CHECK(o.err.find("please report it") != std::string::npos);
	o = run_tool([]() -> int { throw 42; });
	CHECK(o.rc == exit_error);
	CHECK(o.err.find("internal error") != std::string::npos);

	// A relative path inside a root is the library's own mistake, not the caller's.
	o = run_tool([]() -> int { return static_cast<int>(Root("/").path("boot").string().size()); });
	CHECK(o.rc == exit_error);
	CHECK(o.err.find("dk-test: internal error: path inside the root must be absolute: 'boot'") == 0);
}

TEST_CASE("usage and ordinary errors keep their exit codes and no bug-report hint", "[sys]")
{
	auto o = run_tool([]() -> int { throw UsageError("bad release 'a/b'"); });
	CHECK(o.rc == exit_usage);
	CHECK(o.err == "dk-test: bad release 'a/b'\n");
	o = run_tool([]() -> int { throw SystemError("cannot read /x", ENOENT); });
	CHECK(o.rc == exit_error);
	CHECK(o.err == "dk-test: error: cannot read /x: No such file or directory\n");
}
