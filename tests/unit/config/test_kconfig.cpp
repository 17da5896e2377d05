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

using test::source_root;

fs::path fixture_tree()
{
	return source_root() / "tests/fixtures/config/ktree";
}

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

TEST_CASE("expressions parse with Kconfig's precedence and print back", "[config]")
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

TEST_CASE("expressions evaluate as tristates against a final .config", "[config]")
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

TEST_CASE("blockers name the symbols that keep a condition off", "[config]")
{
	CHECK(blockers_of("A && B", "CONFIG_A=y\n") == "B is n");
	CHECK(blockers_of("A || B", "") == "A is n; B is n");
	CHECK(blockers_of("X86 && !COMPILE_TEST", "CONFIG_X86=y\nCONFIG_COMPILE_TEST=y\n") == "COMPILE_TEST is y");
	CHECK(blockers_of("DRM", "CONFIG_DRM=m\n") == "DRM is m");
	CHECK(blockers_of("DRM", "CONFIG_DRM=m\n", Tristate::mod).empty());
	CHECK(blockers_of("!(A && B)", "CONFIG_A=y\nCONFIG_B=y\n") == "A is y; B is y");
	CHECK(blockers_of("NR > 64", "CONFIG_NR=8\n") == "NR > 64 is false (NR is '8')");
}

TEST_CASE("a Kconfig tree is read with sources, blocks, help and reverse dependencies", "[config]")
{
	Kconfig k = Kconfig::read(fixture_tree(), "x86_64");
	CHECK(k.file_count() == 2);
	const Symbol *net = k.find("NET");
	REQUIRE(net);
	REQUIRE(net->definitions.size() == 1);
	const Definition &d = net->definitions[0];
	CHECK(d.type == Type::tristate);
	CHECK(d.prompt == "Networking support");
	CHECK(to_string(*d.depends) == "NET_ARCH");
	CHECK(d.menus == std::vector<std::string>{"Networking"});
	CHECK(d.help == "Networking.\n\nSecond paragraph,\n  indented more.");
	CHECK(d.where.str() == "Kconfig:17");

	const Symbol *nft = k.find("NFT");
	REQUIRE(nft);
	CHECK(to_string(*nft->definitions[0].depends) == "NET_ARCH && NET && NETFILTER && (64BIT || NR_CPUS > 4)");
	CHECK(to_string(*nft->definitions[0].prompt_condition) == "EXPERT");
	REQUIRE(nft->implied_by.size() == 1);
	CHECK(nft->implied_by[0].symbol == "NETFILTER");

	const Symbol *crc = k.find("CRC32");
	REQUIRE(crc);
	CHECK(crc->prompted() == nullptr);
	REQUIRE(crc->selected_by.size() == 1);
	CHECK(crc->selected_by[0].symbol == "NET");
	CHECK(to_string(*crc->selected_by[0].condition) == "MODULES");

	CHECK(k.find("64BIT")->type() == Type::boolean);
	CHECK(k.find("NR_CPUS")->definitions[0].ranges.size() == 1);
	REQUIRE(k.choices().size() == 1);
	CHECK(k.choices()[0].prompt == "Preemption Model");
	CHECK(k.choices()[0].members == std::vector<std::string>{"PREEMPT_NONE", "PREEMPT"});
	CHECK(k.find("PREEMPT")->definitions[0].choice == 0);
	CHECK(k.find("NO_SUCH") == nullptr);
}

TEST_CASE("broken Kconfig files are errors with file:line", "[config]")
{
	TempDir t;
	atomic_write(t.path() / "Kconfig", "config A\n\tbool \"a\"\n\tdepends on (B\n");
	try {
		Kconfig::read(t.path(), "x86_64");
		FAIL("no error");
	} catch (const ParseError &e) {
		CHECK(std::string(e.what()).find("Kconfig:3: missing ')'") != std::string::npos);
	}
	atomic_write(t.path() / "Kconfig", "source \"missing/Kconfig\"\n");
	CHECK_THROWS_WITH(Kconfig::read(t.path(), "x86_64"), Catch::Matchers::Contains("Kconfig:1: sourced file 'missing/Kconfig'"));
	atomic_write(t.path() / "Kconfig", "menu \"x\"\nconfig A\n\tbool\n");
	CHECK_THROWS_AS(Kconfig::read(t.path(), "x86_64"), ParseError);
}

