#include "catch.hpp"
#include "paths.hpp"

#include "distkernel/config.hpp"
#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

using test::source_root;

// The real Debian config that scripts/real-parts extracts (the test suite prepares it first).
fs::path debian_config()
{
	if (const char *c = std::getenv("DK_DEBIAN_CONFIG"))
		return c;
	const char *cache = std::getenv("DISTKERNEL_CACHE");
	fs::path boot = (cache ? fs::path(cache) : source_root() / ".cache") / "debian-kernel/root/boot";
	std::error_code ec;
	for (const auto &d : fs::directory_iterator(boot, ec))
		if (d.path().filename().string().rfind("config-", 0) == 0)
			return d.path();
	return {};
}

// The ParseError message for text, or "" when it parses.
std::string parse_error(const std::string &text)
{
	try {
		Config::parse(text, "frag.config");
	} catch (const ParseError &e) {
		return e.what();
	}
	return "";
}

} // namespace

TEST_CASE("a real distribution config round-trips byte for byte", "[config]")
{
	fs::path file = debian_config();
	INFO("Debian config: " << file << " (run scripts/real-parts first)");
	REQUIRE(!file.empty());
	std::string text = read_file(file);
	Config c = Config::parse(text, file.string());
	CHECK(c.write() == text);
	CHECK(c.symbol_count() > 8000);
	CHECK(c.value_of("MODULES").text() == "y");
	CHECK(c.find("MODULES")->origin.line > 0);
}

TEST_CASE("a copy of a config stands on its own; its text is the bytes parsed", "[config]")
{
	const std::string text = "# top\r\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_LONG_SYMBOL_NAME=\"some value\"\n";
	std::optional<Config> original = Config::parse(text, "/etc/kernel/config.d/10-a.config");
	Config copy = *original;
	original.reset(); // lines are kept as places in the parsed text: the copy must not point into this one
	CHECK(copy.text() == text);
	CHECK(copy.write() == "# top\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_LONG_SYMBOL_NAME=\"some value\"\n");
	copy.set("A", Value::tristate('m'), Origin{"cli", 0});
	CHECK(copy.write() == "# top\nCONFIG_A=m\n# CONFIG_B is not set\nCONFIG_LONG_SYMBOL_NAME=\"some value\"\n");
	// every entry of a file names it; they share one copy of the name
	const Entry *b = copy.find("B");
	const Entry *l = copy.find("LONG_SYMBOL_NAME");
	REQUIRE((b && l));
	CHECK(b->origin.str() == "/etc/kernel/config.d/10-a.config:3");
	CHECK(&b->origin.file() == &l->origin.file());
	CHECK(Origin{"x.config", 3} == Origin{std::string("x.config"), 3});
	CHECK(!(Origin{"x.config", 3} == Origin{"x.config", 4}));
	CHECK(Origin().file().empty());
	CHECK(copy.find(std::string_view("LONG_SYMBOL_NAME_AND_MORE").substr(0, 16)) == l);
}

TEST_CASE("every kind of value Kconfig writes parses and comes back unchanged", "[config]")
{
	std::string text = read_file(source_root() / "tests/fixtures/config/kconfig-written.config");
	Config c = Config::parse(text, "k.config");
	CHECK(c.write() == text);
	CHECK(c.value_of("LOCALVERSION").kind() == Value::Kind::string);
	CHECK(c.value_of("LOCALVERSION").plain() == "-with \"quotes\" and \\ backslash");
	CHECK(c.value_of("LOCALVERSION_AUTO").is_off());
	CHECK(c.find("LOCALVERSION_AUTO") != nullptr);
	CHECK(c.value_of("NR_CPUS").kind() == Value::Kind::number);
	CHECK(c.value_of("PHYSICAL_START").text() == "0x1000000");
	CHECK(c.value_of("LOG_BUF_SHIFT").text() == "-1");
	CHECK(c.value_of("EXT4_FS").kind() == Value::Kind::module);
	CHECK(c.value_of("EMPTY").plain().empty());
	CHECK(c.value_of("NOT_THERE").is_off());
	CHECK(c.find("NOT_THERE") == nullptr);
	CHECK(c.find("LOCALVERSION")->origin.str() == "k.config:6");
}

