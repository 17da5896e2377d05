#include "catch.hpp"

#include "distkernel/error.hpp"
#include "distkernel/process.hpp"

using namespace distkernel;

TEST_CASE("run captures output and exit codes", "[sys]")
{
	auto r = run(Command({"sh", "-c", "echo out; echo err >&2; exit 3"}));
	CHECK(r.exit_code == 3);
	CHECK(r.out == "out\n");
	CHECK(r.err == "err\n");
	CHECK_FALSE(r.ok());
	CHECK(r.tail(1) == "err");
}

TEST_CASE("the child's environment is exactly the one given", "[sys]")
{
	Command c({"sh", "-c", "echo \"${FOO-unset}:${HOME-unset}\""});
	c.env = {{"PATH", "/usr/bin:/bin"}, {"FOO", "bar"}};
	auto r = run(c);
	CHECK(r.out == "bar:unset\n");
}

TEST_CASE("stdin is /dev/null and cwd is honoured", "[sys]")
{
	Command c({"sh", "-c", "cat; pwd"});
	c.cwd = "/tmp";
	auto r = run(c);
	CHECK(r.out == "/tmp\n");
}

TEST_CASE("a missing program is an error naming it", "[sys]")
{
	try {
		run(Command({"distkernel-no-such-program"}));
		FAIL("no error");
	} catch (const Error &e) {
		CHECK(std::string(e.what()).find("distkernel-no-such-program") != std::string::npos);
	}
}

TEST_CASE("a signal death is 128+N", "[sys]")
{
	auto r = run(Command({"sh", "-c", "kill -TERM $$"}));
	CHECK(r.exit_code == 128 + 15);
}

TEST_CASE("display form quotes what a shell would need", "[sys]")
{
	CHECK(to_display({"make", "O=/tmp/b", "olddefconfig"}) == "make O=/tmp/b olddefconfig");
	CHECK(to_display({"echo", "a b", "it's"}) == "echo 'a b' 'it'\\''s'");
}
