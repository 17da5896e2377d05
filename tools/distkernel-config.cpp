// distkernel-config: base config + layers -> the kernel's olddefconfig -> verified .config.
#include "cli.hpp"

#include "distkernel/config.hpp"
#include "distkernel/json_text.hpp"
#include "distkernel/rootfs.hpp"
#include "distkernel/trim.hpp"
#include "distkernel/upgrade.hpp"
#include "distkernel/verify.hpp"

#include "distkernel_build_config.h"

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
	sub->add_option("--arch", m.arch, "make ARCH= (default: " + std::string(default_arch) + ", as make assumes on an x86 host)")->type_name("ARCH");
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


// Configuration across upgrades: save, rebase, presets, check-preset, new-options.
struct UpgradeCommands {
	CLI::App *save = nullptr, *rebase = nullptr, *presets = nullptr, *check_preset = nullptr, *new_options = nullptr,
		 *saved_info = nullptr;
	MakeArgs save_mk, rebase_mk, check_mk, new_mk;
	std::string final_file, kernel_version, output, base, delta_out, report, old_base, user, new_base;
	std::vector<std::string> layers;
	std::string root = "/", preset_dir = std::string(DISTKERNEL_DATADIR) + "/presets", preset_name, config_file;
	bool list = false;
	std::string old_config, new_config;
	std::size_t limit = 0;
	std::string saved_file;

	void add(CLI::App &app)
	{
		save = app.add_subcommand("save", "Write the user's delta: what FINAL sets differently from BASE and LAYERs "
						  "after olddefconfig (a savedconfig that survives upgrades)");
		add_make_options(save, save_mk, true);
		save->add_option("--config", final_file, "The final .config the user runs")->required()->type_name("FINAL");
		save->add_option("--kernel-version", kernel_version, "Kernel version for the header (default: FINAL's header)");
		save->add_option("-o,--output", output, "Write the delta to FILE (default: stdout)")->type_name("FILE");
		save->add_option("BASE", base, "Base config the final config was built from")->required();
		save->add_option("LAYER", layers, "Fragment files or directories, as given to merge");

		rebase = app.add_subcommand("rebase", "Carry the user's changes (USER-CONFIG vs OLD-BASE) onto NEW-BASE in the "
						      "new tree: kept / dropped / conflict (exit 3 unless all kept)");
		add_make_options(rebase, rebase_mk, true);
		rebase->add_option("-o,--output", output, "Copy the new .config to FILE")->type_name("FILE");
		rebase->add_option("--delta", delta_out, "Write the user's delta against NEW-BASE (a savedconfig) to FILE")
			->type_name("FILE");
		rebase->add_option("--report", report, "Write the JSON report (distkernel.rebase-report) to FILE")->type_name("FILE");
		rebase->add_option("OLD-BASE", old_base, "The base the user's config was made from")->required();
		rebase->add_option("USER-CONFIG", user, "The user's full .config, or a delta written by save")->required();
		rebase->add_option("NEW-BASE", new_base, "The new version's base config")->required();

		presets = app.add_subcommand("presets", "Print the preset files ROOT/etc/kernel/distkernel-presets selects, one "
							"per line (layers for merge); --list: every preset");
		presets->add_option("--root", root, "System root whose /etc/kernel is read")->type_name("DIR");
		presets->add_option("--preset-dir", preset_dir, "Where the presets are")->type_name("DIR");
		presets->add_flag("--list", list, "List the available presets with their summary");

		check_preset = app.add_subcommand("check-preset", "Does FINAL satisfy preset NAME: every missing value with its "
								  "reason (exit 3 when one is missing)");
		check_preset->add_option("NAME", preset_name, "Preset name (or a fragment file)")->required();
		check_preset->add_option("--config", config_file, "The .config to check")->required()->type_name("FINAL");
		check_preset->add_option("--preset-dir", preset_dir, "Where the presets are")->type_name("DIR");
		add_make_options(check_preset, check_mk, false);

		new_options = app.add_subcommand("new-options", "Symbols of NEW-TREE's Kconfig that OLD does not mention "
								"(as make listnewconfig), with value, prompt, help, by menu");
		new_options->add_option("--old-config", old_config, "The previous version's .config")->required()->type_name("OLD");
		new_options->add_option("--new-config", new_config, "The new .config (values; visibility judged on it)")
			->type_name("FINAL");
		add_make_options(new_options, new_mk, true);
		new_options->add_option("--limit", limit, "Show at most N options in the human output (0: all)");

		saved_info = app.add_subcommand("saved-info", "What a saved config is: format=delta (written by save) or "
								"format=config, and kernel_version= its header names (empty: none)");
		saved_info->add_option("FILE", saved_file, "The saved config")->required();
	}