TEST_CASE("CRLF line ends, n and 'is not set' are read as Kconfig reads them", "[config]")
{
	Config c = Config::parse("CONFIG_A=y\r\n# CONFIG_B is not set\r\nCONFIG_C=n\r\nCONFIG_S=\"x\"\r\n", "crlf");
	CHECK(c.value_of("A").text() == "y");
	CHECK(c.value_of("B") == c.value_of("C"));
	CHECK(c.value_of("S").plain() == "x");
	CHECK(c.write() == "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=n\nCONFIG_S=\"x\"\n");
	CHECK(Config::parse("CONFIG_A=y", "x").write() == "CONFIG_A=y");
}

TEST_CASE("'is not set' with more after it is n, as Kconfig reads it; merge_config.sh's misses are remembered", "[config]")
{
	Config c = Config::parse("# CONFIG_A is not set # revisit this\n# CONFIG_B is not set\r\n# CONFIG_C is not set\n"
				 "# CONFIG_D is not set, really\n",
				 "f");
	CHECK(c.value_of("A").is_off());
	CHECK(c.find("A")->unusual == Entry::Unusual::text_after_not_set);
	CHECK(c.find("B")->unusual == Entry::Unusual::cr_after_not_set);
	CHECK(c.find("C")->unusual == Entry::Unusual::none);
	CHECK(c.find("D")->unusual == Entry::Unusual::text_after_not_set);
	CHECK(c.write() == "# CONFIG_A is not set # revisit this\n# CONFIG_B is not set\n# CONFIG_C is not set\n"
			   "# CONFIG_D is not set, really\n");

	// merge_config.sh removes the earlier lines of a symbol only for a line its pattern matches
	LayeredConfig l(Config::parse("CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=y\n", "base"));
	l.add_layer(Config::parse("# CONFIG_A is not set # why\n# CONFIG_B is not set\r\n# CONFIG_C is not set\n", "l1"));
	CHECK(l.merged_text() == "# --- from base\nCONFIG_A=y\nCONFIG_B=y\n"
				 "# --- from l1\n# CONFIG_A is not set\n# CONFIG_B is not set\n# CONFIG_C is not set\n");
	CHECK(l.current("A")->value.is_off());
	// a later line it does match removes them all
	l.add_layer(Config::parse("CONFIG_A=m\n", "l2"));
	CHECK(l.merged_text() == "# --- from base\nCONFIG_B=y\n"
				 "# --- from l1\n# CONFIG_B is not set\n# CONFIG_C is not set\n# --- from l2\nCONFIG_A=m\n");
	CHECK(l.position("A") > l.position("C"));
	CHECK(l.position("Z") == 0);
}

TEST_CASE("strings keep their escapes; from_string adds them", "[config]")
{
	Value v = Value::from_string("a\"b\\c");
	CHECK(v.text() == "\"a\\\"b\\\\c\"");
	CHECK(v.plain() == "a\"b\\c");
	CHECK(format_entry("X", v) == "CONFIG_X=\"a\\\"b\\\\c\"");
	CHECK(format_entry("X", Value::tristate('n')) == "# CONFIG_X is not set");
	CHECK(Value::parse("\"a\\\"\"")->plain() == "a\"");
}

