#include "analysis.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <exception>
#include <map>
#include <set>
#include <thread>
#include <variant>

#include <opencv2/core.hpp>

#include "errors.hpp"
#include "grey.hpp"
#include "reader.hpp"

namespace camhd {

std::vector<SamplePair> sample_pairs(int num_frames, int stride, int offset) {
    std::vector<SamplePair> pairs;
    for (int f = 1; f <= num_frames; f += stride)
        pairs.push_back({f, std::max(1, f - offset), std::min(num_frames, f + offset)});
    return pairs;
}

std::vector<int> needed_frames(const SamplePair* begin, const SamplePair* end) {
    std::vector<int> frames;
    for (const SamplePair* p = begin; p != end; ++p) {
        frames.push_back(p->from_frame);
        frames.push_back(p->to_frame);
    }
    std::sort(frames.begin(), frames.end());
    frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
    return frames;
}

namespace {

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double process_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

// Contiguous runs of pairs as [begin, end) index ranges (sampling.split).
std::vector<std::pair<size_t, size_t>> split(size_t n, int chunks) {
    chunks = static_cast<int>(std::max<size_t>(1, std::min<size_t>(chunks, n)));
    const size_t size = n / chunks, extra = n % chunks;
    std::vector<std::pair<size_t, size_t>> out;
    size_t start = 0;
    for (int i = 0; i < chunks; ++i) {
        const size_t end = start + size + (static_cast<size_t>(i) < extra ? 1 : 0);
        if (end > start) out.emplace_back(start, end);
        start = end;
    }
    return out;
}

using Prepared = std::variant<PreparedFrame, std::string>;  // or why it is unreadable

MotionSample make_sample(const MotionEstimator& estimator, const SamplePair& pair,
                         const Prepared& a, const Prepared& b) {
    MotionSample s;
    s.frame = pair.frame;
    s.from_frame = pair.from_frame;
    s.to_frame = pair.to_frame;
    if (std::holds_alternative<std::string>(a) || std::holds_alternative<std::string>(b)) {
        const bool a_bad = std::holds_alternative<std::string>(a);
        const std::string& bad = std::get<std::string>(a_bad ? a : b);
        s.reason = "frame " + std::to_string(a_bad ? pair.from_frame : pair.to_frame) + " " + bad;
        return s;
    }
    const PreparedFrame& pa = std::get<PreparedFrame>(a);
    const PreparedFrame& pb = std::get<PreparedFrame>(b);
    s.has_mean_grey = true;
    s.mean_grey_from = pa.mean_grey;
    s.mean_grey_to = pb.mean_grey;
    if (pair.from_frame == pair.to_frame) {  // a 1-frame video: nothing to compare
        s.reason = "no pair: from and to are the same frame";
        return s;
    }
    const PairMotion m = estimator.estimate(pa, pb);
    s.similarity = m.similarity;
    s.valid = m.valid;
    s.reason = m.reason;
    s.tracked = m.tracked;
    s.inliers = m.inliers;
    return s;
}

struct WorkerStats {
    double cpu = 0;
    int64_t decoded = 0;
    int64_t partial = 0;
    int64_t faint = 0;         // frames decoded in full for their faint texture (step 9)
    int64_t second_looks = 0;  // samples estimated again on full decodes (step 9)
    int64_t bytes = 0;
};

Prepared prepare(const MotionEstimator& estimator, const GreyFrame& g) {
    if (g.image.empty()) return g.error.empty() ? std::string("unreadable") : g.error;
    return estimator.prepare(g.frame, g.image);
}

// One chunk: each frame decoded and prepared once, dropped after its last use; a frame the
// partial decoder's picture shows too faint is decoded in full, and a pair its pictures
// do not settle is estimated again on full decodes (estimator step 9).
std::vector<MotionSample> analyze_chunk(FrameReader& reader, const MotionEstimator& estimator,
                                        const SamplePair* begin, const SamplePair* end,
                                        WorkerStats* stats) {
    const std::vector<int> frames = needed_frames(begin, end);
    std::map<int, size_t> last_use;
    for (const SamplePair* p = begin; p != end; ++p) {
        last_use[p->from_frame] = static_cast<size_t>(p - begin);
        last_use[p->to_frame] = static_cast<size_t>(p - begin);
    }
    std::map<int, Prepared> prepared;
    std::map<int, Prepared> full;  // frames decoded in full for a second look
    std::set<int> partial;         // frames whose working image the partial decoder made
    size_t next = 0;
    std::vector<MotionSample> samples;
    samples.reserve(static_cast<size_t>(end - begin));
    for (const SamplePair* p = begin; p != end; ++p) {
        const int ends[2] = {p->from_frame, p->to_frame};
        for (int f : ends) {
            while (prepared.count(f) == 0) {
                const GreyFrame g = reader.grey(frames.at(next++));
                Prepared p = prepare(estimator, g);
                if (g.partial && too_faint_for_partial(std::get<PreparedFrame>(p))) {
                    p = prepare(estimator, reader.grey_full(g.frame));  // step 9
                    ++stats->faint;
                } else if (g.partial) {
                    partial.insert(g.frame);
                }
                prepared.emplace(g.frame, std::move(p));
            }
        }
        MotionSample s =
            make_sample(estimator, *p, prepared.at(ends[0]), prepared.at(ends[1]));
        if ((partial.count(ends[0]) || partial.count(ends[1])) &&
            worth_a_second_look(s.valid, s.reason, s.inliers)) {
            for (int f : ends)
                if (full.count(f) == 0)
                    full.emplace(f, partial.count(f) ? prepare(estimator, reader.grey_full(f))
                                                     : prepared.at(f));
            s = make_sample(estimator, *p, full.at(ends[0]), full.at(ends[1]));
            ++stats->second_looks;
        }
        samples.push_back(std::move(s));
        const size_t i = static_cast<size_t>(p - begin);
        for (int f : ends)
            if (last_use[f] == i) {
                prepared.erase(f);
                full.erase(f);
                partial.erase(f);
            }
    }
    return samples;
}

}  // namespace

Analysis analyze_video(const std::string& path, const MotionParams& params, int workers,
                       bool decode_only) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    const int factor = factor_for_scale(params.img_scale);
    if (factor == 0) throw UsageError("--img-scale must be 1/k for an integer k in 1..8");
    cv::setNumThreads(1);  // parallelism is across worker threads

