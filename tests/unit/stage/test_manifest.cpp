// lib/stage/manifest.cpp: staged manifests read and verified, files hashed in parallel, the
// stage result's document.
#include "catch.hpp"
#include "files.hpp"
#include "staged.hpp"

#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/stage.hpp"

#include <filesystem>
#include <string>
#include <vector>

using namespace distkernel;
namespace fs = std::filesystem;
using test::fake_stage;
using test::put;

TEST_CASE("staged manifests are verified", "[stage]")
{
	TempDir t;
	Root root(t.path());
	fake_stage(t.path(), "6.1.0-1-test");
	StagedKernel k = read_staged(root, "6.1.0-1-test");
	CHECK(k.files.size() == 3);
	CHECK_NOTHROW(verify_staged(root, k, {k.image, k.config}));
	put(t.path() / "usr/src/linux-6.1.0-1-test/.config", "CONFIG_MODULES=n\n");
	try {
		verify_staged(root, k, {k.image, k.config});
		FAIL("no error");
	} catch (const Error &e) {
		CHECK(std::string(e.what()).find(".config has sha256") != std::string::npos);
	}
	CHECK_THROWS_AS(read_staged(root, "6.1.0-2-missing"), Error);
	CHECK_THROWS_AS(read_staged(root, "../x"), UsageError);
	CHECK(parse_module_compression("zstd") == ModuleCompression::zstd);
	CHECK_THROWS_AS(parse_module_compression("lz4"), UsageError);
	CHECK(to_string(ModuleCompression::none) == "none");
	StageResult sr{"6.1.0-1-test", "/d/usr/src/linux-6.1.0-1-test/distkernel-manifest.json", 3, 4096, 0.5};
	CHECK(Json(sr).dump() == R"({"schema":"distkernel.stage-result","version":"1.0","release":"6.1.0-1-test",)"
				 R"("manifest":"/d/usr/src/linux-6.1.0-1-test/distkernel-manifest.json","files":3,"bytes":4096,)"
				 R"("hash_seconds":0.5})");
	CHECK(default_image_path("x86_64") == "arch/x86/boot/bzImage");
}

TEST_CASE("parallel hashing equals sha256_file", "[stage]")
{
	TempDir t;
	std::vector<fs::path> files;
	for (int i = 0; i < 20; ++i) {
		files.push_back(t.path() / ("f" + std::to_string(i)));
		put(files.back(), std::string(static_cast<std::size_t>(i) * 1000, static_cast<char>('a' + i)));
	}
	auto sums = sha256_files(files, 3);
	for (std::size_t i = 0; i < files.size(); ++i)
		CHECK(sums[i] == sha256_file(files[i]));
	files.push_back(t.path() / "missing");
	CHECK_THROWS_AS(sha256_files(files, 2), SystemError);
}