	std::optional<int> run(const cli::CommonOptions &opts, const Logger &log) const
	{
		if (*save)
			return run_save(opts, log);
		if (*rebase)
			return run_rebase(opts, log);
		if (*presets)
			return run_presets(opts, log);
		if (*check_preset)
			return run_check_preset(opts, log);
		if (*new_options)
			return run_new_options(opts, log);
		if (*saved_info)
			return run_saved_info(opts);
		return std::nullopt;
	}

	int run_saved_info(const cli::CommonOptions &opts) const
	{
		SavedInfo info = distkernel::saved_info(saved_file);
		if (opts.json)
			cli::print_json(Json(info));
		else
			fmt::print("format={}\nkernel_version={}\n", info.delta ? "delta" : "config", info.kernel_version);
		return exit_ok;
	}

	int run_save(const cli::CommonOptions &opts, const Logger &log) const
	{
		SaveOptions o;
		o.make = make_options(save_mk);
		o.final_config = final_file;
		o.base = base;
		o.layers.assign(layers.begin(), layers.end());
		o.kernel_version = kernel_version;
		SaveResult r = save_delta(o, log);
		if (!output.empty())
			atomic_write(output, r.text);
		if (opts.json)
			cli::print_json(Json(r));
		else if (output.empty()) {
			fmt::print("{}", r.text);
		}
		log.info("{} value(s) of the user's own{}", r.delta.size(), output.empty() ? "" : " written to " + output);
		return exit_ok;
	}

	int run_rebase(const cli::CommonOptions &opts, const Logger &log) const
	{
		RebaseOptions o;
		o.make = make_options(rebase_mk);
		o.old_base = old_base;
		o.user = user;
		o.new_base = new_base;
		RebaseResult r = distkernel::rebase(o, log);
		Json doc = rebase_json(o, r);
		if (!output.empty())
			atomic_copy(r.final_config, output);
		if (!delta_out.empty())
			atomic_write(delta_out, r.delta.text);
		if (!report.empty())
			atomic_write(report, dump_json(doc) + "\n");
		if (opts.json)
			cli::print_json(doc);
		for (const auto &i : r.items) {
			if (i.status == RebaseItem::Status::kept) {
				log.verbose("kept: {}", format_entry(i.change.symbol, *i.change.user));
				continue;
			}
			log.warn("{}: {} (from {}): {}", enum_name(i.status), format_entry(i.change.symbol, *i.change.user),
				 i.change.origin.str(), i.reason);
		}
		log.info("rebased {} change(s) of the user: {} kept, {} dropped, {} conflict(s); new config: {}", r.items.size(),
			 r.count(RebaseItem::Status::kept), r.count(RebaseItem::Status::dropped),
			 r.count(RebaseItem::Status::conflict), output.empty() ? r.final_config.string() : output);
		return r.clean() ? exit_ok : exit_config_dropped;
	}

	int run_presets(const cli::CommonOptions &opts, const Logger &log) const
	{
		if (list) {
			auto all = list_presets(preset_dir);
			if (opts.json)
				cli::print_json(presets_json(all));
			else
				for (const auto &p : all)
					fmt::print("{}\t{}\n", p.name, p.summary);
			return exit_ok;
		}
		auto files = selected_presets(Root(root), preset_dir);
		if (opts.json) {
			cli::print_json(selected_presets_json(files));
		} else {
			for (const auto &f : files)
				fmt::print("{}\n", f.string());
		}
		log.verbose("{} preset(s) selected in {}{}", files.size(), root, presets_selection_file);
		return exit_ok;
	}

