// lib/config/trim.cpp: rules files, and a trim of a small tree against the real module aliases
// of Debian's 6.1 kernel (the module indexes only: modalias -> module goes through libkmod).
#include "catch.hpp"
#include "files.hpp"
#include "paths.hpp"

#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/trim.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

fs::path trim_test_debian_modules()
{
	const char *env = std::getenv("DISTKERNEL_CACHE");
	fs::path cache = env && *env ? fs::path(env) : test::source_root() / ".cache";
	fs::path real;
	for (const auto &e : fs::directory_iterator(cache / "debian-kernel/root/lib/modules"))
		real = e.path();
	return real;
}

// A tree of two drivers (virtio_blk, iwlwifi) and their Kconfig, a base that builds both.
void trim_test_tree(const fs::path &d)
{
	test::put(d / "Kbuild", "obj-y += drivers/\n");
	test::put(d / "drivers/Makefile", "obj-$(CONFIG_VIRTIO) += virtio.o\nobj-$(CONFIG_VIRTIO_BLK) += virtio_blk.o\n"
					  "obj-$(CONFIG_WLAN) += wireless/\n");
	test::put(d / "drivers/wireless/Makefile", "obj-$(CONFIG_IWLWIFI) += iwlwifi.o\nobj-$(CONFIG_CFG80211) += cfg80211.o\n");
	test::put(d / "Kconfig", "config VIRTIO\n\ttristate\nconfig VIRTIO_BLK\n\ttristate \"virtio block\"\n\tdepends on VIRTIO\n"
				 "config WLAN\n\tbool \"wireless\"\nconfig IWLWIFI\n\ttristate \"iwlwifi\"\n\tdepends on WLAN\n"
				 "\tselect CFG80211\nconfig CFG80211\n\ttristate \"cfg80211\"\n"
				 "config HIDDEN_M\n\ttristate\n\tdefault m if IWLWIFI\n");
	test::put(d / "base.config", "CONFIG_VIRTIO=m\nCONFIG_VIRTIO_BLK=m\nCONFIG_WLAN=y\nCONFIG_IWLWIFI=m\nCONFIG_CFG80211=m\n"
				     "CONFIG_HIDDEN_M=m\n");
}

TrimOptions trim_test_options(const fs::path &d)
{
	TrimOptions o;
	o.machine.devices.push_back(Device{"/sys/devices/pci0000:00/0000:00:05.0/virtio1", "virtio:d00000002v00001AF4", "virtio_blk", "virtio_blk"});
	o.machine_source = "qemu.json";
	o.tree = d;
	o.base = d / "base.config";
	o.module_dir = trim_test_debian_modules();
	return o;
}

bool trim_test_kept(const TrimResult &r, const std::string &module)
{
	return std::any_of(r.kept.begin(), r.kept.end(), [&](const TrimModule &m) { return m.module == module; });
}

} // namespace

TEST_CASE("trim: the device's module and its dependencies stay, the rest is off", "[config]")
{
	TempDir d;
	trim_test_tree(d.path());
	TrimResult r = trim(trim_test_options(d.path()), Logger(Verbosity::quiet));
	CHECK(trim_test_kept(r, "virtio_blk"));
	CHECK(trim_test_kept(r, "virtio")); // modules.dep and depends on
	CHECK_FALSE(trim_test_kept(r, "iwlwifi"));
	CHECK(r.off_symbols == std::vector<std::string>{"IWLWIFI", "CFG80211", "HIDDEN_M"});
	CHECK(r.layer_text.find("# CONFIG_IWLWIFI is not set\n") != std::string::npos);
	// without a prompt, olddefconfig decides: the layer does not ask
	CHECK(r.layer_text.find("HIDDEN_M") == std::string::npos);
	CHECK(r.base_count.modules.size() == 4);
	CHECK(r.trimmed_count.modules == std::set<std::string>{"virtio", "virtio_blk"});
	const auto &why = r.kept.back().reasons;
	REQUIRE_FALSE(why.empty());
	CHECK(why.front().kind == "device");
	CHECK(why.front().detail.find("virtio:d00000002v00001AF4") != std::string::npos);
}

TEST_CASE("trim: keep rules pull in what Kconfig selects; bad rules and module trees are named", "[config]")
{
	TempDir d;
	trim_test_tree(d.path());
	TrimOptions o = trim_test_options(d.path());
	test::put(d.path() / "rules", "# what this machine also needs\n\nkeep iwlwifi\n");
	o.rules = read_trim_rules(d.path() / "rules");
	TrimResult r = trim(o, Logger(Verbosity::quiet));
	CHECK(trim_test_kept(r, "iwlwifi"));
	CHECK(trim_test_kept(r, "cfg80211")); // IWLWIFI selects it
	CHECK(r.off_symbols == std::vector<std::string>{"HIDDEN_M"});
	const auto it = r.kept_symbols.find("IWLWIFI");
	REQUIRE(it != r.kept_symbols.end());
	CHECK(it->second.front().where == (d.path() / "rules").string() + ":3");

	o.rules = {TrimRule{true, "no-such-module", Origin("--keep", 0)}};
	CHECK_THROWS_WITH(trim(o, Logger(Verbosity::quiet)), Catch::Matchers::Contains("--keep 'no-such-module': no module"));
	o.rules = {TrimRule{false, "virtio_blk", Origin("--drop", 0)}};
	CHECK_NOTHROW(trim(o, Logger(Verbosity::quiet)));

	o.rules.clear();
	o.module_dir = d.path();
	CHECK_THROWS_WITH(trim(o, Logger(Verbosity::quiet)), Catch::Matchers::Contains(d.path().string() + ": no modules.alias"));

	test::put(d.path() / "bad-rules", "keep a\nremove b\n");
	CHECK_THROWS_WITH(read_trim_rules(d.path() / "bad-rules"), Catch::Matchers::Contains("bad-rules:2") &&
									   Catch::Matchers::Contains("'remove b'"));
}

TEST_CASE("trim: what the user's layers set to m stays, with the layer's file and line", "[config]")
{
	TempDir d;
	trim_test_tree(d.path());
	TrimOptions o = trim_test_options(d.path());
	test::put(d.path() / "config.d/50-wifi.config", "# the laptop's card, not in the VM\nCONFIG_IWLWIFI=m\n");
	o.layers = {d.path() / "config.d"};
	TrimResult r = trim(o, Logger(Verbosity::quiet));
	CHECK(trim_test_kept(r, "iwlwifi"));
	CHECK(trim_test_kept(r, "cfg80211"));
	const auto it = r.kept_symbols.find("IWLWIFI");
	REQUIRE(it != r.kept_symbols.end());
	CHECK(it->second.front().kind == "layer");
	CHECK(it->second.front().where == (d.path() / "config.d/50-wifi.config").string() + ":2");
}

TEST_CASE("trim: the always-kept classes name modules", "[config]")
{
	const auto &classes = always_kept_classes();
	REQUIRE(classes.size() >= 5);
	for (const auto &c : classes) {
		CHECK_FALSE(c.why.empty());
		CHECK(c.modules.size() + c.directories.size() > 0);
	}
}
