// The movie index, from libavformat's mov demuxer (index entries = the sample table).
#include "movie.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>

#include "errors.hpp"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
}

namespace camhd {
namespace {

uint32_t be32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

uint64_t be64(const uint8_t* p) { return (uint64_t(be32(p)) << 32) | be32(p + 4); }

std::string quoted_kind(const uint8_t* p) {
    std::string s = "'";
    for (int i = 0; i < 4; ++i) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
            s += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            s += hex;
        }
    }
    return s + "'";
}

int open_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) throw VideoError(path, "file not found");
        throw VideoError(path, std::string("cannot open: ") + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw VideoError(path, "cannot open: not a regular file");
    }
    return fd;
}

// Walk the top-level atom headers (a few small reads) so that a file that is not a movie,
// or was cut short, gets the same plain cause as from the Python engine's index parser.
void check_layout(int fd, int64_t file_size, const std::string& path) {
    static const std::set<std::string> top_level = {"ftyp", "wide", "free", "skip", "mdat",
                                                    "moov", "pnot", "uuid", "junk", "PICT",
                                                    "udta"};
    int64_t pos = 0;
    while (pos + 8 <= file_size) {
        uint8_t head[16];
        const int64_t want = std::min<int64_t>(16, file_size - pos);
        if (::pread(fd, head, static_cast<size_t>(want), pos) != want)
            throw VideoError(path, std::string("cannot read: ") + std::strerror(errno));
        uint64_t size = be32(head);
        const std::string kind(reinterpret_cast<const char*>(head + 4), 4);
        if (pos == 0 && top_level.count(kind) == 0)
            throw VideoError(path, "not a QuickTime movie (starts with " +
                                       quoted_kind(head + 4) + ", not an atom)");
        if (size == 1) {
            if (want < 16) break;
            size = be64(head + 8);
        } else if (size == 0) {
            size = static_cast<uint64_t>(file_size - pos);
        }
        if (size < 8)
            throw VideoError(path, "corrupt top-level atom " + quoted_kind(head + 4) +
                                       " at offset " + std::to_string(pos));
        if (kind == "moov") {
            if (pos + static_cast<int64_t>(size) > file_size || size > uint64_t(INT64_MAX))
                throw VideoError(path, "moov atom runs past the end of the file (truncated)");
            return;
        }
        if (size > uint64_t(INT64_MAX - pos)) {
            pos = INT64_MAX;
            break;
        }
        pos += static_cast<int64_t>(size);
    }
    if (pos > file_size)
        throw VideoError(path, "truncated: an atom claims bytes up to " + std::to_string(pos) +
                                   " but the file has " + std::to_string(file_size));
    throw VideoError(path, "no moov atom (not a QuickTime movie, or an unfinished recording)");
}

std::string tag_string(uint32_t tag) {
    std::string s;
    for (int i = 0; i < 4; ++i) s += static_cast<char>((tag >> (8 * i)) & 0xff);
    return s;
}

// FFmpeg writes "YYYY-MM-DDTHH:MM:SS.000000Z"; the Python engine writes datetime.isoformat().
std::string iso_creation_time(const char* ffmpeg_value) {
    std::string v = ffmpeg_value ? ffmpeg_value : "";
    if (v.size() < 19 || v[10] != 'T') return "";
    std::string out = v.substr(0, 19);
    if (v.size() > 20 && v[19] == '.') {
        const std::string frac = v.substr(20, 6);
        if (frac.find_first_not_of('0') != std::string::npos) out += "." + frac;
    }
    return out + "+00:00";
}

struct FormatContext {
    AVFormatContext* ctx = nullptr;
    ~FormatContext() { avformat_close_input(&ctx); }
};

}  // namespace

MovieIndex read_movie_index(const std::string& path) {
    MovieIndex index;
    index.path = path;
    {
        const int fd = open_file(path);
        struct stat st {};
        ::fstat(fd, &st);
        index.file_size = st.st_size;
        try {
            check_layout(fd, index.file_size, path);
        } catch (...) {
            ::close(fd);
            throw;
        }
        ::close(fd);
    }

    FormatContext fmt;
    AVDictionary* opts = nullptr;
    // Frame n is the n-th sample of the track, as in the Python engine's index parser.
    av_dict_set(&opts, "ignore_editlist", "1", 0);
    const int rc = avformat_open_input(&fmt.ctx, path.c_str(), av_find_input_format("mov"), &opts);
    av_dict_free(&opts);
    if (rc < 0) throw VideoError(path, "libavformat cannot read the index: " + av_error(rc));

    AVStream* video = nullptr;
    for (unsigned i = 0; i < fmt.ctx->nb_streams; ++i) {
        if (fmt.ctx->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
            video = fmt.ctx->streams[i];
            break;
        }
    }
    if (video == nullptr) throw VideoError(path, "no video track in moov");
    index.codec_tag = tag_string(video->codecpar->codec_tag);
    index.width = video->codecpar->width;
    index.height = video->codecpar->height;

    const int n = avformat_index_get_entries_count(video);
    if (n <= 0) throw VideoError(path, "the video track has no frames");
    if (video->nb_frames > 0 && video->nb_frames != n)
        throw VideoError(path, "libavformat's index has " + std::to_string(n) +
                                   " entries but the sample table " +
                                   std::to_string(video->nb_frames) + " frames");
    index.offsets.resize(n);
    index.sizes.resize(n);
    int missing = 0;
    for (int i = 0; i < n; ++i) {
        const AVIndexEntry* e = avformat_index_get_entry(video, i);
        if (e == nullptr) throw VideoError(path, "index entry " + std::to_string(i) + " missing");
        index.offsets[i] = e->pos;
        index.sizes[i] = e->size;
        if (e->pos < 0 || e->size <= 0)
            throw VideoError(path, "bad index entry for frame " + std::to_string(i + 1));
        if (e->pos + e->size > index.file_size) ++missing;
    }
    if (missing > 0)
        throw VideoError(path, "truncated: " + std::to_string(missing) + " of " +
                                   std::to_string(n) + " frames lie past the end of file");

    if (video->duration != AV_NOPTS_VALUE && video->duration > 0 && video->time_base.den > 0)
        index.duration = static_cast<double>(video->duration * video->time_base.num) /
                         static_cast<double>(video->time_base.den);
    const AVDictionaryEntry* ct = av_dict_get(fmt.ctx->metadata, "creation_time", nullptr, 0);
    if (ct != nullptr) index.creation_time = iso_creation_time(ct->value);
    return index;
}

FrameFile::FrameFile(const std::string& path) : fd_(open_file(path)) {}

FrameFile::~FrameFile() {
    if (fd_ >= 0) ::close(fd_);
}

void FrameFile::read(int64_t offset, int64_t size, uint8_t* dst) {
    int64_t done = 0;
    while (done < size) {
        const ssize_t got = ::pread(fd_, dst + done, static_cast<size_t>(size - done), offset + done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw std::runtime_error(std::string("read error: ") + std::strerror(errno));
        if (got == 0)
            throw std::runtime_error("short read: " + std::to_string(done) + " of " +
                                     std::to_string(size) + " bytes at offset " +
                                     std::to_string(offset));
        done += got;
    }
    bytes_read_ += size;
}

}  // namespace camhd
