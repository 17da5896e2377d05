// Reading an initramfs image: the kernel accepts concatenated cpio "newc" archives, each either
// plain or compressed, with zero padding between them; dracut writes the early-microcode archive
// uncompressed first, then the main archive compressed.
#include "distkernel/check.hpp"
#include "distkernel/error.hpp"
#include "distkernel/kmod.hpp"
#include "distkernel/process.hpp"
#include "distkernel/quote.hpp"
#include "distkernel/rootfs.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <optional>

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

// The first bytes at data, in hex for a message: '1f 8b 08 00'.
std::string bytes_at(std::string_view data)
{
	std::string bytes;
	for (unsigned char c : data.substr(0, 4))
		bytes += fmt::format("{}{:02x}", bytes.empty() ? "" : " ", c);
	return "'" + bytes + "'";
}

// The kernel refuses longer names (PATH_MAX); a name is held in memory while it is read.
constexpr std::uint64_t max_name_size = 4096;
// What the kernel would unpack into RAM: far above any real image (dracut's generic image
// expands to about 100 MB), far below a decompression bomb's size.
constexpr std::uint64_t max_expanded_size = std::uint64_t(1) << 30;
constexpr std::size_t max_entries = 1000000;

// A cpio "newc" stream read as it comes, in pieces of any size: only the current header and
// name are held. Offsets in errors count from the start of the stream plus base.
class CpioReader {
public:
	CpioReader(std::string name, InitramfsContents &out, std::uint64_t base = 0)
		: name_(std::move(name)), out_(out), base_(base)
	{
	}

	// Returns how many bytes were taken: fewer than data.size() only when, between archives,
	// a byte starts neither a header nor zero padding (a compressed part, or garbage).
	std::size_t feed(std::string_view data)
	{
		std::size_t i = 0;
		while (i < data.size()) {
			switch (state_) {
			case State::between:
				if (data[i] == '\0') {
					if (open_)
						throw error(fmt::format("byte {}: zero bytes inside a cpio archive (no TRAILER!!! before them)",
									base_ + pos_));
					i++, pos_++;
					continue;
				}
				if (data[i] != '0') {
					if (open_)
						throw error(fmt::format("byte {}: {} where the next cpio header should be", base_ + pos_,
									bytes_at(data.substr(i))));
					return i;
				}
				state_ = State::header;
				entry_ = pos_;
				head_.clear();
				break;
			case State::header: {
				std::size_t n = std::min(data.size() - i, 110 - head_.size());
				head_.append(data.substr(i, n));
				i += n, pos_ += n;
				if (head_.size() == 110)
					start_entry();
				break;
			}
			case State::name: {
				std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size() - i, need_));
				path_.append(data.substr(i, n));
				i += n, pos_ += n, need_ -= n;
				if (need_ == 0) {
					path_.pop_back(); // the NUL
					state_ = State::body;
					need_ = align4(pos_) - pos_ + filesize_;
					need_ += align4(pos_ + need_) - (pos_ + need_);
				}
				break;
			}
			case State::body: {
				std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size() - i, need_));
				i += n, pos_ += n, need_ -= n;
				if (need_ == 0)
					end_entry();
				break;
			}
			}
			if (state_ == State::body && need_ == 0)
				end_entry();
		}
		return i;
	}

	// At the end of the stream: an entry cut short or an archive without its trailer is damaged.
	void finish() const
	{
		switch (state_) {
		case State::header:
			throw error(fmt::format("truncated cpio header at byte {}", base_ + entry_));
		case State::name:
			throw error(fmt::format("cpio entry at byte {}: name size {} runs past the end", base_ + entry_, namesize_));
		case State::body:
			throw error(fmt::format("cpio entry {} at byte {}: {} bytes of data run past the end", quote_input(path_),
						base_ + entry_, filesize_));
		case State::between:
			break;
		}
		if (open_)
			throw error(fmt::format("the cpio archive ends without TRAILER!!! (last entry at byte {})", base_ + entry_));
	}

	bool empty() const noexcept { return entries_ == 0; }

private:
	enum class State { between, header, name, body };

	ParseError error(const std::string &what) const { return ParseError(name_, 0, what); }

	void start_entry()
	{
		std::string_view h = head_;
		if (h.substr(0, 6) != "070701" && h.substr(0, 6) != "070702")
			throw error(fmt::format("byte {}: {} is neither a cpio newc header nor a known compression", base_ + entry_,
						bytes_at(h)));
		filesize_ = hex_field(h.substr(54, 8), name_, base_ + entry_);
		namesize_ = hex_field(h.substr(94, 8), name_, base_ + entry_);
		if (namesize_ == 0 || namesize_ > max_name_size)
			throw error(fmt::format("cpio entry at byte {}: name size {} (the kernel takes 1 to {})", base_ + entry_,
						namesize_, max_name_size));
		if (++entries_ > max_entries)
			throw error(fmt::format("more than {} cpio entries", max_entries));
		path_.clear();
		need_ = namesize_;
		state_ = State::name;
	}

	void end_entry()
	{
		state_ = State::between;
		if (path_ == "TRAILER!!!") {
			open_ = false;
			return;
		}
		open_ = true;
		note_file(std::move(path_), out_);
		path_.clear();
	}

	std::string name_;
	InitramfsContents &out_;
	std::uint64_t base_;
	State state_ = State::between;
	bool open_ = false; // entries read since the last trailer
	std::uint64_t pos_ = 0, entry_ = 0, need_ = 0, filesize_ = 0, namesize_ = 0;
	std::size_t entries_ = 0;
	std::string head_, path_;
};

