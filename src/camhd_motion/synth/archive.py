"""A synthetic archive: several videos, 3-hourly, laid out like the CamHD raw-data server.

All videos of an archive look at the same scene (one ``scene_seed``, like one deployment);
each has its own routine, noise and particles (its own ``seed``).
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from camhd_motion.synth.generate import generate_video
from camhd_motion.synth.presets import get_preset

log = logging.getLogger(__name__)

INTERVAL = dt.timedelta(hours=3)


def video_seed(archive_seed: int, index: int) -> int:
    return int(archive_seed) * 1000 + int(index)


def generate_archive(out_root: str | os.PathLike, n_videos: int, start: dt.datetime,
                     seed: int = 1, preset: str = "test", *, duration: float | None = None,
                     interval: dt.timedelta = INTERVAL, z_suffix: bool = False,
                     black: list[int] | None = None, black_duration: float | None = None,
                     co64: bool = False, jobs: int = 1, threads: int = 0,
                     force: bool = False) -> list[Path]:
    """Render ``n_videos`` videos starting at ``start`` every ``interval``.

    ``black``: indices of lights-off videos; by default the third one when there are at
    least 4 videos (real archives have them).  ``jobs`` > 1 renders videos in parallel
    processes.  Returns the ``.mov`` paths in time order.
    """
    if n_videos < 1:
        raise ValueError("n_videos must be >= 1")
    if black is None:
        black = [2] if n_videos >= 4 else []
    base = get_preset(preset)
    tasks = []
    for i in range(n_videos):
        is_black = i in black
        tasks.append(dict(
            out_root=Path(out_root), start_datetime=start + i * interval,
            preset="black" if is_black else preset, seed=video_seed(seed, i),
            duration=black_duration if is_black else duration, scene_seed=int(seed),
            z_suffix=z_suffix, width=base.width, height=base.height, co64=co64,
            threads=threads, force=force,
        ))
    if jobs <= 1:
        return [generate_video(**t) for t in tasks]
    # spawn: no inherited OpenCV/FFmpeg thread state in the workers.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = [pool.submit(generate_video, **t) for t in tasks]
        return [f.result() for f in futures]
