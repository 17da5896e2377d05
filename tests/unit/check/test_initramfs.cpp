// lib/check/initramfs.cpp: the initramfs's cpio archives read as the kernel reads them.
#include "catch.hpp"

#include "distkernel/check.hpp"
#include "distkernel/error.hpp"

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
