"""Motion of one frame pair: corners + pyramidal Lucas-Kanade + RANSAC similarity fit.

Chosen by measurement (``performance.md`` section 4): at 1/4 resolution GFTT+PyrLK was
the most accurate and robust method in the dark, with large shifts and zooms, while
Farneback locks to zero motion on dark or smooth frames and ORB fails in the dark.
RANSAC rejects what does not move with the camera (drifting "marine snow").

The spec, which the native engine (``native/``) implements identically:

1. Working image: 8-bit grey at ``1/k`` resolution (:mod:`camhd_motion.video.grey`).
2. Darkness gate: mean grey < ``dark_threshold`` on either frame -> invalid ("dark").
3. Corners of the *from* image, found on its 2x2 block mean (``(a+b+c+d+2) >> 2``, half
   the working resolution: 4x cheaper, and LK refines positions anyway):
   ``goodFeaturesToTrack(max_corners, quality 0.01, min distance 4, block size 5)``,
   mapped back to working index coordinates as ``2 q + 0.5``.
4. The to-image is scaled to the from-image's mean (``convertScaleAbs(to, alpha =
   mean_from / mean_to)``): lamps ramping on and flicker break brightness constancy.
   Pyramidal LK (``winSize 15x15, maxLevel 3``, 30 iterations or eps 0.01) from the
   from-corners; keep status == 1.
5. ``estimateAffinePartial2D(RANSAC, threshold ransac_threshold, 2000 iterations,
   confidence 0.99, 10 refine iterations)``; fewer than ``min_inliers`` inliers -> invalid.
6. The working-image matrix is converted to full-resolution continuous coordinates and
   expressed as a similarity about the image centre (:mod:`camhd_motion.geometry`).

Per-frame work (mean, corners) is done once per frame: consecutive samples share
frames (sample f uses f-5 and f+5, sample f+10 uses f+5 and f+15).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from camhd_motion.geometry import Similarity, working_to_full
from camhd_motion.motion.model import MotionParams

WIN_SIZE = (15, 15)
MAX_LEVEL = 3
LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
GFTT_QUALITY = 0.01
GFTT_MIN_DISTANCE = 4
GFTT_BLOCK_SIZE = 5
RANSAC_MAX_ITERS = 2000
RANSAC_CONFIDENCE = 0.99
RANSAC_REFINE_ITERS = 10


def half_mean(grey: np.ndarray) -> np.ndarray:
    """2x2 block mean, rounded half up: ``(a + b + c + d + 2) >> 2``."""
    h, w = grey.shape[0] // 2 * 2, grey.shape[1] // 2 * 2
    g = grey[:h, :w].astype(np.uint16)
    total = g[0::2, 0::2] + g[1::2, 0::2] + g[0::2, 1::2] + g[1::2, 1::2] + 2
    return (total >> 2).astype(np.uint8)


@dataclass
class PreparedFrame:
    """What the estimator needs of one frame, computed once."""

    frame: int
    mean_grey: float
    dark: bool
    image: np.ndarray | None = None  # the working grey image
    corners: np.ndarray | None = None  # float32 (N, 1, 2), index coordinates


@dataclass
class PairMotion:
    similarity: Similarity
    valid: bool
    reason: str | None
    tracked: int
    inliers: int


class MotionEstimator:
    def __init__(self, params: MotionParams, full_size: tuple[int, int], factor: int):
        self.params = params
        self.full_width, self.full_height = full_size
        self.factor = factor
        self.center = (self.full_width / 2.0, self.full_height / 2.0)

    def prepare(self, frame: int, grey: np.ndarray) -> PreparedFrame:
        mean = float(cv2.mean(grey)[0])
        dark = mean < self.params.dark_threshold
        prepared = PreparedFrame(frame, mean, dark)
        if dark:
            return prepared  # never analysed: skip the work
        prepared.image = grey
        corners = cv2.goodFeaturesToTrack(
            half_mean(grey),
            maxCorners=self.params.max_corners,
            qualityLevel=GFTT_QUALITY,
            minDistance=GFTT_MIN_DISTANCE,
            blockSize=GFTT_BLOCK_SIZE,
        )
        if corners is not None:
            prepared.corners = corners * np.float32(2.0) + np.float32(0.5)
        return prepared

    def estimate(self, a: PreparedFrame, b: PreparedFrame) -> PairMotion:
        if a.dark or b.dark:
            return PairMotion(Similarity(), False, "dark", 0, 0)
        corners = a.corners
        if corners is None or len(corners) < self.params.min_inliers:
            n = 0 if corners is None else len(corners)
            return PairMotion(Similarity(), False, f"too few corners ({n})", n, 0)
        # Brightness constancy is LK's assumption: lamps ramping on and flicker break it,
        # so the to-image is scaled to the from-image's mean grey first.
        to_image = cv2.convertScaleAbs(b.image, alpha=a.mean_grey / b.mean_grey)
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            a.image, to_image, corners, None,
            winSize=WIN_SIZE, maxLevel=MAX_LEVEL, criteria=LK_CRITERIA,
        )
        ok = status.ravel() == 1
        tracked = int(ok.sum())
        if tracked < self.params.min_inliers:
            return PairMotion(Similarity(), False, f"too few tracked ({tracked})", tracked, 0)
        m, inlier_mask = cv2.estimateAffinePartial2D(
            corners[ok], moved[ok],
            method=cv2.RANSAC,
            ransacReprojThreshold=self.params.ransac_threshold,
            maxIters=RANSAC_MAX_ITERS,
            confidence=RANSAC_CONFIDENCE,
            refineIters=RANSAC_REFINE_ITERS,
        )
        inliers = 0 if inlier_mask is None else int(inlier_mask.sum())
        if m is None or inliers < self.params.min_inliers:
            return PairMotion(Similarity(), False, f"too few inliers ({inliers})", tracked, inliers)
        full = working_to_full(m, self.factor)
        return PairMotion(Similarity.from_affine(full, self.center), True, None, tracked, inliers)
