// distkernel-check: not written yet (see the issues).
#include "cli.hpp"

int main(int argc, char **argv)
{
	CLI::App app{"distkernel-check", "distkernel-check"};
	distkernel::cli::setup_app(app);
	distkernel::cli::CommonOptions opts;
	distkernel::cli::add_common(app, opts, true);
	return distkernel::cli::run_main(app, argc, argv, [&] {
		throw distkernel::Error("not implemented yet");
		return 0;
	});
}
