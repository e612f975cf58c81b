"""Motion of a whole video: sample pairs, read the needed frames once, estimate each pair.

Work is split into contiguous chunks of samples run by worker processes (one decoder
thread each, one process per core: ``performance.md`` section 3); each worker opens its
own byte source, so a remote video is streamed by several connections at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from camhd_motion import __version__
from camhd_motion.archive.names import parse_name
from camhd_motion.motion.estimator import (
    MotionEstimator,
    PreparedFrame,
    too_faint_for_partial,
    worth_a_second_look,
)
from camhd_motion.motion.model import MotionParams, MotionResult, MotionSample, MovieInfo
from camhd_motion.motion.sampling import SamplePair, needed_frames, sample_pairs, split
from camhd_motion.sources import open_source
from camhd_motion.video.grey import factor_for_scale
from camhd_motion.video.movindex import MovIndex
from camhd_motion.video.reader import FrameReader, GreyFrame

log = logging.getLogger(__name__)

# Chunks per worker: more chunks balance uneven work (dark frames are cheap) at the cost of
# one extra decoded frame per chunk boundary.
CHUNKS_PER_WORKER = 4


def analyze_video(
    location: str,
    params: MotionParams | None = None,
    workers: int = 1,
    source_options: dict | None = None,
    movie_url: str | None = None,
) -> MotionResult:
    """Analyse the video at ``location`` (a path, ``http(s)://`` or ``gs://`` URL)."""
    params = params or MotionParams()
    source_options = source_options or {}
    factor = factor_for_scale(params.img_scale)
    t0, c0 = time.perf_counter(), time.process_time()
    source = open_source(location, **source_options)
    try:
        reader = FrameReader(source, factor, decoder=params.decoder)
        index = reader.index
        pairs = sample_pairs(index.num_frames, params.stride, params.pair_offset)
        chunks = split(pairs, workers * CHUNKS_PER_WORKER if workers > 1 else 1)
        if workers <= 1:
            results = [_analyze_chunk_with(reader, chunk, params, factor,
                                           progress=_Progress(location, len(pairs)))
                       for chunk in chunks]
        else:
            results = _run_parallel(location, index, chunks, params, factor, workers,
                                    source_options)
    finally:
        source.close()
    samples = [s for chunk_samples, _ in results for s in chunk_samples]
    stats = [st for _, st in results]
    movie = _movie_info(location, index, movie_url)
    perf = {
        "wallSeconds": round(time.perf_counter() - t0, 3),
        "cpuSecondsMain": round(time.process_time() - c0, 3),
        "cpuSecondsWorkers": round(sum(s["cpu"] for s in stats), 3),
        "framesDecoded": sum(s["decoded"] for s in stats),
        "framesPartial": sum(s["partial"] for s in stats),
        "framesFaint": sum(s["faint"] for s in stats),
        "samplesSecondLook": sum(s["second_looks"] for s in stats),
        "framesNeeded": len(needed_frames(pairs)),
        "bytesRead": sum(s["bytes"] for s in stats),
        "workers": workers,
        "hostname": os.uname().nodename,
    }
    return MotionResult(movie, params, samples, "python", __version__, perf)


def _movie_info(location: str, index: MovIndex, movie_url: str | None) -> MovieInfo:
    if movie_url is None:
        try:
            movie_url = "/" + parse_name(location).archive_path
        except ValueError:
            movie_url = "/" + location.rstrip("/").rsplit("/", 1)[-1]
    return MovieInfo(
        url=movie_url,
        num_frames=index.num_frames,
        duration=index.duration,
        cache_url=location,
        width=index.width,
        height=index.height,
        frame_rate=index.frame_rate,
        creation_time=index.creation_time.isoformat() if index.creation_time else None,
    )


def _run_parallel(location, index, chunks, params, factor, workers, source_options):
    # spawn: a clean interpreter per worker (OpenCV and FFmpeg keep threads that fork
    # would copy in an undefined state)
    ctx = multiprocessing.get_context("spawn")
    progress = _Progress(location, sum(len(c) for c in chunks))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {
            pool.submit(_analyze_chunk, location, index, chunk, params, factor,
                        source_options): len(chunk)
            for chunk in chunks
        }
        for done in as_completed(futures):  # progress as chunks end; order kept below
            progress.advance(futures[done])
        return [f.result() for f in futures]


class _Progress:
    """Logs ``<video>: motion N% (done/total samples)`` about every 10 % of a video, so a
    job's log shows how far a long video has got."""

    def __init__(self, location: str, total: int):
        self.location, self.total, self.done, self.next_pct = location, total, 0, 10

    def advance(self, n: int = 1) -> None:
        self.done += n
        pct = 100 * self.done // max(1, self.total)
        if pct >= self.next_pct and self.done < self.total:
            log.info("%s: motion %d%% (%d/%d samples)", self.location, pct, self.done,
                     self.total)
            self.next_pct = (pct // 10 + 1) * 10


def _analyze_chunk(location, index, pairs, params, factor, source_options):
    import cv2

    cv2.setNumThreads(1)  # parallelism is across processes
    source = open_source(location, **source_options)
    try:
        return _analyze_chunk_with(FrameReader(source, factor, index, params.decoder), pairs,
                                   params, factor)
    finally:
        source.close()


def _analyze_chunk_with(
    reader: FrameReader, pairs: list[SamplePair], params: MotionParams, factor: int,
    progress: _Progress | None = None,
) -> tuple[list[MotionSample], dict]:
    c0 = time.process_time()
    bytes0 = getattr(reader.source, "bytes_read", 0)
    decoded0, partial0 = reader.frames_decoded, reader.frames_partial
    index = reader.index
    estimator = MotionEstimator(params, (index.width, index.height), factor)
    frames = _ChunkFrames(reader, estimator, pairs)
    samples = []
    second_looks = 0
    for i, pair in enumerate(pairs):
        ends = (pair.from_frame, pair.to_frame)
        sample = _sample(estimator, pair, frames.get(ends[0]), frames.get(ends[1]))
        if frames.partial.intersection(ends) and worth_a_second_look(
                sample.valid, sample.reason, sample.inliers):
            sample = _sample(estimator, pair, frames.in_full(ends[0]), frames.in_full(ends[1]))
            second_looks += 1
        samples.append(sample)
        if progress is not None:
            progress.advance()
        frames.done_with(i, ends)
    stats = {
        "cpu": time.process_time() - c0,
        "decoded": reader.frames_decoded - decoded0,
        "partial": reader.frames_partial - partial0,
        "second_looks": second_looks,
        "faint": frames.faint,
        "bytes": getattr(reader.source, "bytes_read", 0) - bytes0,
    }
    return samples, stats


class _ChunkFrames:
    """The prepared frames of one chunk's pairs: each frame decoded and prepared once, and
    dropped after the last pair that needs it.  Where the partial decoder's picture is not
    good enough (estimator step 9) the frame is decoded in full: at once if its texture is
    too faint, on demand (:meth:`in_full`) for a second look at a pair."""

    def __init__(self, reader: FrameReader, estimator: MotionEstimator,
                 pairs: list[SamplePair]):
        self.reader, self.estimator = reader, estimator
        self.last_use: dict[int, int] = {}
        for i, p in enumerate(pairs):
            self.last_use[p.from_frame] = i
            self.last_use[p.to_frame] = i
        frames = needed_frames(pairs)
        # the bytes of a pair's frames stay at hand for the full decodes
        position = {f: n for n, f in enumerate(frames)}
        reader.keep_frames = max((position[p.to_frame] - position[p.from_frame] + 1
                                  for p in pairs), default=1)
        self._next = reader.grey_frames(frames)
        self.prepared: dict[int, PreparedFrame | str] = {}
        self.partial: set[int] = set()  # frames whose working image the partial decoder made
        self.full: dict[int, PreparedFrame | str] = {}  # those decoded in full on demand
        self.faint = 0  # frames decoded in full for their faint texture

    def get(self, frame: int) -> PreparedFrame | str:
        while frame not in self.prepared:
            g = next(self._next)
            p = _prepare(self.estimator, g)
            if g.partial and too_faint_for_partial(p):
                p = _prepare(self.estimator, self.reader.full_grey(g.frame))
                self.faint += 1
            elif g.partial:
                self.partial.add(g.frame)
            self.prepared[g.frame] = p
        return self.prepared[frame]

    def in_full(self, frame: int) -> PreparedFrame | str:
        """``frame`` (already prepared) from FFmpeg's full decode."""
        if frame not in self.partial:
            return self.prepared[frame]
        if frame not in self.full:
            self.full[frame] = _prepare(self.estimator, self.reader.full_grey(frame))
        return self.full[frame]

    def done_with(self, pair_index: int, ends: tuple[int, int]) -> None:
        for f in ends:
            if self.last_use[f] == pair_index:
                self.prepared.pop(f, None)
                self.full.pop(f, None)
                self.partial.discard(f)


def _prepare(estimator: MotionEstimator, g: GreyFrame) -> PreparedFrame | str:
    """The estimator's per-frame work, or why the frame cannot be used."""
    if g.image is None:
        return g.error or "unreadable"
    return estimator.prepare(g.frame, g.image)


SAME_FRAME = "no pair: from and to are the same frame"


def _sample(estimator, pair: SamplePair, a, b) -> MotionSample:
    sample = MotionSample(pair.frame, pair.from_frame, pair.to_frame)
    if isinstance(a, str) or isinstance(b, str):
        bad = a if isinstance(a, str) else b
        which = pair.from_frame if isinstance(a, str) else pair.to_frame
        sample.reason = f"frame {which} {bad}"
        return sample
    sample.mean_grey = (a.mean_grey, b.mean_grey)
    if pair.from_frame == pair.to_frame:  # a 1-frame video: nothing to compare
        sample.reason = SAME_FRAME
        return sample
    motion = estimator.estimate(a, b)
    sample.similarity = motion.similarity
    sample.valid = motion.valid
    sample.reason = motion.reason
    sample.tracked = motion.tracked
    sample.inliers = motion.inliers
    return sample
