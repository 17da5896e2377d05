// lib/boot/shell_file.cpp: shell assignment files read without a shell.
#include "catch.hpp"

#include "distkernel/boot.hpp"
#include "distkernel/error.hpp"

using namespace distkernel;

TEST_CASE("shell files: +=, export, ';' and the last assignment winning", "[boot]")
{
	ShellFile f = parse_shell_file("a=1; b=x\nexport c='two words'\nb+=y\na=3\n", "t.conf");
	CHECK(f.problems.empty());
	REQUIRE(f.get("a"));
	CHECK(f.get("a")->value == "3");
	CHECK(f.get("a")->line == 4);
	REQUIRE(f.get("b"));
	CHECK(f.get("b")->value == "xy");
	CHECK(f.get("c")->value == "two words");
	CHECK_FALSE(f.get("d").has_value());
}

TEST_CASE("shell files: a line that needs a shell is a problem, and an error only for the name it assigns", "[boot]")
{
	ShellFile f = parse_shell_file("ok=1\nlayout=$(detect)\n", "install.conf");
	REQUIRE(f.problems.size() == 1);
	CHECK(f.problems[0].line == 2);
	CHECK(f.problems[0].name == "layout");
	CHECK(f.get("ok")->value == "1");
	CHECK_THROWS_AS(f.get("layout"), ParseError);
}
