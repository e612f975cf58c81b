#include "estimator.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

namespace camhd {
namespace {

const cv::Size kWinSize(15, 15);
constexpr int kMaxLevel = 3;
const cv::TermCriteria kLkCriteria(cv::TermCriteria::EPS | cv::TermCriteria::COUNT, 30, 0.01);
constexpr double kGfttQuality = 0.001;
constexpr double kGfttMinDistance = 4;
constexpr int kGfttBlockSize = 5;
constexpr int kRansacMaxIters = 2000;
constexpr double kRansacConfidence = 0.99;
constexpr int kRansacRefineIters = 10;
constexpr double kRivalRatio = 1.5;
constexpr int kRivalMinTracks = 3;
constexpr double kRivalPx = 1.5;
constexpr double kRefineScale = 0.003;
constexpr int kRefineMaxLevel = 1;
constexpr int kTextureBox = 7;
constexpr double kTextureMad = 10.0;
constexpr int kTextureGainMax = 64;

PairMotion invalid(const std::string& reason, int tracked, int inliers) {
    PairMotion m;
    m.reason = reason;
    m.tracked = tracked;
    m.inliers = inliers;
    return m;
}

}  // namespace

bool worth_a_second_look(bool valid, const std::string& reason, int inliers) {
    if (valid) return inliers < kSecondLookInliers;
    for (const char* kind : {"too few corners", "too few tracked", "too few inliers", "ambiguous"})
        if (reason.rfind(kind, 0) == 0) return true;
    return false;
}

cv::Mat half_mean(const cv::Mat& grey) {
    const int h = grey.rows / 2, w = grey.cols / 2;
    cv::Mat out(h, w, CV_8UC1);
    for (int y = 0; y < h; ++y) {
        const uint8_t* r0 = grey.ptr<uint8_t>(2 * y);
        const uint8_t* r1 = grey.ptr<uint8_t>(2 * y + 1);
        uint8_t* dst = out.ptr<uint8_t>(y);
        for (int x = 0; x < w; ++x) {
            const unsigned total = r0[2 * x] + r1[2 * x] + r0[2 * x + 1] + r1[2 * x + 1] + 2u;
            dst[x] = static_cast<uint8_t>(total >> 2);
        }
    }
    return out;
}

cv::Mat texture_image(const cv::Mat& grey_in, int snow_size, int* gain_out) {
    cv::Mat grey = grey_in;
    if (snow_size > 1) {
        const cv::Mat kernel =
            cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(snow_size, snow_size));
        cv::morphologyEx(grey_in, grey, cv::MORPH_OPEN, kernel);
    }
    const int n = kTextureBox * kTextureBox;
    cv::Mat box;
    cv::boxFilter(grey, box, CV_32S, cv::Size(kTextureBox, kTextureBox), cv::Point(-1, -1),
                  false, cv::BORDER_REPLICATE);
    cv::Mat d;
    cv::addWeighted(grey, static_cast<double>(n), box, -1.0, 0.0, d, CV_32S);
    const double total = cv::norm(d, cv::NORM_L1);  // an exact integer
    int gain = kTextureGainMax;
    if (total > 0) {
        const double g = std::floor(256.0 * kTextureMad * static_cast<double>(grey.total()) /
                                        total +
                                    0.5);
        gain = static_cast<int>(std::min(static_cast<double>(kTextureGainMax), std::max(1.0, g)));
    }
    cv::Mat clipped = cv::max(d, static_cast<double>(-(32768 / gain)));
    cv::Mat out;
    cv::convertScaleAbs(clipped, out, gain / 256.0, 128.0);
    *gain_out = gain;
    return out;
}

MotionEstimator::MotionEstimator(const MotionParams& params, int full_width, int full_height,
                                 int factor)
    : params_(params), factor_(factor), cx_(full_width / 2.0), cy_(full_height / 2.0) {}

PreparedFrame MotionEstimator::prepare(int frame, const cv::Mat& grey) const {
    PreparedFrame p;
    p.frame = frame;
    p.mean_grey = cv::mean(grey)[0];
    p.dark = p.mean_grey < params_.dark_threshold;
    if (p.dark) return p;  // never analysed: skip the work
    p.image = texture_image(grey, params_.snow_size, &p.gain);
    // Corners of the 2x2 block mean (half the working resolution), mapped back to
    // working index coordinates as 2 q + 0.5 (float32, as in the Python engine).
    cv::goodFeaturesToTrack(half_mean(p.image), p.corners, params_.max_corners, kGfttQuality,
                            kGfttMinDistance, cv::noArray(), kGfttBlockSize);
    for (cv::Point2f& q : p.corners) {
        q.x = q.x * 2.0f + 0.5f;
        q.y = q.y * 2.0f + 0.5f;
    }
    return p;
}

