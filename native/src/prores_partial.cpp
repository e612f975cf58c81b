#include "prores_partial.hpp"

#include <cstring>

// The bitstream facts used here: SMPTE RDD 36 (Apple ProRes bitstream syntax and decoding
// process); docs/PRORES.md summarises them and the transform.

namespace camhd {
namespace prores {
namespace {

// ---- bounds-checked big-endian reads and an MSB-first bit reader ----------------------

inline unsigned rb16(const uint8_t* p) { return (unsigned(p[0]) << 8) | p[1]; }
inline uint32_t rb32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

// Reads bits from [data, data + size), MSB first, through a 64-bit cache.  Bits past the
// end read as zeros and are counted: overrun() says so afterwards.  Never touches a byte
// outside the buffer.
class BitReader {
public:
    BitReader(const uint8_t* data, size_t size)
        : start_(data), p_(data), end_(data + size), bits_(int64_t(size) * 8) {
        refill();
    }

    // The next 32 bits (zeros past the end).
    uint32_t peek32() {
        if (avail_ < 32) refill();
        return uint32_t(cache_ >> 32);
    }
    // Skip n <= 32 bits (after a peek32).
    void skip(unsigned n) {
        cache_ <<= n;
        avail_ -= int(n);
    }
    // Bits left before the end (negative after an overrun).
    int64_t left() const { return bits_ - consumed(); }
    bool overrun() const { return consumed() > bits_; }

private:
    int64_t consumed() const { return (int64_t(p_ - start_) + past_) * 8 - avail_; }
    void refill() {
        if (end_ - p_ >= 8) {
            uint64_t word;
            std::memcpy(&word, p_, 8);
            word = __builtin_bswap64(word);
            cache_ |= word >> avail_;
            p_ += (63 - avail_) >> 3;
            avail_ |= 56;
            return;
        }
        while (avail_ <= 56) {
            if (p_ < end_) cache_ |= uint64_t(*p_++) << (56 - avail_);
            else ++past_;  // a zero byte past the end
            avail_ += 8;
        }
    }

