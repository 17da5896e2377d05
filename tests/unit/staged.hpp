// A staged kernel for the unit tests: three small files and their manifest under ROOT, as
// distkernel-stage leaves them, without running anything.
#pragma once

#include "files.hpp"

#include "distkernel/hash.hpp"
#include "distkernel/json.hpp"
#include "distkernel/stage.hpp"

#include <filesystem>
#include <string>

namespace distkernel::test {

inline void fake_stage(const std::filesystem::path &root, const std::string &kv)
{
	namespace fs = std::filesystem;
	const fs::path src = root / ("usr/src/linux-" + kv);
	put(src / "arch/x86/boot/bzImage", "image");
	put(src / ".config", "CONFIG_MODULES=y\n");
	put(src / "System.map", "map");
	Json doc = make_document(staged_schema, 1, 0);
	doc["release"] = kv;
	doc["variant"] = "test";
	doc["image"] = "/usr/src/linux-" + kv + "/arch/x86/boot/bzImage";
	doc["system_map"] = "/usr/src/linux-" + kv + "/System.map";
	doc["config"] = "/usr/src/linux-" + kv + "/.config";
	doc["modules_dir"] = "/lib/modules/" + kv;
	Json files = Json::array();
	for (const char *f : {"arch/x86/boot/bzImage", ".config", "System.map"})
		files.push_back({{"path", "/usr/src/linux-" + kv + "/" + f},
				 {"size", fs::file_size(src / f)},
				 {"sha256", sha256_file(src / f)}});
	doc["files"] = files;
	put(src / "distkernel.json", doc.dump());
}

} // namespace distkernel::test
