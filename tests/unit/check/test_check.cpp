#include "catch.hpp"

#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kmod.hpp"

#include <fmt/core.h>

using namespace distkernel;

namespace {

// One cpio newc entry, padded as the kernel expects.
std::string entry(const std::string &name, const std::string &data)
{
	std::string h = fmt::format("070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}", 1, 0100644,
				    0, 0, 1, 0, data.size(), 0, 0, 0, 0, name.size() + 1, 0);
	std::string out = h + name + '\0';
	out.append((4 - out.size() % 4) % 4, '\0');
	out += data;
	out.append((4 - out.size() % 4) % 4, '\0');
	return out;
}

} // namespace

TEST_CASE("module names are normalised as the kernel does", "[check]")
{
	CHECK(normalise_module_name("kernel/drivers/block/virtio_blk.ko") == "virtio_blk");
	CHECK(normalise_module_name("usr/lib/modules/6.12/kernel/drivers/md/dm-crypt.ko.zst") == "dm_crypt");
	CHECK(normalise_module_name("nvme-core.ko.xz") == "nvme_core");
	CHECK(normalise_module_name("snd-hda-intel") == "snd_hda_intel");
	CHECK(normalise_module_name("x.ko.gz") == "x");
}

TEST_CASE("concatenated cpio archives with padding between them are all read", "[check]")
{
	std::string a = entry("kernel/x86/microcode/GenuineIntel.bin", "abc") + entry("TRAILER!!!", "");
	std::string b = entry("usr/lib/modules/6.1.0-56-amd64/kernel/fs/ext4/ext4.ko.zst", "12345") +
			entry("./lib/modules/6.1.0-56-amd64/kernel/drivers/nvme/host/nvme-core.ko", "") +
			entry("TRAILER!!!", "");
	InitramfsContents c;
	parse_cpio(a + std::string(512, '\0') + b, "test.img", c);
	CHECK(c.files.size() == 3);
	CHECK(c.modules == std::vector<std::string>{"ext4", "nvme_core"});
	CHECK(c.releases == std::vector<std::string>{"6.1.0-56-amd64"});
	CHECK(c.has_module("nvme-core"));
	CHECK_FALSE(c.has_module("nvme"));
}

TEST_CASE("a damaged cpio archive is an error naming the image and the byte", "[check]")
{
	std::string a = entry("lib/modules/6.1/kernel/fs/ext4/ext4.ko", std::string(100, 'x'));
	InitramfsContents c;
	try {
		parse_cpio(a.substr(0, 150), "img", c);
		FAIL("no error");
	} catch (const ParseError &e) {
		CHECK(std::string(e.what()).find("img") != std::string::npos);
		CHECK(std::string(e.what()).find("100 bytes of data run past the end") != std::string::npos);
	}
	std::string bad = a;
	bad[60] = 'z'; // inside the file size field
	CHECK_THROWS_AS(parse_cpio(bad, "img", c), ParseError);
	CHECK_THROWS_AS(parse_cpio(std::string("\x28\xb5\x2f\xfd", 4), "img", c), ParseError);
}

TEST_CASE("a machine snapshot survives a round trip and bad fields are named", "[check]")
{
	Machine m;
	m.release = "6.6.30-gentoo-dist";
	m.cmdline = "root=/dev/vda";
	m.devices.push_back(Device{"/sys/devices/pci0000:00/0000:00:03.0/virtio1", "virtio:d00000002v00001AF4", "virtio_blk", "virtio_blk"});
	m.loaded_modules = {"virtio_blk", "ext4"};
	Mount root{"/", "ext4", "/dev/vda", "254:0", {BlockLayer{"vda", "disk", "", {m.devices[0]}}}, std::nullopt, std::nullopt};
	m.root = root;
	Mount boot = root;
	boot.free_bytes = 12345;
	m.boot = boot;
	Json j = Json(m);
	CHECK(j["schema"] == "distkernel.machine");
	CHECK(j["version"] == "1.0");
	Machine back = machine_from_json(j, "m.json");
	CHECK(back.release == m.release);
	REQUIRE(back.root);
	REQUIRE(back.root->chain.size() == 1);
	CHECK(back.root->chain[0].devices[0].driver == "virtio_blk");
	CHECK(back.boot->free_bytes == 12345u);

	j["mounts"]["root"]["chain"][0]["devices"][0]["modalias"] = 7;
	try {
		machine_from_json(j, "m.json");
		FAIL("no error");
	} catch (const ParseError &e) {
		CHECK(std::string(e.what()).find("mounts.root.chain[0].devices[0].modalias: expected a string, got 7") != std::string::npos);
	}
	Json v2 = Json(m);
	v2["version"] = "2.0";
	CHECK_THROWS_AS(machine_from_json(v2, "m.json"), Error);
	Json v1x = Json(m);
	v1x["version"] = "1.9";
	CHECK(machine_from_json(v1x, "m.json").release == m.release);
}

TEST_CASE("verdicts map to documented exit codes", "[check]")
{
	CHECK(verdict_exit_code(Verdict::ok) == 0);
	CHECK(verdict_exit_code(Verdict::losses) == 4);
	CHECK(verdict_exit_code(Verdict::no_boot) == 5);
	CHECK(verdict_text(Verdict::no_boot) == "will not boot");
}

TEST_CASE("a check report as JSON: names of verdicts and severities, the exit code", "[check]")
{
	CheckReport r;
	r.release = "6.1.0-1-test";
	r.verdict = Verdict::losses;
	r.findings.push_back({CheckFinding::Severity::loss, "hardware", "no driver for X", Json{{"device", "/sys/x"}}});
	Json j = r;
	CHECK(j["schema"] == "distkernel.check");
	CHECK(j["verdict"] == "will boot with losses");
	CHECK(j["exit_code"] == 4);
	REQUIRE(j["findings"].size() == 1);
	CHECK(j["findings"][0].dump() ==
	      R"({"severity":"loss","area":"hardware","message":"no driver for X","detail":{"device":"/sys/x"}})");
	CHECK(r.to_text() == "6.1.0-1-test: will boot with losses\n  loss [hardware]: no driver for X\n");
	CHECK(enum_from_name<Verdict>("will not boot") == Verdict::no_boot);
	CHECK_FALSE(enum_from_name<Verdict>("fine").has_value());
	CHECK(enum_from_name<CheckFinding::Severity>("info") == CheckFinding::Severity::info);

	InitramfsContents c;
	c.image = "/boot/initramfs-6.1.img";
	c.segments = {"cpio", "cpio (zstd)"};
	c.files = {"usr", "usr/lib/modules/6.1/kernel/a.ko"};
	c.modules = {"a"};
	c.releases = {"6.1"};
	CHECK(Json(c).dump() == R"({"schema":"distkernel.initramfs","version":"1.0","image":"/boot/initramfs-6.1.img",)"
				R"j("segments":["cpio","cpio (zstd)"],"releases":["6.1"],"files":2,"modules":["a"]})j");
}