TEST_CASE("verification classifies and explains each requested value", "[config]")
{
	Kconfig k = Kconfig::read(fixture_tree(), "x86_64");
	LayeredConfig l(Config::parse("CONFIG_MODULES=y\n", "base"));
	l.add_layer(Config::parse("CONFIG_NET=y\nCONFIG_NETFILTER=y\nCONFIG_NFT=m\nCONFIG_ZFS=y\n# CONFIG_CRC32 is not set\n"
				  "CONFIG_PREEMPT=y\nCONFIG_NR_CPUS=1024\n# distkernel: optional\nCONFIG_EXPERT=y\n",
				  "frag"));
	// as olddefconfig would leave it
	Config final_config = Config::parse("CONFIG_MODULES=y\nCONFIG_64BIT=y\nCONFIG_NET_ARCH=y\nCONFIG_NET=y\n"
					    "CONFIG_COMPILE_TEST=y\nCONFIG_CRC32=y\nCONFIG_PREEMPT_NONE=y\nCONFIG_RT_LOCKS=y\n"
					    "CONFIG_NR_CPUS=64\n",
					    "final");
	VerifyReport r = verify(l.requested(), final_config, &k);
	REQUIRE(r.findings.size() == 8);
	auto f = [&](const std::string &s) -> const Finding & {
		for (const auto &x : r.findings)
			if (x.symbol == s)
				return x;
		FAIL("no finding for " << s);
		return r.findings[0];
	};
	CHECK(f("NET").status == Finding::Status::kept);
	CHECK(f("NETFILTER").status == Finding::Status::dropped);
	CHECK(f("NETFILTER").reason == "depends on NET_ARCH && NET && NET && !COMPILE_TEST (COMPILE_TEST is y)");
	CHECK(describe(f("NETFILTER")) == "dropped: CONFIG_NETFILTER=y requested by frag:2 became n (absent): depends on "
					  "NET_ARCH && NET && NET && !COMPILE_TEST (COMPILE_TEST is y)");
	CHECK(f("NFT").reason.find("NETFILTER is n though frag:2 asked for y") != std::string::npos);
	CHECK(f("ZFS").status == Finding::Status::unknown);
	CHECK_FALSE(f("ZFS").survived);
	CHECK(f("CRC32").status == Finding::Status::changed);
	// the selecting symbol's layer is named
	CHECK(f("CRC32").reason.find("selected by NET (NET is y from frag:1) if MODULES") != std::string::npos);
	CHECK(f("PREEMPT").reason.find("depends on !RT_LOCKS (RT_LOCKS is y)") != std::string::npos);
	CHECK(f("PREEMPT").reason.find("CONFIG_PREEMPT_NONE is chosen") != std::string::npos);
	CHECK(f("NR_CPUS").status == Finding::Status::changed);
	CHECK(f("NR_CPUS").reason.find("allowed range is 2 to 512") != std::string::npos);
	CHECK(f("EXPERT").optional);
	CHECK_FALSE(f("EXPERT").fails());
	CHECK(r.failures() == 6);

	// a blocker that a layer turned off names that layer
	LayeredConfig l2(Config::parse("", "base"));
	l2.add_layer(Config::parse("# CONFIG_NET is not set\nCONFIG_NETFILTER=y\n", "off"));
	Config final2 = Config::parse("CONFIG_64BIT=y\nCONFIG_NET_ARCH=y\n# CONFIG_NET is not set\n", "final");
	VerifyReport r2 = verify(l2.requested(), final2, &k);
	CHECK(r2.findings.at(1).reason == "depends on NET_ARCH && NET && NET && !COMPILE_TEST (NET is n from off:1)");
	CHECK_FALSE(r.ok());

	// an unknown symbol asked to be n is unknown too; a layer that informs never fails
	LayeredConfig l3(Config::parse("", "base"));
	l3.add_layer(Config::parse("# CONFIG_HIBERNATON is not set\n", "user"));
	l3.add_layer(Config::parse("CONFIG_X86_X32=y\n", "distro"), false);
	VerifyReport r3 = verify(l3.requested(), final2, &k);
	REQUIRE(r3.findings.size() == 2);
	CHECK(r3.findings[0].status == Finding::Status::unknown);
	CHECK(r3.findings[0].fails());
	CHECK(r3.findings[1].status == Finding::Status::unknown);
	CHECK(r3.findings[1].informational);
	CHECK_FALSE(r3.findings[1].fails());
	CHECK(r3.failures() == 1);
}

