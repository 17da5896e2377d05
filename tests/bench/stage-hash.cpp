// The hashing of `distkernel-stage prebuilt`, old against new, on the same files in the same run:
// the hand-written SHA-256 that lib/sys/hash.cpp had before it used libcrypto (kept here only, for
// this comparison) and the library's sha256_files, both on the same number of threads, N rounds
// each, alternating. Every file's two digests must agree. Run by tests/bench/stage-hash.
//   stage-hash DIR [ROUNDS]   (DIR: a staged root, every regular file under it is hashed)
#include "distkernel/stage.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::uint32_t, 64> K = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

class Sha256 {
public:
	void update(const unsigned char *p, std::size_t n)
	{
		total_ += n;
		while (n > 0) {
			std::size_t take = std::min(n, 64 - fill_);
			std::memcpy(buf_.data() + fill_, p, take);
			fill_ += take;
			p += take;
			n -= take;
			if (fill_ == 64) {
				block(buf_.data());
				fill_ = 0;
			}
		}
	}
	std::string hex()
	{
		std::uint64_t bits = total_ * 8;
		unsigned char pad = 0x80;
		update(&pad, 1);
		unsigned char zero = 0;
		while (fill_ != 56)
			update(&zero, 1);
		unsigned char len[8];
		for (int i = 0; i < 8; ++i)
			len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
		update(len, 8);
		static const char *digits = "0123456789abcdef";
		std::string out;
		for (std::uint32_t v : h_)
			for (int i = 28; i >= 0; i -= 4)
				out += digits[(v >> i) & 0xf];
		return out;
	}

private:
	void block(const unsigned char *p)
	{
		std::uint32_t w[64];
		for (int i = 0; i < 16; ++i)
			w[i] = std::uint32_t(p[4 * i]) << 24 | std::uint32_t(p[4 * i + 1]) << 16 |
			       std::uint32_t(p[4 * i + 2]) << 8 | std::uint32_t(p[4 * i + 3]);
		for (int i = 16; i < 64; ++i) {
			std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
			std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
		for (int i = 0; i < 64; ++i) {
			std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
			std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
			h = g;
			g = f;
			f = e;
			e = d + t1;
			d = c;
			c = b;
			b = a;
			a = t1 + t2;
		}
		h_[0] += a; h_[1] += b; h_[2] += c; h_[3] += d;
		h_[4] += e; h_[5] += f; h_[6] += g; h_[7] += h;
	}

	std::array<std::uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	std::array<unsigned char, 64> buf_{};
	std::size_t fill_ = 0;
	std::uint64_t total_ = 0;
};

std::string old_sha256_file(const fs::path &file)
{
	int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw std::runtime_error("cannot read " + file.string());
	Sha256 s;
	constexpr std::size_t size = 64 * 1024;
	auto buf = std::make_unique_for_overwrite<unsigned char[]>(size);
	ssize_t n;
	while ((n = ::read(fd, buf.get(), size)) > 0)
		s.update(buf.get(), static_cast<std::size_t>(n));
	::close(fd);
	if (n < 0)
		throw std::runtime_error("cannot read " + file.string());
	return s.hex();
}

// The old hashing as stage ran it: one file per work item on one thread per CPU.
std::vector<std::string> old_sha256_files(const std::vector<fs::path> &files)
{
	std::vector<std::string> out(files.size());
	std::atomic<std::size_t> next{0};
	std::vector<std::thread> threads;
	for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t)
		threads.emplace_back([&] {
			for (std::size_t i; (i = next++) < files.size();)
				out[i] = old_sha256_file(files[i]);
		});
	for (auto &t : threads)
		t.join();
	return out;
}

template <typename F> double seconds(F &&f)
{
	auto t0 = std::chrono::steady_clock::now();
	f();
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2) {
		std::fprintf(stderr, "usage: stage-hash DIR [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
	std::vector<fs::path> files;
	std::uintmax_t bytes = 0;
	for (const auto &e : fs::recursive_directory_iterator(argv[1]))
		if (e.is_regular_file() && !e.is_symlink()) {
			files.push_back(e.path());
			bytes += e.file_size();
		}
	std::vector<std::string> old_sums, new_sums;
	old_sums = old_sha256_files(files); // warms the page cache
	std::vector<double> old_t, new_t;
	for (int r = 0; r < rounds; ++r) {
		old_t.push_back(seconds([&] { old_sums = old_sha256_files(files); }));
		new_t.push_back(seconds([&] { new_sums = distkernel::sha256_files(files); }));
	}
	for (std::size_t i = 0; i < files.size(); ++i)
		if (old_sums[i] != new_sums[i]) {
			std::fprintf(stderr, "stage-hash: %s: old %s, new %s\n", files[i].c_str(), old_sums[i].c_str(),
				     new_sums[i].c_str());
			return 1;
		}
	double o = median(old_t), n = median(new_t);
	std::printf("stage-hash: %zu files, %.0f MB, %u threads, %d rounds (medians); every digest agrees\n", files.size(),
		    static_cast<double>(bytes) / 1e6, std::max(1u, std::thread::hardware_concurrency()), rounds);
	std::printf("  hand-written SHA-256: %.2f s (%.0f MB/s)\n", o, static_cast<double>(bytes) / 1e6 / o);
	std::printf("  libcrypto EVP:        %.2f s (%.0f MB/s)\n", n, static_cast<double>(bytes) / 1e6 / n);
	std::printf("  libcrypto is %.1fx as fast\n", o / n);
	return 0;
}
