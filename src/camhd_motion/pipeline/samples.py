"""Every motion sample of many videos as one Parquet table (the workflow writes one per
month: ``<results>/tables/motion_samples/YYYY-MM.parquet``; columns in docs/FORMATS.md).

A month's table is remade only when one of its videos' motion changed, so the whole
archive's samples stay one ``pandas.read_parquet(<results>/tables/motion_samples)`` away
without re-reading 35,000 JSON files after each new video.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

SAMPLE_COLUMNS = ("stem", "date_time", "frame", "from_frame", "to_frame", "time_s", "valid",
                  "reason", "scale", "theta", "tx", "ty", "tracked", "inliers")


def samples_frame(motion_paths: Iterable[str | os.PathLike]):
    """The samples of the motion files, one row each (:data:`SAMPLE_COLUMNS`)."""
    import pandas as pd

    from camhd_motion.archive.names import parse_name
    from camhd_motion.formats.common import movie_stem
    from camhd_motion.formats.optical_flow import read_optical_flow

    rows = []
    for path in motion_paths:
        motion = read_optical_flow(path)
        stem = movie_stem(motion.movie)
        try:
            when = parse_name(stem).date_time_iso
        except ValueError:
            when = None
        rate = motion.movie.frame_rate or 30000 / 1001
        for s in motion.samples:
            sim = s.similarity
            rows.append((stem, when, s.frame, s.from_frame, s.to_frame,
                         round((s.frame - 1) / rate, 3), s.valid, s.reason, sim.scale,
                         sim.theta, sim.tx, sim.ty, s.tracked, s.inliers))
    frame = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
    return frame.astype({"frame": "int64", "from_frame": "int64", "to_frame": "int64",
                         "time_s": "float64", "valid": "bool", "scale": "float64",
                         "theta": "float64", "tx": "float64", "ty": "float64",
                         "tracked": "int64", "inliers": "int64"})


def write_samples(motion_paths: Iterable[str | os.PathLike], path: str | os.PathLike) -> int:
    """Write the samples table of ``motion_paths`` to ``path`` (Parquet); returns rows."""
    from camhd_motion.pipeline.aggregate import write_parquet

    frame = samples_frame(sorted(motion_paths, key=os.fspath))
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    write_parquet(frame, path)
    return len(frame)
