#include "reader.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>

#include "errors.hpp"
#include "grey.hpp"
#include "prores_partial.hpp"

namespace camhd {
namespace {

std::atomic<bool> notes_enabled{true};

// Each distinct note once per process (the Python engine logs them once too).
void note_once(const std::string& text) {
    static std::mutex mutex;
    static std::set<std::string> seen;
    std::lock_guard<std::mutex> lock(mutex);
    if (!seen.insert(text).second || !notes_enabled) return;
    std::fprintf(stderr, "camhd-motion-native: note: %s\n", text.c_str());
}

}  // namespace

void set_notes_enabled(bool enabled) { notes_enabled = enabled; }

FrameReader::FrameReader(const MovieIndex& index, int factor, const std::string& decoder) try
    : index_(index),
      factor_(factor),
      file_(index.path),
      decoder_(index.codec_tag, index.width, index.height),
      lut10_(grey_lut(factor, 10)) {
    if (decoder == "partial") {
        if (prores::supports_factor(factor)) {
            use_partial_ = true;
            // FFmpeg decodes ProRes 4444 (and XQ) luma at 12 bits, the 422 profiles at 10.
            partial_depth_ = (index.codec_tag == "ap4h" || index.codec_tag == "ap4x") ? 12 : 10;
            sums_.resize(static_cast<size_t>(index.width / factor) * (index.height / factor));
            partial_lut_ = grey_lut(factor, partial_depth_);
        } else {
            note_once("partial ProRes decoder not used, decoding with FFmpeg: img_scale 1/" +
                      std::to_string(factor) + ": the partial decoder makes 1/4 and 1/8 only");
        }
    }
} catch (const DecodeError& err) {
    throw VideoError(index.path, err.what());
}

int64_t FrameReader::read_frame(int frame, uint8_t** data) {
    const int64_t size = index_.sizes[frame - 1];
    if (size > (int64_t(1) << 30)) throw std::runtime_error("frame of " + std::to_string(size) + " bytes");
    *data = decoder_.packet_buffer(static_cast<int>(size));
    file_.read(index_.offsets[frame - 1], size, *data);
    return size;
}

bool FrameReader::partial(int frame, const uint8_t* data, int64_t size, cv::Mat* image,
                          std::string* error) {
    if (!use_partial_) return false;
    const prores::Outcome o =
        prores::decode_block_sums(data, static_cast<size_t>(size), index_.width, index_.height,
                                  factor_, partial_depth_, sums_.data());
    if (o.status == prores::Status::damaged) {
        *error = "damaged: partial decoder: " + o.reason;
        return false;
    }
    if (o.status != prores::Status::ok) {
        (void)frame;
        note_once(index_.path + ": partial ProRes decoder: " + o.reason +
                  "; such frames are decoded with FFmpeg");
        return false;
    }
    ++frames_partial_;
    if (image != nullptr) {
        const int w = index_.width / factor_, h = index_.height / factor_;
        cv::Mat out(h, w, CV_8UC1);
        const uint32_t max_sum = static_cast<uint32_t>(partial_lut_.size() - 1);
        for (int y = 0; y < h; ++y) {
            const uint32_t* row = sums_.data() + static_cast<size_t>(y) * w;
            uint8_t* dst = out.ptr<uint8_t>(y);
            for (int x = 0; x < w; ++x) dst[x] = partial_lut_[std::min(row[x], max_sum)];
        }
        *image = out;
    }
    return true;
}

bool FrameReader::decode_only(int frame) {
    try {
        uint8_t* data = nullptr;
        const int64_t size = read_frame(frame, &data);
        std::string error;
        if (partial(frame, data, size, nullptr, &error)) return true;
        if (!error.empty()) return false;
        decoder_.decode();
    } catch (const std::exception&) {
        return false;
    }
    return true;
}

GreyFrame FrameReader::grey(int frame) { return read_and_decode(frame, true); }

GreyFrame FrameReader::grey_full(int frame) { return read_and_decode(frame, false); }

GreyFrame FrameReader::read_and_decode(int frame, bool allow_partial) {
    GreyFrame out;
    out.frame = frame;
    uint8_t* data = nullptr;
    int64_t size = 0;
    try {
        size = read_frame(frame, &data);
    } catch (const std::exception& err) {
        out.error = std::string("unreadable: ") + err.what();
        return out;
    }
    if (allow_partial) {
        out.partial = partial(frame, data, size, &out.image, &out.error);
        if (out.partial || !out.error.empty()) return out;
    }
    full_decode(&out);
    return out;
}

void FrameReader::full_decode(GreyFrame* out) {
    LumaView luma;
    try {
        luma = decoder_.decode();
    } catch (const DamagedFrame& err) {
        out->error = std::string("damaged: ") + err.what();
        return;
    } catch (const DecodeError& err) {
        out->error = std::string("undecodable: ") + err.what();
        return;
    }
    if (luma.depth == 10) {
        out->image = working_grey(luma, factor_, lut10_);
    } else {
        if (lut_other_depth_ != luma.depth) {
            lut_other_ = grey_lut(factor_, luma.depth);
            lut_other_depth_ = luma.depth;
        }
        out->image = working_grey(luma, factor_, lut_other_);
    }
}

}  // namespace camhd
