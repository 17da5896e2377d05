// Input quoted in messages, and files that are not files.
#include "catch.hpp"

#include "distkernel/error.hpp"
#include "distkernel/quote.hpp"
#include "distkernel/rootfs.hpp"

#include <string>

using namespace distkernel;

TEST_CASE("input in messages is escaped and cut", "[sys]")
{
	CHECK(printable("plain text") == "plain text");
	CHECK(printable(std::string("a\0b\x1b[2J\x7f\n\t", 10)) == "a\\x00b\\e[2J\\x7f\\n\\t");
	CHECK(printable("gr\xc3\xbc\xc3\x9f \xff \xc2\x9b") == "gr\xc3\xbc\xc3\x9f \\xff \\xc2\\x9b");
	CHECK(quote_input("it's a\\b") == "'it\\'s a\\\\b'");
	std::string huge(10 * 1024 * 1024, 'x');
	std::string cut = printable(huge, 80);
	CHECK(cut.size() < 120);
	CHECK_THAT(cut, Catch::Matchers::EndsWith("... (10485760 bytes)"));
	CHECK(printable_message("line 1\n  line 2\x1b]0;title\x07") == "line 1\n  line 2\\e]0;title\\x07");
}

TEST_CASE("a directory where a file is expected is an error naming it", "[sys]")
{
	TempDir t;
	CHECK_THROWS_WITH(read_file(t.path()), Catch::Matchers::Contains(t.path().string() + ": Is a directory"));
}
