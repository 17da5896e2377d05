// libFuzzer harness: a root's /proc/self/mountinfo, read as check snapshot reads a machine.
#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/json_text.hpp"
#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string_view>

using namespace distkernel;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	static TempDir root_dir;
	static const Logger quiet(Verbosity::quiet);
	std::string_view text(reinterpret_cast<const char *>(data), size);
	static const bool made = std::filesystem::create_directories(root_dir.path() / "proc/self");
	(void)made;
	std::ofstream(root_dir.path() / "proc/self/mountinfo", std::ios::binary | std::ios::trunc)
		.write(text.data(), std::streamsize(text.size()));
	// Never an exception: what cannot be read is listed in the machine's "unreadable".
	Machine m = read_live_machine(Root(root_dir.path()), quiet);
	(void)dump_json(Json(m));
	return 0;
}
