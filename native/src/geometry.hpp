// Similarity about the image centre from a working-image matrix (camhd_motion.geometry).
#pragma once

#include <cmath>

#include <opencv2/core.hpp>

namespace camhd {

struct Similarity {
    double scale = 1.0;
    double theta = 0.0;
    double tx = 0.0;
    double ty = 0.0;
};

// A 2x3 matrix `m` (CV_64F) estimated on a k x k block-averaged working image, in OpenCV
// index coordinates -> the similarity about the centre (cx, cy) of the full-resolution
// frame in continuous coordinates (p_full = k * p_work; continuous = index + 0.5).
inline Similarity similarity_from_working(const cv::Mat& m, int factor, double cx, double cy) {
    const double a00 = m.at<double>(0, 0), a01 = m.at<double>(0, 1), b0 = m.at<double>(0, 2);
    const double a10 = m.at<double>(1, 0), a11 = m.at<double>(1, 1), b1 = m.at<double>(1, 2);
    // working_to_full: b_cont = b + 0.5 - A @ (0.5, 0.5); then scaled by k
    const double f0 = factor * (b0 + 0.5 - (a00 * 0.5 + a01 * 0.5));
    const double f1 = factor * (b1 + 0.5 - (a10 * 0.5 + a11 * 0.5));
    // Similarity.from_affine: rotation+scale from the first column, t = A c + b - c
    Similarity s;
    s.scale = std::hypot(a00, a10);
    s.theta = std::atan2(a10, a00);
    s.tx = (a00 * cx + a01 * cy) + f0 - cx;
    s.ty = (a10 * cx + a11 * cy) + f1 - cy;
    return s;
}

}  // namespace camhd
