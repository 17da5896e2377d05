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

TEST_CASE("text for JSON: bytes that are not UTF-8 are escaped, UTF-8 and controls stay", "[sys]")
{
	CHECK(json_text("caf\xc3\xa9 \xe9t\xe9") == "caf\xc3\xa9 \\xe9t\\xe9");
	CHECK(json_text("a\tb\x7f") == "a\tb\x7f");
	// surrogates, beyond U+10FFFF, overlong forms
	CHECK(json_text("\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf") == "\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80\\xc0\\xaf");
	CHECK(json_text("\xf0\x9f\x90\xa7") == "\xf0\x9f\x90\xa7");
	std::string huge(100000, 'x');
	CHECK(json_text(huge) == huge);
}

TEST_CASE("a directory where a file is expected is an error naming it", "[sys]")
{
	TempDir t;
	CHECK_THROWS_WITH(read_file(t.path()), Catch::Matchers::Contains(t.path().string() + ": Is a directory"));
}
