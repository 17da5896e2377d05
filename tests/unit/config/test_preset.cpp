// lib/config/preset.cpp: presets read, documented, checked against a config, selected under a root.
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

Config preset_test_config(const std::string &text)
{
	return Config::parse(text, "t.config");
}

} // namespace

TEST_CASE("the presets documents", "[config]")
{
	auto all = list_presets(preset_dir());
	Json presets = presets_json(all);
	CHECK(presets["schema"] == "distkernel.presets");
	REQUIRE(presets["presets"].size() == all.size());
	CHECK(presets["presets"][0]["name"] == all[0].name);
	CHECK(presets["presets"][0]["values"] == all[0].values.size());
	Json selected = selected_presets_json({"/p/docker.config"});
	CHECK(selected["selected"] == Json{"/p/docker.config"});
}

TEST_CASE("every shipped preset documents each value", "[config]")
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

TEST_CASE("check_preset: =m is satisfied by y, optional values never fail", "[config]")
{
	TempDir t;
	atomic_write(t.path() / "p.config", "# p: test\n# why a\nCONFIG_A=m\n# why b\nCONFIG_B=y\n# why c\n# distkernel: optional\nCONFIG_C=y\n");
	Preset p = read_preset(t.path() / "p.config");
	CHECK(p.summary == "p: test");
	REQUIRE(p.values.size() == 3);
	CHECK(p.values[2].note == "why c");
	CHECK(p.values[2].entry.optional);
	auto r = check_preset(p, preset_test_config("CONFIG_A=y\nCONFIG_B=y\n"), nullptr);
	CHECK(r.ok());
	CHECK(r.findings[0].survived);
	CHECK_FALSE(r.findings[2].survived);
	r = check_preset(p, preset_test_config("CONFIG_A=y\nCONFIG_B=m\n"), nullptr);
	CHECK(r.failures() == 1);
	Json j = check_preset_json(p, r);
	CHECK(j["findings"][1]["note"] == "why b");
	CHECK(j["missing"] == 1);
}

TEST_CASE("preset selection under ROOT/etc/kernel", "[config]")
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
