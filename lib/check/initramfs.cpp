// Reading an initramfs image: the kernel accepts concatenated cpio "newc" archives, each either
// plain or compressed, with zero padding between them; dracut writes the early-microcode archive
// uncompressed first, then the main archive compressed.
#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kmod.hpp"
#include "distkernel/process.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace distkernel {
namespace fs = std::filesystem;

bool InitramfsContents::has_module(const std::string &name) const
{
	std::string n = normalise_module_name(name);
	return std::find(modules.begin(), modules.end(), n) != modules.end();
}

namespace {

struct Compression {
	std::string_view magic;
	const char *name;
	const char *program; // decompresses a file argument to stdout with -dc
};

const Compression compressions[] = {
	{std::string_view("\x1f\x8b", 2), "gzip", "gzip"},
	{std::string_view("\x1f\x9e", 2), "gzip", "gzip"},
	{std::string_view("\xfd" "7zXZ\0", 6), "xz", "xz"},
	{std::string_view("\x28\xb5\x2f\xfd", 4), "zstd", "zstd"},
	{std::string_view("\x02\x21\x4c\x18", 4), "lz4", "lz4"},
	{std::string_view("\x04\x22\x4d\x18", 4), "lz4", "lz4"},
	{std::string_view("BZh", 3), "bzip2", "bzip2"},
	{std::string_view("\x5d\x00\x00", 3), "lzma", "xz"},
	{std::string_view("\x89LZO", 4), "lzo", "lzop"},
};

const Compression *compression_of(std::string_view data)
{
	for (const auto &c : compressions)
		if (data.substr(0, c.magic.size()) == c.magic)
			return &c;
	return nullptr;
}

std::uint64_t hex_field(std::string_view h, const std::string &name, std::size_t offset)
{
	std::uint64_t v = 0;
	for (char c : h) {
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			throw ParseError(name, 0, fmt::format("cpio header at byte {}: '{}' is not hexadecimal", offset, h));
		v = v * 16 + static_cast<std::uint64_t>(d);
	}
	return v;
}

std::size_t align4(std::size_t n) { return (n + 3) & ~std::size_t(3); }

void note_file(std::string path, InitramfsContents &out)
{
	while (path.starts_with("./"))
		path.erase(0, 2);
	if (is_module_file_name(path)) {
		std::string n = normalise_module_name(path);
		if (std::find(out.modules.begin(), out.modules.end(), n) == out.modules.end())
			out.modules.push_back(n);
	}
	for (std::string_view prefix : {"lib/modules/", "usr/lib/modules/"}) {
		if (path.starts_with(prefix)) {
			std::string rest = path.substr(prefix.size());
			std::string kv = rest.substr(0, rest.find('/'));
			if (!kv.empty() && std::find(out.releases.begin(), out.releases.end(), kv) == out.releases.end())
				out.releases.push_back(kv);
		}
	}
	out.files.push_back(std::move(path));
}

// Parses plain cpio archives from data; returns where a compressed part starts (data.size()
// when none).
std::size_t parse_plain(std::string_view data, const std::string &name, InitramfsContents &out)
{
	std::size_t pos = 0;
	while (pos < data.size()) {
		if (data[pos] == '\0') { // padding between archives
			++pos;
			continue;
		}
		if (compression_of(data.substr(pos)))
			return pos;
		std::string_view magic = data.substr(pos, 6);
		if (magic != "070701" && magic != "070702") {
			std::string bytes;
			for (unsigned char c : data.substr(pos, 4))
				bytes += fmt::format("{}{:02x}", bytes.empty() ? "" : " ", c);
			throw ParseError(name, 0, fmt::format("byte {}: '{}' is neither a cpio newc header nor a known compression", pos, bytes));
		}
		if (data.size() - pos < 110)
			throw ParseError(name, 0, fmt::format("truncated cpio header at byte {}", pos));
		std::uint64_t filesize = hex_field(data.substr(pos + 54, 8), name, pos);
		std::uint64_t namesize = hex_field(data.substr(pos + 94, 8), name, pos);
		if (namesize == 0 || pos + 110 + namesize > data.size())
			throw ParseError(name, 0, fmt::format("cpio entry at byte {}: name size {} runs past the end", pos, namesize));
		std::string entry(data.substr(pos + 110, namesize - 1));
		std::size_t body = align4(pos + 110 + namesize);
		std::size_t next = align4(body + filesize);
		if (body + filesize > data.size())
			throw ParseError(name, 0, fmt::format("cpio entry '{}' at byte {}: {} bytes of data run past the end", entry, pos, filesize));
		pos = next;
		if (entry == "TRAILER!!!")
			continue;
		note_file(std::move(entry), out);
	}
	return pos;
}

} // namespace

void parse_cpio(std::string_view data, const std::string &name, InitramfsContents &out)
{
	std::size_t end = parse_plain(data, name, out);
	if (end < data.size())
		throw ParseError(name, 0, fmt::format("compressed data at byte {} inside a decompressed archive", end));
}

InitramfsContents read_initramfs(const fs::path &image, const Logger &log)
{
	std::string data = read_file(image);
	InitramfsContents out;
	std::size_t start = parse_plain(data, image.string(), out);
	if (start > 0)
		out.segments.push_back("cpio");
	if (start >= data.size()) {
		if (out.segments.empty())
			throw ParseError(image, 0, "empty initramfs image");
		return out;
	}
	const Compression *c = compression_of(std::string_view(data).substr(start));
	log.verbose("{}: {} data from byte {}, decompressing with {}", image.string(), c->name, start, c->program);
	// The decompressor reads a file: the compressed part alone when a plain prefix precedes it.
	std::optional<TempDir> tmp;
	fs::path input = image;
	if (start > 0) {
		tmp.emplace();
		input = tmp->path() / "compressed";
		atomic_write(input, std::string_view(data).substr(start), 0600);
	}
	data.clear();
	data.shrink_to_fit();
	Command cmd({c->program, "-dc", "--", input.string()});
	Result r = run(cmd);
	// Trailing zero padding after a compressed stream makes some decompressors complain
	// although the archive came out whole; the parse below judges the result.
	if (!r.ok() && r.out.empty())
		throw Error(fmt::format("{}: cannot decompress its {} part from byte {} ({} exited {}): {}", image.string(), c->name,
					start, c->program, r.exit_code, r.tail(3)));
	out.segments.push_back(std::string("cpio (") + c->name + ")");
	try {
		parse_cpio(r.out, image.string() + " (" + c->name + " part)", out);
	} catch (const ParseError &) {
		if (!r.ok())
			throw Error(fmt::format("{}: its {} part is damaged ({} exited {}): {}", image.string(), c->name, c->program,
						r.exit_code, r.tail(3)));
		throw;
	}
	return out;
}

} // namespace distkernel
