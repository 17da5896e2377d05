// Versioned JSON documents: every persisted or printed document carries "schema" and
// "version": "MAJOR.MINOR". A reader rejects another MAJOR and accepts a newer MINOR.
#pragma once

#include "distkernel/export.hpp"

#include <nlohmann/json.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace distkernel {

using Json = nlohmann::ordered_json;

// {"schema": schema, "version": "M.m"} to which the caller adds its fields.
DISTKERNEL_API Json make_document(const std::string &schema, int major, int minor);

// Checks schema and major version; source names the file (or "stdin") in the error.
DISTKERNEL_API void check_document(const Json &doc, const std::string &schema, int major, const std::string &source);

// Parses JSON text that a file or a program gave us: ParseError naming source for bad JSON and
// for arrays and objects nested deeper than max_json_depth (printing, copying and comparing a
// value recurse through it). No document of ours is nested more than a few levels.
inline constexpr int max_json_depth = 64;
DISTKERNEL_API Json parse_json(std::string_view text, const std::filesystem::path &source);

// A short excerpt of a value for an error message: a scalar as JSON (a long string cut), an
// array or object by its kind and size.
DISTKERNEL_API std::string json_excerpt(const Json &value);

// Reads and checks a document from a file: ParseError naming the file for bad JSON.
DISTKERNEL_API Json read_document(const std::filesystem::path &file, const std::string &schema, int major);

// The names of an enum's values are declared once, with NLOHMANN_JSON_SERIALIZE_ENUM beside the
// enum, and used for JSON, messages and command-line values alike.
template <class Enum>
std::string enum_name(Enum value)
{
	return Json(value).template get<std::string>();
}

// The value called name; nullopt for a name no value has (nlohmann's own conversion would give the
// first value for any unknown name).
template <class Enum>
std::optional<Enum> enum_from_name(std::string_view name)
{
	Enum value = Json(name).template get<Enum>();
	if (enum_name(value) != name)
		return std::nullopt;
	return value;
}

} // namespace distkernel
