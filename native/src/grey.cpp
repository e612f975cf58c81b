#include "grey.hpp"

#include <algorithm>
#include <cmath>

namespace camhd {

std::vector<uint8_t> grey_lut(int factor, int bit_depth) {
    const int64_t n = int64_t(factor) * factor * ((int64_t(1) << bit_depth) - 1) + 1;
    std::vector<uint8_t> lut(static_cast<size_t>(n));
    const double kk = static_cast<double>(factor * factor);
    const double shift = static_cast<double>(int64_t(1) << (bit_depth - 8));
    for (int64_t s = 0; s < n; ++s) {
        // The same IEEE double operations, in the same order, as numpy in grey.py.
        const double mean8 = static_cast<double>(s) / kk / shift;
        const double full = (mean8 - 16.0) * 255.0 / 219.0;
        const double r = std::floor(full + 0.5);
        lut[static_cast<size_t>(s)] = static_cast<uint8_t>(r < 0.0 ? 0.0 : (r > 255.0 ? 255.0 : r));
    }
    return lut;
}

namespace {

template <typename T>
cv::Mat block_grey(const LumaView& luma, int k, const std::vector<uint8_t>& lut) {
    const int out_w = luma.width / k;
    const int out_h = luma.height / k;
    cv::Mat out(out_h, out_w, CV_8UC1);
    std::vector<uint32_t> rows(static_cast<size_t>(out_w) * k);
    const int used_w = out_w * k;
    const uint32_t max_sum = static_cast<uint32_t>(lut.size() - 1);  // guards a bad decoder
    for (int y = 0; y < out_h; ++y) {
        // Sum k input rows column by column, then k adjacent columns.
        const T* first = reinterpret_cast<const T*>(luma.data + luma.stride * (y * k));
        for (int x = 0; x < used_w; ++x) rows[x] = first[x];
        for (int i = 1; i < k; ++i) {
            const T* row = reinterpret_cast<const T*>(luma.data + luma.stride * (y * k + i));
            for (int x = 0; x < used_w; ++x) rows[x] += row[x];
        }
        uint8_t* dst = out.ptr<uint8_t>(y);
        for (int x = 0; x < out_w; ++x) {
            uint32_t sum = 0;
            const uint32_t* block = rows.data() + x * k;
            for (int j = 0; j < k; ++j) sum += block[j];
            dst[x] = lut[std::min(sum, max_sum)];
        }
    }
    return out;
}

}  // namespace

cv::Mat working_grey(const LumaView& luma, int factor, const std::vector<uint8_t>& lut) {
    if (luma.depth > 8) return block_grey<uint16_t>(luma, factor, lut);
    return block_grey<uint8_t>(luma, factor, lut);
}

int factor_for_scale(double img_scale) {
    if (!(img_scale > 0.0) || !std::isfinite(img_scale)) return 0;
    const double inv = 1.0 / img_scale;
    const long k = std::lround(inv);  // Python round(): ties to even, irrelevant for 1/k
    if (k < 1 || k > 8) return 0;
    const double want = 1.0 / static_cast<double>(k);
    // math.isclose(1/k, img_scale, rel_tol=1e-9)
    if (std::fabs(want - img_scale) > 1e-9 * std::max(std::fabs(want), std::fabs(img_scale)))
        return 0;
    return static_cast<int>(k);
}

}  // namespace camhd
