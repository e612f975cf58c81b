// Motion of a whole video: sample pairs, read the needed frames once, estimate each pair.
// Worker threads take contiguous chunks of samples, each with its own file and decoder
// (camhd_motion.motion.analyze and .sampling).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "estimator.hpp"
#include "movie.hpp"

namespace camhd {

struct SamplePair {
    int frame;
    int from_frame;
    int to_frame;
};

// Samples at 1, 1+stride, ... <= num_frames; sample f compares f-offset and f+offset,
// clamped to [1, num_frames].
std::vector<SamplePair> sample_pairs(int num_frames, int stride, int offset);
// Every frame the pairs use, once, increasing.
std::vector<int> needed_frames(const SamplePair* begin, const SamplePair* end);

struct MotionSample {
    int frame = 0;
    int from_frame = 0;
    int to_frame = 0;
    Similarity similarity;
    bool valid = false;
    std::string reason;
    int tracked = 0;
    int inliers = 0;
    bool has_mean_grey = false;  // false when a frame could not be read
    double mean_grey_from = 0.0;
    double mean_grey_to = 0.0;
};

struct Performance {
    double wall_seconds = 0;
    double cpu_seconds_main = 0;     // the main thread
    double cpu_seconds_workers = 0;  // sum over the worker threads
    double cpu_seconds_process = 0;  // the whole process (user + system)
    int64_t frames_decoded = 0;
    int64_t frames_partial = 0;  // of which by the partial decoder
    int64_t frames_faint = 0;  // decoded in full for their faint texture (estimator step 9)
    int64_t samples_second_look = 0;  // estimated again on full decodes (estimator step 9)
    int64_t frames_needed = 0;
    int64_t bytes_read = 0;
    int workers = 1;
    std::string hostname;
};

struct Analysis {
    MovieIndex index;
    MotionParams params;
    std::vector<MotionSample> samples;
    Performance performance;
};

// Throws VideoError if the video cannot be opened, indexed or decoded at all; frames that
// cannot be read make their samples invalid with a reason.
// decode_only: read and decode the needed frames, nothing else (the benchmark's floor;
// no samples are produced).
Analysis analyze_video(const std::string& path, const MotionParams& params, int workers,
                       bool decode_only = false);

// Chunks per worker (more balance uneven work, at one extra decoded frame per boundary).
constexpr int kChunksPerWorker = 4;

}  // namespace camhd
