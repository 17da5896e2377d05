// libFuzzer harness: a config fragment as distkernel-config reads it.
#include "distkernel/config.hpp"
#include "distkernel/error.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	try {
		distkernel::Config c = distkernel::Config::parse(text, "fuzz.config");
		(void)c;
	} catch (const distkernel::Error &) {
	}
	return 0;
}
