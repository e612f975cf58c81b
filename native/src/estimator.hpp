// Motion of one frame pair: corners + pyramidal Lucas-Kanade + RANSAC similarity fit.
// The spec is camhd_motion.motion.estimator: same OpenCV calls, same parameters.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "geometry.hpp"

namespace camhd {

struct MotionParams {
    int stride = 10;
    int pair_offset = 5;
    double img_scale = 0.25;
    double dark_threshold = 5.0;
    int max_corners = 200;
    int min_inliers = 12;
    double ransac_threshold = 0.5;
    std::string decoder = "partial";  // partial | ffmpeg (docs/PRORES.md)
};

// What the estimator needs of one frame, computed once.
struct PreparedFrame {
    int frame = 0;
    double mean_grey = 0.0;
    bool dark = false;
    cv::Mat image;                     // the working grey image (empty if dark)
    std::vector<cv::Point2f> corners;  // index coordinates
};

struct PairMotion {
    Similarity similarity;
    bool valid = false;
    std::string reason;  // empty when valid
    int tracked = 0;
    int inliers = 0;
};

// 2x2 block mean rounded half up, (a + b + c + d + 2) >> 2 (odd last row/column dropped).
cv::Mat half_mean(const cv::Mat& grey);

class MotionEstimator {
public:
    MotionEstimator(const MotionParams& params, int full_width, int full_height, int factor);
    PreparedFrame prepare(int frame, const cv::Mat& grey) const;
    PairMotion estimate(const PreparedFrame& a, const PreparedFrame& b) const;

private:
    MotionParams params_;
    int factor_;
    double cx_;
    double cy_;
};

}  // namespace camhd
