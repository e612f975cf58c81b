#include "estimator.hpp"

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

namespace camhd {
namespace {

const cv::Size kWinSize(15, 15);
constexpr int kMaxLevel = 3;
const cv::TermCriteria kLkCriteria(cv::TermCriteria::EPS | cv::TermCriteria::COUNT, 30, 0.01);
constexpr double kGfttQuality = 0.01;
constexpr double kGfttMinDistance = 4;
constexpr int kGfttBlockSize = 5;
constexpr int kRansacMaxIters = 2000;
constexpr double kRansacConfidence = 0.99;
constexpr int kRansacRefineIters = 10;

PairMotion invalid(const std::string& reason, int tracked, int inliers) {
    PairMotion m;
    m.reason = reason;
    m.tracked = tracked;
    m.inliers = inliers;
    return m;
}

}  // namespace

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

MotionEstimator::MotionEstimator(const MotionParams& params, int full_width, int full_height,
                                 int factor)
    : params_(params), factor_(factor), cx_(full_width / 2.0), cy_(full_height / 2.0) {}

PreparedFrame MotionEstimator::prepare(int frame, const cv::Mat& grey) const {
    PreparedFrame p;
    p.frame = frame;
    p.mean_grey = cv::mean(grey)[0];
    p.dark = p.mean_grey < params_.dark_threshold;
    if (p.dark) return p;  // never analysed: skip the work
    p.image = grey;
    // Corners of the 2x2 block mean (half the working resolution), mapped back to
    // working index coordinates as 2 q + 0.5 (float32, as in the Python engine).
    cv::goodFeaturesToTrack(half_mean(grey), p.corners, params_.max_corners, kGfttQuality,
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

    // Brightness constancy is LK's assumption: lamps ramping on and flicker break it, so
    // the to-image is scaled to the from-image's mean grey first.
    cv::Mat to_image;
    cv::convertScaleAbs(b.image, to_image, a.mean_grey / b.mean_grey);
    std::vector<cv::Point2f> moved;
    std::vector<uchar> status;
    std::vector<float> err;
    cv::calcOpticalFlowPyrLK(a.image, to_image, a.corners, moved, status, err, kWinSize,
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
    const cv::Mat m = cv::estimateAffinePartial2D(from, to, inlier_mask, cv::RANSAC,
                                                  params_.ransac_threshold, kRansacMaxIters,
                                                  kRansacConfidence, kRansacRefineIters);
    const int inliers = inlier_mask.empty() ? 0 : static_cast<int>(cv::sum(inlier_mask)[0]);
    if (m.empty() || inliers < params_.min_inliers)
        return invalid("too few inliers (" + std::to_string(inliers) + ")", tracked, inliers);
    PairMotion result;
    result.similarity = similarity_from_working(m, factor_, cx_, cy_);
    result.valid = true;
    result.tracked = tracked;
    result.inliers = inliers;
    return result;
}

}  // namespace camhd
