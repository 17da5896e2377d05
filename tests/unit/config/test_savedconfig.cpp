// lib/config/savedconfig.cpp: the user's delta (save), its header, the three-way rebase's classification.
#include "catch.hpp"
#include "files.hpp"
#include "paths.hpp"

#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/upgrade.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

Config cfg(const std::string &text, const std::string &name = "t.config")
{
	return Config::parse(text, name);
}

std::map<std::string, UserChange::Kind> kinds(const std::vector<UserChange> &v)
{
	std::map<std::string, UserChange::Kind> m;
	for (const auto &c : v)
		m[c.symbol] = c.kind;
	return m;
}

} // namespace

TEST_CASE("kernel version and savedconfig marker", "[config]")
{
	Config c = cfg("#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.1.192 Kernel Configuration\n#\nCONFIG_A=y\n");
	CHECK(kernel_version_of(c) == "6.1.192");
	CHECK(kernel_version_of(cfg("CONFIG_A=y\n")).empty());
	CHECK_FALSE(is_saved_delta(c));
	SavedHeader h{"6.1.192", "/b.config", "abc", {"/l.config"}};
	std::string text = savedconfig_text(h, {Entry{"A", Value::tristate('y'), {}, false}, Entry{"B", Value(), {}, false}});
	Config d = cfg(text);
	CHECK(is_saved_delta(d));
	CHECK(d.symbol_count() == 2);
	CHECK(text.find("# kernel: 6.1.192\n") != std::string::npos);
	CHECK(text.find("# base: /b.config sha256=abc\n") != std::string::npos);
	CHECK(text.find("# CONFIG_B is not set\n") != std::string::npos);
}

TEST_CASE("saved_info: a delta or a full config, and the kernel version its header names", "[config]")
{
	TempDir dir({}, "saved-info");
	SavedHeader h{"6.1.192", "/b.config", "abc", {}};
	test::put(dir.path() / "delta", savedconfig_text(h, {Entry{"A", Value::tristate('y'), {}, false}}));
	test::put(dir.path() / "unknown", savedconfig_text(SavedHeader{}, {}));
	test::put(dir.path() / "full", "#\n# Linux/x86 6.0.99 Kernel Configuration\n#\nCONFIG_A=y\n");
	test::put(dir.path() / "plain", "CONFIG_A=y\n");
	test::put(dir.path() / "bad", "CONFIG_A=y\nnot a config line\n");

	SavedInfo i = saved_info(dir.path() / "delta");
	CHECK(i.delta);
	CHECK(i.kernel_version == "6.1.192");
	Json doc = i;
	CHECK(doc["schema"] == "distkernel.saved-info");
	CHECK(doc["format"] == "delta");
	CHECK(doc["kernel_version"] == "6.1.192");
	i = saved_info(dir.path() / "unknown");
	CHECK(i.delta);
	CHECK(i.kernel_version.empty());
	i = saved_info(dir.path() / "full");
	CHECK_FALSE(i.delta);
	CHECK(i.kernel_version == "6.0.99");
	CHECK(Json(i)["format"] == "config");
	i = saved_info(dir.path() / "plain");
	CHECK_FALSE(i.delta);
	CHECK(i.kernel_version.empty());
	try {
		saved_info(dir.path() / "bad");
		FAIL("no ParseError");
	} catch (const ParseError &e) {
		CHECK(e.line() == 2);
	}
	CHECK_THROWS_AS(saved_info(dir.path() / "absent"), Error);
}

TEST_CASE("the save document; rebase status names", "[config]")
{
	SaveResult r;
	r.header = SavedHeader{"6.1.192", "/b.config", "abc", {"/l.config"}};
	r.delta = {Entry{"A", Value::tristate('m'), {}, false}};
	Json doc = r;
	CHECK(doc["schema"] == "distkernel.savedconfig");
	CHECK(doc["kernel_version"] == "6.1.192");
	CHECK(doc["base"] == Json{{"path", "/b.config"}, {"sha256", "abc"}});
	CHECK(doc["layers"] == Json{"/l.config"});
	// Json::array: a braced single element is an array with GCC but a copy with clang.
	CHECK(doc["delta"] == Json::array({Json{{"symbol", "CONFIG_A"}, {"value", "m"}}}));
	CHECK(enum_name(RebaseItem::Status::conflict) == "conflict");
	CHECK(enum_from_name<RebaseItem::Status>("dropped") == RebaseItem::Status::dropped);
	CHECK_FALSE(enum_from_name<RebaseItem::Status>("changed"));
}

TEST_CASE("the delta is what the final config sets differently", "[config]")
{
	Config ref = cfg("CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_S=\"x\"\nCONFIG_GONE=y\n");
	Config fin = cfg("CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=m\nCONFIG_S=\"y\"\nCONFIG_NEW=5\n# CONFIG_OFF is not set\n");
	auto d = config_delta(ref, fin);
	std::vector<std::string> names;
	for (const auto &e : d)
		names.push_back(e.symbol);
	// GONE is absent from the final config: invisible there, a consequence, not the user's value.
	CHECK(names == std::vector<std::string>{"B", "C", "S", "NEW"});
	CHECK(d[0].origin.line == 2);
}

TEST_CASE("three-way: apply, already, conflict", "[config]")
{
	Config old_base = cfg("CONFIG_A=m\nCONFIG_B=m\nCONFIG_C=17\nCONFIG_D=m\nCONFIG_E=y\nCONFIG_S=\"x\"\nCONFIG_OFF=m\n");
	Config user = cfg("CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=19\n# CONFIG_D is not set\nCONFIG_E=y\nCONFIG_NEW=m\n", "user.config");
	Config new_base = cfg("CONFIG_A=m\nCONFIG_B=y\nCONFIG_C=18\nCONFIG_D=y\nCONFIG_E=y\nCONFIG_OFF=m\n");
	auto v = user_changes(old_base, user, new_base);
	auto k = kinds(v);
	using K = UserChange::Kind;
	CHECK(k == std::map<std::string, K>{{"A", K::apply}, {"B", K::already}, {"C", K::conflict}, {"D", K::conflict},
					      {"NEW", K::apply}, {"OFF", K::apply}});
	// OFF: left out of the user's config, so off. S: a string the user's config lacks is a consequence of a
	// dependency, not a change.
	CHECK(k.count("S") == 0);
	CHECK(v[0].origin.str() == "user.config:1");
	CHECK(v[2].old_base->text() == "17");
	CHECK(v[2].new_base->text() == "18");
	CHECK(v[2].user->text() == "19");
}

TEST_CASE("a saved delta's assignments are the user's changes", "[config]")
{
	Config old_base = cfg("CONFIG_A=m\nCONFIG_B=m\n");
	std::string text = savedconfig_text(SavedHeader{}, {Entry{"A", Value::tristate('m'), {}, false}});
	Config user = cfg(text);
	Config new_base = cfg("CONFIG_A=y\nCONFIG_B=m\n");
	auto v = user_changes(old_base, user, new_base);
	REQUIRE(v.size() == 1);
	// The delta asks for A=m again, the new base moved it to y: the user must decide.
	CHECK(v[0].kind == UserChange::Kind::conflict);
}
