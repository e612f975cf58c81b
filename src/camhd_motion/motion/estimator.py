"""Motion of one frame pair: corners + pyramidal Lucas-Kanade + RANSAC similarity fit.

Chosen by measurement (``performance.md`` section 4): at 1/4 resolution GFTT+PyrLK was
the most accurate and robust method in the dark, with large shifts and zooms, while
Farneback locks to zero motion on dark or smooth frames and ORB fails in the dark.
RANSAC rejects what does not move with the camera.  The texture image (step 3) was added
for the hard scenes of issue 10 (dark water, dense marine snow, lamp flicker), measured
against exact truth (``bench/accuracy.py``, ``docs/ENGINE.md``).

The spec, which the native engine (``native/``) implements identically:

1. Working image: 8-bit grey at ``1/k`` resolution (:mod:`camhd_motion.video.grey`).
2. Darkness gate: mean grey < ``dark_threshold`` on either frame -> invalid ("dark").
3. Texture image, what is tracked (:func:`texture_image`): marine snow removed by a grey
   opening (``MORPH_OPEN``, an ellipse of ``snow_size`` working px; 0 = none), then the
   camera-fixed light (lamp falloff, flicker, each lamp's level) removed by subtracting the
   7x7 box mean, and the contrast set: ``D = 49 g - boxsum7(g)`` exactly in integers,
   ``G = round(256 * TEXTURE_MAD * pixels / sum|D|)`` clamped to ``1..TEXTURE_GAIN_MAX``,
   ``T = convertScaleAbs(max(D, -(32768 // G)), G / 256, 128)`` (exact: 128 + D G / 256
   rounded half to even, clipped to 0..255).
4. Corners of the texture image, found on its 2x2 block mean (``(a+b+c+d+2) >> 2``, half
   the working resolution: 4x cheaper, and LK refines positions anyway):
   ``goodFeaturesToTrack(max_corners, quality GFTT_QUALITY, min distance 4, block size 5)``,
   mapped back to working index coordinates as ``2 q + 0.5``.
5. Pyramidal LK between the two texture images (``winSize 15x15, maxLevel 3``, 30
   iterations or eps 0.01) from the from-corners; keep status == 1.
6. ``estimateAffinePartial2D(RANSAC, threshold ransac_threshold, 2000 iterations,
   confidence 0.99, 10 refine iterations)``; fewer than ``min_inliers`` inliers -> invalid.
   The rival test: the same fit to the tracks left out; if that fit moves some image corner
   (``(0,0), (w,0), (0,h), (w,h)``) by more than ``RIVAL_PX`` from where the first puts it
   and the first has fewer than ``RIVAL_RATIO`` times its inliers -> invalid ("ambiguous"):
   no motion dominates (noise, or two things moving).  Measured against the truth, with
   the other choices, in ``docs/ENGINE.md``.
7. Zooms (the fit's scale off 1 by more than ``REFINE_SCALE``) are tracked again: the
   to-image warped back by the fit (``warpAffine(INTER_LINEAR | WARP_INVERSE_MAP,
   BORDER_REPLICATE)``: LK's windows then match in scale), the fit's inliers tracked on it
   (``maxLevel REFINE_MAX_LEVEL``), the residual fitted as in 6 and composed with the fit
   (kept unchanged if that fails).
8. The working-image matrix is converted to full-resolution continuous coordinates and
   expressed as a similarity about the image centre (:mod:`camhd_motion.geometry`).
9. Where the partial decoder's picture (``docs/PRORES.md``: the 2x2 lowest frequencies of
   each block, an error of ~0.4 grey levels) is not as good as FFmpeg's full decode; the
   engines' chunk loops do it, only for partial-decoded frames:

   - a frame whose texture gain ``G >= FAINT_GAIN`` (:func:`too_faint_for_partial`: faint
     texture, dark water; the gain amplifies the error) is decoded in full and prepared
     again (steps 2-4);
   - a pair whose fit failed on the texture (``too few ...``, ``ambiguous``) or rests on
     fewer than ``SECOND_LOOK_INLIERS`` inliers (:func:`worth_a_second_look`) is
     estimated again, steps 2-8, on both frames decoded in full, and that estimate is the
     sample's: the second look.

   Lit, textured scenes (gain 17-24, 100+ inliers) need neither and keep the partial
   decoder's speed; dark water gets the full decode's numbers (BENCHMARKS.md).

Per-frame work (mean, texture image, corners) is done once per frame: consecutive samples
share frames (sample f uses f-5 and f+5, sample f+10 uses f+5 and f+15).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from camhd_motion.geometry import Similarity, working_to_full
from camhd_motion.motion.model import MotionParams

WIN_SIZE = (15, 15)
MAX_LEVEL = 3
LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
# Relative to the strongest corner: 0.01 kept only a few corners of soft, low-contrast
# features when a few strong ones (remains of snow) set the scale (issue 10).
GFTT_QUALITY = 0.001
GFTT_MIN_DISTANCE = 4
GFTT_BLOCK_SIZE = 5
RANSAC_MAX_ITERS = 2000
RANSAC_CONFIDENCE = 0.99
RANSAC_REFINE_ITERS = 10
RIVAL_RATIO = 1.5  # the fit needs this many times the inliers of the best rival fit
RIVAL_MIN_TRACKS = 3  # tracks left out needed to fit a rival
RIVAL_PX = 1.5  # a rival moves some image corner by more than this (working px)
RIVAL_MAX_ITERS = 2000  # RANSAC iterations of the rival fit
REFINE_SCALE = 0.003  # fits zooming more than this per pair are refined (_refine)
REFINE_MAX_LEVEL = 1  # pyramid levels of LK on the warped-back image
TEXTURE_BOX = 7  # box mean subtracted from the image (working px)
TEXTURE_MAD = 10.0  # mean absolute deviation of the texture image from 128 (grey levels)
TEXTURE_GAIN_MAX = 64  # G at most (x G / 256 on D = 49 x grey: contrast x12.25 at most)


def texture_image(grey: np.ndarray, snow_size: int) -> tuple[np.ndarray, int]:
    """What LK tracks: ``grey`` without small bright specks (snow), without its smooth
    light, at a fixed contrast; integer-exact (see the module docstring, step 3).  Returns
    the image and its contrast gain ``G``."""
    if snow_size > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (snow_size, snow_size))
        grey = cv2.morphologyEx(grey, cv2.MORPH_OPEN, kernel)
    n = TEXTURE_BOX * TEXTURE_BOX
    box = cv2.boxFilter(grey, cv2.CV_32S, (TEXTURE_BOX, TEXTURE_BOX), normalize=False,
                        borderType=cv2.BORDER_REPLICATE)
    d = cv2.addWeighted(grey, float(n), box, -1.0, 0.0, dtype=cv2.CV_32S)
    total = cv2.norm(d, cv2.NORM_L1)  # an exact integer
    gain = TEXTURE_GAIN_MAX
    if total > 0:
        gain = int(min(TEXTURE_GAIN_MAX, max(
            1.0, math.floor(256.0 * TEXTURE_MAD * grey.size / total + 0.5))))
    image = cv2.convertScaleAbs(cv2.max(d, -(32768 // gain)), alpha=gain / 256.0, beta=128.0)
    return image, gain


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
    image: np.ndarray | None = None  # the texture image (step 3), what LK tracks
    gain: int = 0  # its contrast gain G (0: dark, no texture image)
    corners: np.ndarray | None = None  # float32 (N, 1, 2), index coordinates


@dataclass
class PairMotion:
    similarity: Similarity
    valid: bool
    reason: str | None
    tracked: int
    inliers: int


# Step 9: where the partial decoder's picture is not as good as the full one.  A texture
# gain G >= FAINT_GAIN stretches the contrast >= 6x (G x 49 / 256): the partial picture's
# error (~0.4 grey levels mean, fixed to the 8x8 block grid) then becomes noise that moves
# the estimate by 0.14-0.18 px against the full decode's (0.02 px below 32; measured per
# gain on the hard test videos, docs/PRORES.md).  CamHD-like lit scenes sit at G 17-24.
FAINT_GAIN = 32
TEXTURE_FAILURES = ("too few corners", "too few tracked", "too few inliers", "ambiguous")
# Chosen on the hard-scenes benchmark's seeds 6347553-57 (below 20 a few valid-but-wrong
# estimates of the partial picture remained, at 30 as many as with the full decode: 5 in
# 1,116 lit samples of the hardest family) and checked on fresh seeds (BENCHMARKS.md).
SECOND_LOOK_INLIERS = 30


def too_faint_for_partial(prepared: PreparedFrame) -> bool:
    """Step 9: a frame whose partial-decoded picture has too faint a texture (see
    FAINT_GAIN): decoded in full and prepared again."""
    return prepared.gain >= FAINT_GAIN


def worth_a_second_look(valid: bool, reason: str | None, inliers: int) -> bool:
    """Step 9: a pair estimated on partial-decoded pictures whose fit failed on the
    texture (not "dark", not a frame error) or rests on fewer than SECOND_LOOK_INLIERS
    inliers."""
    if valid:
        return inliers < SECOND_LOOK_INLIERS
    return reason is not None and reason.startswith(TEXTURE_FAILURES)


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
        prepared.image, prepared.gain = texture_image(grey, self.params.snow_size)
        corners = cv2.goodFeaturesToTrack(
            half_mean(prepared.image),
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
        # Brightness constancy is LK's assumption: the texture images have neither the
        # lamps' light nor their flicker.
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            a.image, b.image, corners, None,
            winSize=WIN_SIZE, maxLevel=MAX_LEVEL, criteria=LK_CRITERIA,
        )
        ok = status.ravel() == 1
        tracked = int(ok.sum())
        if tracked < self.params.min_inliers:
            return PairMotion(Similarity(), False, f"too few tracked ({tracked})", tracked, 0)
        m, inlier_mask = self._fit(corners[ok], moved[ok], RANSAC_MAX_ITERS)
        inliers = 0 if inlier_mask is None else int(inlier_mask.sum())
        if m is None or inliers < self.params.min_inliers:
            return PairMotion(Similarity(), False, f"too few inliers ({inliers})", tracked, inliers)
        # The best motion must be clearly the dominant one: fitted again to the tracks it
        # leaves out, another motion (moving some image corner by more than RIVAL_PX)
        # with more than 1/RIVAL_RATIO of its support means that the tracks do not tell
        # the camera's motion (noise, or something else moving).
        rival = self._rival(m, corners[ok], moved[ok], inlier_mask.ravel() == 0, a.image.shape)
        if inliers < RIVAL_RATIO * rival:
            return PairMotion(Similarity(), False, f"ambiguous ({inliers} vs {rival})", tracked,
                              inliers)
        if abs(math.hypot(m[0, 0], m[1, 0]) - 1.0) > REFINE_SCALE:
            m = self._refine(m, a, b, corners[ok][inlier_mask.ravel() == 1])
        full = working_to_full(m, self.factor)
        return PairMotion(Similarity.from_affine(full, self.center), True, None, tracked, inliers)

    def _fit(self, start: np.ndarray, end: np.ndarray, max_iters: int):
        """The RANSAC similarity fit of every step (spec step 6): (matrix or None, mask)."""
        return cv2.estimateAffinePartial2D(
            start, end,
            method=cv2.RANSAC,
            ransacReprojThreshold=self.params.ransac_threshold,
            maxIters=max_iters,
            confidence=RANSAC_CONFIDENCE,
            refineIters=RANSAC_REFINE_ITERS,
        )

    def _refine(self, m: np.ndarray, a: PreparedFrame, b: PreparedFrame,
                start: np.ndarray) -> np.ndarray:
        """A zoom tracked again: the to-image warped back by the fit ``m`` (so that LK's
        windows match in scale), the fit's inliers tracked on it, the residual motion fitted
        and composed with ``m``; ``m`` if that fit fails."""
        h, w = a.image.shape
        back = cv2.warpAffine(b.image, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            a.image, back, start, None,
            winSize=WIN_SIZE, maxLevel=REFINE_MAX_LEVEL, criteria=LK_CRITERIA,
        )
        ok = status.ravel() == 1
        if int(ok.sum()) < self.params.min_inliers:
            return m
        r, mask = self._fit(start[ok], moved[ok], RANSAC_MAX_ITERS)
        if r is None or mask is None or int(mask.sum()) < self.params.min_inliers:
            return m
        # p -> r p in the warped image, which shows the to-image at m q: p -> m r p
        return np.array([
            [m[0, 0] * r[0, 0] + m[0, 1] * r[1, 0], m[0, 0] * r[0, 1] + m[0, 1] * r[1, 1],
             m[0, 0] * r[0, 2] + m[0, 1] * r[1, 2] + m[0, 2]],
            [m[1, 0] * r[0, 0] + m[1, 1] * r[1, 0], m[1, 0] * r[0, 1] + m[1, 1] * r[1, 1],
             m[1, 0] * r[0, 2] + m[1, 1] * r[1, 2] + m[1, 2]],
        ])

    def _rival(self, best: np.ndarray, start: np.ndarray, end: np.ndarray, rest: np.ndarray,
               shape: tuple[int, int]) -> int:
        """Inliers of the best fit to the tracks ``rest`` when it is another motion than
        ``best`` (it moves an image corner by more than RIVAL_PX from where ``best`` does);
        else, or with fewer than RIVAL_MIN_TRACKS tracks, 0."""
        if int(rest.sum()) < RIVAL_MIN_TRACKS:
            return 0
        m, mask = self._fit(start[rest], end[rest], RIVAL_MAX_ITERS)
        if m is None or mask is None:
            return 0
        h, w = shape
        corners = np.array([[0.0, 0.0, 1.0], [w, 0.0, 1.0], [0.0, h, 1.0], [w, h, 1.0]])
        apart = np.hypot(*((corners @ (m - best).T).T))
        if float(apart.max()) <= RIVAL_PX:
            return 0
        return int(mask.sum())
