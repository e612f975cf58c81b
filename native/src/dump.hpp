// Diagnostics: write the decoded luma and the working grey of chosen frames as raw files,
// so tests can check them against the Python engine's decoder (another FFmpeg).
#pragma once

#include <string>
#include <vector>

namespace camhd {

// DIR/luma_<N>.raw: the luma plane, width x height, uint16 little-endian (uint8 for 8-bit);
// DIR/grey_<N>.raw: the working grey image at 1/factor, uint8.  Throws VideoError.
void dump_frames(const std::string& path, const std::vector<int>& frames, int factor,
                 const std::string& dir);

}  // namespace camhd
