// Running programs. Commands are argv vectors, never shell strings; the child's environment is
// exactly Command::env; stdin is /dev/null. Only failing to start a program throws: a program
// that runs and fails is a Result with a non-zero exit code for the caller to judge.
#pragma once

#include "distkernel/export.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace distkernel {

using Environment = std::map<std::string, std::string>;

// The named variables of this process's environment that are set (PATH, LANG, ...).
DISTKERNEL_API Environment environment_subset(const std::vector<std::string> &names);
// A small default for tools we run: PATH (with sbin dirs), LC_ALL=C, HOME, TMPDIR.
DISTKERNEL_API Environment default_environment();

struct DISTKERNEL_API Command {
	enum class Output {
		capture,   // stdout and stderr into Result
		to_stderr, // both streams go to our stderr (long steps a person may watch); not captured
		stdout_only, // stdout into Result, the child's stderr to our stderr
	};
	Command(std::vector<std::string> args = {}) : argv(std::move(args)) {}
	std::vector<std::string> argv; // argv[0] is looked up in env's PATH unless it has a '/'
	Environment env = default_environment();
	std::filesystem::path cwd; // empty: inherit
	Output output = Output::capture;
};

struct DISTKERNEL_API Result {
	int exit_code = 0; // 128+N when killed by signal N
	std::string out;
	std::string err;
	bool ok() const noexcept { return exit_code == 0; }
	// The last lines of stderr (or stdout), for error messages.
	std::string tail(std::size_t lines = 15) const;
};

DISTKERNEL_API Result run(const Command &cmd);

// Runs cmd with its stdout handed to consume in pieces as it comes (never held whole):
// Result::out stays empty, Result::err holds stderr (cmd.output is ignored). When consume
// returns false or throws, the program is killed at once; its exception is rethrown.
DISTKERNEL_API Result run_streaming(const Command &cmd, const std::function<bool(std::string_view)> &consume);

// "make -C /usr/src/linux olddefconfig", quoted for a person to copy; never executed.
DISTKERNEL_API std::string to_display(const std::vector<std::string> &argv);

// Finds an executable in PATH (of env); empty when absent.
DISTKERNEL_API std::filesystem::path find_program(const std::string &name, const Environment &env = default_environment());

} // namespace distkernel
