// Kconfig input built to exhaust the reader: loops, depth and sizes end in errors naming
// file:line, never in a stack overflow or an endless run.
#include "catch.hpp"

#include "distkernel/config.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/rootfs.hpp"

#include <chrono>
#include <string>

using namespace distkernel;
using namespace distkernel::kconfig;
namespace fs = std::filesystem;

namespace {

std::string repeat(const std::string &s, std::size_t n)
{
	std::string out;
	out.reserve(s.size() * n);
	for (std::size_t i = 0; i < n; i++)
		out += s;
	return out;
}

// The message of the ParseError that reading TREE throws.
std::string read_error(const TempDir &t)
{
	try {
		Kconfig::read(t.path(), "x86_64");
	} catch (const ParseError &e) {
		return e.what();
	}
	FAIL("no ParseError");
	return {};
}

} // namespace

TEST_CASE("a Kconfig file that sources itself is a recursive inclusion", "[kconfig]")
{
	TempDir t;
	atomic_write(t.path() / "Kconfig", "config A\n\tbool\nsource \"Kconfig\"\n");
	std::string e = read_error(t);
	CHECK_THAT(e, Catch::Matchers::Contains("Kconfig:3: recursive inclusion detected"));

	fs::create_directories(t.path() / "b");
	atomic_write(t.path() / "Kconfig", "source \"b/Kconfig\"\n");
	atomic_write(t.path() / "b/Kconfig", "\n\nsource \"b/../Kconfig\"\n");
	e = read_error(t);
	CHECK_THAT(e, Catch::Matchers::Contains("b/Kconfig:3: recursive inclusion detected"));
	CHECK_THAT(e, Catch::Matchers::Contains("Kconfig:1 sources 'b/Kconfig'"));
}

TEST_CASE("deep expressions are refused before they overflow the stack", "[kconfig]")
{
	TempDir t;
	const std::size_t n = 20000;
	for (const std::string &expr : {repeat("(", n) + "B" + repeat(")", n), repeat("!", n) + "B",
					"B" + repeat(" && B", n), "B" + repeat(" || B", n)}) {
		atomic_write(t.path() / "Kconfig", "config A\n\tbool\n\tdepends on " + expr + "\n");
		CHECK_THAT(read_error(t), Catch::Matchers::Contains("Kconfig:3: expression nested deeper than"));
		CHECK_THROWS_WITH(parse_expr(expr), Catch::Matchers::Contains("nested deeper than"));
	}
	atomic_write(t.path() / "Kconfig", "config B\n\tbool\n" + repeat("if B\n", n) + "config A\n\tbool\n" + repeat("endif\n", n));
	CHECK_THAT(read_error(t), Catch::Matchers::Contains("blocks nested deeper than"));
}

TEST_CASE("the deepest nesting allowed is read fast and evaluates", "[kconfig]")
{
	TempDir t;
	// as deep as allowed, with many symbols inside: reading stays linear in the symbols
	std::string text = "config B\n\tbool\n" + repeat("if B\n", 199);
	for (int i = 0; i < 2000; i++)
		text += "config S" + std::to_string(i) + "\n\tbool \"s\"\n\tdepends on " + repeat("!", 98) + "B" +
			repeat(" && B", 99) + "\n";
	text += repeat("endif\n", 199);
	atomic_write(t.path() / "Kconfig", text);
	auto start = std::chrono::steady_clock::now();
	Kconfig k = Kconfig::read(t.path(), "x86_64");
	CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
	const Symbol *s = k.find("S1999");
	REQUIRE(s);
	Config c = Config::parse("CONFIG_B=y\n", "final");
	Evaluator ev(c, &k);
	CHECK(ev.eval(*s->definitions[0].depends) == Tristate::yes);
	CHECK(to_string(*s->definitions[0].depends).size() > 1000);
	CHECK(ev.blockers(*s->definitions[0].depends, Tristate::yes).empty());
}

TEST_CASE("a macro that doubles itself is stopped", "[kconfig]")
{
	TempDir t;
	atomic_write(t.path() / "Kconfig", "X := ab\n" + repeat("X += $(X)$(X)\n", 60) + "config A\n\tbool\n");
	CHECK_THAT(read_error(t), Catch::Matchers::Contains("the value of 'X' grows beyond"));
}

TEST_CASE("an unclosed block is named with its line", "[kconfig]")
{
	TempDir t;
	atomic_write(t.path() / "Kconfig", "config A\n\tbool\nmenu \"x\"\nconfig B\n\tbool\n");
	CHECK_THAT(read_error(t), Catch::Matchers::Contains("Kconfig:3: this 'menu' is not closed"));
}

TEST_CASE("input quoted in errors is escaped and cut", "[kconfig]")
{
	TempDir t;
	std::string line = std::string("\x1b[2Jbad\0stuff", 13) + std::string(10 * 1024 * 1024, 'x');
	atomic_write(t.path() / "Kconfig", "config A\n\tbool\n" + line + "\n");
	std::string e = read_error(t);
	CHECK_THAT(e, Catch::Matchers::Contains("Kconfig:3: unknown Kconfig statement '\\e[2Jbad\\x00stuffxxx"));
	CHECK(e.size() < 1000);
	CHECK(e.find('\x1b') == std::string::npos);

	try {
		Config::parse("CONFIG_A=y\n" + line + "\n", "frag.config");
		FAIL("no error");
	} catch (const ParseError &err) {
		std::string m = err.what();
		CHECK_THAT(m, Catch::Matchers::StartsWith("frag.config:2: not a config line"));
		CHECK_THAT(m, Catch::Matchers::Contains("'\\e[2Jbad\\x00stuffxxx"));
		CHECK(m.size() < 1000);
	}
}
