// The machine a kernel is checked against: read live from a root's /sys and /proc, or from a
// snapshot made on the target ("distkernel.machine" 1.0) so a binhost can check for it.
#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kmod.hpp"
#include "distkernel/quote.hpp"
#include "sys/text.hpp"

#include <fmt/core.h>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace distkernel {
namespace fs = std::filesystem;

namespace {

const char *const machine_schema = "distkernel.machine";

// sysfs and procfs values end in a newline, some in NUL bytes.
std::string trim(std::string_view s)
{
	using namespace std::string_view_literals;
	return std::string(text::trim(s, " \t\r\n\0"sv));
}

// Reads a small file; on failure notes why in m.unreadable and returns nullopt.
std::optional<std::string> read_noting(const Root &root, const std::string &inside, Machine &m)
{
	try {
		return read_file(root.path(inside));
	} catch (const Error &e) {
		m.unreadable.push_back(inside + ": " + e.what());
		return std::nullopt;
	}
}

std::string link_name(const fs::path &link)
{
	std::error_code ec;
	fs::path t = fs::read_symlink(link, ec);
	return ec ? std::string() : t.filename().string();
}

// A sysfs link resolved inside the root (its absolute targets and ".." stay in it), never with
// the host's canonical(): empty when it cannot be resolved.
fs::path resolve_in_root(const Root &root, const fs::path &host)
{
	try {
		return root.path(root.inside(host));
	} catch (const Error &) {
		return {};
	}
}

// A sysfs attribute (one page at most): resolved inside the root, read only when it is a regular
// file (a FIFO planted there would block the walk), empty otherwise.
std::string read_attribute(const Root &root, const fs::path &host)
{
	fs::path p = resolve_in_root(root, host);
	if (p.empty())
		return {};
	int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return {};
	std::string out;
	struct stat st {};
	if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		char buf[4096];
		ssize_t n;
		while (out.size() < 65536 && (n = ::read(fd, buf, sizeof buf)) > 0)
			out.append(buf, static_cast<std::size_t>(n));
	}
	::close(fd);
	return trim(out);
}

Device device_at(const Root &root, const fs::path &dir)
{
	Device d;
	d.path = root.inside(dir);
	d.modalias = read_attribute(root, dir / "modalias");
	d.driver = link_name(dir / "driver");
	if (!d.driver.empty())
		if (fs::path driver = resolve_in_root(root, dir / "driver"); !driver.empty())
			d.module = link_name(driver / "module");
	return d;
}

// The disk's device and the controllers above it that have a driver, up to the first PCI
// device (the controller; bridges above it are not the disk's business).
std::vector<Device> disk_devices(const Root &root, const fs::path &disk)
{
	std::vector<Device> out;
	std::error_code ec;
	fs::path dev = resolve_in_root(root, disk / "device");
	if (dev.empty() || !fs::exists(dev, ec))
		return out;
	fs::path top = root.path("/sys/devices");
	while (!dev.empty() && dev != top && dev.string().rfind(top.string(), 0) == 0) {
		if (fs::exists(dev / "driver", ec)) {
			out.push_back(device_at(root, dev));
			if (link_name(dev / "subsystem") == "pci")
				break;
		}
		dev = dev.parent_path();
	}
	return out;
}

// seen: the devices already in the chain. A dm device listed among its own slaves (or a cycle
// through several) would otherwise be walked once per path: 3 links each way make 3^16.
void block_chain(const Root &root, const fs::path &dir, std::vector<BlockLayer> &chain, int depth,
		 std::set<std::string> &seen)
{
	if (depth > 16 || !seen.insert(dir.lexically_normal().string()).second)
		return;
	// Links are resolved inside the root, but one may lead to the root itself or elsewhere in it,
	// and a partition's parent is then above /sys, or above the root: only sysfs is a block stack.
	const fs::path rel = dir.lexically_normal().lexically_relative(root.path("/sys"));
	if (rel.empty() || rel == "." || *rel.begin() == "..")
		return;
	std::error_code ec;
	BlockLayer l;
	l.name = dir.filename().string();
	if (fs::exists(dir / "partition", ec)) {
		l.kind = "partition";
		chain.push_back(l);
		block_chain(root, dir.parent_path(), chain, depth + 1, seen);
		return;
	}
	std::string uuid = read_attribute(root, dir / "dm" / "uuid");
	std::string level = read_attribute(root, dir / "md" / "level");
	bool stacked = false;
	if (fs::exists(dir / "dm", ec)) {
		l.kind = uuid.starts_with("CRYPT-") ? "dm-crypt" : uuid.starts_with("LVM-") ? "lvm" : "dm";
		stacked = true;
	} else if (fs::exists(dir / "md", ec)) {
		l.kind = "md";
		l.level = level;
		stacked = true;
	} else if (l.name.starts_with("loop")) {
		l.kind = "loop";
	} else {
		l.kind = "disk";
		l.devices = disk_devices(root, dir);
	}
	chain.push_back(l);
	if (stacked && fs::is_directory(dir / "slaves", ec))
		for (const auto &s : fs::directory_iterator(dir / "slaves", ec))
			if (fs::path next = resolve_in_root(root, s.path()); !next.empty())
				block_chain(root, next, chain, depth + 1, seen);
}

