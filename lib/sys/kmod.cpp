// The only user of libkmod. A context per module tree: kmod_new() gets the new kernel's own
// directory and only the configuration directories the caller names.
#include "distkernel/kmod.hpp"
#include "distkernel/error.hpp"
#include "distkernel/rootfs.hpp"
#include "sys/text.hpp"

#include <libkmod.h>

#include <cerrno>
#include <cstring>

namespace distkernel {
namespace fs = std::filesystem;

std::string normalise_module_name(std::string_view p)
{
	auto slash = p.rfind('/');
	if (slash != std::string_view::npos)
		p.remove_prefix(slash + 1);
	for (std::string_view ext : {".ko.zst", ".ko.xz", ".ko.gz", ".ko"}) {
		if (p.size() > ext.size() && p.substr(p.size() - ext.size()) == ext) {
			p.remove_suffix(ext.size());
			break;
		}
	}
	std::string out(p);
	for (char &c : out)
		if (c == '-')
			c = '_';
	return out;
}

bool is_module_file_name(std::string_view p)
{
	auto slash = p.rfind('/');
	std::string_view base = slash == std::string_view::npos ? p : p.substr(slash + 1);
	for (std::string_view ext : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"})
		if (base.size() > ext.size() && base.substr(base.size() - ext.size()) == ext)
			return true;
	return false;
}

namespace {

struct ListDeleter {
	void operator()(kmod_list *l) const { kmod_module_unref_list(l); }
};
using ModuleList = std::unique_ptr<kmod_list, ListDeleter>;

struct ModuleDeleter {
	void operator()(kmod_module *m) const { kmod_module_unref(m); }
};
using Module = std::unique_ptr<kmod_module, ModuleDeleter>;

// libkmod logs through syslog-like callbacks; its complaints become part of our errors instead.
void quiet_log(void *, int, const char *, int, const char *, const char *, va_list) {}

} // namespace

struct ModuleTree::Impl {
	kmod_ctx *ctx = nullptr;
	std::set<std::string> builtin;
	std::vector<std::string> config_strings;

	~Impl()
	{
		if (ctx)
			kmod_unref(ctx);
	}

	ModuleRef ref(kmod_module *m) const
	{
		ModuleRef r;
		r.name = normalise_module_name(kmod_module_get_name(m));
		const char *path = kmod_module_get_path(m);
		// Without a path, libkmod found it in the built-in indexes.
		r.builtin = !path || builtin.count(r.name) > 0;
		if (!r.builtin)
			r.file = path;
		return r;
	}
};

ModuleTree::ModuleTree(const fs::path &dir, const std::vector<fs::path> &config_dirs)
	: dir_(dir), impl_(std::make_unique<Impl>())
{
	std::error_code ec;
	if (!fs::is_regular_file(dir / "modules.dep.bin", ec) && !fs::is_regular_file(dir / "modules.dep", ec))
		throw Error(dir.string() + ": not a module tree (no modules.dep: run depmod for this kernel)");
	for (const auto &d : config_dirs)
		impl_->config_strings.push_back(d.string());
	std::vector<const char *> configs;
	for (const auto &s : impl_->config_strings)
		configs.push_back(s.c_str());
	configs.push_back(nullptr);
	impl_->ctx = kmod_new(dir.c_str(), configs.data());
	if (!impl_->ctx)
		throw Error(dir.string() + ": libkmod cannot open this module tree");
	kmod_set_log_fn(impl_->ctx, quiet_log, nullptr);
	int err = kmod_load_resources(impl_->ctx);
	if (err < 0)
		throw SystemError(dir.string() + ": libkmod cannot load its indexes", -err);
	// modules.builtin is the authority on what is built in: libkmod's initstate would ask the
	// running kernel's /sys/module for anything else.
	std::string builtin;
	try {
		builtin = read_file(dir / "modules.builtin");
	} catch (const SystemError &) {
		throw Error(dir.string() + "/modules.builtin: cannot be read (every kernel's modules_install writes it)");
	}
	for (std::string_view line : text::lines(builtin))
		if (!line.empty())
			impl_->builtin.insert(normalise_module_name(line));
	// Built-in code that cannot be a module (bool options: tracefs, ...) is missing from
	// modules.builtin, but its modinfo ("tracefs.alias=fs-tracefs") is in modules.builtin.modinfo.
	const fs::path modinfo_file = dir / "modules.builtin.modinfo";
	const std::string modinfo = fs::is_regular_file(modinfo_file, ec) ? read_file(modinfo_file) : std::string();
	for (std::string_view entry : text::split(modinfo, '\0'))
		if (auto dot = entry.find('.'); dot != std::string_view::npos && dot > 0 && entry.find('=') > dot)
			impl_->builtin.insert(normalise_module_name(entry.substr(0, dot)));
}

ModuleTree::~ModuleTree() = default;

std::vector<ModuleRef> ModuleTree::lookup(const std::string &alias) const
{
	kmod_list *raw = nullptr;
	int err = kmod_module_new_from_lookup(impl_->ctx, alias.c_str(), &raw);
	ModuleList list(raw);
	std::vector<ModuleRef> out;
	if (err < 0)
		return out;
	kmod_list *e;
	kmod_list_foreach(e, list.get())
	{
		Module m(kmod_module_get_module(e));
		out.push_back(impl_->ref(m.get()));
	}
	return out;
}

bool ModuleTree::is_builtin(const std::string &name) const
{
	return impl_->builtin.count(normalise_module_name(name)) > 0;
}

std::optional<ModuleRef> ModuleTree::find(const std::string &name) const
{
	std::string n = normalise_module_name(name);
	if (is_builtin(n))
		return ModuleRef{n, {}, true};
	kmod_module *raw = nullptr;
	if (kmod_module_new_from_name_lookup(impl_->ctx, n.c_str(), &raw) == 0 && raw) {
		Module m(raw);
		if (kmod_module_get_path(m.get()))
			return impl_->ref(m.get());
	}
	// Renamed modules keep their old name as an alias.
	auto via = lookup(n);
	if (!via.empty())
		return via.front();
	return std::nullopt;
}

std::vector<std::string> ModuleTree::dependencies(const std::string &name) const
{
	std::vector<std::string> out;
	std::set<std::string> seen{normalise_module_name(name)};
	std::vector<std::string> todo{normalise_module_name(name)};
	while (!todo.empty()) {
		std::string n = todo.back();
		todo.pop_back();
		kmod_module *raw = nullptr;
		if (kmod_module_new_from_name(impl_->ctx, n.c_str(), &raw) < 0 || !raw)
			continue;
		Module m(raw);
		ModuleList deps(kmod_module_get_dependencies(m.get()));
		kmod_list *e;
		kmod_list_foreach(e, deps.get())
		{
			Module d(kmod_module_get_module(e));
			std::string dn = normalise_module_name(kmod_module_get_name(d.get()));
			if (seen.insert(dn).second) {
				out.push_back(dn);
				todo.push_back(dn);
			}
		}
	}
	return out;
}

std::map<std::string, std::string> ModuleTree::info(const fs::path &module_file) const
{
	kmod_module *raw = nullptr;
	int err = kmod_module_new_from_path(impl_->ctx, module_file.c_str(), &raw);
	if (err < 0 || !raw)
		throw SystemError(module_file.string() + ": cannot open as a kernel module", -err);
	Module m(raw);
	kmod_list *info = nullptr;
	err = kmod_module_get_info(m.get(), &info);
	if (err < 0)
		throw SystemError(module_file.string() + ": cannot read its .modinfo", -err);
	std::map<std::string, std::string> out;
	kmod_list *e;
	kmod_list_foreach(e, info)
	{
		std::string k = kmod_module_info_get_key(e);
		const char *v = kmod_module_info_get_value(e);
		std::string &slot = out[k];
		if (!slot.empty())
			slot += ' ';
		slot += v ? v : "";
	}
	kmod_module_info_free_list(info);
	return out;
}

} // namespace distkernel