TEST_CASE("malformed lines are rejected with file:line and the text", "[config]")
{
	CHECK(parse_error("CONFIG_A=y\nFOO=y\n") == "frag.config:2: not a config line (CONFIG_X=value, "
						    "'# CONFIG_X is not set', a comment or a blank line): 'FOO=y'");
	CHECK(parse_error("CONFIG_A-B=y\n").find("frag.config:1: 'CONFIG_A-B' is not a symbol name") == 0);
	CHECK(parse_error("CONFIG_=y\n").find("frag.config:1: 'CONFIG_' is not a symbol name") == 0);
	CHECK(parse_error("# CONFIG_A.B is not set\n").find("frag.config:1: 'CONFIG_A.B' is not a symbol name") == 0);
	CHECK(parse_error("\nCONFIG_S=\"open\n").find("frag.config:2: string without its closing quote: 'CONFIG_S=\"open'") == 0);
	CHECK(parse_error("CONFIG_S=\"a\\\"\n").find("frag.config:1: string without its closing quote") == 0);
	CHECK(parse_error("CONFIG_S=\"a\" b\n").find("frag.config:1: unexpected text after the closing quote") == 0);
	CHECK(parse_error("CONFIG_A\n").find("frag.config:1: assignment without '='") == 0);
	CHECK(parse_error("CONFIG_A=yes\n").find("frag.config:1: a value must be") == 0);
	CHECK(parse_error("CONFIG_A=\n").find("frag.config:1: empty value") == 0);
	CHECK(parse_error("CONFIG_A=0xZZ\n").find("frag.config:1: a value must be") == 0);
	CHECK(parse_error("CONFIG_A=y \n").find("frag.config:1: a value must be") == 0);
	CHECK(parse_error("  CONFIG_A=y\n").find("frag.config:1: indented assignment") == 0);
	// invisible characters are named, bytes that are not printable escaped
	CHECK(parse_error("CONFIG_A=y \n") == "frag.config:1: a value must be y, m, n, a \"string\" (Kconfig ignores an unquoted one), "
					     "a decimal or a 0x hexadecimal number: 'CONFIG_A=y ' (the line ends in a blank)");
	CHECK(parse_error("CONFIG_A=y\t\r\n").find("'CONFIG_A=y\\t' (the line ends in a tab and ends in CR LF)") != std::string::npos);
	CHECK(parse_error("\xEF\xBB\xBF" "CONFIG_A=y\n").find("(the line starts with a byte-order mark (U+FEFF))") != std::string::npos);
	CHECK(parse_error("CONFIG_S=\"a\" \xE9\n").find("'CONFIG_S=\"a\" \\xe9'") != std::string::npos);
	CHECK(parse_error("# distkernel: optionl\nCONFIG_A=y\n").find("frag.config:1: unknown distkernel directive") == 0);
	CHECK(parse_error("CONFIG_A=y\n# distkernel: optional\n").find("frag.config:2: '# distkernel: optional' is not followed") == 0);
	// comments of every shape are fine
	CHECK(parse_error("# just a comment\n#CONFIG_A=y\n  # indented comment\n\t\n# CONFIG_A=y\n").empty());
}

TEST_CASE("optional directives mark one value or a whole fragment", "[config]")
{
	Config c = Config::parse("CONFIG_A=y\n# distkernel: optional\n\n# why\nCONFIG_B=m\nCONFIG_C=y\n", "f");
	CHECK_FALSE(c.find("A")->optional);
	CHECK(c.find("B")->optional);
	CHECK_FALSE(c.find("C")->optional);
	Config all = Config::parse("CONFIG_A=y\n# distkernel: optional-fragment\nCONFIG_C=y\n", "g");
	CHECK(all.find("A")->optional);
	CHECK(all.find("C")->optional);
}

TEST_CASE("set replaces the value that counts in place and is written canonically", "[config]")
{
	Config c = Config::parse("# head\nCONFIG_A=y\nCONFIG_B=n\n", "f");
	c.set("B", Value::tristate('y'), Origin{"cli", 0});
	c.set("A", Value::tristate('n'), Origin{"cli", 0});
	c.set("NEW", Value::from_string("x"), Origin{"cli", 0});
	CHECK(c.write() == "# head\n# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_NEW=\"x\"\n");
	CHECK(c.find("B")->origin.file() == "cli");
}

