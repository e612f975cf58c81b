// Partial ProRes decoder: the 1/4- (or 1/8-) resolution luma picture read straight out of
// the bitstream (docs/PRORES.md).
//
// In each slice ProRes stores the luma DC of every block first, then the AC coefficients
// position by position across all blocks, in scan order; the scan begins with the 2x2
// lowest frequencies.  So the decoder reads each slice's luma DC and its first three AC
// positions, stops, skips chroma, and turns the four coefficients of each 8x8 block into
// the sums of its four 4x4 quadrants (factor 4), or its DC into the sum of the block
// (factor 8).  The result is the k x k block SUM of the luma plane at the bit depth
// FFmpeg decodes this codec at (10, or 12 for 4444), so the grey table of video/grey.py
// (grey.cpp) maps it to the working image.
//
// Pure C++17, no dependencies: used by the native engine (reader.cpp) and by the Python
// extension camhd_motion.video._prores (same code, so the same bytes).  Hostile input:
// every length and offset is checked before use and the bit reader never reads outside
// its buffer; a frame whose bits the decoder reads are damaged is Status::damaged with a
// reason, a frame it does not handle (interlaced, another version, a size other than the
// index's) is Status::unsupported with a reason (the caller decodes it with FFmpeg).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace camhd {
namespace prores {

enum class Status : int { ok = 0, unsupported = 1, damaged = 2 };

struct Outcome {
    Status status = Status::ok;
    std::string reason;  // empty when ok
    bool ok() const { return status == Status::ok; }
};

// What the frame header says (for callers that want to look before decoding).
struct FrameInfo {
    int width = 0;
    int height = 0;
    int frame_type = 0;     // 0 progressive, 1 interlaced top field first, 2 bottom first
    int chroma_format = 0;  // 2 = 4:2:2, 3 = 4:4:4
    int alpha = 0;          // 0 none
};

// Block sizes the partial decoder produces: 4 (2x2 low frequencies) and 8 (DC only).
bool supports_factor(int factor);

// Read the frame header of one frame (the bytes of one QuickTime sample).
Outcome read_frame_info(const uint8_t* data, size_t size, FrameInfo* info);

// Decode the k x k block sums of the luma plane of one frame.
//   width, height: the frame size the movie index gives (the frame header must agree);
//   factor: 4 or 8 (supports_factor);
//   depth: 10 or 12, the bit depth of the sums (FFmpeg decodes ProRes 4444 at 12);
//   out: (height / factor) rows of (width / factor) sums, row after row.  The plane is
//        cropped to a multiple of the factor, as video/grey.py block_sum does.
// On anything but Status::ok the contents of `out` are unspecified.
Outcome decode_block_sums(const uint8_t* data, size_t size, int width, int height, int factor,
                          int depth, uint32_t* out);

// Diagnostics and calibration (tests, docs/PRORES.md): the dequantised coefficients
// F(0,0), F(0,1), F(1,0), F(1,1) (row = vertical frequency) of every 8x8 luma block, as
// four planes of (mb_rows * 2) x (mb_cols * 2) int32 each, one after the other in `out`
// (4 * mb_rows * mb_cols * 4 values).  mb_rows/mb_cols: the frame in 16x16 macroblocks.
Outcome decode_low_coefficients(const uint8_t* data, size_t size, int width, int height,
                                int32_t* out);

}  // namespace prores
}  // namespace camhd