	int run_check_preset(const cli::CommonOptions &opts, const Logger &log) const
	{
		Preset p = read_preset(preset_name.find('/') != std::string::npos ? fs::path(preset_name)
										 : preset_file(preset_dir, preset_name));
		Config cfg = Config::read(config_file);
		std::optional<kconfig::Kconfig> k;
		if (!check_mk.tree.empty())
			k = kconfig::Kconfig::read(check_mk.tree, check_mk.arch);
		VerifyReport r = distkernel::check_preset(p, cfg, k ? &*k : nullptr);
		if (opts.json)
			cli::print_json(check_preset_json(p, r));
		for (std::size_t i = 0; i < r.findings.size(); i++) {
			const Finding &f = r.findings[i];
			if (f.survived)
				continue;
			std::string line = fmt::format("{} [preset: {}]", describe(f), p.values[i].note);
			if (f.fails())
				log.warn("missing: {}", line);
			else
				log.info("{}", line);
		}
		auto satisfied = std::count_if(r.findings.begin(), r.findings.end(), [](const Finding &f) { return f.survived; });
		log.info("preset {}: {} of {} value(s) satisfied; {}", p.name, satisfied, r.findings.size(),
			 r.ok() ? "satisfied" : fmt::format("{} required value(s) missing", r.failures()));
		return r.ok() ? exit_ok : exit_config_dropped;
	}

	int run_new_options(const cli::CommonOptions &opts, const Logger &log) const
	{
		Config old = Config::read(old_config);
		std::optional<Config> fin;
		if (!new_config.empty())
			fin = Config::read(new_config);
		log.step("reading the Kconfig files of {}", new_mk.tree);
		auto k = kconfig::Kconfig::read(new_mk.tree, new_mk.arch);
		auto found = distkernel::new_options(old, k, fin ? *fin : old);
		if (opts.json) {
			cli::print_json(new_options_json(found));
			return exit_ok;
		}
		std::string menu;
		std::size_t shown = 0;
		for (const auto &o : found) {
			if (limit && shown++ >= limit)
				break;
			if (std::string m = menu_path(o); m != menu) {
				menu = m;
				log.info("{}:", menu);
			}
			log.info("  CONFIG_{}={}  {}", o.symbol, o.value ? o.value->text() : std::string("(absent)"), o.prompt);
			if (!o.help.empty())
				log.verbose("      {}", o.help.substr(0, o.help.find('\n')));
		}
		log.info("{} new option(s) in {} that {} does not mention", found.size(), new_mk.tree, old_config);
		return exit_ok;
	}
};

// trim: a layer for one machine; trim-check: what a trimmed config lacks on another machine.
struct TrimCommands {
	CLI::App *trim = nullptr, *check = nullptr;
	std::string machine, tree, base, modules, output, arch, config, root = "/", settings, save_machine;
	std::vector<std::string> keeps, drops, rules, layers;
	bool explain = false;
	CLI::Option *keep_opt = nullptr, *drop_opt = nullptr;

	void add(CLI::App &app)
	{
		trim = app.add_subcommand("trim", "Write a layer that turns off every module of BASE the machine of SNAPSHOT does "
						  "not need (its devices, loaded modules, mounts, the always-kept classes, rules)");
		trim->add_option("--machine", machine, "The machine: `distkernel-check snapshot --json` output")->type_name("SNAPSHOT");
		trim->add_option("--settings", settings, "Take the snapshot, module tree and rules from this file inside ROOT "
							 "(e.g. " + std::string(trim_settings_file) + ", docs/trim.md)")
			->type_name("FILE");
		trim->add_option("--root", root, "The root --settings and its paths are read under")->type_name("DIR");
		trim->add_option("--tree", tree, "Kernel source tree (Kconfig and Makefiles are read, nothing is built)")
			->required()
			->type_name("SRC");
		trim->add_option("--base", base, "The base config the layer applies to")->required()->type_name("BASE");
		trim->add_option("--modules", modules, "A module tree of the same series (lib/modules/KV after depmod: "
							"modules.alias, modules.builtin, modules.order)")
			->type_name("DIR");
		trim->add_option("--arch", arch, "ARCH of the tree (default: " + std::string(default_arch) + ")");
		keep_opt = trim->add_option("--keep", keeps, "Keep a module (NAME) or symbol (CONFIG_X) whatever the machine shows")
				   ->type_name("NAME");
		drop_opt = trim->add_option("--drop", drops, "Drop a module or symbol the machine or a class would keep (never the root's)")
				   ->type_name("NAME");
		trim->add_option("--rules", rules, "A file of \"keep NAME\" / \"drop NAME\" lines (applied before --keep/--drop)")
			->type_name("FILE");
		trim->add_option("--layer", layers, "The user's layers (config.d files or directories): what they set to y or m is kept")
			->type_name("LAYER");
		trim->add_option("--save-machine", save_machine, "Copy the snapshot trimmed for to FILE (what a kernel package "
								 "records beside the kernel)")
			->type_name("FILE");
		trim->add_flag("--explain", explain, "Say for each kept module what needs it, for each dropped class why");
		trim->add_option("-o,--output", output, "Write the layer to FILE")->required()->type_name("LAYER.config");

		check = app.add_subcommand("trim-check", "Devices and mounts of SNAPSHOT whose module a (trimmed) config does not "
							 "build (exit 3 when there is one)");
		check->add_option("--machine", machine, "The machine to check")->required()->type_name("SNAPSHOT");
		check->add_option("--tree", tree, "Kernel source tree")->required()->type_name("SRC");
		check->add_option("--modules", modules, "A module tree of the same series (aliases)")->required()->type_name("DIR");
		check->add_option("--config", config, "The config to check (a final .config)")->required()->type_name("CONFIG");
		check->add_option("--arch", arch, "ARCH of the tree (default: " + std::string(default_arch) + ")");
	}

