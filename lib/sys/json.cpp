#include "distkernel/json.hpp"
#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"

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
		throw Error(source + ": is a \"" + doc["schema"].get<std::string>() + "\" document, expected \"" + schema + "\"");
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
		throw Error(source + ": malformed version \"" + v + "\" (expected MAJOR.MINOR)");
	int got = std::stoi(v.substr(0, dot));
	if (got != major)
		throw Error(source + ": version " + v + " of " + schema + " is not supported (this distkernel reads " +
			    std::to_string(major) + ".x)");
}

Json read_document(const std::filesystem::path &file, const std::string &schema, int major)
{
	std::string text = read_file(file);
	Json doc;
	try {
		doc = Json::parse(text);
	} catch (const nlohmann::json::parse_error &e) {
		throw ParseError(file, 0, std::string("not valid JSON: ") + e.what());
	}
	check_document(doc, schema, major, file.string());
	return doc;
}

} // namespace distkernel