    Analysis result;
    result.params = params;
    result.index = read_movie_index(path);
    const MovieIndex& index = result.index;
    {
        // Fail early, once, on a video no worker could decode (e.g. not ProRes).
        FrameReader probe(index, factor, params.decoder);
    }
    const std::vector<SamplePair> pairs = sample_pairs(index.num_frames(), params.stride,
                                                       params.pair_offset);
    const auto chunks = split(pairs.size(), workers > 1 ? workers * kChunksPerWorker : 1);
    // decode_only: every needed frame once, in contiguous runs (one chunk per sample chunk)
    const std::vector<int> all_frames = needed_frames(pairs.data(), pairs.data() + pairs.size());
    auto frame_chunks = split(all_frames.size(), static_cast<int>(chunks.size()));
    frame_chunks.resize(chunks.size(), {0, 0});
    const int threads = std::max(1, std::min<int>(workers, static_cast<int>(chunks.size())));
    const MotionEstimator estimator(params, index.width, index.height, factor);

    std::vector<std::vector<MotionSample>> chunk_samples(chunks.size());
    std::vector<WorkerStats> stats(static_cast<size_t>(threads));
    std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
    std::atomic<size_t> next_chunk{0};
    auto work = [&](int w) {
        const double start = thread_cpu_seconds();
        try {
            FrameReader reader(index, factor, params.decoder);
            for (size_t c = next_chunk++; c < chunks.size(); c = next_chunk++) {
                if (decode_only) {
                    for (size_t i = frame_chunks[c].first; i < frame_chunks[c].second; ++i)
                        reader.decode_only(all_frames[i]);
                } else {
                    chunk_samples[c] = analyze_chunk(reader, estimator,
                                                     pairs.data() + chunks[c].first,
                                                     pairs.data() + chunks[c].second,
                                                     &stats[w]);
                }
            }
            stats[w].decoded = reader.frames_decoded();
            stats[w].partial = reader.frames_partial();
            stats[w].bytes = reader.bytes_read();
        } catch (...) {
            errors[w] = std::current_exception();
            next_chunk = chunks.size();  // the others stop after their current chunk
        }
        stats[w].cpu = thread_cpu_seconds() - start;
    };
    std::vector<std::thread> pool;
    for (int w = 0; w < threads; ++w) pool.emplace_back(work, w);
    for (auto& t : pool) t.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);

    for (auto& cs : chunk_samples)
        for (auto& s : cs) result.samples.push_back(std::move(s));
    Performance& perf = result.performance;
    perf.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    perf.cpu_seconds_main = thread_cpu_seconds() - c0;
    for (const auto& s : stats) {
        perf.cpu_seconds_workers += s.cpu;
        perf.frames_decoded += s.decoded;
        perf.frames_partial += s.partial;
        perf.samples_second_look += s.second_looks;
        perf.frames_faint += s.faint;
        perf.bytes_read += s.bytes;
    }
    perf.cpu_seconds_process = process_cpu_seconds();
    perf.frames_needed = static_cast<int64_t>(all_frames.size());
    perf.workers = workers;
    char host[256] = {0};
    if (gethostname(host, sizeof host - 1) == 0) perf.hostname = host;
    return result;
}

}  // namespace camhd