	std::optional<int> run(const cli::CommonOptions &opts, const Logger &log) const
	{
		if (*trim)
			return run_trim(opts, log);
		if (*check)
			return run_check(opts, log);
		return std::nullopt;
	}

	int run_trim(const cli::CommonOptions &opts, const Logger &log) const
	{
		TrimOptions o;
		std::string snapshot = machine;
		o.module_dir = modules;
		if (!settings.empty()) {
			TrimSettings ts = read_trim_settings(Root(root), settings, tree);
			if (snapshot.empty())
				snapshot = ts.snapshot.string();
			if (o.module_dir.empty())
				o.module_dir = ts.module_dir;
			if (!ts.rules.empty())
				for (auto &r : read_trim_rules(ts.rules))
					o.rules.push_back(std::move(r));
			log.info("trimming for {} with the module aliases of {}", snapshot, o.module_dir.string());
		}
		if (snapshot.empty() || o.module_dir.empty())
			throw UsageError("trim needs --machine and --modules, or --settings");
		o.machine = read_machine_snapshot(snapshot);
		o.machine_source = snapshot;
		o.tree = tree;
		o.arch = arch;
		o.base = base;
		for (const auto &f : rules)
			for (auto &r : read_trim_rules(f))
				o.rules.push_back(std::move(r));
		// --keep and --drop in command-line order
		std::size_t k = 0, d = 0;
		for (const CLI::Option *opt : trim->parse_order()) {
			if (opt == keep_opt && k < keeps.size())
				o.rules.push_back(TrimRule{true, keeps[k++], Origin("--keep", 0)});
			else if (opt == drop_opt && d < drops.size())
				o.rules.push_back(TrimRule{false, drops[d++], Origin("--drop", 0)});
		}
		o.layers.assign(layers.begin(), layers.end());
		TrimResult r = distkernel::trim(o, log);
		atomic_write(output, r.layer_text, 0644, Durability::unsynced);
		if (!save_machine.empty())
			atomic_copy(snapshot, save_machine);
		if (opts.json)
			cli::print_json(trim_json(o, r, output));
		if (explain) {
			for (const auto &m : r.kept)
				for (const auto &w : m.reasons)
					log.info("kept {} (CONFIG_{}): {}: {}{}", m.module, m.symbol, w.kind, w.detail,
						 w.where.empty() ? "" : " [" + w.where + "]");
			std::map<std::string, std::size_t> classes;
			for (const auto &m : r.dropped)
				++classes[m.klass];
			for (const auto &[c, n] : classes)
				log.info("dropped {}: {} module(s): no device, mount, loaded module, always-kept class or rule needs them", c, n);
		}
		for (const auto &u : r.unresolved)
			log.verbose("no driver: {}", u);
		for (const auto &w : r.warnings)
			log.warn("{}", w);
		log.info("modules: {} of {} kept ({} of {} MiB in {}); module symbols: {} of {}; objects to build: {} of {} ({} of {} "
			 "in modules); layer: {}",
			 r.trimmed_count.modules.size(), r.base_count.modules.size(), r.trimmed_module_bytes >> 20, r.base_module_bytes >> 20,
			 o.module_dir.string(), r.trimmed_module_symbols, r.base_module_symbols,
			 r.trimmed_count.objects, r.base_count.objects, r.trimmed_count.module_objects, r.base_count.module_objects, output);
		return cli::finish(exit_ok);
	}

