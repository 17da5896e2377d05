#include "cli.hpp"

#include "distkernel/json_text.hpp"
#include "distkernel_build_config.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace distkernel::cli {

void add_common(CLI::App &app, CommonOptions &opts, bool with_root)
{
	app.add_flag("--json", opts.json, "Print the result as JSON on stdout (human text stays on stderr)");
	app.add_flag("-v,--verbose", opts.verbose, "Explain more (repeat for debug output)");
	app.add_flag("-q,--quiet", opts.quiet, "Only print warnings and errors");
	if (with_root)
		app.add_option("--root", opts.root, "Work on the system under DIR instead of /")
			->type_name("DIR");
}

Logger make_logger(const CommonOptions &opts)
{
	if (opts.quiet)
		return Logger(Verbosity::quiet);
	if (opts.verbose >= 2)
		return Logger(Verbosity::debug);
	if (opts.verbose == 1)
		return Logger(Verbosity::verbose);
	return Logger(Verbosity::normal);
}

void setup_app(CLI::App &app)
{
	app.set_version_flag("--version", std::string(app.get_name()) + " " DISTKERNEL_VERSION);
	app.set_help_all_flag("--help-all", "Show the help of every subcommand");
	app.require_subcommand(0, 1);
}

namespace {

void report_internal(const std::string &name, const char *what)
{
	std::cerr << name << ": internal error: " << what << "\n"
		  << name << ": this is a bug in distkernel " DISTKERNEL_VERSION
		  << "; please report it with the command line and this message at " DISTKERNEL_BUG_URL "\n";
}

} // namespace

int run_main(CLI::App &app, int argc, char **argv, const std::function<int()> &body)
{
	const std::string name = app.get_name();
	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForAllHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForVersion &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		std::cerr << name << ": " << e.what() << "\n";
		std::cerr << "Run " << name << " --help for usage.\n";
		return exit_usage;
	}
	try {
		return body();
	} catch (const InternalError &e) {
		report_internal(name, e.what());
		return exit_error;
	} catch (const UsageError &e) {
		std::cerr << name << ": " << e.what() << "\n";
		return exit_usage;
	} catch (const Error &e) {
		std::cerr << name << ": error: " << e.what() << "\n";
		return exit_error;
	} catch (const std::exception &e) {
		// Not one of ours: nothing in the library lets a foreign exception through on purpose.
		report_internal(name, e.what());
		return exit_error;
	} catch (...) {
		report_internal(name, "an exception that is not a std::exception");
		return exit_error;
	}
}

int finish(int rc)
{
#if defined(__SANITIZE_ADDRESS__)
	return rc;
#else
	std::cout.flush();
	std::cerr.flush();
	bool written = std::cout.good() && std::fflush(nullptr) == 0; // not so on a full disk
	std::_Exit(written || rc != 0 ? rc : exit_error);
#endif
}

void print_json(const Json &doc)
{
	std::cout << dump_json(doc) << "\n";
	std::cout.flush();
}

} // namespace distkernel::cli