// Where the compressed stream that starts at pos may end, when the decompressor rejects what
// follows it (the kernel unpacks the next part after it): the start of each later part a
// magic announces, strong magics (4 bytes and more) before the weak ones, then the end
// without the trailing zeros; a few at most, as each costs a run of the decompressor.
std::vector<std::size_t> candidate_ends(std::string_view data, std::size_t pos)
{
	std::vector<std::size_t> strong, weak;
	for (std::size_t b = pos + 1; b < data.size() && strong.size() < 8; b++) {
		std::string_view at = data.substr(b);
		if (at.substr(0, 6) == "070701" || at.substr(0, 6) == "070702") {
			strong.push_back(b);
		} else if (const Compression *c = compression_of(at)) {
			if (c->magic.size() >= 4)
				strong.push_back(b);
			else if (weak.size() < 8)
				weak.push_back(b);
		}
	}
	std::size_t z = data.size();
	while (z > pos && data[z - 1] == '\0')
		z--;
	std::vector<std::size_t> out = strong;
	out.insert(out.end(), weak.begin(), weak.end());
	if (z < data.size())
		out.push_back(z);
	if (out.size() > 8)
		out.resize(8);
	return out;
}

} // namespace

void parse_cpio(std::string_view data, const std::string &name, InitramfsContents &out)
{
	CpioReader r(name, out);
	std::size_t end = r.feed(data);
	if (end < data.size())
		throw ParseError(name, 0, fmt::format("compressed data at byte {} inside a decompressed archive", end));
	r.finish();
}

namespace {

// Decompresses the part of image that starts at pos with c, reading its archives into out;
// returns where the part ends (the decompressor read it whole, or up to where the next part
// starts).
std::size_t read_compressed(const fs::path &image, std::string_view data, std::size_t pos, const Compression &c,
			    InitramfsContents &out, TempDir &tmp, const Logger &log)
{
	const std::string part = fmt::format("{}: {} part at byte {}", image.string(), c.name, pos);
	std::string failure;
	auto attempt = [&](std::size_t end) {
		fs::path input = image;
		if (pos > 0 || end < data.size()) {
			input = tmp.path() / "compressed";
			atomic_write(input, data.substr(pos, end - pos), 0600);
		}
		InitramfsContents got;
		CpioReader reader(part, got);
		std::uint64_t expanded = 0;
		bool too_big = false;
		Result r;
		try {
			r = run_streaming(Command({c.program, "-dc", "--", input.string()}), [&](std::string_view chunk) {
				expanded += chunk.size();
				if (expanded > max_expanded_size) {
					too_big = true;
					return false;
				}
				if (reader.feed(chunk) < chunk.size())
					throw ParseError(part, 0, "compressed data inside the decompressed archive");
				return true;
			});
			if (too_big)
				throw Error(fmt::format("{}: expands beyond {} MiB: refusing it as a decompression bomb", part,
							max_expanded_size >> 20));
			if (!r.ok()) {
				failure = fmt::format("{}: damaged ({} exited {}): {}", part, c.program, r.exit_code,
						      printable(r.tail(3), 300));
				return false;
			}
			reader.finish();
			if (reader.empty())
				throw ParseError(part, 0, "no cpio archive in the decompressed data");
		} catch (const ParseError &e) {
			failure = e.what();
			return false;
		}
		for (auto &f : got.files)
			note_file(std::move(f), out);
		return true;
	};
	if (attempt(data.size()))
		return data.size();
	const std::string whole = failure;
	for (std::size_t end : candidate_ends(data, pos)) {
		log.debug("{}: trying the part up to byte {}", part, end);
		if (attempt(end))
			return end;
	}
	throw Error(whole);
}

} // namespace

InitramfsContents read_initramfs(const fs::path &image, const Logger &log)
{
	std::string data = read_file(image);
	const std::string name = image.string();
	InitramfsContents out;
	out.image = image;
	std::optional<TempDir> tmp;
	std::size_t pos = 0;
	while (pos < data.size()) {
		if (data[pos] == '\0') {
			pos++;
			continue;
		}
		std::string_view rest = std::string_view(data).substr(pos);
		if (rest[0] == '0') {
			CpioReader plain(name, out, pos);
			pos += plain.feed(rest);
			plain.finish();
			out.segments.push_back("cpio");
			continue;
		}
		const Compression *c = compression_of(rest);
		if (!c)
			throw ParseError(image, 0, fmt::format("byte {}: {} is neither a cpio newc header nor a known compression",
							       pos, bytes_at(rest)));
		log.verbose("{}: {} data from byte {}, decompressing with {}", name, c->name, pos, c->program);
		if (!tmp)
			tmp.emplace();
		pos = read_compressed(image, data, pos, *c, out, *tmp, log);
		out.segments.push_back(std::string("cpio (") + c->name + ")");
	}
	if (out.segments.empty())
		throw ParseError(image, 0, "empty initramfs image (no cpio archive in it)");
	return out;
}

} // namespace distkernel