	int run_check(const cli::CommonOptions &opts, const Logger &log) const
	{
		Machine m = read_machine_snapshot(machine);
		Config final_config = Config::read(config);
		KbuildTree kbuild = KbuildTree::read(tree, arch);
		auto missing = trim_uncovered(m, kbuild, modules, final_config);
		KbuildCount n = kbuild.count(final_config);
		if (opts.json) {
			Json j = make_document("distkernel.trim-check", 1, 0);
			j["machine"] = machine;
			j["config"] = config;
			j["covered"] = missing.empty();
			j["missing"] = missing;
			j["counts"] = {{"modules", n.modules.size()}, {"objects", n.objects}, {"module_objects", n.module_objects}};
			cli::print_json(j);
		}
		log.verbose("{} builds {} modules, {} objects ({} in modules)", config, n.modules.size(), n.objects, n.module_objects);
		for (const auto &x : missing)
			log.warn("not covered: {}", x);
		log.info("{}: {} for the machine of {}", config, missing.empty() ? "covers every device and mount" : "does not cover it",
			 machine);
		return cli::finish(missing.empty() ? exit_ok : exit_config_dropped);
	}
};

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
	auto *layer_opt = merge_cmd->add_option("LAYER", layers, "Fragment files or directories of *.config, applied in order; "
								 "a value of theirs that does not survive fails the merge (exit 3)");
	std::vector<std::string> informational;
	auto *info_opt = merge_cmd->add_option("--informational", informational,
					       "A layer that informs (a distribution's or variant's own fragment): "
					       "applied in its place among the LAYERs, its values are reported, never fail the merge")
				 ->type_name("LAYER")
				 ->allow_extra_args(false);

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

	UpgradeCommands upgrade;
	upgrade.add(app);
	TrimCommands trims;
	trims.add(app);

	return cli::run_main(app, argc, argv, [&]() -> int {
		Logger log = cli::make_logger(opts);
		if (auto rc = upgrade.run(opts, log))
			return *rc;
		if (auto rc = trims.run(opts, log))
			return *rc;
		if (*merge_cmd) {
			MergeOptions o;
			o.make = make_options(mk);
			o.base = base;
			// the layers in command-line order, --informational ones among the others
			std::size_t next_layer = 0, next_info = 0;
			for (const CLI::Option *opt : merge_cmd->parse_order()) {
				if (opt == layer_opt && next_layer < layers.size()) {
					o.layers.emplace_back(layers[next_layer++]);
					o.required.push_back(true);
				} else if (opt == info_opt && next_info < informational.size()) {
					o.layers.emplace_back(informational[next_info++]);
					o.required.push_back(false);
				}
			}
			o.olddefconfig = !no_olddefconfig;
			MergeResult r = merge(o, log);
			if (!report_file.empty() || opts.json) {
				Json doc = report_json(o, r);
				if (!report_file.empty()) {
					std::string text = dump_json(doc);
					text += '\n';
					atomic_write(report_file, text, 0644, Durability::unsynced);
				}
				if (opts.json)
					cli::print_json(doc);
			}
			if (!r.verified) {
				log.info("merged input written to {} (not verified: --no-olddefconfig)", r.final_config.string());
				return cli::finish(exit_ok);
			}
			print_report(r.report, log);
			log.info("final config: {}", r.final_config.string());
			return cli::finish(r.report.ok() ? exit_ok : exit_config_dropped);
		}
		if (*verify_cmd) {
			LayeredConfig layered{Config()};
			for (const auto &f : expand_layers({vlayers.begin(), vlayers.end()}))
				layered.add_layer(Config::read(f));
			Config final_config = Config::read(final_file);
			std::optional<kconfig::Kconfig> k;
			if (!vmk.tree.empty())
				k = kconfig::Kconfig::read(vmk.tree, vmk.arch);
			VerifyReport r = verify(layered.requested(), final_config, k ? &*k : nullptr);
			if (k) {
				std::vector<Override> replaced;
				choice_overrides(r, layered, *k, replaced);
				name_other_arches(r, vmk.tree, make_options(vmk).effective_arch());
			}
			if (opts.json)
				cli::print_json(verify_json(final_file, r));
			print_report(r, log);
			return cli::finish(r.ok() ? exit_ok : exit_config_dropped);
		}
		ConfigDiff d = diff_configs(Config::read(da), Config::read(db));
		if (opts.json)
			cli::print_json(Json(d));
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
