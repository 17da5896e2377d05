// lib/sign/efi.cpp: a Secure Boot signature made with the real sbsign on a real EFI program
// (systemd's stub), checked with sbverify; a key without its certificate, a certificate of
// another key and an image sbsign cannot read are errors that leave the image as it was.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/error.hpp"
#include "distkernel/process.hpp"
#include "distkernel/sign.hpp"

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

// A self-signed key pair for Secure Boot, as a user makes one with openssl.
void sb_make_pair(const fs::path &key, const fs::path &cert, const std::string &cn)
{
	Result r = run(Command({"openssl", "req", "-new", "-nodes", "-x509", "-newkey", "rsa:2048", "-days", "2",
				"-batch", "-subj", "/CN=" + cn + "/", "-keyout", key.string(), "-out", cert.string()}));
	REQUIRE(r.ok());
}

bool sb_verifies(const fs::path &image, const fs::path &cert)
{
	return run(Command({"sbverify", "--cert", cert.string(), image.string()})).ok();
}

std::string sb_error_of(const fs::path &image, const SecureBootKey &k)
{
	try {
		sign_efi_image(image, k, Logger(Verbosity::quiet));
	} catch (const Error &e) {
		return e.what();
	}
	return "(no error)";
}

} // namespace

TEST_CASE("secure boot: an EFI program signed with sbsign verifies against its certificate only", "[sign]")
{
	TempDir t;
	const fs::path image = t.path() / "BOOTX64.EFI";
	fs::copy_file("/usr/lib/systemd/boot/efi/linuxx64.efi.stub", image); // systemd-boot-efi
	SecureBootKey k{t.path() / "db.key", t.path() / "db.crt"};
	sb_make_pair(k.key, k.cert, "distkernel db");
	sb_make_pair(t.path() / "other.key", t.path() / "other.crt", "another db");

	CHECK_FALSE(sb_verifies(image, k.cert));
	sign_efi_image(image, k, Logger(Verbosity::quiet));
	CHECK(sb_verifies(image, k.cert));
	CHECK_FALSE(sb_verifies(image, t.path() / "other.crt"));
	CHECK_FALSE(fs::exists(image.string() + ".signed"));
}

TEST_CASE("secure boot: a key without its certificate, a foreign certificate, an unreadable image", "[sign]")
{
	TempDir t;
	const fs::path image = t.path() / "vmlinuz.efi";
	fs::copy_file("/usr/lib/systemd/boot/efi/linuxx64.efi.stub", image);
	const std::string before = read_file(image);
	SecureBootKey k{t.path() / "db.key", t.path() / "db.crt"};
	sb_make_pair(k.key, k.cert, "distkernel db");
	sb_make_pair(t.path() / "other.key", t.path() / "other.crt", "another db");

	SecureBootKey no_cert{k.key, {}};
	CHECK_THROWS_AS(sign_efi_image(image, no_cert, Logger(Verbosity::quiet)), UsageError);

	SecureBootKey foreign{k.key, t.path() / "other.crt"};
	std::string what = sb_error_of(image, foreign);
	CHECK(what.find((t.path() / "other.crt").string()) != std::string::npos);
	CHECK(read_file(image) == before);

	const fs::path text = t.path() / "not-efi";
	test::put(text, "not a PE file\n");
	what = sb_error_of(text, k);
	CHECK(what.starts_with("sbsign --key " + k.key.string()));
	CHECK(what.find("failed (exit ") != std::string::npos);
	CHECK(read_file(text) == "not a PE file\n");
	CHECK_FALSE(fs::exists(text.string() + ".signed"));
}
