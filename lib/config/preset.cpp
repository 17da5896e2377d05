// Feature presets: documented fragments (data/presets/NAME.config), the user's selection of them
// under /etc/kernel, and whether an existing .config satisfies one.
#include "distkernel/error.hpp"
#include "distkernel/upgrade.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace distkernel {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view preset_suffix = ".config";

std::vector<std::string> lines_of(const std::string &text)
{
	std::vector<std::string> out;
	std::size_t pos = 0;
	while (pos < text.size()) {
		std::size_t nl = text.find('\n', pos);
		out.push_back(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
		pos = nl == std::string::npos ? text.size() : nl + 1;
	}
	return out;
}

bool is_note(const std::string &line)
{
	return line.size() >= 2 && line.starts_with("# ") && !line.starts_with("# CONFIG_") &&
	       !line.starts_with("# distkernel:");
}

} // namespace

fs::path preset_file(const fs::path &dir, const std::string &name)
{
	fs::path f = dir / (name + std::string(preset_suffix));
	bool plain = !name.empty() && name.find('/') == std::string::npos && name.front() != '.';
	if (plain && fs::is_regular_file(f))
		return f;
	std::string known;
	for (const auto &p : list_presets(dir))
		known += (known.empty() ? "" : ", ") + p.name;
	throw UsageError(fmt::format("no preset '{}' in {} (known: {})", name, dir.string(), known.empty() ? "none" : known));
}

Preset read_preset(const fs::path &file)
{
	Preset p;
	p.file = file;
	p.name = file.stem().string();
	std::string text = read_file(file);
	Config c = Config::parse(text, file.string());
	auto lines = lines_of(text);
	// The summary: the first comment line (the title line of the file).
	for (const auto &l : lines)
		if (is_note(l)) {
			p.summary = l.substr(2);
			break;
		}
	for (const auto &e : c.entries()) {
		PresetValue v{e, {}};
		// The note: the comment lines right above, up to a blank line or another assignment.
		std::vector<std::string> note;
		for (std::size_t i = e.origin.line - 1; i-- > 0;) {
			const std::string &l = lines[i];
			if (l.starts_with("# distkernel:"))
				continue;
			if (!is_note(l))
				break;
			note.insert(note.begin(), l.substr(2));
		}
		for (const auto &n : note)
			v.note += (v.note.empty() ? "" : " ") + n;
		p.values.push_back(std::move(v));
	}
	return p;
}

std::vector<Preset> list_presets(const fs::path &dir)
{
	std::vector<fs::path> files;
	std::error_code ec;
	for (const auto &d : fs::directory_iterator(dir, ec))
		if (d.is_regular_file() && d.path().extension() == preset_suffix)
			files.push_back(d.path());
	if (ec)
		throw Error(fmt::format("{}: cannot list the presets: {}", dir.string(), ec.message()));
	std::sort(files.begin(), files.end());
	std::vector<Preset> out;
	for (const auto &f : files)
		out.push_back(read_preset(f));
	return out;
}

std::vector<fs::path> selected_presets(const Root &root, const fs::path &dir)
{
	fs::path file = root.path(std::string(presets_selection_file));
	if (!fs::exists(file))
		return {};
	std::vector<fs::path> out;
	std::size_t lineno = 0;
	for (const auto &line : lines_of(read_file(file))) {
		lineno++;
		std::string l = line.substr(0, line.find('#'));
		std::size_t pos = 0;
		while ((pos = l.find_first_not_of(" \t\r", pos)) != std::string::npos) {
			std::size_t end = l.find_first_of(" \t\r", pos);
			std::string name = l.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
			pos = end == std::string::npos ? l.size() : end;
			try {
				fs::path f = preset_file(dir, name);
				if (std::find(out.begin(), out.end(), f) == out.end())
					out.push_back(f);
			} catch (const UsageError &e) {
				throw ParseError(file, lineno, e.what());
			}
		}
	}
	return out;
}

VerifyReport check_preset(const Preset &p, const Config &config, const kconfig::Kconfig *kconfig)
{
	std::vector<Entry> requested;
	for (const auto &v : p.values)
		requested.push_back(v.entry);
	VerifyReport r = verify(requested, config, kconfig);
	// A preset asks for "at least a module" with =m: built in serves as well.
	for (auto &f : r.findings)
		if (f.requested.kind() == Value::Kind::module && f.final_value &&
		    f.final_value->kind() == Value::Kind::yes) {
			f.survived = true;
			f.status = Finding::Status::kept;
			f.reason.clear();
		}
	return r;
}

Json check_preset_json(const Preset &p, const VerifyReport &r)
{
	Json doc = make_document("distkernel.preset-check", 1, 0);
	doc["preset"] = Json{{"name", p.name}, {"file", p.file.string()}};
	Json findings = findings_json(r);
	for (std::size_t i = 0; i < findings.size() && i < p.values.size(); i++)
		findings[i]["note"] = p.values[i].note;
	doc["findings"] = findings;
	doc["missing"] = r.failures();
	doc["ok"] = r.ok();
	return doc;
}

Json presets_json(const std::vector<Preset> &presets)
{
	Json a = Json::array();
	for (const auto &p : presets)
		a.push_back(Json{{"name", p.name}, {"file", p.file.string()}, {"summary", p.summary}, {"values", p.values.size()}});
	Json doc = make_document("distkernel.presets", 1, 0);
	doc["presets"] = std::move(a);
	return doc;
}

Json selected_presets_json(const std::vector<fs::path> &files)
{
	Json a = Json::array();
	for (const auto &f : files)
		a.push_back(f.string());
	Json doc = make_document("distkernel.presets", 1, 0);
	doc["selected"] = std::move(a);
	return doc;
}

} // namespace distkernel
