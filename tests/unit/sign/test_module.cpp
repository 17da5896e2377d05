// lib/sign/module.cpp: a module's appended signature (sign-file's format) verified as the kernel
// would, against the kernel's certificate.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/process.hpp"
#include "distkernel/sign.hpp"

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

void module_key(const fs::path &dir, const std::string &name)
{
	Result r = run(Command({"openssl", "req", "-new", "-nodes", "-x509", "-newkey", "rsa:2048", "-days", "2",
				"-batch", "-subj", "/CN=" + name + "/", "-keyout", (dir / (name + ".key")).string(),
				"-out", (dir / (name + ".crt")).string()}));
	REQUIRE(r.ok());
}

// CONTENT + PKCS#7 signature (openssl cms, as sign-file makes it: DER, detached, no attributes, no
// certificates) + struct module_signature + the magic string.
std::string signed_module(const fs::path &dir, const std::string &content, const std::string &key)
{
	test::put(dir / "content", content);
	Result r = run(Command({"openssl", "cms", "-sign", "-binary", "-noattr", "-nocerts", "-nosmimecap", "-md",
				"sha256", "-outform", "DER", "-in", (dir / "content").string(), "-signer",
				(dir / (key + ".crt")).string(), "-inkey", (dir / (key + ".key")).string(), "-out",
				(dir / "sig").string()}));
	REQUIRE(r.ok());
	const std::string sig = read_file(dir / "sig");
	std::string trailer(12, '\0');
	trailer[2] = 2; // id_type: PKCS#7
	for (int i = 0; i < 4; ++i)
		trailer[8 + i] = static_cast<char>((sig.size() >> (8 * (3 - i))) & 0xff);
	return content + sig + trailer + "~Module signature appended~\n";
}

} // namespace

TEST_CASE("module signatures: valid with the kernel's key, invalid with another or when changed", "[sign]")
{
	TempDir t;
	module_key(t.path(), "kernel");
	module_key(t.path(), "other");
	const std::vector<fs::path> trusted = {t.path() / "kernel.crt"};
	const std::string content = std::string("\x7f" "ELF module body ") + std::string(3000, 'x');

	test::put(t.path() / "good.ko", signed_module(t.path(), content, "kernel"));
	CHECK(verify_module_signature(t.path() / "good.ko", trusted).state == ModuleSignature::State::valid);

	test::put(t.path() / "foreign.ko", signed_module(t.path(), content, "other"));
	ModuleSignature s = verify_module_signature(t.path() / "foreign.ko", trusted);
	CHECK(s.state == ModuleSignature::State::invalid);
	CHECK_FALSE(s.detail.empty());

	std::string changed = signed_module(t.path(), content, "kernel");
	changed[20] ^= 1;
	test::put(t.path() / "changed.ko", changed);
	CHECK(verify_module_signature(t.path() / "changed.ko", trusted).state == ModuleSignature::State::invalid);
}

TEST_CASE("module signatures: unsigned, damaged trailers and compressed modules", "[sign]")
{
	TempDir t;
	module_key(t.path(), "kernel");
	const std::vector<fs::path> trusted = {t.path() / "kernel.crt"};
	test::put(t.path() / "plain.ko", "\x7f" "ELF no signature here");
	CHECK(verify_module_signature(t.path() / "plain.ko", trusted).state == ModuleSignature::State::unsigned_module);

	// The magic string with a signature length beyond the file's start.
	std::string trailer(12, '\0');
	trailer[2] = 2;
	trailer[8] = 0x7f;
	test::put(t.path() / "damaged.ko", "short" + trailer + "~Module signature appended~\n");
	ModuleSignature s = verify_module_signature(t.path() / "damaged.ko", trusted);
	CHECK(s.state == ModuleSignature::State::invalid);
	CHECK(s.detail.find("trailer is damaged") != std::string::npos);

	test::put(t.path() / "zipped.ko.xz", "not read");
	s = verify_module_signature(t.path() / "zipped.ko.xz", trusted);
	CHECK(s.state == ModuleSignature::State::unchecked);
	CHECK(s.detail == "compressed: not checked");
}