// The LUKS header's cipher of a dm-crypt device's backing device ("aes-xts-plain64"): LUKS1
// keeps name and mode at fixed offsets, LUKS2 in the JSON area after its 4 KiB binary header.
std::string luks_cipher(const fs::path &device)
{
	std::ifstream in(device, std::ios::binary);
	std::string head(16384, '\0');
	in.read(head.data(), static_cast<std::streamsize>(head.size()));
	head.resize(static_cast<std::size_t>(in.gcount()));
	if (head.size() < 72 || head.compare(0, 6, "LUKS\xba\xbe") != 0)
		return {};
	if (head[6] == 0 && head[7] == 1) {
		auto field = [&](std::size_t off) { return std::string(head.c_str() + off, strnlen(head.c_str() + off, 32)); };
		return field(8) + "-" + field(40);
	}
	const std::string key = "\"encryption\":\"";
	auto p = head.find(key, 4096);
	if (p == std::string::npos)
		return {};
	p += key.size();
	auto e = head.find('"', p);
	return e == std::string::npos || e - p > 64 ? std::string() : head.substr(p, e - p);
}

void read_crypto(const Root &root, Machine &m)
{
	std::set<std::string> seen;
	auto scan = [&](const Mount &mt) {
		for (std::size_t i = 0; i < mt.chain.size(); ++i) {
			const BlockLayer &l = mt.chain[i];
			if (l.kind != "dm-crypt" || !seen.insert(l.name).second)
				continue;
			CryptDevice c{l.name, {}};
			if (i + 1 < mt.chain.size())
				c.cipher = luks_cipher(root.path("/dev/" + mt.chain[i + 1].name));
			if (c.cipher.empty())
				m.unreadable.push_back("/dev/" + (i + 1 < mt.chain.size() ? mt.chain[i + 1].name : l.name) +
						       ": no LUKS header readable (the cipher of " + l.name + " is unknown)");
			m.crypto.push_back(std::move(c));
		}
	};
	if (m.root)
		scan(*m.root);
	for (const auto &mt : m.fstab)
		scan(mt);
}

// /etc/fstab of the root: every entry, and for those mounted now their device and block stack.
template <typename Fill>
void read_fstab(const Root &root, Machine &m, const std::map<std::string, Mount> &mounted, Fill &fill)
{
	std::error_code ec;
	if (!fs::exists(root.path("/etc/fstab"), ec))
		return;
	auto text = read_noting(root, "/etc/fstab", m);
	if (!text)
		return;
	const fs::path file = root.path("/etc/fstab");
	std::size_t lineno = 0;
	for (std::string_view l : text::lines(*text)) {
		++lineno;
		auto w = text::uncommented_words(l);
		if (w.empty())
			continue;
		if (w.size() < 3) {
			m.unreadable.push_back(fmt::format("{}:{}: not an fstab entry: {}", file.string(), lineno, quote_input(l, 120)));
			continue;
		}
		Mount mt;
		try {
			mt.source = text::unescape_mount(std::string(w[0]), file, lineno);
			mt.target = text::unescape_mount(std::string(w[1]), file, lineno);
		} catch (const ParseError &e) {
			m.unreadable.push_back(e.what());
			continue;
		}
		mt.fstype = std::string(w[2]);
		mt.options = w.size() > 3 ? std::string(w[3]) : "defaults";
		auto it = mounted.find(mt.target);
		mt.mounted = it != mounted.end();
		if (mt.mounted) {
			mt.device = it->second.device;
			if (mt.fstype == "auto" || mt.fstype.empty())
				mt.fstype = it->second.fstype;
			if (mt.fstype != "swap")
				fill(mt);
		}
		m.fstab.push_back(std::move(mt));
	}
}

