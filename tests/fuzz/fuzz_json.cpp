// libFuzzer harness: the JSON documents distkernel reads (machine snapshot, install record, the
// journal of an interrupted install), with the right schema spliced in so that the field
// readers are reached, and the document printed again.
#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/json_text.hpp"
#include "distkernel/install.hpp"
#include "distkernel/json.hpp"
#include "../../lib/install/install_internal.hpp"

#include <cstdint>
#include <string_view>

using namespace distkernel;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	Json doc;
	try {
		doc = parse_json(text, "fuzz.json");
	} catch (const Error &) {
		return 0;
	}
	(void)json_excerpt(doc);
	(void)dump_json(doc);
	if (!doc.is_object())
		return 0;
	for (const char *schema : {"distkernel.machine", "distkernel.deployment", "distkernel.journal"}) {
		Json d = doc;
		d["schema"] = schema;
		if (!d.contains("version"))
			d["version"] = "1.0";
		try {
			const std::string_view s(schema);
			if (s == "distkernel.machine")
				(void)dump_json(Json(machine_from_json(d, "fuzz.json")));
			else if (s == "distkernel.deployment")
				(void)dump_json(Json(Deployment::from_json(d, "fuzz.json")));
			else
				(void)dump_json(detail::Journal::from_json(d, "fuzz.json").to_json());
		} catch (const Error &) {
		}
	}
	return 0;
}
