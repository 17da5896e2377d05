// lib/config/verify.cpp: each requested value against the final .config, explained; the documents.
#include "catch.hpp"
#include "paths.hpp"

#include "distkernel/kconfig.hpp"
#include "distkernel/verify.hpp"

#include <filesystem>
#include <string>

using namespace distkernel;
using namespace distkernel::kconfig;
namespace fs = std::filesystem;

using test::kconfig_fixture_tree;

TEST_CASE("status names and Kconfig type names are one table each, read back by name", "[config]")
{
	CHECK(enum_name(Finding::Status::kept) == "kept");
	CHECK(enum_name(Finding::Status::dropped) == "dropped");
	CHECK(enum_from_name<Finding::Status>("unknown") == Finding::Status::unknown);
	CHECK_FALSE(enum_from_name<Finding::Status>("lost"));
	CHECK(enum_name(kconfig::Type::boolean) == "bool");
	CHECK(enum_name(kconfig::Type::integer) == "int");
	CHECK(enum_from_name<kconfig::Type>("hex") == kconfig::Type::hex);
	CHECK_FALSE(enum_from_name<kconfig::Type>("boolean"));
}

TEST_CASE("verify_json and the config diff document", "[config]")
{
	Config a = Config::parse("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x\"\n", "a.config");
	Config b = Config::parse("CONFIG_A=m\nCONFIG_D=y\nCONFIG_C=\"x\"\n", "b.config");

	Json diff = diff_configs(a, b);
	CHECK(diff["schema"] == "distkernel.config-diff");
	CHECK(diff["version"] == "1.0");
	REQUIRE(diff["added"].size() == 1);
	CHECK(diff["added"][0] == Json{{"symbol", "CONFIG_D"}, {"a", nullptr}, {"b", "y"}});
	REQUIRE(diff["removed"].size() == 1);
	CHECK(diff["removed"][0]["a"] == "n");
	REQUIRE(diff["changed"].size() == 1);
	CHECK(diff["changed"][0] == Json{{"symbol", "CONFIG_A"}, {"a", "y"}, {"b", "m"}});

	VerifyReport r = verify(a.entries(), b, nullptr);
	Json doc = verify_json("b.config", r);
	CHECK(doc["schema"] == "distkernel.config-report");
	CHECK(doc["final"] == Json{{"path", "b.config"}});
	CHECK_FALSE(doc["ok"].get<bool>());
	REQUIRE(doc["findings"].size() == 3);
	CHECK(doc["findings"][0]["status"] == "changed");
	CHECK(doc["findings"][1]["status"] == "kept"); // B: n and absent are the same value
	CHECK(doc["findings"][2]["status"] == "kept");
}

TEST_CASE("verification classifies and explains each requested value", "[config]")
{
	Kconfig k = Kconfig::read(kconfig_fixture_tree(), "x86_64");
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
	Kconfig k = Kconfig::read(kconfig_fixture_tree(), "x86_64");
	REQUIRE(k.find("SHARED")->definitions.size() == 2);
	Value y = Value::tristate('y');
	CHECK(explain(*k.find("SHARED"), y, Config::parse("CONFIG_64BIT=y\n", "f"), k).find("depends") == std::string::npos);
	CHECK(explain(*k.find("SHARED"), y, Config::parse("", "f"), k) ==
	      "depends on 64BIT (64BIT is n); depends on COMPILE_TEST (COMPILE_TEST is n)");
}
