// What every distkernel tool shares: the common options, JSON on stdout, one place that maps
// errors to exit codes (0 ok, 1 error, 2 usage, 77 nothing to do).
#pragma once

#include "distkernel/error.hpp"
#include "distkernel/json.hpp"
#include "distkernel/log.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace distkernel::cli {

struct CommonOptions {
	bool json = false;
	std::string root = "/";
	int verbose = 0;
	bool quiet = false;
};

// Adds --json, -v/--verbose (repeatable), -q/--quiet and, when with_root, --root DIR.
void add_common(CLI::App &app, CommonOptions &opts, bool with_root);

// The logger the options ask for.
Logger make_logger(const CommonOptions &opts);

// A new CLI11 app with the tool's name, description, --version.
void setup_app(CLI::App &app);

// Parses argv and runs body, mapping CLI11 errors to exit 2 and distkernel::Error to 1
// (UsageError to 2), printing "NAME: message" on stderr. InternalError and any other exception
// are bugs: "NAME: internal error: message" with a request for a bug report, exit 1.
int run_main(CLI::App &app, int argc, char **argv, const std::function<int()> &body);

// What a command returns when it is done: rc. Outside sanitizer builds, the process ends here with
// rc once stdout and stderr are flushed, without running destructors: what is still allocated (a
// parsed Kconfig is some 10^5 small allocations, a tenth of a second to free one by one) goes
// back to the kernel at once. With AddressSanitizer it returns rc, so that the leak check runs.
int finish(int rc);

// Prints a JSON document on stdout (indented, newline-terminated).
void print_json(const Json &doc);

} // namespace distkernel::cli