TEST_CASE("layers override in order and every override is recorded", "[config]")
{
	LayeredConfig l(Config::parse("CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=y\n", "base"));
	l.add_layer(Config::parse("CONFIG_B=y\nCONFIG_C=y\nCONFIG_E=\"e\"\nCONFIG_D=y\n", "l1"));
	l.add_layer(Config::parse("# CONFIG_B is not set\nCONFIG_E=\"f\"\n", "l2"));

	const auto &ov = l.overrides();
	REQUIRE(ov.size() == 4);
	CHECK(ov[0].symbol == "B");
	CHECK(ov[0].before.origin.str() == "base:2");
	CHECK(ov[0].before.value.text() == "m");
	CHECK(ov[0].after.origin.str() == "l1:1");
	CHECK(ov[1].symbol == "C");
	CHECK(ov[2].symbol == "B");
	CHECK(ov[2].before.origin.str() == "l1:1");
	CHECK(ov[2].after.value.is_off());
	CHECK(ov[3].symbol == "E");
	CHECK(ov[3].after.origin.str() == "l2:2");

	auto req = l.requested();
	REQUIRE(req.size() == 4);
	CHECK(req[0].symbol == "B");
	CHECK(req[0].origin.str() == "l2:1");
	CHECK(req[1].symbol == "C");
	CHECK(req[2].symbol == "E");
	CHECK(req[2].value.plain() == "f");
	CHECK(req[3].symbol == "D");

	// merge_config.sh -m order: the base without what layers set, then each layer without what
	// later layers set.
	CHECK(l.merged_text() == "# --- from base\nCONFIG_A=y\n"
				 "# --- from l1\nCONFIG_C=y\nCONFIG_D=y\n"
				 "# --- from l2\n# CONFIG_B is not set\nCONFIG_E=\"f\"\n");
}

TEST_CASE("a symbol repeated inside one layer keeps both lines, the last counts", "[config]")
{
	LayeredConfig l(Config::parse("CONFIG_A=y\n", "base"));
	l.add_layer(Config::parse("CONFIG_A=m\nCONFIG_A=y\n", "l1"));
	CHECK(l.requested().at(0).origin.str() == "l1:2");
	CHECK(l.overrides().size() == 2);
	CHECK(l.merged_text() == "# --- from base\n# --- from l1\nCONFIG_A=m\nCONFIG_A=y\n");
}

TEST_CASE("directories of fragments are read in lexical order", "[config]")
{
	TempDir t;
	fs::create_directories(t.path() / "d");
	for (auto n : {"20-b.config", "10-a.config", "README", "30-c.config.bak"})
		atomic_write(t.path() / "d" / n, "CONFIG_A=y\n");
	atomic_write(t.path() / "x.config", "CONFIG_A=y\n");
	auto files = expand_layers({t.path() / "d", t.path() / "x.config"});
	REQUIRE(files.size() == 3);
	CHECK(files[0].filename() == "10-a.config");
	CHECK(files[1].filename() == "20-b.config");
	CHECK(files[2].filename() == "x.config");
	CHECK_THROWS_AS(expand_layers({t.path() / "missing"}), Error);

	// dot-files are skipped as the shell's *.config glob skips them; a dangling symlink is an error
	atomic_write(t.path() / "d" / ".hidden.config", "CONFIG_A=y\n");
	CHECK(expand_layers({t.path() / "d"}).size() == 2);
	fs::create_symlink(t.path() / "gone.config", t.path() / "d" / "40-gone.config");
	try {
		expand_layers({t.path() / "d"});
		FAIL("a dangling symlink was accepted");
	} catch (const Error &e) {
		CHECK(std::string(e.what()).find("40-gone.config: dangling symlink (to '" + (t.path() / "gone.config").string()) !=
		      std::string::npos);
	}
}

TEST_CASE("diff names added, removed and changed symbols", "[config]")
{
	Config a = Config::parse("CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n", "a");
	Config b = Config::parse("CONFIG_A=y\nCONFIG_B=y\nCONFIG_D=\"x\"\n", "b");
	ConfigDiff d = diff_configs(a, b);
	REQUIRE(d.added.size() == 1);
	CHECK(d.added[0].symbol == "D");
	REQUIRE(d.removed.size() == 1);
	CHECK(d.removed[0].symbol == "C");
	REQUIRE(d.changed.size() == 1);
	CHECK(d.changed[0].symbol == "B");
	CHECK(d.changed[0].a->text() == "m");
	CHECK(d.changed[0].b->text() == "y");
}
