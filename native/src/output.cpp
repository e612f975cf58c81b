#include "output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace camhd {
namespace {

using ordered = nlohmann::ordered_json;

constexpr const char* kOpticalFlowVersion = "1.1";
constexpr const char* kMovieVersion = "1.1";
constexpr const char* kPerformanceVersion = "1.0";
// 1.1: params.snowSize, 1.2: decoder, 1.3: the partial decoder's second look (default)
constexpr const char* kAnalysisVersion = "1.3";
constexpr double kFlowScale = 1.0;  // translations in full-resolution px

// float_or_none: NaN/inf -> null.
ordered number_or_null(double v) { return std::isfinite(v) ? ordered(v) : ordered(nullptr); }

// round(x, 3) for the timings.
double round3(double x) { return std::round(x * 1000.0) / 1000.0; }

ordered movie_json(const MovieIndex& index, const MovieRef& movie) {
    ordered doc;
    doc["URL"] = movie.url;
    doc["NumFrames"] = index.num_frames();
    doc["Duration"] = number_or_null(index.duration);
    doc["cacheURL"] = movie.cache_url;
    doc["Width"] = index.width;
    doc["Height"] = index.height;
    doc["FrameRate"] = number_or_null(index.frame_rate());
    if (!index.creation_time.empty()) doc["CreationTime"] = index.creation_time;
    return doc;
}

ordered sample_json(const MotionSample& s, const ordered& center, double img_scale) {
    ordered flow;
    if (s.valid) {
        const Similarity& m = s.similarity;
        if (!std::isfinite(m.scale) || !std::isfinite(m.theta) || !std::isfinite(m.tx) ||
            !std::isfinite(m.ty))
            throw RuntimeError("frame " + std::to_string(s.frame) +
                               ": valid sample with a non-finite similarity");
        flow["similarity"] = {m.scale, m.theta, m.tx, m.ty};
    } else {
        flow["similarity"] = {1.0, 0.0, 0.0, 0.0};
    }
    flow["center"] = center;
    flow["fromFrame"] = s.from_frame;
    flow["toFrame"] = s.to_frame;
    flow["imgScale"] = img_scale;
    flow["flowScale"] = kFlowScale;
    flow["valid"] = s.valid;
    flow["confidence"] = {{"tracked", s.tracked}, {"inliers", s.inliers}};
    if (s.has_mean_grey) flow["meanGrey"] = {s.mean_grey_from, s.mean_grey_to};
    if (!s.valid && !s.reason.empty()) flow["invalidReason"] = s.reason;
    ordered entry;
    entry["frameNumber"] = s.frame;
    entry["opticalFlow"] = std::move(flow);
    return entry;
}

ordered performance_block(const Performance& p) {
    return {{"wallSeconds", round3(p.wall_seconds)},
            {"cpuSecondsMain", round3(p.cpu_seconds_main)},
            {"cpuSecondsWorkers", round3(p.cpu_seconds_workers)},
            {"cpuSecondsProcess", round3(p.cpu_seconds_process)},
            {"framesDecoded", p.frames_decoded},
            {"framesPartial", p.frames_partial},
            {"framesFaint", p.frames_faint},
            {"samplesSecondLook", p.samples_second_look},
            {"framesNeeded", p.frames_needed},
            {"bytesRead", p.bytes_read},
            {"workers", p.workers},
            {"hostname", p.hostname}};
}

}  // namespace

std::string performance_json(const Performance& performance) {
    return performance_block(performance).dump() + "\n";
}

std::string motion_json(const Analysis& a, const MovieRef& movie) {
    ordered doc;
    doc["contents"] = {{"movie", kMovieVersion},
                       {"frameStats", {{"opticalFlow", kOpticalFlowVersion}}},
                       {"performance", kPerformanceVersion},
                       {"analysis", kAnalysisVersion}};
    doc["movie"] = movie_json(a.index, movie);
    const ordered center = {-a.index.width / 2.0, -a.index.height / 2.0};
    std::vector<const MotionSample*> sorted;
    for (const auto& s : a.samples) sorted.push_back(&s);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const MotionSample* x, const MotionSample* y) { return x->frame < y->frame; });
    ordered stats = ordered::array();
    for (const MotionSample* s : sorted) stats.push_back(sample_json(*s, center, a.params.img_scale));
    doc["frameStats"] = std::move(stats);

    doc["performance"] = performance_block(a.performance);

    const MotionParams& q = a.params;
    ordered params;
    params["stride"] = q.stride;
    params["pairOffset"] = q.pair_offset;
    params["imgScale"] = q.img_scale;
    params["darkThreshold"] = q.dark_threshold;
    params["maxCorners"] = q.max_corners;
    params["minInliers"] = q.min_inliers;
    params["ransacThreshold"] = q.ransac_threshold;
    params["snowSize"] = q.snow_size;
    params["decoder"] = q.decoder;
    doc["analysis"] = {{"engine", "native"},
                       {"engineVersion", CAMHD_NATIVE_VERSION},
                       {"params", std::move(params)}};
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void write_text_atomic(const std::string& path, const std::string& text) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    fs::path dir = target.parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw RuntimeError(path + ": cannot create directory: " + ec.message());
    std::string tmpl = (dir / ("." + target.filename().string() + ".XXXXXX.tmp")).string();
    const int fd = ::mkstemps(tmpl.data(), 4);
    if (fd < 0) throw RuntimeError(path + ": cannot write: " + std::strerror(errno));
    const char* p = text.data();
    size_t left = text.size();
    bool ok = true;
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = false;
            break;
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    const int saved = errno;
    ok = ok && ::fsync(fd) == 0 && ::fchmod(fd, 0644) == 0;
    ::close(fd);
    if (!ok || ::rename(tmpl.c_str(), path.c_str()) != 0) {
        const int err = ok ? errno : saved;
        ::unlink(tmpl.c_str());
        throw RuntimeError(path + ": cannot write: " + std::strerror(err));
    }
}

}  // namespace camhd
