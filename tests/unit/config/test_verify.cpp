// lib/config/verify.cpp: the verification's documents and its findings' status names.
#include "catch.hpp"

#include "distkernel/verify.hpp"

#include <string>

using namespace distkernel;

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
