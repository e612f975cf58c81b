"""Everything over all videos of a run: ``regions.csv``, the summary table, a report.

The summary has one row per selected video::

    stem  date_time  status  frames  samples  valid_samples  valid_fraction  static_regions
    seconds  error

``status`` is ``ok`` (motion and regions present, some valid samples), ``dark`` (present,
no valid sample: lights off or a black video), ``failed`` (recorded as a bad video in
``<results>/failed/``; ``error`` says why) or ``missing`` (not analysed yet).  ``seconds``
is the motion step's wall time.

Reading 35,000 motion files takes minutes, so what was read from each pair of files is
kept in ``<results>/.aggregate-cache.json`` keyed by their size and mtime: a re-run after
new videos reads only the new files.  Every output is written atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from camhd_motion.archive.manifest import Video
from camhd_motion.formats.common import atomic_write_text
from camhd_motion.formats.regions_csv import StaticRow, static_rows, write_rows
from camhd_motion.pipeline.workflow import Plan

SUMMARY_COLUMNS = ("stem", "date_time", "status", "frames", "samples", "valid_samples",
                   "valid_fraction", "static_regions", "seconds", "error")
CACHE_NAME = ".aggregate-cache.json"
CACHE_VERSION = 1


@dataclass
class SummaryRow:
    stem: str
    date_time: str
    status: str
    frames: int | None = None
    samples: int | None = None
    valid_samples: int | None = None
    static_regions: int | None = None
    seconds: float | None = None
    error: str = ""

    @property
    def valid_fraction(self) -> float | None:
        if not self.samples:
            return None
        return self.valid_samples / self.samples

    def cells(self) -> list[str]:
        def fmt(v) -> str:
            if v is None:
                return ""
            if isinstance(v, float):
                return f"{v:.4g}" if v < 1000 else f"{v:.1f}"
            return str(v)

        return [fmt(getattr(self, c)) for c in SUMMARY_COLUMNS]


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def read_video(video: Video, motion_path: str, regions_path: str) -> tuple[dict, list[list]]:
    """What the summary and ``regions.csv`` need from one video's two files."""
    from camhd_motion.formats.optical_flow import read_optical_flow
    from camhd_motion.formats.regions_json import read_regions_json

    motion = read_optical_flow(motion_path)
    regions = read_regions_json(regions_path)
    valid = sum(1 for s in motion.samples if s.valid)
    perf = motion.performance or {}
    seconds = perf.get("wallSeconds")
    if seconds is None and isinstance(perf.get("sampleSeconds"), dict):
        seconds = perf["sampleSeconds"].get("total")
    info = {
        "frames": motion.movie.num_frames,
        "samples": len(motion.samples),
        "valid_samples": valid,
        "static_regions": sum(1 for r in regions.regions if r.type == "static"),
        "seconds": float(seconds) if seconds is not None else None,
    }
    rows = [[r.date_time, r.mov_basename, r.start_frame, r.end_frame, r.scene_tag]
            for r in static_rows(regions)]
    return info, rows


