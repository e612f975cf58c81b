#include "dump.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "decoder.hpp"
#include "errors.hpp"
#include "grey.hpp"
#include "movie.hpp"
#include "prores_partial.hpp"

namespace camhd {

void dump_frames(const std::string& path, const std::vector<int>& frames, int factor,
                 const std::string& dir) {
    const MovieIndex index = read_movie_index(path);
    FrameFile file(path);
    std::filesystem::create_directories(dir);
    try {
        ProResDecoder decoder(index.codec_tag, index.width, index.height);
        for (int f : frames) {
            if (f < 1 || f > index.num_frames())
                throw UsageError("frame " + std::to_string(f) + " outside 1.." +
                                 std::to_string(index.num_frames()));
            const int64_t size = index.sizes[f - 1];
            file.read(index.offsets[f - 1], size, decoder.packet_buffer(static_cast<int>(size)));
            const LumaView luma = decoder.decode();
            const int bpp = luma.depth > 8 ? 2 : 1;
            std::ofstream raw(dir + "/luma_" + std::to_string(f) + ".raw", std::ios::binary);
            for (int y = 0; y < luma.height; ++y)
                raw.write(reinterpret_cast<const char*>(luma.data + luma.stride * y),
                          static_cast<std::streamsize>(luma.width) * bpp);
            const cv::Mat grey = working_grey(luma, factor, grey_lut(factor, luma.depth));
            std::ofstream g(dir + "/grey_" + std::to_string(f) + ".raw", std::ios::binary);
            for (int y = 0; y < grey.rows; ++y)
                g.write(reinterpret_cast<const char*>(grey.ptr(y)), grey.cols);
            if (!raw || !g) throw RuntimeError(dir + ": cannot write the dump files");
            // The partial decoder's grey of the same bytes (partial_<N>.raw), if it
            // handles them (scale 1/4 or 1/8, a progressive frame it accepts).
            if (prores::supports_factor(factor)) {
                const int depth = (index.codec_tag == "ap4h" || index.codec_tag == "ap4x") ? 12 : 10;
                const int w = index.width / factor, h = index.height / factor;
                std::vector<uint32_t> sums(static_cast<size_t>(w) * h);
                const prores::Outcome o = prores::decode_block_sums(
                    decoder.packet_data(), static_cast<size_t>(size), index.width, index.height,
                    factor, depth, sums.data());
                if (o.ok()) {
                    const std::vector<uint8_t> lut = grey_lut(factor, depth);
                    std::vector<uint8_t> pg(sums.size());
                    for (size_t i = 0; i < sums.size(); ++i)
                        pg[i] = lut[std::min<size_t>(sums[i], lut.size() - 1)];
                    std::ofstream pf(dir + "/partial_" + std::to_string(f) + ".raw", std::ios::binary);
                    pf.write(reinterpret_cast<const char*>(pg.data()), static_cast<std::streamsize>(pg.size()));
                    if (!pf) throw RuntimeError(dir + ": cannot write the dump files");
                }
            }
        }
    } catch (const DecodeError& err) {
        throw VideoError(path, err.what());
    } catch (const std::runtime_error& err) {
        if (dynamic_cast<const UsageError*>(&err) || dynamic_cast<const RuntimeError*>(&err))
            throw;
        throw VideoError(path, err.what());
    }
}

}  // namespace camhd
