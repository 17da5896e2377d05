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

fs::path preset_dir()
{
	return test::source_root() / "data/presets";
}

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

TEST_CASE("kernel version and savedconfig marker", "[upgrade]")
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

TEST_CASE("saved_info: a delta or a full config, and the kernel version its header names", "[upgrade]")
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

TEST_CASE("the save and presets documents; rebase status names", "[upgrade]")
{
	SaveResult r;
	r.header = SavedHeader{"6.1.192", "/b.config", "abc", {"/l.config"}};
	r.delta = {Entry{"A", Value::tristate('m'), {}, false}};
	Json doc = r;
	CHECK(doc["schema"] == "distkernel.savedconfig");
	CHECK(doc["kernel_version"] == "6.1.192");
	CHECK(doc["base"] == Json{{"path", "/b.config"}, {"sha256", "abc"}});
	CHECK(doc["layers"] == Json{"/l.config"});
	CHECK(doc["delta"] == Json{Json{{"symbol", "CONFIG_A"}, {"value", "m"}}});

	auto all = list_presets(preset_dir());
	Json presets = presets_json(all);
	CHECK(presets["schema"] == "distkernel.presets");
	REQUIRE(presets["presets"].size() == all.size());
	CHECK(presets["presets"][0]["name"] == all[0].name);
	CHECK(presets["presets"][0]["values"] == all[0].values.size());
	Json selected = selected_presets_json({"/p/docker.config"});
	CHECK(selected["selected"] == Json{"/p/docker.config"});

	CHECK(enum_name(RebaseItem::Status::conflict) == "conflict");
	CHECK(enum_from_name<RebaseItem::Status>("dropped") == RebaseItem::Status::dropped);
	CHECK_FALSE(enum_from_name<RebaseItem::Status>("changed"));
}

TEST_CASE("the delta is what the final config sets differently", "[upgrade]")
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

TEST_CASE("three-way: apply, already, conflict", "[upgrade]")
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

TEST_CASE("a saved delta's assignments are the user's changes", "[upgrade]")
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

TEST_CASE("every shipped preset documents each value", "[upgrade]")
{
	auto all = list_presets(preset_dir());
	std::vector<std::string> names;
	for (const auto &p : all) {
		names.push_back(p.name);
		CHECK_FALSE(p.summary.empty());
		for (const auto &v : p.values) {
			INFO(p.name << ": " << v.entry.symbol);
			CHECK_FALSE(v.note.empty());
		}
	}
	for (const char *want : {"debug", "docker", "hardened", "kvm-guest", "kvm-host", "systemd", "zfs-ready"})
		CHECK(std::find(names.begin(), names.end(), want) != names.end());
	CHECK_THROWS_AS(preset_file(preset_dir(), "../docker"), UsageError);
	CHECK_THROWS_AS(preset_file(preset_dir(), "nope"), UsageError);
}

TEST_CASE("check_preset: =m is satisfied by y, optional values never fail", "[upgrade]")
{
	TempDir t;
	atomic_write(t.path() / "p.config", "# p: test\n# why a\nCONFIG_A=m\n# why b\nCONFIG_B=y\n# why c\n# distkernel: optional\nCONFIG_C=y\n");
	Preset p = read_preset(t.path() / "p.config");
	CHECK(p.summary == "p: test");
	REQUIRE(p.values.size() == 3);
	CHECK(p.values[2].note == "why c");
	CHECK(p.values[2].entry.optional);
	auto r = check_preset(p, cfg("CONFIG_A=y\nCONFIG_B=y\n"), nullptr);
	CHECK(r.ok());
	CHECK(r.findings[0].survived);
	CHECK_FALSE(r.findings[2].survived);
	r = check_preset(p, cfg("CONFIG_A=y\nCONFIG_B=m\n"), nullptr);
	CHECK(r.failures() == 1);
	Json j = check_preset_json(p, r);
	CHECK(j["findings"][1]["note"] == "why b");
	CHECK(j["missing"] == 1);
}

TEST_CASE("preset selection under ROOT/etc/kernel", "[upgrade]")
{
	TempDir t;
	Root root(t.path());
	CHECK(selected_presets(root, preset_dir()).empty());
	fs::create_directories(t.path() / "etc/kernel");
	atomic_write(t.path() / "etc/kernel/distkernel-presets", "docker # containers\n\nsystemd docker\n");
	auto s = selected_presets(root, preset_dir());
	REQUIRE(s.size() == 2);
	CHECK(s[0].filename() == "docker.config");
	CHECK(s[1].filename() == "systemd.config");
	atomic_write(t.path() / "etc/kernel/distkernel-presets", "docker\n  bogus\n");
	try {
		selected_presets(root, preset_dir());
		FAIL("an unknown preset must fail");
	} catch (const ParseError &e) {
		CHECK(e.line() == 2);
		CHECK(std::string(e.what()).find("bogus") != std::string::npos);
	}
}