class _Cache:
    def __init__(self, path: str):
        self.path = path
        self.entries: dict[str, dict] = {}
        self.dirty = False
        with contextlib.suppress(OSError, ValueError):
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            if doc.get("version") == CACHE_VERSION:
                self.entries = doc["entries"]

    def get(self, key: str, stamp: list) -> dict | None:
        entry = self.entries.get(key)
        return entry if entry is not None and entry["stamp"] == stamp else None

    def put(self, key: str, stamp: list, info: dict, rows: list) -> None:
        self.entries[key] = {"stamp": stamp, "info": info, "rows": rows}
        self.dirty = True

    def save(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        if set(self.entries) - keep:
            self.entries = {k: v for k, v in self.entries.items() if k in keep}
            self.dirty = True
        if self.dirty:
            atomic_write_text(self.path, json.dumps({"version": CACHE_VERSION,
                                                     "entries": self.entries}))


def collect(plan: Plan, videos: Iterable[Video], failed: Mapping[str, str],
            cache_path: str | None = None) -> tuple[list[SummaryRow], list[StaticRow]]:
    """Summary rows of ``videos`` and the static rows of those analysed."""
    cache = _Cache(cache_path or os.path.join(plan.results, CACHE_NAME))
    summary, statics, used = [], [], []
    for video in videos:
        rel = video.rel
        motion_path, regions_path = plan.motion_json(rel), plan.regions_json(rel)
        stamp_m, stamp_r = _stamp(motion_path), _stamp(regions_path)
        if stamp_m is None or stamp_r is None:
            if video.stem in failed:
                summary.append(SummaryRow(video.stem, video.date_time, "failed",
                                          error=failed[video.stem]))
            else:
                summary.append(SummaryRow(video.stem, video.date_time, "missing"))
            continue
        stamp = stamp_m + stamp_r
        used.append(rel)
        entry = cache.get(rel, stamp)
        if entry is None:
            info, rows = read_video(video, motion_path, regions_path)
            cache.put(rel, stamp, info, rows)
        else:
            info, rows = entry["info"], entry["rows"]
        status = "ok" if info["valid_samples"] else "dark"
        summary.append(SummaryRow(video.stem, video.date_time, status, **info))
        statics.extend(StaticRow(*r) for r in rows)
    cache.save(used)
    return summary, statics


def write_summary(rows: Iterable[SummaryRow], path: str | os.PathLike) -> None:
    lines = ["\t".join(SUMMARY_COLUMNS)]
    lines += ["\t".join(r.cells()) for r in rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


def read_summary(path: str | os.PathLike) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]


def render_report(rows: list[SummaryRow], n_static: int) -> str:
    """A short Markdown report: counts, totals, the videos that need attention."""
    counts = Counter(r.status for r in rows)
    done = [r for r in rows if r.status in ("ok", "dark")]
    seconds = sorted(r.seconds for r in done if r.seconds is not None)
    frames = sum(r.frames or 0 for r in done)
    samples = sum(r.samples or 0 for r in done)
    valid = sum(r.valid_samples or 0 for r in done)
    lines = [
        "# CamHD motion: run report",
        "",
        f"{len(rows)} videos selected"
        + (f", {rows[0].date_time[:10]} .. {rows[-1].date_time[:10]}" if rows else "") + ".",
        "",
        "| status | videos |",
        "|---|---|",
    ]
    lines += [f"| {s} | {counts[s]} |" for s in ("ok", "dark", "failed", "missing") if counts[s]]
    lines += [
        "",
        f"- static regions: {n_static}",
        f"- frames: {frames}, samples: {samples}, valid: {valid}"
        + (f" ({valid / samples:.1%})" if samples else ""),
    ]
    if seconds:
        median = seconds[len(seconds) // 2]
        lines.append(f"- motion step: {sum(seconds):.0f} s in total, median {median:.1f} s "
                     "per video")
    attention = [r for r in rows if r.status in ("failed", "dark", "missing")]
    if attention:
        lines += ["", "## Videos to look at", "", "| video | status | error |", "|---|---|---|"]
        for r in attention[:200]:
            error = r.error.replace("|", "\\|")
            lines.append(f"| {r.stem} | {r.status} | {error} |")
        if len(attention) > 200:
            lines.append(f"| ... {len(attention) - 200} more, see summary.tsv | | |")
    return "\n".join(lines) + "\n"


def aggregate(plan: Plan, videos: list[Video], failed: Mapping[str, str], *,
              regions_csv: str, summary: str, report: str) -> list[SummaryRow]:
    rows, statics = collect(plan, videos, failed)
    write_rows(statics, regions_csv)
    write_summary(rows, summary)
    atomic_write_text(report, render_report(rows, len(statics)))
    return rows