void read_mounts(const Root &root, Machine &m)
{
	auto text = read_noting(root, "/proc/self/mountinfo", m);
	if (!text)
		return;
	const fs::path file = root.path("/proc/self/mountinfo");
	std::istringstream in(*text);
	std::string line;
	std::size_t lineno = 0;
	std::optional<Mount> best_root, best_boot;
	std::map<std::string, Mount> by_target; // the last mount on each target is the visible one
	while (std::getline(in, line)) {
		++lineno;
		std::istringstream f(line);
		std::string id, parent, majmin, subroot, target, opts, field;
		f >> id >> parent >> majmin >> subroot >> target >> opts;
		while (f >> field && field != "-") {
		}
		Mount mt;
		f >> mt.fstype >> mt.source;
		try {
			if (field != "-" || mt.fstype.empty())
				throw ParseError(file, lineno, fmt::format("not a mountinfo line: {}", quote_input(line, 120)));
			// it becomes a path below /sys/dev/block
			const auto colon = majmin.find(':');
			if (colon == std::string::npos || colon == 0 || colon + 1 == majmin.size() || majmin.size() > 21 ||
			    majmin.find_first_not_of("0123456789:") != std::string::npos || majmin.find(':', colon + 1) != std::string::npos)
				throw ParseError(file, lineno, fmt::format("not a device number MAJ:MIN: {}", quote_input(majmin, 40)));
			mt.target = text::unescape_mount(target, file, lineno);
			mt.source = text::unescape_mount(mt.source, file, lineno);
		} catch (const ParseError &e) {
			// like any other unreadable part of the machine: listed, the rest still read
			m.unreadable.push_back(e.what());
			continue;
		}
		mt.device = majmin;
		by_target[mt.target] = mt;
		if (std::find(m.filesystems.begin(), m.filesystems.end(), mt.fstype) == m.filesystems.end())
			m.filesystems.push_back(mt.fstype);
		if (mt.target == "/")
			best_root = mt;
		if ((mt.target == "/" || mt.target == "/boot") && (!best_boot || mt.target.size() >= best_boot->target.size()))
			best_boot = mt;
	}
	auto fill = [&](Mount &mt) {
		// btrfs and others report an anonymous 0:N device: the source names the real one.
		if (mt.device.starts_with("0:") && mt.source.starts_with("/dev/")) {
			struct stat st {};
			fs::path source = resolve_in_root(root, root.dir() / fs::path(mt.source).relative_path());
			if (!source.empty() && ::stat(source.c_str(), &st) == 0 && S_ISBLK(st.st_mode))
				mt.device = fmt::format("{}:{}", major(st.st_rdev), minor(st.st_rdev));
		}
		if (mt.fstype == "zfs") {
			mt.chain.push_back(BlockLayer{mt.source.substr(0, mt.source.find('/')), "zfs", "", {}});
			return;
		}
		if (mt.device.starts_with("0:"))
			return; // not on a block device (overlay, tmpfs, nfs)
		std::error_code ec;
		fs::path dev = root.path("/sys/dev/block/" + mt.device);
		if (!fs::exists(dev, ec)) {
			m.unreadable.push_back("/sys/dev/block/" + mt.device + ": absent (block device of " + mt.target + ")");
			return;
		}
		std::set<std::string> seen;
		block_chain(root, dev, mt.chain, 0, seen);
	};
	if (best_root) {
		fill(*best_root);
		m.root = best_root;
	} else {
		m.unreadable.push_back("/proc/self/mountinfo: no mount at /");
	}
	if (best_boot) {
		if (best_boot->target == "/boot")
			fill(*best_boot);
		else
			best_boot->chain = m.root ? m.root->chain : std::vector<BlockLayer>{};
		struct statvfs sv {};
		if (::statvfs(root.path("/boot").c_str(), &sv) == 0) {
			best_boot->free_bytes = std::uint64_t(sv.f_bavail) * sv.f_frsize;
			best_boot->size_bytes = std::uint64_t(sv.f_blocks) * sv.f_frsize;
		} else {
			m.unreadable.push_back("/boot: statvfs failed: " + std::string(std::strerror(errno)));
		}
		m.boot = best_boot;
	}
	std::sort(m.filesystems.begin(), m.filesystems.end());
	read_fstab(root, m, by_target, fill);
	read_crypto(root, m);
}

Json device_json(const Device &d)
{
	Json j;
	j["path"] = d.path;
	j["modalias"] = d.modalias;
	j["driver"] = d.driver;
	j["module"] = d.module;
	return j;
}

