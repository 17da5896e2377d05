#include "catch.hpp"
#include "files.hpp"

#include "distkernel/clean.hpp"
#include "distkernel/error.hpp"

#include <algorithm>
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

namespace {

// A remover that notes which kernels' plugins it was asked to tell; the plugin of kernel
// plugin_removes takes its image, that of plugin_fails fails.
class PluginCallsRemover : public KernelRemover {
public:
	std::vector<std::string> told;
	std::string plugin_removes, plugin_fails;
	std::vector<std::string> remove(const Root &, const std::string &, const Logger &) override { return {}; }
	std::string tell_plugins(const Root &root, const std::string &release, const Logger &) override
	{
		told.push_back(release);
		if (release == plugin_removes)
			fs::remove(root.path("/boot/vmlinuz-" + release));
		return release == plugin_fails ? "kernel-install remove failed (exit 1): kernel-install remove " + release : "";
	}
};

} // namespace

TEST_CASE("clean --all tells the plugins of each kernel distkernel did not install before its files go", "[clean]")
{
	TempDir t;
	Root root(t.path());
	for (const char *kv : {"6.6.1-new", "6.1.1-old", "5.10.1-older"}) {
		test::put(t.path() / "boot" / (std::string("vmlinuz-") + kv), "image");
		test::put(t.path() / "boot" / (std::string("System.map-") + kv), "map");
	}
	fs::create_directories(t.path() / "lib/modules/4.19.1-modules-only/kernel");
	CleanOptions o;
	o.all = true;
	o.keep = 1;
	o.running = "none";
	CleanPlan plan = plan_clean(root, o, Logger(Verbosity::quiet));
	PluginCallsRemover r;
	r.plugin_removes = "6.1.1-old";
	auto removed = execute_clean(root, plan, r, Logger(Verbosity::quiet));
	// Not the kept kernel, nor a module tree without a kernel.
	CHECK(r.told == std::vector<std::string>{"6.1.1-old", "5.10.1-older"});
	// The image a plugin took counts as removed; the rest went file by file.
	CHECK(std::count(removed.begin(), removed.end(), "/boot/vmlinuz-6.1.1-old") == 1);
	CHECK(std::count(removed.begin(), removed.end(), "/boot/System.map-5.10.1-older") == 1);
	CHECK_FALSE(fs::exists(t.path() / "boot/System.map-6.1.1-old"));
	CHECK_FALSE(fs::exists(t.path() / "lib/modules/4.19.1-modules-only"));
	CHECK(fs::exists(t.path() / "boot/vmlinuz-6.6.1-new"));

	// A failing plugin: that kernel's files are gone, then the error names the plugin run.
	test::put(t.path() / "boot/vmlinuz-6.1.2-old", "image");
	plan = plan_clean(root, o, Logger(Verbosity::quiet));
	r.plugin_fails = "6.1.2-old";
	try {
		execute_clean(root, plan, r, Logger(Verbosity::quiet));
		FAIL("no error");
	} catch (const Error &e) {
		CHECK_THAT(e.what(), Catch::Matchers::StartsWith("kernel-install remove failed (exit 1)"));
		CHECK_THAT(e.what(), Catch::Matchers::Contains("6.1.2-old's files are removed"));
	}
	CHECK_FALSE(fs::exists(t.path() / "boot/vmlinuz-6.1.2-old"));
	CHECK_FALSE(plan.carried_out);
}