PairMotion MotionEstimator::estimate(const PreparedFrame& a, const PreparedFrame& b) const {
    if (a.dark || b.dark) return invalid("dark", 0, 0);
    const int n = static_cast<int>(a.corners.size());
    if (n == 0 || n < params_.min_inliers)
        return invalid("too few corners (" + std::to_string(n) + ")", n, 0);

    // Brightness constancy is LK's assumption: the texture images have neither the lamps'
    // light nor their flicker.
    std::vector<cv::Point2f> moved;
    std::vector<uchar> status;
    std::vector<float> err;
    cv::calcOpticalFlowPyrLK(a.image, b.image, a.corners, moved, status, err, kWinSize,
                             kMaxLevel, kLkCriteria);
    std::vector<cv::Point2f> from, to;
    from.reserve(n);
    to.reserve(n);
    for (int i = 0; i < n; ++i) {
        if (status[i] == 1) {
            from.push_back(a.corners[i]);
            to.push_back(moved[i]);
        }
    }
    const int tracked = static_cast<int>(from.size());
    if (tracked < params_.min_inliers)
        return invalid("too few tracked (" + std::to_string(tracked) + ")", tracked, 0);

    cv::Mat inlier_mask;
    const cv::Mat m = fit(from, to, &inlier_mask);
    const int inliers = inlier_mask.empty() ? 0 : static_cast<int>(cv::sum(inlier_mask)[0]);
    if (m.empty() || inliers < params_.min_inliers)
        return invalid("too few inliers (" + std::to_string(inliers) + ")", tracked, inliers);
    // The best motion must be clearly the dominant one: fitted again to the tracks it
    // leaves out, another motion with more than 1/kRivalRatio of its support means that
    // the tracks do not tell the camera's motion (noise, or something else moving).
    const int rival = rival_support(m, from, to, inlier_mask, a.image.size());
    if (inliers < kRivalRatio * rival)
        return invalid("ambiguous (" + std::to_string(inliers) + " vs " + std::to_string(rival) +
                           ")",
                       tracked, inliers);
    cv::Mat fit = m;
    if (std::abs(std::hypot(m.at<double>(0, 0), m.at<double>(1, 0)) - 1.0) > kRefineScale) {
        std::vector<cv::Point2f> start;
        for (size_t i = 0; i < from.size(); ++i)
            if (inlier_mask.at<uchar>(static_cast<int>(i)) != 0) start.push_back(from[i]);
        fit = refine(m, a, b, start);
    }
    PairMotion result;
    result.similarity = similarity_from_working(fit, factor_, cx_, cy_);
    result.valid = true;
    result.tracked = tracked;
    result.inliers = inliers;
    return result;
}

cv::Mat MotionEstimator::fit(const std::vector<cv::Point2f>& from,
                             const std::vector<cv::Point2f>& to, cv::Mat* inlier_mask) const {
    return cv::estimateAffinePartial2D(from, to, *inlier_mask, cv::RANSAC,
                                       params_.ransac_threshold, kRansacMaxIters,
                                       kRansacConfidence, kRansacRefineIters);
}

cv::Mat MotionEstimator::refine(const cv::Mat& m, const PreparedFrame& a, const PreparedFrame& b,
                                const std::vector<cv::Point2f>& start) const {
    // A zoom tracked again: the to-image warped back by the fit (so that LK's windows match
    // in scale), the fit's inliers tracked on it, the residual motion fitted and composed.
    cv::Mat back;
    cv::warpAffine(b.image, back, m, a.image.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                   cv::BORDER_REPLICATE);
    std::vector<cv::Point2f> moved;
    std::vector<uchar> status;
    std::vector<float> err;
    cv::calcOpticalFlowPyrLK(a.image, back, start, moved, status, err, kWinSize, kRefineMaxLevel,
                             kLkCriteria);
    std::vector<cv::Point2f> p, q;
    for (size_t i = 0; i < start.size(); ++i) {
        if (status[i] == 1) {
            p.push_back(start[i]);
            q.push_back(moved[i]);
        }
    }
    if (static_cast<int>(p.size()) < params_.min_inliers) return m;
    cv::Mat mask;
    const cv::Mat r = fit(p, q, &mask);
    if (r.empty() || mask.empty() || static_cast<int>(cv::sum(mask)[0]) < params_.min_inliers)
        return m;
    // p -> r p in the warped image, which shows the to-image at m q: p -> m r p
    const auto M = [&](int i, int j) { return m.at<double>(i, j); };
    const auto R = [&](int i, int j) { return r.at<double>(i, j); };
    cv::Mat out(2, 3, CV_64F);
    for (int i = 0; i < 2; ++i) {
        out.at<double>(i, 0) = M(i, 0) * R(0, 0) + M(i, 1) * R(1, 0);
        out.at<double>(i, 1) = M(i, 0) * R(0, 1) + M(i, 1) * R(1, 1);
        out.at<double>(i, 2) = M(i, 0) * R(0, 2) + M(i, 1) * R(1, 2) + M(i, 2);
    }
    return out;
}

int MotionEstimator::rival_support(const cv::Mat& best, const std::vector<cv::Point2f>& from,
                                   const std::vector<cv::Point2f>& to,
                                   const cv::Mat& inlier_mask, const cv::Size& size) const {
    std::vector<cv::Point2f> rest_from, rest_to;
    for (size_t i = 0; i < from.size(); ++i) {
        if (inlier_mask.at<uchar>(static_cast<int>(i)) == 0) {
            rest_from.push_back(from[i]);
            rest_to.push_back(to[i]);
        }
    }
    if (static_cast<int>(rest_from.size()) < kRivalMinTracks) return 0;
    cv::Mat mask;
    const cv::Mat m = fit(rest_from, rest_to, &mask);
    if (m.empty() || mask.empty()) return 0;
    // Another motion: it moves some image corner by more than kRivalPx from where best does.
    const double w = size.width, h = size.height;
    const double corners[4][2] = {{0.0, 0.0}, {w, 0.0}, {0.0, h}, {w, h}};
    double apart = 0.0;
    for (const auto& c : corners) {
        double d[2];
        for (int r = 0; r < 2; ++r) {
            d[r] = c[0] * (m.at<double>(r, 0) - best.at<double>(r, 0)) +
                   c[1] * (m.at<double>(r, 1) - best.at<double>(r, 1)) +
                   (m.at<double>(r, 2) - best.at<double>(r, 2));
        }
        apart = std::max(apart, std::hypot(d[0], d[1]));
    }
    if (apart <= kRivalPx) return 0;
    return static_cast<int>(cv::sum(mask)[0]);
}

}  // namespace camhd
