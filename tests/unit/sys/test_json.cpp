// lib/sys/json.cpp: versioned documents (schema and version checked by readers), and JSON from
// files a user or an attacker controls: nesting is bounded when parsing (printing, copying and
// comparing recurse), and errors quote a short excerpt of a bad value.
#include "catch.hpp"

#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/json_text.hpp"
#include "distkernel/install.hpp"
#include "distkernel/json.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <functional>
#include <string>

using namespace distkernel;

namespace {

std::string nested(std::size_t depth, const std::string &inner = "1")
{
	return std::string(depth, '[') + inner + std::string(depth, ']');
}

std::string error_of(const std::function<void()> &f)
{
	try {
		f();
	} catch (const Error &e) {
		return e.what();
	}
	FAIL("no error");
	return {};
}

} // namespace

TEST_CASE("JSON nested beyond the limit is a parse error naming the file", "[sys]")
{
	CHECK(parse_json(nested(max_json_depth - 1), "f.json").is_array());
	std::string e = error_of([] { parse_json(nested(1000000), "f.json"); });
	CHECK_THAT(e, Catch::Matchers::StartsWith("f.json: "));
	CHECK_THAT(e, Catch::Matchers::Contains("nested deeper than"));
	e = error_of([] { parse_json("{\"a\": " + nested(100000) + "}", "f.json"); });
	CHECK_THAT(e, Catch::Matchers::Contains("nested deeper than"));
}

TEST_CASE("a bad value in a document is quoted as a short excerpt", "[sys]")
{
	CHECK(json_excerpt(Json(5)) == "5");
	CHECK(json_excerpt(parse_json(nested(40), "x")) == "an array of 1 elements");
	CHECK(json_excerpt(Json(std::string(10000000, 'x'))).size() < 100);
	CHECK(json_excerpt(Json(std::string("a\x1b[31m\0b\xff", 9))) == "\"a\\u001b[31m\\u0000b\ufffd\"");

	TempDir t;
	Json m = make_document("distkernel.machine", 1, 0);
	m["release"] = parse_json(nested(60), "x");
	atomic_write(t.path() / "m.json", m.dump());
	std::string e = error_of([&] { read_machine_snapshot(t.path() / "m.json"); });
	CHECK_THAT(e, Catch::Matchers::Contains("machine.release: expected a string, got an array of 1 elements"));

	// as deep as a hand-made file may be: a clear error, no stack overflow
	atomic_write(t.path() / "m.json", R"({"schema": "distkernel.machine", "version": "1.0", "release": )" + nested(500000) + "}");
	e = error_of([&] { read_machine_snapshot(t.path() / "m.json"); });
	CHECK_THAT(e, Catch::Matchers::Contains("m.json: not a document: arrays and objects nested deeper than"));
}

TEST_CASE("a deeply nested journal is a clear error, not a crash", "[sys]")
{
	TempDir t;
	Root root(t.path());
	Json j = make_document("distkernel.journal", 1, 0);
	std::string text = j.dump();
	text.pop_back();
	text += R"(, "previous_record": )" + nested(300000, "{}") + "}";
	root.make_dirs("/var/lib/distkernel"); // a read (state_dir) creates nothing
	atomic_write(state_dir(root) / "journal.json", text);
	Logger quiet(Verbosity::quiet);
	std::string e = error_of([&] { recover(root, quiet); });
	CHECK_THAT(e, Catch::Matchers::Contains("journal.json: not a document: arrays and objects nested deeper than"));
}

TEST_CASE("a document with bytes that are not UTF-8 prints with replacement characters", "[sys]")
{
	Json doc = make_document("distkernel.test", 1, 0);
	doc["value"] = std::string("a\xc3(b\xf6");
	std::string text;
	REQUIRE_NOTHROW(text = dump_json(doc));
	CHECK_THAT(text, Catch::Matchers::Contains("\"a\xef\xbf\xbd(b\xef\xbf\xbd\""));
	CHECK(dump_json(doc, -1).find('\n') == std::string::npos);
}

TEST_CASE("json: a number out of range is a parse error naming the file, not an escaped exception", "[sys]")
{
	try {
		(void)parse_json("{\"size\": 1e999}", "record.json");
		FAIL("no error");
	} catch (const ParseError &e) {
		CHECK_THAT(e.what(), Catch::Matchers::Contains("record.json"));
	}
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
