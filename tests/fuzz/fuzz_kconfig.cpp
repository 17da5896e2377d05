// libFuzzer harness: a tree's top Kconfig file (which may source itself), and the same bytes as
// one expression, evaluated and printed.
#include "distkernel/config.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kconfig.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string_view>

using namespace distkernel;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	static TempDir tree;
	std::string_view text(reinterpret_cast<const char *>(data), size);
	std::ofstream(tree.path() / "Kconfig", std::ios::binary | std::ios::trunc).write(text.data(), std::streamsize(text.size()));
	try {
		kconfig::Kconfig k = kconfig::Kconfig::read(tree.path(), "x86_64");
		(void)k;
	} catch (const Error &) {
	}
	try {
		static const Config values = Config::parse("CONFIG_A=y\nCONFIG_B=m\nCONFIG_N=8\n", "fuzz");
		kconfig::ExprPtr e = kconfig::parse_expr(text);
		kconfig::Evaluator ev(values);
		(void)ev.eval(*e);
		(void)ev.blockers(*e, kconfig::Tristate::yes);
		(void)kconfig::to_string(*e);
	} catch (const Error &) {
	}
	return 0;
}
