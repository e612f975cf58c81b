"""The workflow's per-video job: motion, then static regions, in one job.

One snakemake job per video instead of two halves the DAG (35,000 videos: ~35 s instead
of ~70 s per dry run, see BENCHMARKS.md) and the number of cluster/cloud jobs.  What two
rules would give for free -- a change of the region thresholds does not redo the motion --
comes from the motion file being an ``update()`` output (snakemake keeps it while the job
runs, and restores it if the job fails): the job reuses it when it was made with the same
motion parameters from the same video, and only recomputes the regions.

A video that cannot be analysed (exit code 3) is recorded in a failure file, so that the
workflow leaves it out of later runs' targets instead of failing on it every time.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence

from camhd_motion.errors import CamhdError, VideoError
from camhd_motion.formats.common import atomic_write_text
from camhd_motion.motion.model import MotionParams

log = logging.getLogger(__name__)


def reusable_motion(motion_json: str, video: str, params: MotionParams) -> str | None:
    """Why the existing ``motion_json`` can stand for ``video`` analysed with ``params``,
    or ``None`` if it must be recomputed (missing, unreadable, other parameters, another
    movie, or older than a local video file)."""
    from camhd_motion.archive.names import parse_name
    from camhd_motion.formats.optical_flow import read_optical_flow

    if not os.path.exists(motion_json):
        return None
    try:
        existing = read_optical_flow(motion_json)
    except CamhdError as err:
        log.info("not reusing %s: %s", motion_json, err)
        return None
    if existing.params != params:
        log.info("not reusing %s: made with %s", motion_json, existing.params)
        return None
    try:
        wanted = "/" + parse_name(video).archive_path
    except ValueError:
        wanted = None
    if wanted is not None and existing.movie.url != wanted:
        log.info("not reusing %s: it is the motion of %s", motion_json, existing.movie.url)
        return None
    if not video.startswith(("http://", "https://", "gs://")):
        try:
            if os.stat(video).st_mtime > os.stat(motion_json).st_mtime:
                log.info("not reusing %s: %s is newer", motion_json, video)
                return None
        except FileNotFoundError:
            return None
    return f"same parameters and movie ({existing.movie.url})"


def record_failure(path: str, message: str) -> None:
    atomic_write_text(path, " ".join(message.split()) + "\n")


def clear_failure(path: str | None) -> None:
    if path:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def run_step(argv: Sequence[str]) -> None:
    """Run one ``camhd-motion`` subcommand in this process (same parser, same code, same
    errors as on the command line); raises its :class:`CamhdError`."""
    from camhd_motion.cli import build_parser

    args = build_parser().parse_args(list(argv))
    code = int(args.func(args) or 0)
    if code:
        raise CamhdError(f"camhd-motion {argv[0]} exited with {code}")


def analyze(video: str, motion_json: str, regions_json: str, *, motion_argv: Sequence[str],
            regions_argv: Sequence[str], params: MotionParams, workers: int = 1,
            reuse: bool = True, failed_record: str | None = None) -> bool:
    """Motion of ``video`` into ``motion_json`` (unless reusable), then its regions into
    ``regions_json``.  Returns whether the motion was recomputed."""
    why = reusable_motion(motion_json, video, params) if reuse else None
    try:
        if why is None:
            run_step(["motion", video, "-o", motion_json, "--workers", str(workers),
                      *motion_argv])
        else:
            log.info("reusing %s: %s", motion_json, why)
    except VideoError as err:
        if failed_record:
            record_failure(failed_record, str(err))
            log.error("recorded as a bad video in %s", failed_record)
        raise
    run_step(["regions", motion_json, "-o", regions_json, *regions_argv])
    clear_failure(failed_record)
    return why is None
