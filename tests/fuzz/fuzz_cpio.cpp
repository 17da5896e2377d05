// libFuzzer harness: an initramfs image. The bytes go to the streaming cpio reader in one piece
// (as decompressed data), then as an image file to read_initramfs, which splits concatenated
// parts and runs the real decompressors on the compressed ones.
#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdint>
#include <fstream>
#include <string_view>

using namespace distkernel;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	static TempDir dir;
	static const Logger quiet(Verbosity::quiet);
	std::string_view bytes(reinterpret_cast<const char *>(data), size);
	try {
		InitramfsContents c;
		parse_cpio(bytes, "fuzz.img", c);
	} catch (const Error &) {
	}
	const auto image = dir.path() / "initramfs.img";
	std::ofstream(image, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
	try {
		(void)read_initramfs(image, quiet);
	} catch (const Error &) {
	}
	return 0;
}
