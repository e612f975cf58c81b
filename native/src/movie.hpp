// The index of a QuickTime/ProRes movie: where each frame's bytes are, and the movie facts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace camhd {

struct MovieIndex {
    std::string path;
    std::string codec_tag;  // e.g. "apcn" (ProRes 422)
    int width = 0;
    int height = 0;
    int64_t file_size = 0;
    std::vector<int64_t> offsets;  // byte offset of frame n+1 (frames are 1-based)
    std::vector<int64_t> sizes;    // byte size of frame n+1
    double duration = 0.0;         // seconds
    std::string creation_time;     // ISO 8601 UTC ("...+00:00"), empty if unknown

    int num_frames() const { return static_cast<int>(sizes.size()); }
    double frame_rate() const { return duration > 0 ? num_frames() / duration : 0.0; }
};

// Read the index of the movie at `path` with libavformat (the mov demuxer, edit lists
// ignored: frame n is the n-th entry of the sample table).  Throws VideoError.
MovieIndex read_movie_index(const std::string& path);

// A file read with pread: exact ranges, no shared position (one per worker).
class FrameFile {
public:
    explicit FrameFile(const std::string& path);
    ~FrameFile();
    FrameFile(const FrameFile&) = delete;
    FrameFile& operator=(const FrameFile&) = delete;

    // Exactly `size` bytes at `offset` into `dst`; throws std::runtime_error on a short read.
    void read(int64_t offset, int64_t size, uint8_t* dst);
    int64_t bytes_read() const { return bytes_read_; }

private:
    int fd_ = -1;
    int64_t bytes_read_ = 0;
};

}  // namespace camhd
