#include "cli.hpp"

#include <getopt.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <sstream>

#include <opencv2/core/version.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "analysis.hpp"
#include "dump.hpp"
#include "errors.hpp"
#include "grey.hpp"
#include "names.hpp"
#include "output.hpp"
#include "reader.hpp"

namespace camhd {
namespace {

enum OptionId {
    kStride = 1000,
    kPairOffset,
    kImgScale,
    kDarkThreshold,
    kMaxCorners,
    kMinInliers,
    kRansacThreshold,
    kSnowSize,
    kWorkers,
    kMovieUrl,
    kVersion,
    kDumpFrames,
    kDumpDir,
    kDecodeOnly,
    kDecoder,
};

int parse_int(const char* name, const char* text) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < -2147483647L || v > 2147483647L)
        throw UsageError(std::string("argument ") + name + ": invalid int value: '" + text + "'");
    return static_cast<int>(v);
}

double parse_float(const char* name, const char* text) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !std::isfinite(v))
        throw UsageError(std::string("argument ") + name + ": invalid float value: '" + text + "'");
    return v;
}

}  // namespace

std::string usage_text() {
    const MotionParams d;
    std::ostringstream s;
    s << "usage: camhd-motion-native [-h] [--version] [-o OUTPUT] [--workers N] [--movie-url URL]\n"
         "                           [--stride N] [--pair-offset N] [--img-scale S]\n"
         "                           [--dark-threshold G] [--max-corners N] [--min-inliers N]\n"
         "                           [--ransac-threshold PX] [--snow-size N]\n"
         "                           [--decoder partial|ffmpeg] [-q] VIDEO\n"
         "\n"
         "Estimate the camera motion of one local ProRes .mov every STRIDE frames and write\n"
         "<stem>_optical_flow.json (format 1.1).  The native engine of camhd-motion: the same\n"
         "estimator, sampling and output as `camhd-motion motion --engine python`.\n"
         "\n"
         "positional arguments:\n"
         "  VIDEO                 path of the .mov (or file://PATH)\n"
         "\n"
         "options:\n"
         "  -h, --help            show this help and exit\n"
         "  --version             show the version and the libraries, and exit\n"
         "  -o, --output OUTPUT   output JSON (default: <stem>_optical_flow.json)\n"
         "  --workers N           worker threads, one per core (default: 1)\n"
         "  --movie-url URL       archive-relative URL recorded in the output\n"
         "                        (default: derived from the name)\n"
         "  -q, --quiet           no summary line on stderr\n"
         "  --dump-frames N,N,... diagnostics: write the decoded luma and the working grey\n"
         "                        of these frames as raw files to --dump-dir, and exit\n"
         "  --dump-dir DIR        where --dump-frames writes luma_<N>.raw, grey_<N>.raw and\n"
         "                        the partial decoder's grey partial_<N>.raw\n"
         "  --decode-only         benchmark: read and decode the frames the samples need,\n"
         "                        nothing else; print the timings (JSON) on stdout\n"
         "\n"
         "motion parameters (defaults: the original system's):\n"
         "  --stride N            frames between samples (default: " << d.stride << ")\n"
         "  --pair-offset N       sample f compares f-N and f+N (default: " << d.pair_offset << ")\n"
         "  --img-scale S         working resolution, 1/k (default: " << d.img_scale << ")\n"
         "  --dark-threshold G    mean grey (0-255) below which a frame is dark (default: "
      << d.dark_threshold << ")\n"
         "  --max-corners N       (default: " << d.max_corners << ")\n"
         "  --min-inliers N       (default: " << d.min_inliers << ")\n"
         "  --ransac-threshold PX RANSAC inlier threshold, working-resolution px (default: "
      << d.ransac_threshold << ")\n"
         "  --snow-size N         marine snow removal: bright specks narrower than N working\n"
         "                        px are removed before tracking, 0 = off (default: "
      << d.snow_size << ")\n"
         "  --decoder partial|ffmpeg  partial: the 1/4 (1/8) picture straight from the ProRes\n"
         "                        bitstream; FFmpeg where it cannot, for frames of faint\n"
         "                        texture and for a second look at pairs it does not\n"
         "                        settle; ffmpeg: full decode of every frame\n"
         "                        (default: " << d.decoder << ")\n"
         "\n"
         "exit codes: 0 ok, 1 other failure (e.g. output not writable), 2 usage or missing\n"
         "file, 3 the video cannot be read (not a movie, truncated, not ProRes).\n";
    return s.str();
}

std::string version_text() {
    std::ostringstream s;
    s << "camhd-motion-native " << CAMHD_NATIVE_VERSION << " (OpenCV " << CV_VERSION
      << ", libavcodec " << LIBAVCODEC_IDENT << ", libavformat " << LIBAVFORMAT_IDENT
      << "; runtime libavcodec " << AV_VERSION_MAJOR(avcodec_version()) << "."
      << AV_VERSION_MINOR(avcodec_version()) << "." << AV_VERSION_MICRO(avcodec_version())
      << ")\n";
    return s.str();
}

