// lib/sys/log.cpp: human messages on stderr by verbosity, with their prefixes, escapes escaped.
#include "catch.hpp"

#include "distkernel/log.hpp"
#include "distkernel/rootfs.hpp"

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>

using namespace distkernel;

namespace {

// What the logger's calls in body write to stderr.
template <typename F>
std::string stderr_of(F body)
{
	TempDir t;
	const std::string file = (t.path() / "err").string();
	std::fflush(stderr);
	int saved = ::dup(2);
	int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	REQUIRE((saved >= 0 && fd >= 0));
	::dup2(fd, 2);
	::close(fd);
	body();
	std::fflush(stderr);
	::dup2(saved, 2);
	::close(saved);
	return read_file(file);
}

} // namespace

TEST_CASE("log lines by verbosity, with their prefixes", "[sys]")
{
	auto all = [](const Logger &log) {
		log.step("make {}", "olddefconfig");
		log.info("{} kept", 3);
		log.warn("{} dropped", 1);
		log.verbose("why");
		log.debug("how");
	};
	CHECK(stderr_of([&] { all(Logger(Verbosity::quiet)); }) == "warning: 1 dropped\n");
	CHECK(stderr_of([&] { all(Logger()); }) == ">>> make olddefconfig\n3 kept\nwarning: 1 dropped\n");
	CHECK(stderr_of([&] { all(Logger(Verbosity::debug)); }) ==
	      ">>> make olddefconfig\n3 kept\nwarning: 1 dropped\nwhy\ndebug: how\n");
	Logger log;
	log.set_level(Verbosity::verbose);
	CHECK(log.level() == Verbosity::verbose);
	CHECK(stderr_of([&] { log.verbose("shown"); log.debug("not shown"); }) == "shown\n");
}

TEST_CASE("a message's escape bytes never reach the terminal; its own lines stay", "[sys]")
{
	std::string out = stderr_of([] { Logger().info("a\x1b[31mb\nc"); });
	CHECK(out.find('\x1b') == std::string::npos);
	CHECK(out.starts_with("a"));
	CHECK(out.ends_with("b\nc\n"));
}
