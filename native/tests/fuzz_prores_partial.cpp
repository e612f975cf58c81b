// Fuzz driver of the partial ProRes decoder (prores_partial.cpp): random mutations and
// truncations of real frames, each decoded from a heap buffer of exactly its size, for a
// bounded time.  Built with -fsanitize=address,undefined by tests/test_prores_fuzz.py (and
// in CI): any out-of-bounds read, overflow or other undefined behaviour aborts the run.
//
//   fuzz_prores_partial SEEDS SECONDS [RNG_SEED]
//
// SEEDS: a file of frames, each as a 4-byte big-endian size, 2-byte width, 2-byte height,
// 1-byte depth (10/12), then the frame's bytes.  Prints "iterations N ok N damaged N
// unsupported N" and exits 0; exits 1 if an invariant fails (a result outside the range
// of the pixels, an unmutated seed that does not decode).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "prores_partial.hpp"

namespace {

struct Seed {
    int width, height, depth;
    std::vector<uint8_t> bytes;
};

std::vector<Seed> read_seeds(const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<Seed> seeds;
    uint8_t head[9];
    while (in.read(reinterpret_cast<char*>(head), 9)) {
        const uint32_t size = (uint32_t(head[0]) << 24) | (uint32_t(head[1]) << 16) |
                              (uint32_t(head[2]) << 8) | head[3];
        Seed s{(head[4] << 8) | head[5], (head[6] << 8) | head[7], head[8], {}};
        s.bytes.resize(size);
        if (!in.read(reinterpret_cast<char*>(s.bytes.data()), size)) break;
        seeds.push_back(std::move(s));
    }
    return seeds;
}

using camhd::prores::Status;

// Decode `data` every way the callers do; check the invariants of a successful decode.
bool decode_all(const std::vector<uint8_t>& data, const Seed& s, int64_t counts[3]) {
    for (int factor : {4, 8}) {
        const int w = s.width / factor, h = s.height / factor;
        std::vector<uint32_t> out(static_cast<size_t>(w) * h);
        // an exact-size heap copy: ASan sees any read past the frame
        std::vector<uint8_t> exact(data);
        const uint8_t* p = exact.empty() ? nullptr : exact.data();
        const auto o = camhd::prores::decode_block_sums(p, exact.size(), s.width, s.height,
                                                        factor, s.depth, out.data());
        ++counts[static_cast<int>(o.status)];
        if (o.ok()) {
            const uint32_t n = uint32_t(factor * factor);
            const uint32_t lo = n * (s.depth == 12 ? 16 : 4), hi = n * (s.depth == 12 ? 4079 : 1019);
            for (uint32_t v : out)
                if (v < lo || v > hi) {
                    std::fprintf(stderr, "sum %u outside [%u, %u]\n", v, lo, hi);
                    return false;
                }
        } else if (o.reason.empty()) {
            std::fprintf(stderr, "a failure without a reason\n");
            return false;
        }
    }
    std::vector<int32_t> coef(size_t(4) * ((s.height + 15) / 16 * 2) * ((s.width + 15) / 16 * 2));
    std::vector<uint8_t> exact(data);
    camhd::prores::decode_low_coefficients(exact.empty() ? nullptr : exact.data(), exact.size(),
                                           s.width, s.height, coef.data());
    camhd::prores::FrameInfo info;
    camhd::prores::read_frame_info(exact.empty() ? nullptr : exact.data(), exact.size(), &info);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s SEEDS SECONDS [RNG_SEED]\n", argv[0]);
        return 2;
    }
    const std::vector<Seed> seeds = read_seeds(argv[1]);
    const double seconds = std::atof(argv[2]);
    std::mt19937_64 rng(argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1);
    if (seeds.empty()) {
        std::fprintf(stderr, "no seeds in %s\n", argv[1]);
        return 1;
    }
    int64_t counts[3] = {0, 0, 0};
    for (const Seed& s : seeds) {  // the real frames decode
        std::vector<uint32_t> out(size_t(s.width / 4) * (s.height / 4));
        const auto o = camhd::prores::decode_block_sums(s.bytes.data(), s.bytes.size(), s.width,
                                                        s.height, 4, s.depth, out.data());
        if (!o.ok()) {
            std::fprintf(stderr, "a seed frame does not decode: %s\n", o.reason.c_str());
            return 1;
        }
    }
    const auto start = std::chrono::steady_clock::now();
    int64_t iterations = 0;
    auto pick = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
           seconds) {
        const Seed& s = seeds[pick(seeds.size())];
        std::vector<uint8_t> d = s.bytes;
        const int edits = 1 + int(pick(8));
        for (int e = 0; e < edits && !d.empty(); ++e) {
            switch (pick(8)) {
                case 0: d[pick(d.size())] ^= uint8_t(1u << pick(8)); break;  // bit flip
                case 1: d[pick(d.size())] = uint8_t(rng()); break;           // byte
                case 2: d.resize(pick(d.size() + 1)); break;                 // truncate
                case 3: {  // random bytes over a run (as the reliability tests do)
                    const size_t at = pick(d.size()), n = 1 + pick(4096);
                    for (size_t i = at; i < d.size() && i < at + n; ++i) d[i] = uint8_t(rng());
                    break;
                }
                case 4: {  // the headers and the slice table: the first ~2 kB
                    const size_t at = pick(std::min<size_t>(d.size(), 2048));
                    d[at] = uint8_t(rng());
                    break;
                }
                case 5: {  // an extreme value in a header field
                    const size_t at = pick(std::min<size_t>(d.size(), 2048));
                    d[at] = pick(2) ? 0xFF : 0x00;
                    break;
                }
                case 6: {  // delete a run
                    const size_t at = pick(d.size()), n = 1 + pick(64);
                    d.erase(d.begin() + long(at), d.begin() + long(std::min(d.size(), at + n)));
                    break;
                }
                default: {  // duplicate a run
                    const size_t at = pick(d.size()), n = 1 + pick(64);
                    std::vector<uint8_t> run(d.begin() + long(at),
                                             d.begin() + long(std::min(d.size(), at + n)));
                    d.insert(d.begin() + long(pick(d.size())), run.begin(), run.end());
                    break;
                }
            }
        }
        if (!decode_all(d, s, counts)) return 1;
        ++iterations;
    }
    std::printf("iterations %lld ok %lld unsupported %lld damaged %lld\n",
                static_cast<long long>(iterations), static_cast<long long>(counts[0]),
                static_cast<long long>(counts[1]), static_cast<long long>(counts[2]));
    return 0;
}
