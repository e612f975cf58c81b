"""The original's static rule and gap labels, and keeping the truth clear of them.

A sample pair is static when ``|t| < 10`` px and ``|scale-1| < 0.01``; gaps between static
regions are labelled from their mean motion.  Synthetic routines keep every sample pair
well away from these thresholds, so the truth's verdicts are unambiguous.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from camhd_motion.motion.model import RegionParams, RegionStats
from camhd_motion.regions import label_motion
from camhd_motion.synth.steps import PAIR_OFFSET, STRIDE, Step, integrate, pair_truth, sample_pairs

# The original's thresholds (find_regions defaults): static when |t| < 10 px and
# |scale-1| < 0.01 per pair; gaps are zooms beyond |scale-1| > 0.05.
_ORIGINAL = RegionParams()
STATIC_T = float(np.sqrt(_ORIGINAL.max_translation_sq))
STATIC_S = _ORIGINAL.max_scale_dev
ZOOM_S = round(_ORIGINAL.zoom_in - 1.0, 12)  # 0.05, without the float residue
MARGIN_T, MARGIN_S = 1.0, 0.001  # no sample pair within this of those thresholds
MAX_STRETCH = 12  # frames the margin fix may add to one step (10 cover every phase)


def gap_label(scale: float, tx: float, ty: float, n: int) -> str:
    """The original ``find_regions`` label of a gap between static regions, from the mean
    motion of its ``n`` samples."""
    return label_motion(RegionStats(scale, tx, ty, n), _ORIGINAL)


def labelled_clearly(pose, step: Step, margin: float = 0.1) -> bool:
    """Whether the gap that ``step`` leaves between two holds gets ``step.label`` from
    :func:`gap_label` at every sample phase, with every mean at least ``margin`` (relative)
    away from the label thresholds."""
    hold = Step("hold", "static", 2 * STRIDE)
    x, y, z, roll = integrate(pose, [hold, step, replace(hold, cruise=4 * STRIDE)])
    n = len(x)
    for phase in range(STRIDE):
        f = np.arange(1 + phase, n + 1, STRIDE)
        a, b = np.clip(f - PAIR_OFFSET, 1, n), np.clip(f + PAIR_OFFSET, 1, n)
        scale, _, tx, ty = pair_truth(x, y, z, roll, a, b)
        stable = (tx**2 + ty**2 < STATIC_T**2) & (np.abs(scale - 1) < STATIC_S)
        moving = np.flatnonzero(~stable)
        first = moving[0]
        last = first + np.flatnonzero(stable[first:])[0]  # the next static region's start
        if np.any(stable[first:last]) or not np.all(stable[last:]):
            return False
        gap = slice(first, last + 1)
        m_s, m_x, m_y = scale[gap].mean(), tx[gap].mean(), ty[gap].mean()
        if gap_label(m_s, m_x, m_y, last + 1 - first) != step.label:
            return False
        # Every mean clearly on one side of its threshold.
        lo_t, hi_t = STATIC_T * (1 - margin), STATIC_T * (1 + margin)
        if any(lo_t < abs(v) < hi_t for v in (m_x, m_y)):
            return False
        if ZOOM_S * (1 - margin) < abs(m_s - 1) < ZOOM_S * (1 + margin):
            return False
    return True


def near_threshold(scale, tx, ty) -> np.ndarray:
    """Pairs whose static verdict would hinge on a small estimation error."""
    near_t = np.abs(np.hypot(tx, ty) - STATIC_T) <= MARGIN_T
    near_s = np.abs(np.abs(scale - 1.0) - STATIC_S) <= MARGIN_S
    return near_t | near_s


def fix_margins(start, steps: list[Step]) -> list[Step]:
    """Lengthen holds / move cruises one frame at a time until no sample pair is near a
    static threshold.  Each change only shifts what follows it, so the scan moves forward."""
    steps = list(steps)
    extra = [0] * len(steps)
    while True:
        x, y, z, roll = integrate(start, steps)
        _, a, b = sample_pairs(len(x))
        scale, _, tx, ty = pair_truth(x, y, z, roll, a, b)
        bad = np.flatnonzero(near_threshold(scale, tx, ty))
        if not len(bad):
            return steps
        lo, hi = int(a[bad[0]]), int(b[bad[0]]) - 1  # 0-based frames whose motion counts
        ends = np.cumsum([s.frames for s in steps])
        starts = ends - np.array([s.frames for s in steps])
        moving = [i for i, s in enumerate(steps)
                  if s.kind in ("move", "drift") and starts[i] <= hi and ends[i] > lo]
        m = moving[-1]
        slowing = ends[m] - steps[m].ramp <= hi
        target = m if slowing else m - 1
        extra[target] += 1
        if extra[target] > MAX_STRETCH:
            raise RuntimeError("synthetic routine: cannot keep sample pairs off the thresholds")
        steps[target] = replace(steps[target], cruise=steps[target].cruise + 1)
