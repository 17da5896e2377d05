// lib/kconfig/reader.cpp: a Kconfig tree read with its sources, blocks and errors.
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

using test::kconfig_fixture_tree;
using test::source_root;

TEST_CASE("a Kconfig tree is read with sources, blocks, help and reverse dependencies", "[kconfig]")
{
	Kconfig k = Kconfig::read(kconfig_fixture_tree(), "x86_64");
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

TEST_CASE("broken Kconfig files are errors with file:line", "[kconfig]")
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

// (How long the read takes is measured by tests/bench/config-merge: kconfig_seconds.)
TEST_CASE("the real 6.1 tree is read completely", "[kconfig]")
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
