// Versioned JSON documents: every persisted or printed document carries "schema" and
// "version": "MAJOR.MINOR". A reader rejects another MAJOR and accepts a newer MINOR.
#pragma once

#include <nlohmann/json.hpp>
#include <filesystem>
#include <string>

namespace distkernel {

using Json = nlohmann::ordered_json;

// {"schema": schema, "version": "M.m"} to which the caller adds its fields.
Json make_document(const std::string &schema, int major, int minor);

// Checks schema and major version; source names the file (or "stdin") in the error.
void check_document(const Json &doc, const std::string &schema, int major, const std::string &source);

// Reads and checks a document from a file: ParseError naming the file for bad JSON.
Json read_document(const std::filesystem::path &file, const std::string &schema, int major);

} // namespace distkernel
