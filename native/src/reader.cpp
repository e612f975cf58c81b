#include "reader.hpp"

#include "errors.hpp"
#include "grey.hpp"

namespace camhd {
FrameReader::FrameReader(const MovieIndex& index, int factor) try
    : index_(index),
      factor_(factor),
      file_(index.path),
      decoder_(index.codec_tag, index.width, index.height),
      lut10_(grey_lut(factor, 10)) {
} catch (const DecodeError& err) {
    throw VideoError(index.path, err.what());
}

bool FrameReader::decode_only(int frame) {
    const int64_t size = index_.sizes[frame - 1];
    try {
        file_.read(index_.offsets[frame - 1], size, decoder_.packet_buffer(static_cast<int>(size)));
        decoder_.decode();
    } catch (const std::exception&) {
        return false;
    }
    return true;
}

GreyFrame FrameReader::grey(int frame) {
    GreyFrame out;
    out.frame = frame;
    const int64_t offset = index_.offsets[frame - 1];
    const int64_t size = index_.sizes[frame - 1];
    try {
        if (size > (int64_t(1) << 30)) throw std::runtime_error("frame of " + std::to_string(size) + " bytes");
        uint8_t* buf = decoder_.packet_buffer(static_cast<int>(size));
        file_.read(offset, size, buf);
    } catch (const std::exception& err) {
        out.error = std::string("unreadable: ") + err.what();
        return out;
    }
    LumaView luma;
    try {
        luma = decoder_.decode();
    } catch (const DamagedFrame& err) {
        out.error = std::string("damaged: ") + err.what();
        return out;
    } catch (const DecodeError& err) {
        out.error = std::string("undecodable: ") + err.what();
        return out;
    }
    if (luma.depth == 10) {
        out.image = working_grey(luma, factor_, lut10_);
    } else {
        if (lut_other_depth_ != luma.depth) {
            lut_other_ = grey_lut(factor_, luma.depth);
            lut_other_depth_ = luma.depth;
        }
        out.image = working_grey(luma, factor_, lut_other_);
    }
    return out;
}

}  // namespace camhd
