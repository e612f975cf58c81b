// Grey working images of chosen frames: read each frame's exact bytes, then either read
// the working image straight out of the ProRes bitstream (the partial decoder,
// prores_partial.hpp: the default) or decode the frame in full with FFmpeg and block-sum
// it.  FFmpeg is the partial decoder's fallback, per video (another working scale, or
// --decoder ffmpeg) and per frame (a frame the partial decoder does not handle).
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
    std::string error;  // "unreadable: ..." / "undecodable: ..." / "damaged: ..."
    bool partial = false;  // made by the partial decoder (else by FFmpeg's full decode)
};

// Notes (why the partial decoder is not used, once per distinct reason) go to stderr
// unless disabled (-q).
void set_notes_enabled(bool enabled);

// One per worker: its own file descriptor and decoders.
class FrameReader {
public:
    // decoder: "ffmpeg" or "partial" (FFmpeg where the partial decoder cannot).
    FrameReader(const MovieIndex& index, int factor,
                const std::string& decoder = "ffmpeg");  // throws VideoError
    GreyFrame grey(int frame);                           // 1-based frame number
    // The frame decoded in full by FFmpeg whatever the decoder (estimator step 9: a frame of
    // faint texture, a second look at a pair).
    GreyFrame grey_full(int frame);
    // Read and decode only (the decode floor of the benchmark); false if it failed.
    bool decode_only(int frame);
    int64_t bytes_read() const { return file_.bytes_read(); }
    int64_t frames_decoded() const { return decoder_.frames_decoded() + frames_partial_; }
    int64_t frames_partial() const { return frames_partial_; }

private:
    // Read frame's bytes into the packet buffer; returns its size.
    int64_t read_frame(int frame, uint8_t** data);
    // The partial decoder on the bytes read: true and `image` set if it handled them;
    // false with `error` empty if FFmpeg must decode them, or with "damaged: ..." set.
    bool partial(int frame, const uint8_t* data, int64_t size, cv::Mat* image,
                 std::string* error);
    // FFmpeg's full decode of the packet read, as a working image.
    void full_decode(GreyFrame* out);
    GreyFrame read_and_decode(int frame, bool allow_partial);

    const MovieIndex& index_;
    int factor_;
    FrameFile file_;
    ProResDecoder decoder_;
    bool use_partial_ = false;
    int partial_depth_ = 10;
    std::vector<uint32_t> sums_;
    std::vector<uint8_t> partial_lut_;
    int64_t frames_partial_ = 0;
    std::vector<uint8_t> lut10_;
    std::vector<uint8_t> lut_other_;
    int lut_other_depth_ = 0;
};

}  // namespace camhd
