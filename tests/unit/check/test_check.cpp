// lib/check/check.cpp: verdicts, their exit codes, the check report.
#include "catch.hpp"

#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kmod.hpp"

#include <fmt/core.h>

using namespace distkernel;

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
