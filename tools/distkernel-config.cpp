// distkernel-config: base config + layers -> the kernel's olddefconfig -> verified .config.
#include "cli.hpp"

#include "distkernel/config.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/verify.hpp"

#include <fmt/core.h>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

struct MakeArgs {
	std::string tree, build, arch, cross_compile;
	bool llvm = false;
};

void add_make_options(CLI::App *sub, MakeArgs &m, bool tree_required)
{
	auto *t = sub->add_option("--tree", m.tree, "Kernel source tree (SRC)")->type_name("SRC");
	if (tree_required)
		t->required();
	sub->add_option("-O,--build", m.build, "Build directory (make O=); default: the source tree")->type_name("BUILD");
	sub->add_option("--arch", m.arch, "make ARCH= (default: the host's, x86_64 for Kconfig)")->type_name("ARCH");
	sub->add_option("--cross-compile", m.cross_compile, "make CROSS_COMPILE=")->type_name("PREFIX");
	sub->add_flag("--llvm", m.llvm, "make LLVM=1");
}

kconfig::MakeOptions make_options(const MakeArgs &m)
{
	return kconfig::MakeOptions{m.tree, m.build, m.arch, m.cross_compile, m.llvm};
}

std::string value_text(const std::optional<Value> &v)
{
	return v ? v->text() : std::string("(absent)");
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"Turns a base distribution config and the user's layers into a kernel .config with every "
		     "requested value verified",
		     "distkernel-config"};
	cli::setup_app(app);
	app.fallthrough();
	app.require_subcommand(1, 1);
	cli::CommonOptions opts;
	cli::add_common(app, opts, false);

	MakeArgs mk;
	std::string base, report_file;
	std::vector<std::string> layers;
	bool no_olddefconfig = false;
	auto *merge_cmd = app.add_subcommand("merge", "Merge BASE and LAYERs, run the kernel's make olddefconfig, verify "
						  "(exit 3 when a required value did not survive)");
	add_make_options(merge_cmd, mk, true);
	merge_cmd->add_option("--report", report_file, "Write the JSON report (distkernel.config-report) to FILE")
		->type_name("FILE");
	merge_cmd->add_flag("--no-olddefconfig", no_olddefconfig,
			"Only write the merged input to BUILD/.config (no make, no verification)");
	merge_cmd->add_option("BASE", base, "Base config (e.g. a distribution's config)")->required();
	merge_cmd->add_option("LAYER", layers, "Fragment files or directories of *.config, applied in order");

	std::string final_file;
	MakeArgs vmk;
	std::vector<std::string> vlayers;
	auto *verify_cmd = app.add_subcommand("verify", "Check the values LAYERs request against a final .config "
							"(exit 3 when a required value did not survive)");
	verify_cmd->add_option("--config", final_file, "The final .config")->required()->type_name("FINAL");
	add_make_options(verify_cmd, vmk, false);
	verify_cmd->add_option("LAYER", vlayers, "Fragment files or directories of *.config")->required();

	std::string da, db;
	auto *diff_cmd = app.add_subcommand("diff", "Symbol-level difference of two configs");
	diff_cmd->add_option("A", da, "Old config")->required();
	diff_cmd->add_option("B", db, "New config")->required();

	return cli::run_main(app, argc, argv, [&]() -> int {
		Logger log = cli::make_logger(opts);
		if (*merge_cmd) {
			MergeOptions o;
			o.make = make_options(mk);
			o.base = base;
			o.layers.assign(layers.begin(), layers.end());
			o.olddefconfig = !no_olddefconfig;
			MergeResult r = merge(o, log);
			Json doc = report_json(o, r);
			if (!report_file.empty())
				atomic_write(report_file, doc.dump(2) + "\n");
			if (opts.json)
				cli::print_json(doc);
			if (!r.verified) {
				log.info("merged input written to {} (not verified: --no-olddefconfig)", r.final_config.string());
				return exit_ok;
			}
			print_report(r.report, log);
			log.info("final config: {}", r.final_config.string());
			return r.report.ok() ? exit_ok : exit_config_dropped;
		}
		if (*verify_cmd) {
			LayeredConfig layered{Config()};
			for (const auto &f : expand_layers({vlayers.begin(), vlayers.end()}))
				layered.add_layer(Config::read(f));
			Config final_config = Config::read(final_file);
			std::optional<kconfig::Kconfig> k;
			if (!vmk.tree.empty())
				k = kconfig::Kconfig::read(vmk.tree, vmk.arch.empty() ? "x86_64" : vmk.arch);
			VerifyReport r = verify(layered.requested(), final_config, k ? &*k : nullptr);
			if (opts.json) {
				Json doc = make_document("distkernel.config-report", 1, 0);
				doc["final"] = Json{{"path", final_file}};
				doc["findings"] = findings_json(r);
				doc["ok"] = r.ok();
				cli::print_json(doc);
			}
			print_report(r, log);
			return r.ok() ? exit_ok : exit_config_dropped;
		}
		ConfigDiff d = diff_configs(Config::read(da), Config::read(db));
		if (opts.json) {
			Json doc = make_document("distkernel.config-diff", 1, 0);
			auto list = [](const std::vector<ConfigDiff::Change> &v) {
				Json a = Json::array();
				for (const auto &c : v)
					a.push_back(Json{{"symbol", "CONFIG_" + c.symbol},
							 {"a", c.a ? Json(c.a->text()) : Json(nullptr)},
							 {"b", c.b ? Json(c.b->text()) : Json(nullptr)}});
				return a;
			};
			doc["added"] = list(d.added);
			doc["removed"] = list(d.removed);
			doc["changed"] = list(d.changed);
			cli::print_json(doc);
		}
		for (const auto &c : d.removed)
			log.info("-{}", format_entry(c.symbol, *c.a));
		for (const auto &c : d.added)
			log.info("+{}", format_entry(c.symbol, *c.b));
		for (const auto &c : d.changed)
			log.info("~CONFIG_{} {} -> {}", c.symbol, value_text(c.a), value_text(c.b));
		log.info("{} added, {} removed, {} changed", d.added.size(), d.removed.size(), d.changed.size());
		return exit_ok;
	});
}
