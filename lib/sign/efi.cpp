// Secure Boot signatures of kernel images, with sbsigntool's sbsign and sbverify.
#include "distkernel/error.hpp"
#include "distkernel/process.hpp"
#include "distkernel/sign.hpp"

namespace fs = std::filesystem;

namespace distkernel {

void sign_efi_image(const fs::path &image, const SecureBootKey &k, const Logger &log)
{
	if (k.cert.empty())
		throw UsageError("a Secure Boot key needs its certificate (SECUREBOOT_SIGN_CERT, --secureboot-cert)");
	check_signing_key(k.key, k.cert);
	const fs::path signed_image = image.string() + ".signed";
	Command sign({k.sbsign, "--key", k.key.string(), "--cert", k.cert.string(), "--output", signed_image.string(),
		      image.string()});
	log.step("signing {} for Secure Boot: {}", image.string(), to_display(sign.argv));
	Result r = run(sign);
	if (!r.ok()) {
		std::error_code ec;
		fs::remove(signed_image, ec);
		throw Error(to_display(sign.argv) + " failed (exit " + std::to_string(r.exit_code) + ")" +
			    (r.tail().empty() ? "" : ":\n" + r.tail()));
	}
	std::error_code ec;
	fs::rename(signed_image, image, ec);
	if (ec)
		throw SystemError("cannot rename " + signed_image.string() + " to " + image.string(), ec.value());
	Command verify({k.sbverify, "--cert", k.cert.string(), image.string()});
	r = run(verify);
	if (!r.ok())
		throw Error(image.string() + " does not verify against " + k.cert.string() + " after signing: " +
			    to_display(verify.argv) + " exited " + std::to_string(r.exit_code) +
			    (r.tail().empty() ? "" : ":\n" + r.tail()));
}

} // namespace distkernel