TEST_CASE("a symbol defined twice is blamed on dependencies only when both are unmet", "[config]")
{
	Kconfig k = Kconfig::read(fixture_tree(), "x86_64");
	REQUIRE(k.find("SHARED")->definitions.size() == 2);
	Value y = Value::tristate('y');
	CHECK(explain(*k.find("SHARED"), y, Config::parse("CONFIG_64BIT=y\n", "f"), k).find("depends") == std::string::npos);
	CHECK(explain(*k.find("SHARED"), y, Config::parse("", "f"), k) ==
	      "depends on 64BIT (64BIT is n); depends on COMPILE_TEST (COMPILE_TEST is n)");
}

// (How long the read takes is measured by tests/bench/config-merge: kconfig_seconds.)
TEST_CASE("the real 6.1 tree is read completely", "[config]")
{
	const char *cache = std::getenv("DISTKERNEL_CACHE");
	fs::path tree = (cache ? fs::path(cache) : source_root() / ".cache") / "linux";
	INFO("kernel tree: " << tree << " (run scripts/real-parts first)");
	REQUIRE(fs::exists(tree / "Kconfig"));
	Kconfig k = Kconfig::read(tree, "x86_64");
	CHECK(k.file_count() > 1000);
	CHECK(k.names().size() > 15000);
	const Symbol *i915 = k.find("DRM_I915");
	REQUIRE(i915);
	CHECK(i915->type() == Type::tristate);
	CHECK(to_string(*i915->definitions[0].depends) == "HAS_IOMEM && DRM && X86 && PCI && !PREEMPT_RT");
	CHECK(i915->definitions[0].menus == std::vector<std::string>{"Device Drivers", "Graphics support"});
	CHECK(i915->definitions[0].help.rfind("Choose this option if you have a system", 0) == 0);
	CHECK_FALSE(k.find("PREEMPT_RT")->definitions.empty());
	CHECK(k.find("ZFS") == nullptr);
}

TEST_CASE("one build target: make's command line, the arch's directory and image", "[config]")
{
	BuildTarget t{"/src", "/out", "arm64", "aarch64-linux-gnu-", true};
	CHECK(t.make_argv({"olddefconfig"}) ==
	      std::vector<std::string>{"make", "-C", "/src", "O=/out", "ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-",
				       "LLVM=1", "olddefconfig"});
	BuildTarget in_tree{"/src", "/src", "", "", false};
	CHECK(in_tree.make_argv({"kernelrelease"}, true) == std::vector<std::string>{"make", "-s", "-C", "/src", "kernelrelease"});
	CHECK(in_tree.effective_arch() == "x86");
	CHECK(src_arch("x86_64") == "x86");
	CHECK(src_arch("sparc64") == "sparc");
	CHECK(default_image_path("") == "arch/x86/boot/bzImage");
	CHECK(default_image_path("x86_64") == "arch/x86/boot/bzImage");
	CHECK(default_image_path("riscv") == "arch/riscv/boot/Image.gz");
	// 6.1's arch/loongarch/Makefile with EFI_STUB (what a distribution config has)
	CHECK(default_image_path("loongarch") == "arch/loongarch/boot/vmlinux.efi");
	CHECK_THROWS_AS(default_image_path("m68k"), UsageError);
}
