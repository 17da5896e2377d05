#include "catch.hpp"

#include "distkernel/error.hpp"
#include "distkernel/hash.hpp"
#include "distkernel/json.hpp"
#include "distkernel/rootfs.hpp"

using namespace distkernel;

TEST_CASE("sha256 matches the FIPS 180-4 examples", "[sys]")
{
	CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
	      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	CHECK(sha256_hex(std::string(1000000, 'a')) ==
	      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	TempDir t;
	atomic_write(t.path() / "f", "abc");
	CHECK(sha256_file(t.path() / "f") == sha256_hex("abc"));
}

TEST_CASE("documents carry schema and version; readers check the major", "[sys]")
{
	Json d = make_document("distkernel.test", 1, 2);
	CHECK(d["version"] == "1.2");
	CHECK_NOTHROW(check_document(d, "distkernel.test", 1, "x"));
	Json newer = make_document("distkernel.test", 1, 9);
	CHECK_NOTHROW(check_document(newer, "distkernel.test", 1, "x"));
	Json major = make_document("distkernel.test", 2, 0);
	CHECK_THROWS_WITH(check_document(major, "distkernel.test", 1, "f.json"),
			  "f.json: version 2.0 of distkernel.test is not supported (this distkernel reads 1.x)");
	CHECK_THROWS_AS(check_document(d, "distkernel.other", 1, "x"), Error);
	CHECK_THROWS_AS(check_document(Json::array(), "distkernel.test", 1, "x"), Error);

	TempDir t;
	atomic_write(t.path() / "bad.json", "{not json");
	CHECK_THROWS_AS(read_document(t.path() / "bad.json", "distkernel.test", 1), ParseError);
}
