#include "catch.hpp"

#include "files.hpp"
#include "sys/dirs.hpp"
#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"

#include <filesystem>

using namespace distkernel;

TEST_CASE("make_dirs creates missing parents, and names the path it cannot create", "[sys]")
{
	TempDir t;
	make_dirs(t.path() / "a" / "b" / "c");
	CHECK(std::filesystem::is_directory(t.path() / "a" / "b" / "c"));
	make_dirs(t.path() / "a" / "b"); // already there: nothing to do
	test::put(t.path() / "file", "x");
	try {
		make_dirs(t.path() / "file" / "sub");
		FAIL("a file in the way was not reported");
	} catch (const SystemError &e) {
		CHECK_THAT(e.what(), Catch::Matchers::Contains((t.path() / "file" / "sub").string()));
	}
}
