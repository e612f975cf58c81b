"""``<stem>_optical_flow.json``: the motion of one video, version 1.1 (``docs/FORMATS.md``).

Writes exactly the keys of ``camhd.md`` plus the documented extras (``confidence``,
``meanGrey``, ``invalidReason`` per sample; ``movie.Width/Height/FrameRate/CreationTime``;
top-level ``analysis``), each block versioned in ``contents``.  Reads 1.1 files and the
original's 1.0 files (per-sample ``duration_us``, no ``performance`` block), and the
pre-2017-06 layout (``frame_stats`` / ``frame_number`` / ``similarity``).
"""

from __future__ import annotations

import math
import os
import statistics
from pathlib import Path
from typing import Any

from camhd_motion.formats.common import (
    MOVIE_VERSION,
    FormatError,
    atomic_write_text,
    dumps,
    load_json,
    movie_from_json,
    movie_to_json,
    params_from_json,
    params_to_json,
)
from camhd_motion.geometry import Similarity
from camhd_motion.motion.model import MotionParams, MotionResult, MotionSample

OPTICAL_FLOW_VERSION = "1.1"
# 1.1: params.snowSize (the marine snow removal of the estimator, issue 10); 1.0 files
# lack it and were made without it (read as snow_size 0).
# 1.2: params.decoder (partial or ffmpeg, issue 13); older files were decoded by FFmpeg.
# 1.3: decoder "partial" looks again at the pairs its picture leaves unsettled, on full
# decodes (estimator step 9), and is the default; a 1.2 "partial" file did not.
ANALYSIS_VERSION = "1.3"
PERFORMANCE_VERSION = "1.0"
SUFFIX = "_optical_flow.json"
FLOW_SCALE = 1.0  # translations are stored in full-resolution px, whatever imgScale was


def motion_filename(stem: str) -> str:
    return f"{stem}{SUFFIX}"


def write_optical_flow(result: MotionResult, path: str | os.PathLike) -> Path:
    """Write ``result`` atomically (temp file + ``os.replace``); returns the path."""
    return atomic_write_text(path, dumps(motion_to_json(result)))


def read_optical_flow(path: str | os.PathLike) -> MotionResult:
    """Read a 1.1 or 1.0 motion file; samples sorted by frame.  Raises ``FormatError``."""
    return motion_from_json(load_json(path), path)


def motion_to_json(result: MotionResult) -> dict:
    center = [float(c) for c in result.center]
    img_scale = float(result.params.img_scale)
    return {
        "contents": {
            "movie": MOVIE_VERSION,
            "frameStats": {"opticalFlow": OPTICAL_FLOW_VERSION},
            "performance": PERFORMANCE_VERSION,
            "analysis": ANALYSIS_VERSION,
        },
        "movie": movie_to_json(result.movie),
        "frameStats": [
            _sample_to_json(s, center, img_scale)
            for s in sorted(result.samples, key=lambda s: s.frame)
        ],
        "performance": result.performance,
        "analysis": {
            "engine": result.engine,
            "engineVersion": result.engine_version,
            "params": params_to_json(result.params),
        },
    }


def _sample_to_json(s: MotionSample, center: list[float], img_scale: float) -> dict:
    if s.valid:
        similarity = s.similarity.as_list()
        if not all(math.isfinite(v) for v in similarity):
            raise ValueError(f"frame {s.frame}: valid sample with non-finite {similarity}")
    else:
        similarity = list(Similarity.IDENTITY_LIST)
    flow: dict[str, Any] = {
        "similarity": similarity,
        "center": center,
        "fromFrame": int(s.from_frame),
        "toFrame": int(s.to_frame),
        "imgScale": img_scale,
        "flowScale": FLOW_SCALE,
        "valid": bool(s.valid),
        "confidence": {"tracked": int(s.tracked), "inliers": int(s.inliers)},
    }
    if s.mean_grey is not None:
        flow["meanGrey"] = [float(g) for g in s.mean_grey]
    if not s.valid and s.reason:
        flow["invalidReason"] = s.reason
    return {"frameNumber": int(s.frame), "opticalFlow": flow}