    const uint8_t* start_;
    const uint8_t* p_;
    const uint8_t* end_;
    int64_t bits_;
    int64_t past_ = 0;  // zero bytes supplied past the end
    uint64_t cache_ = 0;
    int avail_ = 0;     // valid bits at the top of cache_
};

// One Rice / exp-Golomb hybrid codeword described by a codebook byte: bits 7-5 Rice
// order, bits 4-2 exp-Golomb order, bits 1-0 the switch threshold.  False when the
// codeword cannot be valid (an exp-Golomb code longer than 31 bits, as FFmpeg refuses).
inline bool read_codeword(BitReader& br, unsigned codebook, uint32_t* value) {
    const unsigned switch_bits = codebook & 3;
    const unsigned rice_order = codebook >> 5;
    const unsigned exp_order = (codebook >> 2) & 7;
    const uint32_t buf = br.peek32();
    if (buf == 0) return false;
    const unsigned q = unsigned(__builtin_clz(buf));
    if (q > switch_bits) {
        const unsigned bits = exp_order - switch_bits + (q << 1);
        if (bits > 31) return false;
        *value = (buf >> (32 - bits)) - (1u << exp_order) + ((switch_bits + 1) << rice_order);
        br.skip(bits);
    } else if (rice_order) {
        *value = (q << rice_order) + ((buf << (q + 1)) >> (32 - rice_order));
        br.skip(q + 1 + rice_order);
    } else {
        *value = q;
        br.skip(q + 1);
    }
    return true;
}

constexpr unsigned kFirstDcCodebook = 0xB8;
constexpr uint8_t kDcCodebook[7] = {0x04, 0x28, 0x28, 0x4D, 0x4D, 0x70, 0x70};
constexpr uint8_t kRunCodebook[16] = {0x06, 0x06, 0x05, 0x05, 0x04, 0x29, 0x29, 0x29,
                                      0x29, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x4C};
constexpr uint8_t kLevelCodebook[10] = {0x04, 0x0A, 0x05, 0x06, 0x04,
                                        0x28, 0x28, 0x28, 0x28, 0x4C};

// Raster positions of scan positions 0..3: the 2x2 lowest frequencies (progressive scan).
constexpr int kScanRaster[4] = {0, 1, 8, 9};

// A dequantised coefficient beyond this is not a picture FFmpeg could decode (its
// inverse transform takes 16-bit coefficients): the bits are damaged.
constexpr int64_t kMaxCoefficient = 32767;

// Damage in a slice's data: the frame is damaged.  Anything the partial decoder does not
// accept before the slices (frame header, picture header, slice table) is left to FFmpeg,
// which decodes the frame or says why it cannot (its reasons, as before this decoder).
Outcome damaged(const std::string& why) { return {Status::damaged, why}; }
Outcome unsupported(const std::string& why) { return {Status::unsupported, why}; }

// ---- frame and picture headers ----------------------------------------------------------

struct Frame {
    FrameInfo info;
    uint8_t qmat[64];            // luma quantisation matrix, raster order
    const uint8_t* picture = nullptr;  // first picture header
    size_t picture_size = 0;     // bytes from it to the end of the frame
};

Outcome parse_frame(const uint8_t* data, size_t size, Frame* f) {
    if (data == nullptr || size < 8 + 20) return unsupported("frame of " + std::to_string(size) + " bytes");
    if (std::memcmp(data + 4, "icpf", 4) != 0) return unsupported("no 'icpf' frame marker");
    const uint8_t* h = data + 8;
    const size_t avail = size - 8;
    const unsigned hdr_size = rb16(h);
    if (hdr_size < 20 || hdr_size > avail)
        return unsupported("frame header size " + std::to_string(hdr_size));
    const unsigned version = rb16(h + 2);
    if (version > 1) return unsupported("frame header version " + std::to_string(version));
    f->info.width = int(rb16(h + 8));
    f->info.height = int(rb16(h + 10));
    f->info.chroma_format = h[12] >> 6;
    f->info.frame_type = (h[12] >> 2) & 3;
    f->info.alpha = h[17] & 0xF;
    const unsigned flags = h[19];
    size_t at = 20;
    if (flags & 2) {
        if (at + 64 > hdr_size) return unsupported("luma quantisation matrix past the frame header");
        std::memcpy(f->qmat, h + at, 64);
        at += 64;
    } else {
        std::memset(f->qmat, 4, 64);
    }
    f->picture = h + hdr_size;
    f->picture_size = avail - hdr_size;
    return {};
}

// ---- one slice: DC and the first AC positions of its luma blocks ------------------------

// Dequantised F(0,0), F(0,1), F(1,0), F(1,1) of each of `blocks` blocks (blocks <= 32).
// need_ac: false reads the DCs only (factor 8).
Outcome decode_slice_luma(const uint8_t* luma, size_t size, int blocks, int log2_blocks,
                          const int32_t scale[4], bool need_ac, int32_t (*coef)[4]) {
    BitReader br(luma, size);
    uint32_t code = 0;
    if (!read_codeword(br, kFirstDcCodebook, &code)) return damaged("bad luma DC code");
    int64_t dc = int64_t(code >> 1) ^ -int64_t(code & 1);
    int64_t v = dc * scale[0];
    if (v > kMaxCoefficient || v < -kMaxCoefficient) return damaged("luma DC out of range");
    coef[0][0] = int32_t(v);
    coef[0][1] = coef[0][2] = coef[0][3] = 0;
    code = 5;
    int64_t sign = 0;
    for (int i = 1; i < blocks; ++i) {
        if (!read_codeword(br, kDcCodebook[code < 6 ? code : 6], &code))
            return damaged("bad luma DC code");
        if (code) sign ^= -int64_t(code & 1);
        else sign = 0;
        dc += ((int64_t((code + 1) >> 1)) ^ sign) - sign;
        v = dc * scale[0];
        if (v > kMaxCoefficient || v < -kMaxCoefficient) return damaged("luma DC out of range");
        coef[i][0] = int32_t(v);
        coef[i][1] = coef[i][2] = coef[i][3] = 0;
    }
    if (br.overrun()) return damaged("luma DCs run past the slice's luma data");
    if (!need_ac) return {};

    const uint64_t max_pos = uint64_t(64) << log2_blocks;
    const uint64_t mask = uint64_t(blocks) - 1;
    uint32_t run = 4, level = 2;
    for (uint64_t pos = mask;;) {
        const int64_t left = br.left();
        if (left <= 0) break;
        if (left < 32 && (br.peek32() >> (32 - left)) == 0) break;  // padding
        if (!read_codeword(br, kRunCodebook[run < 15 ? run : 15], &run))
            return damaged("bad luma AC run code");
        pos += uint64_t(run) + 1;
        if (pos >= max_pos) return damaged("luma AC run past the last coefficient");
        const uint64_t scan = pos >> log2_blocks;
        if (scan > 3) break;  // every coefficient the 2x2 transform needs is read
        if (!read_codeword(br, kLevelCodebook[level < 9 ? level : 9], &level))
            return damaged("bad luma AC level code");
        level += 1;
        const bool negative = (br.peek32() >> 31) != 0;
        br.skip(1);
        if (br.overrun()) return damaged("luma AC codes run past the slice's luma data");
        v = int64_t(level) * scale[scan];
        if (v > kMaxCoefficient) return damaged("luma AC coefficient out of range");
        coef[pos & mask][scan] = int32_t(negative ? -v : v);
    }
    return {};
}

// ---- the picture: slice table, slices, and what to do with each block --------------------

// Calls sink(block_row, block_col, coef[4]) for every 8x8 luma block of the frame.
template <typename Sink>
Outcome decode_picture(const Frame& f, bool need_ac, Sink&& sink) {
    const uint8_t* p = f.picture;
    const size_t avail = f.picture_size;
    if (avail < 8) return unsupported("no picture header");
    const unsigned hdr_size = p[0] >> 3;
    if (hdr_size < 8 || hdr_size > avail)
        return unsupported("picture header size " + std::to_string(hdr_size));
    const uint32_t data_size = rb32(p + 1);
    if (data_size > avail) return unsupported("picture data size past the frame");
    const unsigned log2_slice_w = p[7] >> 4;
    if (log2_slice_w > 3 || (p[7] & 0xF) != 0) return unsupported("invalid slice size");
    const int mb_w = (f.info.width + 15) >> 4;
    const int mb_h = (f.info.height + 15) >> 4;
    const int per_row = (mb_w >> log2_slice_w) +
                        __builtin_popcount(unsigned(mb_w) & ((1u << log2_slice_w) - 1));
    const int64_t slices = int64_t(mb_h) * per_row;
    if (slices <= 0) return unsupported("no slices");
    if (uint64_t(hdr_size) + uint64_t(slices) * 2 > avail) return unsupported("slice table past the frame");

    const uint8_t* table = p + hdr_size;
    const uint8_t* slice = table + slices * 2;
    const uint8_t* end = p + avail;
    int mb_x = 0, mb_y = 0;
    int slice_mbs = 1 << log2_slice_w;
    int32_t scale[4];
    int32_t coef[32][4];
    for (int64_t i = 0; i < slices; ++i) {
        const size_t slice_size = rb16(table + 2 * i);
        if (slice_size > size_t(end - slice)) return unsupported("slice " + std::to_string(i) + " past the frame");
        while (mb_w - mb_x < slice_mbs) slice_mbs >>= 1;
        if (slice_size < 6) return unsupported("slice " + std::to_string(i) + " of " + std::to_string(slice_size) + " bytes");
        // slice header
        const unsigned shdr = slice[0] >> 3;
        if (shdr < 6 || shdr > slice_size) return damaged("slice " + std::to_string(i) + ": header size " + std::to_string(shdr));
        unsigned q = slice[1];
        q = q < 1 ? 1 : (q > 224 ? 224 : q);
        if (q > 128) q = (q - 96) << 2;
        const size_t y_size = rb16(slice + 2);
        const size_t u_size = rb16(slice + 4);
        size_t planes = shdr + y_size + u_size;
        if (shdr >= 8) planes += rb16(slice + 6);
        if (planes > slice_size) return damaged("slice " + std::to_string(i) + ": plane sizes past the slice");
        for (int k = 0; k < 4; ++k) scale[k] = int32_t(f.qmat[kScanRaster[k]]) * int32_t(q);
        const int log2_mbs = slice_mbs == 8 ? 3 : slice_mbs == 4 ? 2 : slice_mbs == 2 ? 1 : 0;
        const int blocks = slice_mbs * 4;
        Outcome o = decode_slice_luma(slice + shdr, y_size, blocks, log2_mbs + 2, scale, need_ac, coef);
        if (!o.ok()) {
            o.reason = "slice " + std::to_string(i) + ": " + o.reason;
            return o;
        }
        // blocks of macroblock m: top-left, top-right, bottom-left, bottom-right
        for (int m = 0; m < slice_mbs; ++m)
            for (int b = 0; b < 4; ++b)
                sink(mb_y * 2 + (b >> 1), (mb_x + m) * 2 + (b & 1), coef[m * 4 + b]);
        slice += slice_size;
        mb_x += slice_mbs;
        if (mb_x == mb_w) {
            slice_mbs = 1 << log2_slice_w;
            mb_x = 0;
            ++mb_y;
        }
    }
    return {};
}

Outcome check_frame(const Frame& f, int width, int height) {
    if (f.info.width != width || f.info.height != height)
        return unsupported("frame is " + std::to_string(f.info.width) + "x" +
                           std::to_string(f.info.height) + ", index says " +
                           std::to_string(width) + "x" + std::to_string(height));
    if (f.info.frame_type != 0)
        return unsupported("interlaced frame (the partial decoder reads progressive frames)");
    if (width <= 0 || height <= 0) return unsupported("empty frame");
    return {};
}

// ---- the 2x2 inverse transform ----------------------------------------------------------
//
// FFmpeg's ProRes decoder reconstructs a 10-bit pixel as
//   p(y, x) = 512 + (1/16) sum_uv a(u) a(v) F(u, v) cos((2y+1)u pi/16) cos((2x+1)v pi/16)
// with a(0) = 1/sqrt(2), a(k) = 1, then rounds and clips it to [4, 1019] (measured: the
// 8x8 block mean of its output is 512 + F00/32 to 1e-4 on every profile; 12-bit output,
// ProRes 4444: 4 times the scale around 2048, clipped to [16, 4079]).  Over the first four
// of the eight samples the basis of frequency 1 has mean
//   c1 = (cos(pi/16) + cos(3pi/16) + cos(5pi/16) + cos(7pi/16)) / 4 = 0.64073,
// and -c1 over the last four; frequency 0 has mean 1.  So the sum of a 4x4 quadrant
// (sy, sx = +1 top/left, -1 bottom/right) from the four coefficients read is
//   S = 16 * 512 + F00 / 2 + c1 / sqrt(2) * (sx F01 + sy F10) + c1^2 sx sy F11,
// the exact quadrant sum minus the terms of the frequencies 3, 5 and 7 (2, 4, 6 have mean
// 0 over each half), which are not read: reading them would mean most of the bits.
// Those weights beat the DCT basis sampled at the quadrant centres (0.5, 0.5) on every
// preset and profile measured (docs/PRORES.md).  Fixed point: weights scaled by 2^20 and
// rounded; the sum is rounded to nearest and clipped to 16 clipped pixels' range.
constexpr int kShift = 20;
constexpr int64_t kW00 = 524288;  // 2^20 / 2
constexpr int64_t kW01 = 475072;  // round(2^20 * c1 / sqrt(2))
constexpr int64_t kW11 = 430476;  // round(2^20 * c1^2)

struct Range {
    int64_t offset, lo, hi;  // per pixel, at the output depth
};
inline Range range_for(int depth) {
    // 10 bit: 512, clip [4, 1019]; 12 bit: 2048, clip [16, 4079]
    return depth == 12 ? Range{2048, 16, 4079} : Range{512, 4, 1019};
}

}  // namespace

bool supports_factor(int factor) { return factor == 4 || factor == 8; }

Outcome read_frame_info(const uint8_t* data, size_t size, FrameInfo* info) {
    Frame f;
    Outcome o = parse_frame(data, size, &f);
    if (o.ok() && info) *info = f.info;
    return o;
}

Outcome decode_block_sums(const uint8_t* data, size_t size, int width, int height, int factor,
                          int depth, uint32_t* out) {
    if (!supports_factor(factor)) return unsupported("factor " + std::to_string(factor));
    if (depth != 10 && depth != 12) return unsupported("bit depth " + std::to_string(depth));
    Frame f;
    Outcome o = parse_frame(data, size, &f);
    if (!o.ok()) return o;
    if (!(o = check_frame(f, width, height)).ok()) return o;
    const int out_w = width / factor;
    const int out_h = height / factor;
    const Range r = range_for(depth);
    const int gain_shift = depth == 12 ? 2 : 0;  // 12-bit pixels are 4x the 10-bit scale
    if (factor == 8) {
        // block sum = 64 * (512 + F00 / 32) (x4 at 12 bits): the DC alone gives the mean
        const int64_t lo = 64 * r.lo, hi = 64 * r.hi, base = 64 * r.offset;
        return decode_picture(f, false, [&](int by, int bx, const int32_t* c) {
            if (by >= out_h || bx >= out_w) return;
            int64_t s = base + int64_t(c[0]) * (int64_t(2) << gain_shift);
            s = s < lo ? lo : (s > hi ? hi : s);
            out[size_t(by) * out_w + bx] = uint32_t(s);
        });
    }
    const int64_t lo = 16 * r.lo, hi = 16 * r.hi, base = 16 * r.offset;
    const int shift = kShift - gain_shift;
    const int64_t half = int64_t(1) << (shift - 1);
    return decode_picture(f, true, [&](int by, int bx, const int32_t* c) {
        const int64_t a = kW00 * c[0];
        const int64_t h = kW01 * c[1];  // horizontal frequency 1: + left, - right
        const int64_t v = kW01 * c[2];  // vertical frequency 1: + top, - bottom
        const int64_t d = kW11 * c[3];
        const int64_t quad[4] = {a + h + v + d, a - h + v - d, a + h - v - d, a - h - v + d};
        for (int k = 0; k < 4; ++k) {
            const int qy = by * 2 + (k >> 1), qx = bx * 2 + (k & 1);
            if (qy >= out_h || qx >= out_w) continue;
            // floor division by a power of two (arithmetic shift of a signed value)
            int64_t s = base + ((quad[k] + half) >> shift);
            s = s < lo ? lo : (s > hi ? hi : s);
            out[size_t(qy) * out_w + qx] = uint32_t(s);
        }
    });
}

Outcome decode_low_coefficients(const uint8_t* data, size_t size, int width, int height,
                                int32_t* out) {
    Frame f;
    Outcome o = parse_frame(data, size, &f);
    if (!o.ok()) return o;
    if (!(o = check_frame(f, width, height)).ok()) return o;
    const size_t cols = size_t((width + 15) >> 4) * 2;
    const size_t plane = size_t((height + 15) >> 4) * 2 * cols;
    return decode_picture(f, true, [&](int by, int bx, const int32_t* c) {
        for (int k = 0; k < 4; ++k) out[k * plane + size_t(by) * cols + bx] = c[k];
    });
}

}  // namespace prores
}  // namespace camhd