Json mount_json(const Mount &mt)
{
	Json j;
	j["target"] = mt.target;
	j["fstype"] = mt.fstype;
	j["source"] = mt.source;
	j["device"] = mt.device;
	j["chain"] = Json::array();
	for (const auto &l : mt.chain) {
		Json lj;
		lj["name"] = l.name;
		lj["kind"] = l.kind;
		if (!l.level.empty())
			lj["level"] = l.level;
		lj["devices"] = Json::array();
		for (const auto &d : l.devices)
			lj["devices"].push_back(device_json(d));
		j["chain"].push_back(lj);
	}
	if (mt.free_bytes)
		j["free_bytes"] = *mt.free_bytes;
	if (mt.size_bytes)
		j["size_bytes"] = *mt.size_bytes;
	return j;
}

Json fstab_json(const Mount &mt)
{
	Json j = mount_json(mt);
	j["options"] = mt.options;
	j["mounted"] = mt.mounted;
	return j;
}

// Field access that names the snapshot and the field in errors.
struct SnapshotFields {
	const std::string &source;
	std::string str(const Json &j, const char *key, const std::string &where, bool required = false) const
	{
		if (!j.contains(key)) {
			if (required)
				throw ParseError(source, 0, fmt::format("{}: missing \"{}\"", where, key));
			return {};
		}
		if (!j[key].is_string())
			throw ParseError(source, 0, fmt::format("{}.{}: expected a string, got {}", where, key, json_excerpt(j[key])));
		return j[key].get<std::string>();
	}
	const Json &array(const Json &j, const char *key, const std::string &where) const
	{
		static const Json empty = Json::array();
		if (!j.contains(key))
			return empty;
		if (!j[key].is_array())
			throw ParseError(source, 0, fmt::format("{}.{}: expected an array", where, key));
		return j[key];
	}
	Device device(const Json &j, const std::string &where) const
	{
		if (!j.is_object())
			throw ParseError(source, 0, where + ": expected an object, got " + json_excerpt(j));
		return Device{str(j, "path", where), str(j, "modalias", where), str(j, "driver", where), str(j, "module", where)};
	}
	Mount mount(const Json &j, const std::string &where) const
	{
		if (!j.is_object())
			throw ParseError(source, 0, where + ": expected an object");
		Mount mt;
		mt.target = str(j, "target", where, true);
		mt.fstype = str(j, "fstype", where, true);
		mt.source = str(j, "source", where);
		mt.device = str(j, "device", where);
		std::size_t i = 0;
		for (const auto &lj : array(j, "chain", where)) {
			std::string w = fmt::format("{}.chain[{}]", where, i++);
			BlockLayer l{str(lj, "name", w, true), str(lj, "kind", w, true), str(lj, "level", w), {}};
			std::size_t k = 0;
			for (const auto &dj : array(lj, "devices", w))
				l.devices.push_back(device(dj, fmt::format("{}.devices[{}]", w, k++)));
			mt.chain.push_back(std::move(l));
		}
		for (const char *key : {"free_bytes", "size_bytes"}) {
			if (!j.contains(key))
				continue;
			if (!j[key].is_number_unsigned())
				throw ParseError(source, 0, fmt::format("{}.{}: expected a byte count, got {}", where, key, json_excerpt(j[key])));
			(std::string(key) == "free_bytes" ? mt.free_bytes : mt.size_bytes) = j[key].get<std::uint64_t>();
		}
		return mt;
	}
};

} // namespace

Machine read_live_machine(const Root &root, const Logger &log)
{
	Machine m;
	m.origin = "live system under " + root.dir().string();
	log.verbose("reading the machine under {}", root.dir().string());
	if (auto r = read_noting(root, "/proc/sys/kernel/osrelease", m))
		m.release = trim(*r);
	if (auto c = read_noting(root, "/proc/cmdline", m))
		m.cmdline = trim(*c);
	if (auto mods = read_noting(root, "/proc/modules", m)) {
		std::istringstream in(*mods);
		std::string line;
		while (std::getline(in, line))
			if (auto sp = line.find(' '); sp != std::string::npos && sp > 0)
				m.loaded_modules.push_back(line.substr(0, sp));
	}
	std::error_code ec;
	fs::path sys = root.path("/sys/devices");
	if (!fs::is_directory(sys, ec)) {
		m.unreadable.push_back("/sys/devices: not there (sysfs not mounted under this root)");
	} else {
		std::size_t denied = 0;
		fs::recursive_directory_iterator it(sys, fs::directory_options::skip_permission_denied, ec), end;
		for (; !ec && it != end; it.increment(ec)) {
			if (it->path().filename() != "modalias")
				continue;
			std::error_code fe;
			if (!it->is_regular_file(fe))
				continue;
			Device d = device_at(root, it->path().parent_path());
			if (d.modalias.empty()) {
				++denied;
				continue;
			}
			m.devices.push_back(std::move(d));
		}
		if (ec)
			m.unreadable.push_back("/sys/devices: walk stopped: " + ec.message());
		if (denied)
			m.unreadable.push_back(fmt::format("/sys/devices: {} modalias files could not be read", denied));
	}
	read_mounts(root, m);
	return m;
}