Options parse_args(int argc, char** argv) {
    static const option longs[] = {
        {"help", no_argument, nullptr, 'h'},
        {"output", required_argument, nullptr, 'o'},
        {"quiet", no_argument, nullptr, 'q'},
        {"stride", required_argument, nullptr, kStride},
        {"pair-offset", required_argument, nullptr, kPairOffset},
        {"img-scale", required_argument, nullptr, kImgScale},
        {"dark-threshold", required_argument, nullptr, kDarkThreshold},
        {"max-corners", required_argument, nullptr, kMaxCorners},
        {"min-inliers", required_argument, nullptr, kMinInliers},
        {"ransac-threshold", required_argument, nullptr, kRansacThreshold},
        {"snow-size", required_argument, nullptr, kSnowSize},
        {"workers", required_argument, nullptr, kWorkers},
        {"movie-url", required_argument, nullptr, kMovieUrl},
        {"version", no_argument, nullptr, kVersion},
        {"dump-frames", required_argument, nullptr, kDumpFrames},
        {"dump-dir", required_argument, nullptr, kDumpDir},
        {"decode-only", no_argument, nullptr, kDecodeOnly},
        {"decoder", required_argument, nullptr, kDecoder},
        {nullptr, 0, nullptr, 0},
    };
    Options o;
    opterr = 0;  // our own one-line messages
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:q", longs, nullptr)) != -1) {
        switch (c) {
            case 'h': o.help = true; break;
            case 'o': o.output = optarg; break;
            case 'q': o.quiet = true; break;
            case kStride: o.params.stride = parse_int("--stride", optarg); break;
            case kPairOffset: o.params.pair_offset = parse_int("--pair-offset", optarg); break;
            case kImgScale: o.params.img_scale = parse_float("--img-scale", optarg); break;
            case kDarkThreshold:
                o.params.dark_threshold = parse_float("--dark-threshold", optarg);
                break;
            case kMaxCorners: o.params.max_corners = parse_int("--max-corners", optarg); break;
            case kMinInliers: o.params.min_inliers = parse_int("--min-inliers", optarg); break;
            case kRansacThreshold:
                o.params.ransac_threshold = parse_float("--ransac-threshold", optarg);
                break;
            case kSnowSize: o.params.snow_size = parse_int("--snow-size", optarg); break;
            case kWorkers: o.workers = parse_int("--workers", optarg); break;
            case kMovieUrl: o.movie_url = optarg; break;
            case kVersion: o.version = true; break;
            case kDumpFrames: {
                std::string list = optarg;
                size_t start = 0;
                while (start <= list.size()) {
                    const size_t comma = std::min(list.find(',', start), list.size());
                    o.dump_frames.push_back(
                        parse_int("--dump-frames", list.substr(start, comma - start).c_str()));
                    start = comma + 1;
                }
                break;
            }
            case kDumpDir: o.dump_dir = optarg; break;
            case kDecodeOnly: o.decode_only = true; break;
            case kDecoder:
                o.params.decoder = optarg;
                if (o.params.decoder != "partial" && o.params.decoder != "ffmpeg")
                    throw UsageError(std::string("argument --decoder: invalid choice: '") +
                                     optarg + "' (choose from 'partial', 'ffmpeg')");
                break;
            case ':':
                throw UsageError(std::string("option ") + argv[optind - 1] + " needs a value");
            default:
                throw UsageError(std::string("unknown option ") + argv[optind - 1]);
        }
    }
    if (o.help || o.version) return o;
    if (optind >= argc) throw UsageError("the following arguments are required: VIDEO");
    if (argc - optind > 1)
        throw UsageError(std::string("unrecognized arguments: ") + argv[optind + 1]);
    o.video = argv[optind];
    if (o.video.rfind("http://", 0) == 0 || o.video.rfind("https://", 0) == 0 ||
        o.video.rfind("gs://", 0) == 0)
        throw UsageError(o.video + ": the native engine reads local files only "
                                   "(use --engine python for http(s):// and gs://)");
    o.path = o.video.rfind("file://", 0) == 0 ? o.video.substr(7) : o.video;
    if (o.params.stride < 1 || o.params.pair_offset < 1)
        throw UsageError("--stride and --pair-offset must be >= 1");
    if (o.workers < 1) throw UsageError("--workers must be >= 1");
    if (o.params.snow_size < 0) throw UsageError("--snow-size must be >= 0");
    if (factor_for_scale(o.params.img_scale) == 0)
        throw UsageError("--img-scale must be 1/k for an integer k in 1..8");
    if (!o.dump_frames.empty() && o.dump_dir.empty())
        throw UsageError("--dump-frames needs --dump-dir");
    if (o.output.empty()) o.output = stem_of(o.video) + "_optical_flow.json";
    return o;
}

int run(const Options& o) {
    set_notes_enabled(!o.quiet);
    struct stat st {};
    if (::stat(o.path.c_str(), &st) != 0 && errno == ENOENT)
        throw UsageError(o.video + ": file not found");
    if (!o.dump_frames.empty()) {
        dump_frames(o.path, o.dump_frames, factor_for_scale(o.params.img_scale), o.dump_dir);
        return 0;
    }
    if (o.decode_only) {
        const Analysis a = analyze_video(o.path, o.params, o.workers, true);
        std::printf("%s", performance_json(a.performance).c_str());
        return 0;
    }
    const Analysis analysis = analyze_video(o.path, o.params, o.workers);
    MovieRef movie;
    movie.url = o.movie_url.empty() ? movie_url_for(o.video) : o.movie_url;
    movie.cache_url = o.video;
    write_text_atomic(o.output, motion_json(analysis, movie));
    if (!o.quiet) {
        int valid = 0;
        for (const auto& s : analysis.samples) valid += s.valid ? 1 : 0;
        std::fprintf(stderr, "camhd-motion-native: %s: %zu samples, %d valid, %.1f s -> %s\n",
                     o.video.c_str(), analysis.samples.size(), valid,
                     analysis.performance.wall_seconds, o.output.c_str());
    }
    return 0;
}

}  // namespace camhd
