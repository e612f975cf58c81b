// Luma plane -> 8-bit full-range grey at 1/k resolution: k x k block SUM + lookup table,
// bit-identical to camhd_motion.video.grey.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "decoder.hpp"

namespace camhd {

// Table from a k x k block sum of `bit_depth`-bit luma to 8-bit grey:
// clip(floor((sum / k^2 / 2^(depth-8) - 16) * 255 / 219 + 0.5), 0, 255).
std::vector<uint8_t> grey_lut(int factor, int bit_depth);

// The 1/k grey image of `luma` (the plane is cropped to a multiple of k).
cv::Mat working_grey(const LumaView& luma, int factor, const std::vector<uint8_t>& lut);

// The block size for img_scale (0.25 -> 4); only 1/k, k in 1..8.  Returns 0 if invalid.
int factor_for_scale(double img_scale);

}  // namespace camhd
