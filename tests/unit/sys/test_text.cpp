#include "catch.hpp"

#include "sys/text.hpp"
#include "distkernel/error.hpp"

using namespace distkernel;

TEST_CASE("text helpers: trim, split, lines, words, join", "[sys]")
{
	CHECK(text::trim("  a b\t\r\n") == "a b");
	CHECK(text::trim(" \t\n").empty());
	CHECK(text::trim("x\n\n", "\n") == "x");
	CHECK(text::lines("a\n\nb") == std::vector<std::string_view>{"a", "", "b"});
	CHECK(text::lines("a\n") == std::vector<std::string_view>{"a"});
	CHECK(text::lines("").empty());
	CHECK(text::split("/usr/bin::/bin:", ':') == std::vector<std::string_view>{"/usr/bin", "", "/bin"});
	CHECK(text::split(std::string_view("a\0b\0", 4), '\0') == std::vector<std::string_view>{"a", "b"});
	CHECK(text::split(":", ':') == std::vector<std::string_view>{""});
	CHECK(text::words("  linux  /vmlinuz-6.1\t\r") == std::vector<std::string_view>{"linux", "/vmlinuz-6.1"});
	CHECK(text::words("obj /lib/modules/6.1/a.ko 0123 1700000000") ==
	      std::vector<std::string_view>{"obj", "/lib/modules/6.1/a.ko", "0123", "1700000000"});
	CHECK(text::words(" \t").empty());
	CHECK(text::join({"a", "b", "c"}, ", ") == "a, b, c");
	CHECK(text::join({}, ", ").empty());
}

TEST_CASE("key = value files: comments, blanks, the line of a bad one", "[sys]")
{
	auto kv = text::key_values("# comment\n\nkeep = 3 # three\n pin=6.1.0-1-amd64\r\n", "clean.conf");
	REQUIRE(kv.size() == 2);
	CHECK(kv[0].line == 3);
	CHECK(kv[0].key == "keep");
	CHECK(kv[0].value == "3");
	CHECK(kv[1].key == "pin");
	CHECK(kv[1].value == "6.1.0-1-amd64");
	CHECK_THROWS_WITH(text::key_values("keep = 1\nnonsense\n", "clean.conf"),
			  "clean.conf:2: expected KEY = VALUE, got 'nonsense'");
}
