"""Static sections ("regions") of a video from its motion samples: ``find_regions``.

The original system's algorithm (``camhd.md``, CamHD-Analysis ``find_regions`` 1.0 followed by
``RegionFile.squash_gaps(delta=30)``), with two deliberate fixes; see ``docs/FORMATS.md``.

1. Keep the valid samples whose four similarity values are finite, sorted by frame.  A sample
   is *stable* when ``tx^2 + ty^2 < max_translation_sq`` and ``|scale - 1| < max_scale_dev``.
2. Stable samples whose frames differ by ``<= gap_factor * stride`` form a run; an invalid or
   moving sample in between breaks it (its frame is missing from the stable list).  Runs of
   fewer than ``min_run`` samples are dropped.  Each run is a ``static`` region bounded by its
   first and last sample frame.
3. Between two consecutive static regions ``A`` and ``B`` lies a motion region
   ``[A.end + stride, B.start]``.  Nothing is emitted before the first or after the last
   static region.
4. Squash (the original's ``squash_gaps``): scanning left to right, an *interior* region with
   ``end_frame - start_frame <= squash_frames`` is merged, together with its predecessor,
   into its successor, which takes the predecessor's ``start_frame``.  As regions alternate
   static / motion, a short motion region between two statics yields one static region
   ``[A.start, B.end]``, and a short static region between two motion regions yields one
   motion region.  The first and last regions (always static) are never squashed.  After a
   merge the merged region is examined again (with the default thresholds on a regular
   10-frame grid it spans >= 40 frames, so this matches the original, which did not).
5. Stats and labels are computed *after* squashing, from the valid samples each region owns:

   - a static region owns the *stable* samples with ``start_frame <= frame <= end_frame``:
     the samples of the run(s) it is made of.  The moving samples of a short blip squashed
     into it are bridged, not averaged in: the stats describe the hold (one bad fit, e.g.
     scale 0.5 at frame 4171 of the real data, would otherwise dominate its mean);
   - a motion region owns all the valid samples strictly between its two static neighbours
     (``A.end < frame < B.start``, i.e. ``[start_frame, end_frame)`` on a regular grid: its
     ``end_frame`` is ``B``'s first sample, which ``B`` owns), including those of a short
     hold squashed into it.

   So every valid sample from the first to the last static region belongs to exactly one
   region, except the moving samples of blips squashed into a static region, which belong to
   none.  ``size`` is the number of samples owned.  A motion region is labelled from its
   mean: ``short`` if it owns fewer than 2 samples; else ``zoom_in`` (mean scale >
   ``zoom_in``) / ``zoom_out`` (< ``zoom_out``) / ``unknown``, overridden by translation:
   ``tx > move_px`` -> ``W`` (``NW`` if ``ty > move_px``, ``SW`` if ``ty < -move_px``),
   ``tx < -move_px`` -> ``E`` (``NE`` / ``SE``), else ``ty > move_px`` -> ``N``,
   ``ty < -move_px`` -> ``S``.  A region owning no sample has NaN means.

Differences from the original (same bounds, different numbers):

- *Fix 1, stats after squashing.*  The original computed stats and labels before squashing,
  so a merged region kept its successor's stats and type (e.g. a static region
  ``3991-4201`` with the stats of its last 2 samples).  Here they describe the merged region.
- *Fix 2, size = sample count.*  The original wrote the element count of a pandas DataFrame
  (columns x rows: 13 x the samples for motion files with ``duration_us``), so its
  ``short`` rule (``size < 2``) only caught regions with no sample at all.
- The original computed a static region's stats over ``[start, end)``, leaving its last
  sample in no region; here a static region owns its last sample (``size`` = run length).
  Unsquashed motion regions own the same samples as in the original.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from camhd_motion.motion.model import MotionSample, Region, RegionParams, RegionStats

# Version written to ``versions.findRegions``; the original's was "1.0".
FIND_REGIONS_VERSION = "1.1"


@dataclass
class _Span:
    start: int
    end: int
    static: bool


def is_stable(sample: MotionSample, params: RegionParams) -> bool:
    """The static rule of step 1 (validity is not checked here)."""
    sim = sample.similarity
    return (
        sim.tx * sim.tx + sim.ty * sim.ty < params.max_translation_sq
        and abs(sim.scale - 1.0) < params.max_scale_dev
    )


def label_motion(stats: RegionStats, params: RegionParams) -> str:
    """Label of a motion region from its mean motion (step 5)."""
    if stats.size < 2:
        return "short"
    label = "unknown"
    if stats.scale_mean > params.zoom_in:
        label = "zoom_in"
    elif stats.scale_mean < params.zoom_out:
        label = "zoom_out"
    m, tx, ty = params.move_px, stats.tx_mean, stats.ty_mean
    # Translation overrides zoom; image content moving right = camera panning left = W.
    if tx > m:
        label = "NW" if ty > m else "SW" if ty < -m else "W"
    elif tx < -m:
        label = "NE" if ty > m else "SE" if ty < -m else "E"
    elif ty > m:
        label = "N"
    elif ty < -m:
        label = "S"
    return label


def find_regions(
    samples: list[MotionSample], stride: int, params: RegionParams | None = None
) -> list[Region]:
    """Static and motion regions of one video, sorted by frame (see the module docstring)."""
    if stride <= 0:
        raise ValueError(f"stride must be positive, got {stride}")
    params = params or RegionParams()
    valid = sorted((s for s in samples if s.valid and _finite(s)), key=lambda s: s.frame)
    spans = _squash(_initial_spans(valid, stride, params), params.squash_frames)
    frames = [s.frame for s in valid]
    regions = []
    for i, span in enumerate(spans):
        if span.static:
            lo, hi = bisect_left(frames, span.start), bisect_right(frames, span.end)
            stats = _mean([s for s in valid[lo:hi] if is_stable(s, params)])
            regions.append(Region(span.start, span.end, "static", stats))
        else:
            # Strictly between the static neighbours (always present: first/last are static).
            lo = bisect_right(frames, spans[i - 1].end)
            hi = bisect_left(frames, spans[i + 1].start)
            stats = _mean(valid[lo:hi])
            regions.append(Region(span.start, span.end, label_motion(stats, params), stats))
    return regions


def _finite(sample: MotionSample) -> bool:
    return all(math.isfinite(v) for v in sample.similarity.as_list())


def _initial_spans(valid: list[MotionSample], stride: int, params: RegionParams) -> list[_Span]:
    max_step = params.gap_factor * stride
    runs: list[list[int]] = []
    for s in valid:
        if not is_stable(s, params):
            continue
        if runs and s.frame - runs[-1][-1] <= max_step:
            runs[-1].append(s.frame)
        else:
            runs.append([s.frame])
    runs = [r for r in runs if len(r) >= params.min_run]
    spans: list[_Span] = []
    for run in runs:
        if spans:
            spans.append(_Span(spans[-1].end + stride, run[0], static=False))
        spans.append(_Span(run[0], run[-1], static=True))
    return spans


def _squash(spans: list[_Span], squash_frames: int) -> list[_Span]:
    spans = list(spans)
    i = 1
    while i < len(spans) - 1:
        if spans[i].end - spans[i].start <= squash_frames:
            prev, nxt = spans[i - 1], spans[i + 1]
            spans[i - 1 : i + 2] = [_Span(prev.start, nxt.end, nxt.static)]
            i = max(i - 1, 1)  # re-examine the merged region (unless it is the first)
        else:
            i += 1
    return spans


def _mean(owned: list[MotionSample]) -> RegionStats:
    n = len(owned)
    if n == 0:
        return RegionStats(math.nan, math.nan, math.nan, 0)
    return RegionStats(
        math.fsum(s.similarity.scale for s in owned) / n,
        math.fsum(s.similarity.tx for s in owned) / n,
        math.fsum(s.similarity.ty for s in owned) / n,
        n,
    )
