// Decode single ProRes frames from their bytes, luma only (a bare decoder, no demuxer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

struct AVCodecContext;
struct AVFrame;
struct AVPacket;

namespace camhd {

struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The frame decoded, but FFmpeg found damaged data in it and concealed it: its samples are
// invalid ("damaged: ..."), never computed from concealed pixels (same text as Python's
// video/decoder.py DAMAGED).
struct DamagedFrame : DecodeError {
    DamagedFrame()
        : DecodeError("the decoder found corrupt data in it (damaged or partly decoded frame)") {}
};

// The luma plane of the last decoded frame (valid until the next decode).
struct LumaView {
    const uint8_t* data = nullptr;
    int width = 0;
    int height = 0;
    std::ptrdiff_t stride = 0;  // bytes between rows
    int depth = 8;              // bits per sample: 8 (uint8) or 10/12 (uint16)
};

bool is_prores_tag(const std::string& tag);

// One decoder thread, AV_CODEC_FLAG_GRAY (chroma skipped, luma bit-identical).
class ProResDecoder {
public:
    ProResDecoder(const std::string& codec_tag, int width, int height);  // throws DecodeError
    ~ProResDecoder();
    ProResDecoder(const ProResDecoder&) = delete;
    ProResDecoder& operator=(const ProResDecoder&) = delete;

    // A packet buffer of `size` bytes (with FFmpeg's padding) to read the frame into.
    uint8_t* packet_buffer(int size);
    // The packet's bytes (as filled through packet_buffer()).
    const uint8_t* packet_data() const;
    // Decode the packet filled through packet_buffer().
    LumaView decode();
    int64_t frames_decoded() const { return frames_decoded_; }

private:
    AVCodecContext* ctx_ = nullptr;
    AVFrame* frame_ = nullptr;
    AVPacket* packet_ = nullptr;
    int width_;
    int height_;
    int64_t frames_decoded_ = 0;
};

}  // namespace camhd
