// distkernel-stage: puts a built kernel into the interim, setup-independent location of a root
// (src_install). See docs/distkernel-stage.md.
#include "cli.hpp"
#include "distkernel/sign.hpp"
#include "distkernel/stage.hpp"

#include <iostream>

using namespace distkernel;

int main(int argc, char **argv)
{
	CLI::App app{"Stage a built kernel into /usr/src/linux-KV and /lib/modules/KV of a destination root",
		     "distkernel-stage"};
	cli::setup_app(app);
	cli::CommonOptions opts;
	cli::add_common(app, opts, false);
	app.require_subcommand(1, 1);
	// The common options may follow the subcommand ("add KV --root DIR", as the contracts write it).
	app.fallthrough();

	BuildStageOptions b;
	std::string build_dir, b_compress = "none";
	auto *build = app.add_subcommand("build", "Stage a kernel built with make (after make) from TREE and O=BUILD");
	build->add_option("--tree", b.tree, "Kernel source tree")->required()->type_name("SRC");
	build->add_option("-O", build_dir, "Build directory (make O=), default: the tree")->type_name("BUILD");
	build->add_option("--dest", b.dest, "Destination root (${ED})")->required()->type_name("DESTROOT");
	build->add_option("--arch", b.arch, "The kernel's ARCH")->capture_default_str();
	build->add_option("--cross-compile", b.cross_compile, "CROSS_COMPILE prefix");
	build->add_flag("--llvm", b.llvm, "Build with LLVM=1");
	build->add_option("--image-path", b.image_path, "In-tree path of the image (default: the arch's)")->type_name("REL");
	build->add_option("--variant", b.variant, "Variant name recorded in the manifest");
	build->add_option("--config-report", b.config_report, "distkernel-config --report output, copied into the manifest")
		->type_name("FILE");
	build->add_option("--compress-modules", b_compress, "zstd, xz, gzip or none")->capture_default_str();
	build->add_flag("--strip-modules", b.strip_modules, "Strip modules (INSTALL_MOD_STRIP=1)");
	build->add_option("-j,--jobs", b.jobs, "Threads for hashing and compressing (default: CPUs)");
	auto secureboot = [](CLI::App *s, SecureBootKey &k) {
		s->add_option("--secureboot-key", k.key, "Sign the staged image for Secure Boot with this key (sbsign)")
			->type_name("FILE");
		s->add_option("--secureboot-cert", k.cert, "The Secure Boot key's certificate (PEM)")->type_name("FILE");
	};
	secureboot(build, b.secureboot);

	PrebuiltStageOptions p;
	std::string p_compress = "none";
	auto *pre = app.add_subcommand("prebuilt", "Stage an already-built kernel (vmlinuz, modules tree, config)");
	pre->add_option("--release", p.release, "Kernel release (KV)")->required();
	pre->add_option("--image", p.image, "Kernel image")->required()->type_name("FILE");
	pre->add_option("--modules", p.modules, "The /lib/modules/KV directory")->required()->type_name("DIR");
	pre->add_option("--config", p.config, "The kernel's .config")->required()->type_name("FILE");
	pre->add_option("--system-map", p.system_map, "System.map (optional)")->type_name("FILE");
	pre->add_option("--dest", p.dest, "Destination root")->required()->type_name("DESTROOT");
	pre->add_option("--arch", p.arch, "The kernel's ARCH")->capture_default_str();
	pre->add_option("--image-path", p.image_path, "In-tree path the image gets (default: the arch's)")->type_name("REL");
	pre->add_option("--variant", p.variant, "Variant name recorded in the manifest");
	pre->add_option("--config-report", p.config_report, "distkernel-config --report output")->type_name("FILE");
	pre->add_option("--compress-modules", p_compress, "zstd, xz, gzip or none")->capture_default_str();
	pre->add_option("-j,--jobs", p.jobs, "Threads for hashing and compressing (default: CPUs)");
	secureboot(pre, p.secureboot);

	BuildTarget ip;
	auto *image_path = app.add_subcommand(
		"image-path", "Print the in-tree path of the image make builds: the built tree's (--tree), else the arch's default");
	image_path->add_option("--arch", ip.arch, "The kernel's ARCH (default: " + std::string(default_arch) + ")");
	auto *ip_tree = image_path->add_option("--tree", ip.tree, "A configured and built kernel tree: ask its make (image_name)")
				->type_name("SRC");
	image_path->add_option("-O", ip.build, "Its build directory (make O=), default: the tree")->type_name("BUILD")->needs(ip_tree);
	image_path->add_option("--cross-compile", ip.cross_compile, "CROSS_COMPILE prefix")->needs(ip_tree);
	image_path->add_flag("--llvm", ip.llvm, "Built with LLVM=1")->needs(ip_tree);

	std::filesystem::path sk_key, sk_cert, sk_build, sk_root = "/";
	std::string sk_release;
	auto *sk = app.add_subcommand("signing-key", "Module signing keys: check a key before a build, keep a generated one");
	sk->require_subcommand(1, 1);
	auto *sk_check = sk->add_subcommand("check", "Check that KEY is a readable private key and CERT its certificate");
	sk_check->add_option("--key", sk_key, "Private key, PEM (MODULES_SIGN_KEY)")->required()->type_name("FILE");
	sk_check->add_option("--cert", sk_cert, "Its certificate, PEM or DER (MODULES_SIGN_CERT; default: in the key file)")
		->type_name("FILE");
	auto *sk_keep = sk->add_subcommand("keep", "Keep the key the kernel build of KV generated under the root, 0600");
	sk_keep->add_option("KV", sk_release, "Kernel release")->required();
	sk_keep->add_option("--build", sk_build, "The kernel's build directory (make O=)")->required()->type_name("BUILD");
	sk_keep->add_option("--root", sk_root, "The root it is kept in")->capture_default_str()->type_name("DIR");

	return cli::run_main(app, argc, argv, [&] {
		if (image_path->parsed()) {
			std::cout << (ip.tree.empty() ? default_image_path(ip.arch) : built_image_path(ip)) << "\n";
			return 0;
		}
		Logger log = cli::make_logger(opts);
		if (sk_check->parsed()) {
			SigningKeyInfo i = check_signing_key(sk_key, sk_cert);
			log.info("{}: {} {} bits, certificate {}{}", sk_key.string(), i.key_type, i.bits, i.subject,
				 i.cert_in_key ? " (in the key file)" : "");
			return 0;
		}
		if (sk_keep->parsed()) {
			std::cout << keep_generated_key(Root(sk_root), sk_release, sk_build, log) << "\n";
			return 0;
		}
		StageResult r;
		if (build->parsed()) {
			b.build_dir = build_dir;
			b.compression = parse_module_compression(b_compress);
			r = stage_build(b, log);
		} else {
			p.compression = parse_module_compression(p_compress);
			r = stage_prebuilt(p, log);
		}
		log.info("staged {}: {} files, {:.0f} MB, manifest {} (hashing took {:.2f} s)", r.release, r.files,
			 static_cast<double>(r.bytes) / 1e6, r.manifest.string(), r.hash_seconds);
		if (opts.json) {
			cli::print_json(r);
		} else {
			std::cout << r.release << "\n";
		}
		return 0;
	});
}
