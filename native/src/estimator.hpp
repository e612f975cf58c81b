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
    int max_corners = 120;
    int min_inliers = 12;
    double ransac_threshold = 0.5;
    int snow_size = 7;
    std::string decoder = "partial";  // partial | ffmpeg (docs/PRORES.md)
};

// What the estimator needs of one frame, computed once.
struct PreparedFrame {
    int frame = 0;
    double mean_grey = 0.0;
    bool dark = false;
    cv::Mat image;                     // the texture image, what LK tracks (empty if dark)
    int gain = 0;                      // its contrast gain G (0 if dark)
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

// What LK tracks: the grey image without small bright specks (marine snow, a grey opening
// by an ellipse of snow_size px), without its smooth light (the 7x7 box mean subtracted),
// at a fixed contrast; integer-exact (camhd_motion.motion.estimator.texture_image).
// Its contrast gain G goes to *gain.
cv::Mat texture_image(const cv::Mat& grey, int snow_size, int* gain);

// Step 9 of the spec (camhd_motion.motion.estimator): a pair estimated on partial-decoded
// pictures is estimated again on both frames decoded in full when its fit failed on the
// texture (not "dark", not a frame error) or rests on fewer than kSecondLookInliers inliers.
constexpr int kSecondLookInliers = 30;
bool worth_a_second_look(bool valid, const std::string& reason, int inliers);
// ... and a frame whose partial-decoded picture has a texture gain >= kFaintGain is
// decoded in full and prepared again (the partial picture's error is amplified there).
constexpr int kFaintGain = 32;
inline bool too_faint_for_partial(const PreparedFrame& p) { return p.gain >= kFaintGain; }

class MotionEstimator {
public:
    MotionEstimator(const MotionParams& params, int full_width, int full_height, int factor);
    PreparedFrame prepare(int frame, const cv::Mat& grey) const;
    PairMotion estimate(const PreparedFrame& a, const PreparedFrame& b) const;

private:
    // The RANSAC similarity fit of every step (spec step 6); the matrix, or empty.
    cv::Mat fit(const std::vector<cv::Point2f>& from, const std::vector<cv::Point2f>& to,
                cv::Mat* inlier_mask) const;
    cv::Mat refine(const cv::Mat& m, const PreparedFrame& a, const PreparedFrame& b,
                   const std::vector<cv::Point2f>& start) const;
    int rival_support(const cv::Mat& best, const std::vector<cv::Point2f>& from,
                      const std::vector<cv::Point2f>& to, const cv::Mat& inlier_mask,
                      const cv::Size& size) const;

    MotionParams params_;
    int factor_;
    double cx_;
    double cy_;
};

}  // namespace camhd