def motion_from_json(doc: dict, path: str | os.PathLike = "<json>") -> MotionResult:
    stats = doc.get("frameStats", doc.get("frame_stats"))
    if not isinstance(stats, list):
        raise FormatError(path, "missing frameStats list")
    movie = movie_from_json(doc.get("movie"), path)
    samples, durations_us, img_scales, centers, offsets = [], [], [], [], []
    for i, entry in enumerate(stats):
        try:
            sample, flow = _sample_from_json(entry)
        except (KeyError, TypeError, ValueError) as err:
            raise FormatError(path, f"frameStats[{i}]: bad sample ({err!r})") from None
        samples.append(sample)
        if "duration_us" in flow:
            durations_us.append(flow["duration_us"])
        if sample.valid:
            img_scales.append(flow.get("imgScale"))
            centers.append(flow.get("center"))
            offsets.append(sample.frame - sample.from_frame)
    samples.sort(key=lambda s: s.frame)

    analysis = doc.get("analysis") if isinstance(doc.get("analysis"), dict) else None
    try:
        if analysis is not None:
            params = params_from_json(MotionParams, analysis.get("params"))
        else:
            params = _infer_params(samples, img_scales, offsets)
        given = (analysis or {}).get("params") or {}
        if "snowSize" not in given:
            params.snow_size = 0  # made before analysis 1.1: no snow removal
        if "decoder" not in given:
            params.decoder = "ffmpeg"  # made before analysis 1.2: FFmpeg decoded it
    except (TypeError, ValueError) as err:
        raise FormatError(path, f"bad analysis.params: {err}") from None
    if "Width" not in (doc.get("movie") or {}):
        _infer_frame_size(movie, centers)

    performance = doc.get("performance")
    if not isinstance(performance, dict):
        performance = {}
        if durations_us:  # 1.0: per-sample wall time instead of a performance block
            performance = {
                "sampleSeconds": {"count": len(durations_us), "total": sum(durations_us) / 1e6}
            }
    return MotionResult(
        movie=movie,
        params=params,
        samples=samples,
        engine=str(analysis.get("engine", "")) if analysis else "original",
        engine_version=str(analysis.get("engineVersion", "")) if analysis else "",
        performance=performance,
    )


def _sample_from_json(entry: dict) -> tuple[MotionSample, dict]:
    frame = entry["frameNumber"] if "frameNumber" in entry else entry["frame_number"]
    flow = entry.get("opticalFlow", entry.get("similarity"))  # "similarity": pre-1.0 name
    if not isinstance(flow, dict):
        raise KeyError("opticalFlow")
    sim = flow["similarity"]
    if len(sim) != 4 or any(isinstance(v, bool) or v is None for v in sim):
        raise ValueError(f"similarity must be 4 numbers, got {sim!r}")
    valid = flow["valid"]
    if not isinstance(valid, bool):
        raise ValueError(f"valid must be true/false, got {valid!r}")
    conf = flow.get("confidence") or {}
    grey = flow.get("meanGrey")
    sample = MotionSample(
        frame=_int(frame),
        from_frame=_int(flow.get("fromFrame", 0)),
        to_frame=_int(flow.get("toFrame", 0)),
        similarity=Similarity.from_list(sim),
        valid=valid,
        reason=flow.get("invalidReason"),
        tracked=_int(conf.get("tracked", 0)),
        inliers=_int(conf.get("inliers", 0)),
        mean_grey=(float(grey[0]), float(grey[1])) if grey is not None else None,
    )
    return sample, flow


def _int(value: Any) -> int:
    if isinstance(value, bool) or float(value) != int(value):
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def _infer_params(samples: list[MotionSample], img_scales: list, offsets: list) -> MotionParams:
    """Parameters of a file without an ``analysis`` block (the original's): defaults, with
    stride, pair offset and working scale taken from the samples when they show them."""
    params = MotionParams()
    frames = [s.frame for s in samples]
    steps = [b - a for a, b in zip(frames, frames[1:], strict=False) if b > a]
    if steps:
        params.stride = int(statistics.median_low(steps))
    if offsets:
        params.pair_offset = int(statistics.median_low(offsets))
    scales = [float(v) for v in img_scales if isinstance(v, int | float) and v > 0]
    if scales:
        params.img_scale = statistics.median_low(scales)
    return params


def _infer_frame_size(movie, centers: list) -> None:
    """Frame size from ``center = [-W/2, -H/2]`` of the valid samples (1.0 files)."""
    for c in centers:
        if isinstance(c, list) and len(c) == 2 and c[0] < 0 and c[1] < 0:
            movie.width, movie.height = round(-2 * c[0]), round(-2 * c[1])
            return
