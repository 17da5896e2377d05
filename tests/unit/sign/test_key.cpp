// lib/sign/key.cpp: a module signing key pair checked before a build starts, and the key a
// build generated kept on the build machine with its permissions.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/error.hpp"
#include "distkernel/process.hpp"
#include "distkernel/sign.hpp"

#include <sys/stat.h>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

// A self-signed RSA key pair made by openssl, as the kernel's certs/Makefile makes one.
void make_pair(const fs::path &key, const fs::path &cert, const std::string &cn)
{
	fs::create_directories(key.parent_path());
	Result r = run(Command({"openssl", "req", "-new", "-nodes", "-x509", "-newkey", "rsa:2048", "-days", "2",
				"-batch", "-subj", "/CN=" + cn + "/", "-keyout", key.string(), "-out", cert.string()}));
	REQUIRE(r.ok());
}

std::string message_of(const std::function<void()> &f)
{
	try {
		f();
	} catch (const Error &e) {
		return e.what();
	}
	return "(no error)";
}

mode_t mode_of(const fs::path &p)
{
	struct stat st {};
	REQUIRE(::stat(p.c_str(), &st) == 0);
	return st.st_mode & 07777;
}

} // namespace

TEST_CASE("signing keys: a pair that belongs together, apart or in one file", "[sign]")
{
	TempDir t;
	const fs::path key = t.path() / "a.pem", cert = t.path() / "a.crt";
	make_pair(key, cert, "distkernel unit test");
	SigningKeyInfo info = check_signing_key(key, cert);
	CHECK(info.key_type == "RSA");
	CHECK(info.bits == 2048);
	CHECK(info.subject.find("distkernel unit test") != std::string::npos);
	CHECK_FALSE(info.cert_in_key);

	const fs::path both = t.path() / "both.pem";
	test::put(both, read_file(key) + read_file(cert));
	CHECK(check_signing_key(both).cert_in_key);
}

TEST_CASE("signing keys: each bad input is an error naming the file", "[sign]")
{
	TempDir t;
	const fs::path a_key = t.path() / "a.pem", a_cert = t.path() / "a.crt";
	const fs::path b_key = t.path() / "b.pem", b_cert = t.path() / "b.crt";
	make_pair(a_key, a_cert, "a");
	make_pair(b_key, b_cert, "b");

	std::string m = message_of([&] { check_signing_key(a_key, b_cert); });
	CHECK(m.find(a_key.string()) != std::string::npos);
	CHECK(m.find(b_cert.string()) != std::string::npos);
	CHECK(m.find("do not belong together") != std::string::npos);

	m = message_of([&] { check_signing_key(a_cert, a_cert); });
	CHECK(m.find("signing key " + a_cert.string() + " holds no private key") != std::string::npos);

	m = message_of([&] { check_signing_key(a_key); });
	CHECK(m.find("signing key " + a_key.string() + " holds no certificate") != std::string::npos);

	m = message_of([&] { check_signing_key(t.path() / "missing.pem", a_cert); });
	CHECK(m.find((t.path() / "missing.pem").string() + " cannot be read") != std::string::npos);

	const fs::path text = t.path() / "text.crt";
	test::put(text, "not a certificate\n");
	m = message_of([&] { check_signing_key(a_key, text); });
	CHECK(m.find(text.string() + " is not an X.509 certificate") != std::string::npos);
}

TEST_CASE("signing keys: the generated key is kept 0600 in a 0700 directory, linked from the headers tree",
	  "[sign]")
{
	TempDir t;
	const fs::path build = t.path() / "build", root_dir = t.path() / "root";
	make_pair(build / "certs/signing_key.pem", build / "certs/signing_key.x509", "build key");
	fs::create_directories(root_dir / "usr/src/linux-6.1.0-test/certs");
	Root root(root_dir);
	::umask(022);
	const std::string kept = keep_generated_key(root, "6.1.0-test", build, Logger(Verbosity::quiet));
	CHECK(kept == "/var/lib/distkernel/keys/6.1.0-test/signing_key.pem");
	CHECK(mode_of(root.path(kept)) == 0600);
	CHECK(mode_of(root.path("/var/lib/distkernel/keys/6.1.0-test")) == 0700);
	CHECK(read_file(root.path(kept)) == read_file(build / "certs/signing_key.pem"));
	const fs::path link = root_dir / "usr/src/linux-6.1.0-test/certs/signing_key.pem";
	REQUIRE(fs::is_symlink(link));
	CHECK(fs::equivalent(link, root.path(kept)));

	CHECK_THROWS_AS(keep_generated_key(root, "../escape", build, Logger(Verbosity::quiet)), Error);
	std::string m = message_of([&] { keep_generated_key(root, "6.1.0-other", t.path() / "nobuild", Logger(Verbosity::quiet)); });
	CHECK(m.find("generated no signing key") != std::string::npos);
}
