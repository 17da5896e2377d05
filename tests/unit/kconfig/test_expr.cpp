// lib/kconfig/expr.cpp: Kconfig expressions parsed, printed and evaluated against a .config.
#include "catch.hpp"
#include "paths.hpp"

#include "distkernel/config.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/verify.hpp"

#include <cstdlib>
#include <filesystem>

using namespace distkernel;
using namespace distkernel::kconfig;
namespace fs = std::filesystem;

namespace {

std::string blockers_of(const std::string &expr, const std::string &config, Tristate want = Tristate::yes)
{
	Config c = Config::parse(config, "final");
	Evaluator ev(c);
	std::string out;
	for (const auto &b : ev.blockers(*parse_expr(expr), want))
		out += (out.empty() ? "" : "; ") + b;
	return out;
}

} // namespace

TEST_CASE("expressions parse with Kconfig's precedence and print back", "[kconfig]")
{
	CHECK(to_string(*parse_expr("A && B || !C && (D || E)")) == "A && B || !C && (D || E)");
	CHECK(to_string(*parse_expr("(A || B) && C")) == "(A || B) && C");
	CHECK(to_string(*parse_expr("X86_64 && NR_CPUS >= 0x10 && NAME != \"x\"")) ==
	      "X86_64 && NR_CPUS >= 0x10 && NAME != \"x\"");
	CHECK(parse_expr("64BIT")->op == Expr::Op::symbol);
	CHECK(parse_expr("64")->op == Expr::Op::constant);
	CHECK(parse_expr("$(cc-option,-fx)")->op == Expr::Op::macro);
	CHECK_THROWS_AS(parse_expr("A &&"), Error);
	CHECK_THROWS_AS(parse_expr("(A"), Error);
	CHECK_THROWS_AS(parse_expr("A B"), Error);
}

TEST_CASE("expressions evaluate as tristates against a final .config", "[kconfig]")
{
	Config c = Config::parse("CONFIG_A=y\nCONFIG_M=m\n# CONFIG_N is not set\nCONFIG_NR=8\nCONFIG_S=\"x\"\n", "f");
	Evaluator ev(c);
	auto e = [&](const char *s) { return ev.eval(*parse_expr(s)); };
	CHECK(e("A") == Tristate::yes);
	CHECK(e("M") == Tristate::mod);
	CHECK(e("A && M") == Tristate::mod);
	CHECK(e("N || M") == Tristate::mod);
	CHECK(e("!M") == Tristate::mod);
	CHECK(e("!N") == Tristate::yes);
	CHECK(e("ABSENT") == Tristate::no);
	CHECK(e("NR > 4") == Tristate::yes);
	CHECK(e("NR >= 0x10") == Tristate::no);
	CHECK(e("S = \"x\"") == Tristate::yes);
	CHECK(e("M = m") == Tristate::yes);
	CHECK(e("N = n && ABSENT != y") == Tristate::yes);
	CHECK(e("$(success,false)") == Tristate::yes);
}

TEST_CASE("blockers name the symbols that keep a condition off", "[kconfig]")
{
	CHECK(blockers_of("A && B", "CONFIG_A=y\n") == "B is n");
	CHECK(blockers_of("A || B", "") == "A is n; B is n");
	CHECK(blockers_of("X86 && !COMPILE_TEST", "CONFIG_X86=y\nCONFIG_COMPILE_TEST=y\n") == "COMPILE_TEST is y");
	CHECK(blockers_of("DRM", "CONFIG_DRM=m\n") == "DRM is m");
	CHECK(blockers_of("DRM", "CONFIG_DRM=m\n", Tristate::mod).empty());
	CHECK(blockers_of("!(A && B)", "CONFIG_A=y\nCONFIG_B=y\n") == "A is y; B is y");
	CHECK(blockers_of("NR > 64", "CONFIG_NR=8\n") == "NR > 64 is false (NR is '8')");
}
