#include "catch.hpp"

#include "distkernel/clean.hpp"
#include "distkernel/error.hpp"

#include <filesystem>

using namespace distkernel;
namespace fs = std::filesystem;

TEST_CASE("releases sort by their numbers, not as text", "[clean]")
{
	CHECK(compare_releases("6.1.0-9-amd64", "6.1.0-10-amd64") < 0);
	CHECK(compare_releases("6.12.1-gentoo-dist", "6.6.30-gentoo-dist") > 0);
	CHECK(compare_releases("6.1.0-56-amd64", "6.1.0-56-amd64") == 0);
	CHECK(compare_releases("6.1.0", "6.1.0-1") < 0);
	CHECK(compare_releases("6.1.07", "6.1.7") == 0);
}

TEST_CASE("clean.conf: keep and pin, errors with file and line", "[clean]")
{
	TempDir t;
	Root root(t.path());
	CHECK(read_clean_config(root).keep == 3);
	CHECK(read_clean_config(root).source.empty());
	fs::create_directories(t.path() / "etc/distkernel");
	atomic_write(t.path() / "etc/distkernel/clean.conf", "# comment\nkeep = 5  # five\n\npin = 6.1.0-55-amd64\npin=6.6.1\n");
	CleanConfig c = read_clean_config(root);
	CHECK(c.keep == 5);
	CHECK(c.pinned == std::vector<std::string>{"6.1.0-55-amd64", "6.6.1"});
	atomic_write(t.path() / "etc/distkernel/clean.conf", "keep = 2\npin = ../../etc\n");
	try {
		read_clean_config(root);
		FAIL("no error");
	} catch (const ParseError &e) {
		CHECK(e.line() == 2);
		CHECK(std::string(e.what()).find("'../../etc' is not a kernel release") != std::string::npos);
	}
	atomic_write(t.path() / "etc/distkernel/clean.conf", "kep = 2\n");
	CHECK_THROWS_AS(read_clean_config(root), ParseError);
}

TEST_CASE("a clean plan is a pretend one until execute_clean carried it out", "[clean]")
{
	TempDir t;
	Root root(t.path());
	fs::create_directories(t.path() / "boot");
	CleanPlan plan = plan_clean(root, CleanOptions{}, Logger(Verbosity::quiet));
	CHECK(plan.nothing_to_do());
	Json j = plan;
	CHECK(j["schema"] == "distkernel.clean");
	CHECK(j["pretend"] == true);
	CHECK(j["kernels"] == Json::array());
	CHECK(plan.to_text() == "0 bytes would be freed\n");
	auto remover = install_remover("");
	execute_clean(root, plan, *remover, Logger(Verbosity::quiet));
	CHECK(plan.carried_out);
	CHECK(Json(plan)["pretend"] == false);
	CHECK(plan.to_text() == "0 bytes freed\n");
}
