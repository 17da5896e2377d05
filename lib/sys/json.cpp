#include "distkernel/json.hpp"
#include "distkernel/json_text.hpp"
#include "distkernel/error.hpp"
#include "distkernel/quote.hpp"
#include "distkernel/rootfs.hpp"

#include <fmt/core.h>

namespace distkernel {

Json make_document(const std::string &schema, int major, int minor)
{
	Json d;
	d["schema"] = schema;
	d["version"] = std::to_string(major) + "." + std::to_string(minor);
	return d;
}

void check_document(const Json &doc, const std::string &schema, int major, const std::string &source)
{
	if (!doc.is_object() || !doc.contains("schema") || !doc["schema"].is_string())
		throw Error(source + ": not a distkernel document (no \"schema\")");
	if (doc["schema"].get<std::string>() != schema)
		throw Error(source + ": is a " + quote_input(doc["schema"].get<std::string>(), 60) + " document, expected \"" +
			    schema + "\"");
	if (!doc.contains("version"))
		throw Error(source + ": no \"version\"");
	if (!doc["version"].is_string())
		throw Error(source + ": field 'version': expected a string \"MAJOR.MINOR\", got " +
			    std::string(doc["version"].type_name()) + " (write it in quotes: \"" + std::to_string(major) + ".0\")");
	std::string v = doc["version"].get<std::string>();
	// MAJOR.MINOR, both plain digit runs: "+1.x", "1", "1.0.0", " 1.0" are not versions.
	auto digits = [](std::string_view s) {
		return !s.empty() && s.size() <= 6 && s.find_first_not_of("0123456789") == std::string_view::npos;
	};
	auto dot = v.find('.');
	if (dot == std::string::npos || !digits(std::string_view(v).substr(0, dot)) ||
	    !digits(std::string_view(v).substr(dot + 1)))
		throw Error(source + ": malformed version " + quote_input(v, 60) + " (expected MAJOR.MINOR)");
	int got = std::stoi(v.substr(0, dot));
	if (got != major)
		throw Error(source + ": version " + printable(v, 60) + " of " + schema + " is not supported (this distkernel reads " +
			    std::to_string(major) + ".x)");
}

namespace {

struct TooDeep {
	std::size_t depth;
};

} // namespace

Json parse_json(std::string_view text, const std::filesystem::path &source)
{
	auto limit = [](int depth, Json::parse_event_t event, Json &) {
		if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
		    depth >= max_json_depth)
			throw TooDeep{static_cast<std::size_t>(depth)};
		return true;
	};
	try {
		return Json::parse(text.begin(), text.end(), limit);
	} catch (const nlohmann::json::exception &e) { // parse_error, and out_of_range for a number like 1e999
		throw ParseError(source, 0, std::string("not valid JSON: ") + printable(e.what()));
	} catch (const TooDeep &) {
		throw ParseError(source, 0, fmt::format("not a document: arrays and objects nested deeper than {} levels",
							max_json_depth));
	}
}

std::string dump_json(const Json &doc, int indent)
{
	return doc.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string json_excerpt(const Json &value)
{
	switch (value.type()) {
	case Json::value_t::array:
		return fmt::format("an array of {} elements", value.size());
	case Json::value_t::object:
		return fmt::format("an object of {} members", value.size());
	case Json::value_t::string: {
		// As JSON, which escapes control bytes; invalid UTF-8 replaced rather than thrown on.
		const std::string &v = value.get_ref<const std::string &>();
		const std::size_t max = 60;
		std::string out = dump_json(Json(v.substr(0, max)), -1);
		return v.size() > max ? out + fmt::format("... ({} bytes)", v.size()) : out;
	}
	case Json::value_t::binary:
		return "binary data";
	default:
		return value.dump();
	}
}

Json read_document(const std::filesystem::path &file, const std::string &schema, int major)
{
	Json doc = parse_json(read_file(file), file);
	check_document(doc, schema, major, file.string());
	return doc;
}

} // namespace distkernel
