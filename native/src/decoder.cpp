#include "decoder.hpp"

#include "errors.hpp"

#include <set>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
}

namespace camhd {
namespace {

uint32_t fourcc(const std::string& tag) {
    return static_cast<uint32_t>(static_cast<unsigned char>(tag[0])) |
           static_cast<uint32_t>(static_cast<unsigned char>(tag[1])) << 8 |
           static_cast<uint32_t>(static_cast<unsigned char>(tag[2])) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(tag[3])) << 24;
}

}  // namespace

bool is_prores_tag(const std::string& tag) {
    // The tags FFmpeg's "prores" decoder handles; 4444 variants carry 12-bit luma.
    static const std::set<std::string> tags = {"apco", "apcs", "apcn", "apch", "ap4h", "ap4x"};
    return tags.count(tag) != 0;
}

ProResDecoder::ProResDecoder(const std::string& codec_tag, int width, int height)
    : width_(width), height_(height) {
    if (!is_prores_tag(codec_tag)) throw DecodeError("codec '" + codec_tag + "' is not ProRes");
    const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_PRORES);
    if (codec == nullptr) throw DecodeError("this FFmpeg has no ProRes decoder");
    ctx_ = avcodec_alloc_context3(codec);
    frame_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    if (!ctx_ || !frame_ || !packet_) throw DecodeError("out of memory");
    ctx_->width = width;
    ctx_->height = height;
    ctx_->codec_tag = fourcc(codec_tag);
    ctx_->thread_count = 1;
    ctx_->flags |= AV_CODEC_FLAG_GRAY;
    const int rc = avcodec_open2(ctx_, codec, nullptr);
    if (rc < 0) throw DecodeError("cannot open the ProRes decoder: " + av_error(rc));
}

ProResDecoder::~ProResDecoder() {
    av_packet_free(&packet_);
    av_frame_free(&frame_);
    avcodec_free_context(&ctx_);
}

uint8_t* ProResDecoder::packet_buffer(int size) {
    av_packet_unref(packet_);
    const int rc = av_new_packet(packet_, size);
    if (rc < 0) throw DecodeError("cannot allocate a packet: " + av_error(rc));
    return packet_->data;
}

const uint8_t* ProResDecoder::packet_data() const { return packet_->data; }

LumaView ProResDecoder::decode() {
    av_frame_unref(frame_);
    int rc = avcodec_send_packet(ctx_, packet_);
    if (rc < 0) throw DecodeError("decoder error: " + av_error(rc));
    rc = avcodec_receive_frame(ctx_, frame_);
    if (rc == AVERROR(EAGAIN)) throw DecodeError("decoder returned 0 frames for one packet");
    if (rc < 0) throw DecodeError("decoder error: " + av_error(rc));
    if (frame_->decode_error_flags != 0 || (frame_->flags & AV_FRAME_FLAG_CORRUPT))
        throw DamagedFrame();
    if (frame_->width != width_ || frame_->height != height_)
        throw DecodeError("frame is " + std::to_string(frame_->width) + "x" +
                          std::to_string(frame_->height) + ", index says " +
                          std::to_string(width_) + "x" + std::to_string(height_));
    const AVPixFmtDescriptor* desc =
        av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame_->format));
    if (desc == nullptr || (desc->flags & AV_PIX_FMT_FLAG_RGB) || desc->comp[0].plane != 0)
        throw DecodeError("unexpected pixel format");
    LumaView view;
    view.data = frame_->data[0];
    view.width = frame_->width;
    view.height = frame_->height;
    view.stride = frame_->linesize[0];
    view.depth = desc->comp[0].depth;
    if (view.depth > 8 && desc->comp[0].step != 2)
        throw DecodeError(std::string("unexpected luma layout in ") + desc->name);
    ++frames_decoded_;
    return view;
}

}  // namespace camhd