void to_json(Json &j, const Machine &m)
{
	j = make_document(machine_schema, 1, 1);
	j["origin"] = m.origin;
	j["release"] = m.release;
	j["cmdline"] = m.cmdline;
	j["devices"] = Json::array();
	for (const auto &d : m.devices)
		j["devices"].push_back(device_json(d));
	j["loaded_modules"] = m.loaded_modules;
	j["mounts"] = Json::object();
	if (m.root)
		j["mounts"]["root"] = mount_json(*m.root);
	if (m.boot)
		j["mounts"]["boot"] = mount_json(*m.boot);
	j["fstab"] = Json::array();
	for (const auto &mt : m.fstab)
		j["fstab"].push_back(fstab_json(mt));
	j["filesystems"] = m.filesystems;
	j["crypto"] = Json::array();
	for (const auto &c : m.crypto)
		j["crypto"].push_back({{"device", c.device}, {"cipher", c.cipher}});
	j["unreadable"] = m.unreadable;
}

Machine machine_from_json(const Json &doc, const std::string &source)
{
	check_document(doc, machine_schema, 1, source);
	SnapshotFields r{source};
	Machine m;
	m.origin = "snapshot " + source;
	m.release = r.str(doc, "release", "machine");
	m.cmdline = r.str(doc, "cmdline", "machine");
	std::size_t i = 0;
	for (const auto &d : r.array(doc, "devices", "machine"))
		m.devices.push_back(r.device(d, fmt::format("devices[{}]", i++)));
	i = 0;
	for (const auto &n : r.array(doc, "loaded_modules", "machine")) {
		if (!n.is_string())
			throw ParseError(source, 0, fmt::format("loaded_modules[{}]: expected a module name, got {}", i, json_excerpt(n)));
		m.loaded_modules.push_back(n.get<std::string>());
		++i;
	}
	if (doc.contains("mounts")) {
		const Json &mounts = doc["mounts"];
		if (!mounts.is_object())
			throw ParseError(source, 0, "mounts: expected an object");
		if (mounts.contains("root"))
			m.root = r.mount(mounts["root"], "mounts.root");
		if (mounts.contains("boot"))
			m.boot = r.mount(mounts["boot"], "mounts.boot");
	}
	i = 0;
	for (const auto &f : r.array(doc, "fstab", "machine")) {
		std::string where = fmt::format("fstab[{}]", i++);
		Mount mt = r.mount(f, where);
		mt.options = r.str(f, "options", where);
		if (f.contains("mounted")) {
			if (!f["mounted"].is_boolean())
				throw ParseError(source, 0, where + ".mounted: expected true or false, got " + json_excerpt(f["mounted"]));
			mt.mounted = f["mounted"].get<bool>();
		}
		m.fstab.push_back(std::move(mt));
	}
	i = 0;
	for (const auto &f : r.array(doc, "filesystems", "machine")) {
		if (!f.is_string())
			throw ParseError(source, 0, fmt::format("filesystems[{}]: expected a filesystem type, got {}", i, json_excerpt(f)));
		m.filesystems.push_back(f.get<std::string>());
		++i;
	}
	i = 0;
	for (const auto &c : r.array(doc, "crypto", "machine")) {
		std::string where = fmt::format("crypto[{}]", i++);
		if (!c.is_object())
			throw ParseError(source, 0, where + ": expected an object, got " + json_excerpt(c));
		m.crypto.push_back(CryptDevice{r.str(c, "device", where, true), r.str(c, "cipher", where)});
	}
	for (const auto &u : r.array(doc, "unreadable", "machine"))
		if (u.is_string())
			m.unreadable.push_back(u.get<std::string>());
	return m;
}

Machine read_machine_snapshot(const fs::path &file)
{
	return machine_from_json(parse_json(read_file(file), file), file.string());
}

} // namespace distkernel
