// lib/kconfig/new_options.cpp: what `make listnewconfig` lists, by menu, and its document.
#include "catch.hpp"
#include "paths.hpp"

#include "distkernel/kconfig.hpp"
#include "distkernel/upgrade.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace distkernel;
using namespace distkernel::kconfig;

TEST_CASE("new options: visible prompts the old config does not mention, with their menu", "[kconfig]")
{
	Kconfig k = Kconfig::read(test::kconfig_fixture_tree(), "x86_64");
	Config old = Config::parse("CONFIG_MODULES=y\nCONFIG_NET=y\n# CONFIG_COMPILE_TEST is not set\n", "old.config");
	Config values = Config::parse("CONFIG_64BIT=y\nCONFIG_NET_ARCH=y\nCONFIG_MODULES=y\nCONFIG_NET=y\n"
				      "CONFIG_NETFILTER=y\nCONFIG_CRC32=y\n",
				      "new.config");
	auto found = new_options(old, k, values);
	std::vector<std::string> names;
	for (const auto &o : found)
		names.push_back(o.symbol);
	// mentioned in old: MODULES, NET, COMPILE_TEST; no prompt: CRC32, 64BIT, NET_ARCH; NFT's
	// prompt needs EXPERT
	CHECK(std::find(names.begin(), names.end(), "NETFILTER") != names.end());
	for (const char *absent : {"MODULES", "NET", "COMPILE_TEST", "CRC32", "64BIT", "NET_ARCH", "NFT"})
		CHECK(std::find(names.begin(), names.end(), absent) == names.end());

	auto nf = std::find_if(found.begin(), found.end(), [](const NewOption &o) { return o.symbol == "NETFILTER"; });
	REQUIRE(nf != found.end());
	CHECK(nf->type == Type::boolean);
	CHECK(nf->prompt == "Netfilter");
	CHECK(menu_path(*nf) == "Networking");
	REQUIRE(nf->value);
	CHECK(nf->value->text() == "y");

	Json doc = new_options_json(found);
	CHECK(doc["schema"] == "distkernel.new-options");
	CHECK(doc["count"] == found.size());
	bool seen = false;
	for (const auto &menu : doc["menus"])
		for (const auto &o : menu["options"])
			if (o["symbol"] == "CONFIG_NETFILTER") {
				seen = true;
				CHECK(menu["menu"] == "Networking");
				CHECK(o["type"] == "bool");
				CHECK(o["value"] == "y");
			}
	CHECK(seen);
}
