// lib/stage/stage.cpp: a prebuilt kernel staged into a destination root with its manifest.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/stage.hpp"

#include <filesystem>
#include <string>

using namespace distkernel;
namespace fs = std::filesystem;
using test::put;

namespace {

// A prebuilt kernel's parts under DIR/in (image, config, System.map, an empty module tree) and
// the options that stage them into DIR/dest.
PrebuiltStageOptions prebuilt_parts(const fs::path &dir, const std::string &kv)
{
	put(dir / "in/vmlinuz", "image");
	put(dir / "in/config", "CONFIG_MODULES=y\n");
	put(dir / "in/System.map", "map");
	put(dir / "in" / kv / "modules.order", "");
	PrebuiltStageOptions o;
	o.release = kv;
	o.image = dir / "in/vmlinuz";
	o.config = dir / "in/config";
	o.system_map = dir / "in/System.map";
	o.modules = dir / "in" / kv;
	o.dest = dir / "dest";
	o.variant = "unit";
	o.jobs = 1;
	return o;
}

} // namespace

TEST_CASE("a prebuilt kernel is staged with its manifest and reads back verified", "[stage]")
{
	TempDir t;
	const std::string kv = "6.1.0-9-unit";
	PrebuiltStageOptions o = prebuilt_parts(t.path(), kv);
	put(t.path() / "in" / kv / "build", "a link of the package's own, replaced");
	StageResult r = stage_prebuilt(o, Logger(Verbosity::quiet));
	CHECK(r.release == kv);
	CHECK(r.files >= 3);
	CHECK(fs::exists(r.manifest));

	Root dest(t.path() / "dest");
	StagedKernel k = read_staged(dest, kv);
	CHECK(k.image == "/usr/src/linux-" + kv + "/" + default_image_path(o.arch));
	CHECK(read_file(dest.path(k.image)) == "image");
	CHECK(read_file(dest.path(k.config)) == "CONFIG_MODULES=y\n");
	CHECK_NOTHROW(verify_staged(dest, k, {k.image, k.config}));
	CHECK(fs::exists(dest.path("/lib/modules/" + kv + "/modules.dep")));
	CHECK_FALSE(fs::is_regular_file(dest.path("/lib/modules/" + kv + "/build")));
}

TEST_CASE("a prebuilt kernel with a missing part is refused before anything is staged", "[stage]")
{
	TempDir t;
	put(t.path() / "in/config", "CONFIG_MODULES=y\n");
	fs::create_directories(t.path() / "in/6.1.0-9-unit");
	PrebuiltStageOptions o;
	o.release = "6.1.0-9-unit";
	o.image = t.path() / "in/vmlinuz";
	o.config = t.path() / "in/config";
	o.modules = t.path() / "in/6.1.0-9-unit";
	o.dest = t.path() / "dest";
	CHECK_THROWS_AS(stage_prebuilt(o, Logger(Verbosity::quiet)), UsageError);
	CHECK_FALSE(fs::exists(t.path() / "dest"));
	o.image = o.config;
	o.release = "../6.1";
	CHECK_THROWS_AS(stage_prebuilt(o, Logger(Verbosity::quiet)), UsageError);
	CHECK_FALSE(fs::exists(t.path() / "dest"));
}

TEST_CASE("a file whose name is not UTF-8 stops staging, named, and nothing is left behind", "[stage]")
{
	TempDir t;
	const std::string kv = "6.1.0-9-unit";
	PrebuiltStageOptions o = prebuilt_parts(t.path(), kv);
	put(t.path() / "in" / kv / "extra/bad\xff.ko", "not a module");
	std::string what;
	try {
		stage_prebuilt(o, Logger(Verbosity::quiet));
	} catch (const Error &e) {
		what = e.what();
	}
	CHECK(what.find("extra/bad\\xff.ko: its name is not UTF-8") != std::string::npos);
	CHECK_FALSE(fs::exists(t.path() / "dest/lib/modules" / kv));
	CHECK_FALSE(fs::exists(t.path() / ("dest/usr/src/linux-" + kv)));
}
