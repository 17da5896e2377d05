// lib/install/state.cpp: the deployment records and the journal of an interrupted install.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/error.hpp"
#include "distkernel/install.hpp"

#include <filesystem>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

using test::put;

} // namespace

TEST_CASE("deployment records round-trip and reject paths outside /boot", "[install]")
{
	Deployment d;
	d.release = "6.1.0-1-test";
	d.layout = Layout::bls;
	d.time = "2026-01-01T00:00:00Z";
	d.files = {{"/boot/vmlinuz-6.1.0-1-test", 5, "ab"}};
	d.dirs = {"/boot/x"};
	d.dracut_args = {"--drivers", "ext4"};
	Deployment back = Deployment::from_json(Json(d), "test");
	CHECK(back.release == d.release);
	CHECK(Json(d)["layout"] == "bls");
	CHECK(installed_document({})["kernels"] == Json::array());
	Json listed = installed_document({d, d});
	CHECK(listed["schema"] == "distkernel.installed");
	REQUIRE(listed["kernels"].size() == 2);
	CHECK(listed["kernels"][1] == Json(d));
	InstallResult r;
	r.deployment = d;
	r.layout_reason = "--layout bls";
	Json re = reinstall_document({r});
	CHECK(re["kernels"][0]["release"] == d.release);
	CHECK(re["kernels"][0]["layout_reason"] == "--layout bls");
	CHECK(reinstall_document({})["kernels"] == Json::array());
	CHECK(back.layout == Layout::bls);
	CHECK(back.files.size() == 1);
	CHECK(back.dracut_args == d.dracut_args);
	Json bad = Json(d);
	bad["files"][0]["path"] = "/etc/passwd";
	CHECK_THROWS_AS(Deployment::from_json(bad, "test"), Error);
	bad = Json(d);
	bad["version"] = "2.0";
	CHECK_THROWS_AS(Deployment::from_json(bad, "test"), Error);
}

namespace {

// The message of the Error reading doc as a record, or "" when it reads fine.
std::string record_error(const Json &doc)
{
	try {
		Deployment::from_json(doc, "R");
	} catch (const Error &e) {
		return e.what();
	}
	return "";
}

} // namespace

TEST_CASE("records are validated field by field, naming the field", "[install]")
{
	Deployment d;
	d.release = "6.1.0-1-test";
	d.files = {{"/boot/vmlinuz-6.1.0-1-test", 5, "ab"}, {"/boot/a", 1, "cd"}, {"/boot/b", 1, "ef"}};
	d.dirs = {"/boot/TOKEN/6.1.0-1-test"};
	const Json good = Json(d);
	CHECK(record_error(good).empty());

	Json bad = good;
	bad["files"][2]["size"] = "12";
	CHECK(record_error(bad) == "record R: field 'files[2].size': expected a number, got a string");
	bad = good;
	bad["files"][0]["size"] = -5;
	CHECK(record_error(bad).find("field 'files[0].size': -5 is not a file size") != std::string::npos);
	bad["files"][0]["size"] = 1e30;
	CHECK(record_error(bad).find("field 'files[0].size'") != std::string::npos);
	bad["files"][0]["size"] = std::uint64_t(1) << 62;
	CHECK(record_error(bad).find("is not a file size") != std::string::npos);
	bad = good;
	bad["release"] = 6;
	CHECK(record_error(bad) == "record R: field 'release': expected a string, got a number");
	bad = good;
	bad["files"][1].erase("sha256");
	CHECK(record_error(bad) == "record R: field 'files[1].sha256': missing");
	bad = good;
	bad["dracut_args"] = Json::array({"--x", 3});
	CHECK(record_error(bad) == "record R: field 'dracut_args[1]': expected a string, got a number");

	// What remove deletes: plain paths strictly below /boot, for files and directories alike.
	for (const char *dir : {"/etc", "/boot", "/boot/..", "/boot/../etc", "/boot/./x", "/boot//x", "/boot/x/", "boot/x", "/"}) {
		bad = good;
		bad["dirs"] = Json::array({dir});
		CHECK(record_error(bad).find("field 'dirs[0]': '" + std::string(dir) + "' is not a path strictly below /boot") !=
		      std::string::npos);
		bad = good;
		bad["files"][1]["path"] = dir;
		CHECK(record_error(bad).find("field 'files[1].path'") != std::string::npos);
	}

	// The version is a string MAJOR.MINOR: a number is the wrong type, not a missing field.
	bad = good;
	bad["version"] = 1.0;
	CHECK(record_error(bad).find("field 'version': expected a string \"MAJOR.MINOR\", got number") != std::string::npos);
	for (const char *v : {"+1.x", "1", "1.0.0", " 1.0", "1.", ".0", "-1.0", "1.0x"}) {
		bad = good;
		bad["version"] = v;
		CHECK(record_error(bad).find("malformed version") != std::string::npos);
	}
	bad["version"] = "1.7";
	CHECK(record_error(bad).empty());
}

TEST_CASE("a journal left by a killed install is rolled back", "[install]")
{
	TempDir t;
	Root root(t.path());
	const fs::path boot = t.path() / "boot";
	// Before: an old vmlinuz. The killed run had moved it aside and renamed the new one in,
	// renamed a new initramfs in, and not yet touched the entry still in staging.
	put(boot / ".distkernel-old-K/vmlinuz-K", "old image");
	put(boot / "vmlinuz-K", "new image");
	put(boot / "initramfs-K.img", "new initramfs");
	put(boot / ".distkernel-new-K/loader/entries/e.conf", "entry");
	fs::create_directories(boot / "loader/entries");
	put(boot / "unrelated", "keep");
	Json j = make_document("distkernel.journal", 1, 0);
	j["release"] = "K";
	j["boot"] = "/boot";
	j["staging"] = "/boot/.distkernel-new-K";
	j["backup"] = "/boot/.distkernel-old-K";
	j["entries"] = Json::array({{{"path", "vmlinuz-K"}, {"op", "new"}},
				    {{"path", "initramfs-K.img"}, {"op", "new"}},
				    {{"path", "loader/entries/e.conf"}, {"op", "new"}}});
	j["created_dirs"] = Json::array({"/boot/loader", "/boot/loader/entries"});
	j["previous_record"] = nullptr;
	put(state_dir(root) / "journal.json", j.dump());
	put(state_dir(root) / "kernels/K.json", "{}");
	Logger quiet(Verbosity::quiet);
	CHECK(recover(root, quiet));
	CHECK(read_file(boot / "vmlinuz-K") == "old image");
	CHECK_FALSE(fs::exists(boot / "initramfs-K.img"));
	CHECK_FALSE(fs::exists(boot / "loader"));
	CHECK_FALSE(fs::exists(boot / ".distkernel-new-K"));
	CHECK_FALSE(fs::exists(boot / ".distkernel-old-K"));
	CHECK(read_file(boot / "unrelated") == "keep");
	CHECK_FALSE(fs::exists(state_dir(root) / "journal.json"));
	CHECK_FALSE(fs::exists(state_dir(root) / "kernels/K.json"));
	CHECK_FALSE(recover(root, quiet));
}
