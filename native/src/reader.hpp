// Grey working images of chosen frames: read each frame's exact bytes, decode, block-sum.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "decoder.hpp"
#include "movie.hpp"

namespace camhd {

struct GreyFrame {
    int frame = 0;
    cv::Mat image;      // empty if the frame could not be read or decoded
    std::string error;  // "unreadable: ..." / "undecodable: ..." when image is empty
};

// One per worker: its own file descriptor and decoder.
class FrameReader {
public:
    FrameReader(const MovieIndex& index, int factor);  // throws VideoError
    GreyFrame grey(int frame);                        // 1-based frame number
    // Read and decode only (the decode floor of the benchmark); false if it failed.
    bool decode_only(int frame);
    int64_t bytes_read() const { return file_.bytes_read(); }
    int64_t frames_decoded() const { return decoder_.frames_decoded(); }

private:
    const MovieIndex& index_;
    int factor_;
    FrameFile file_;
    ProResDecoder decoder_;
    std::vector<uint8_t> lut10_;
    std::vector<uint8_t> lut_other_;
    int lut_other_depth_ = 0;
};

}  // namespace camhd
