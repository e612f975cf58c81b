"""Everything over all videos of a run: ``regions.csv``, the summary table, a report.

The summary has one row per selected video::

    stem  date_time  status  frames  samples  valid_samples  valid_fraction  static_regions
    seconds  error

``status`` is ``ok`` (motion and regions present, some valid samples), ``dark`` (present,
no valid sample: lights off or a black video), ``failed`` (recorded as a bad video in
``<results>/failed/``; ``error`` says why) or ``missing`` (not analysed yet).  ``seconds``
is the motion step's wall time.

Besides: ``regions.parquet`` (every region of every video, not only the static ones; the
columns are in docs/FORMATS.md), and the archive figures (:mod:`camhd_motion.figures.archive`).
The tables are built as pandas DataFrames.

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

from camhd_motion.archive.manifest import Video, parse_day, read_manifest, select
from camhd_motion.formats.common import atomic_write_text
from camhd_motion.formats.regions_csv import StaticRow, write_rows
from camhd_motion.pipeline.workflow import Plan, failed_records

SUMMARY_COLUMNS = ("stem", "date_time", "status", "frames", "samples", "valid_samples",
                   "valid_fraction", "static_regions", "seconds", "error")
CACHE_NAME = ".aggregate-cache.json"
CACHE_VERSION = 2
# regions.parquet: one row per region of every analysed video
REGION_COLUMNS = ("stem", "date_time", "index", "type", "start_frame", "end_frame",
                  "start_s", "end_s", "duration_s", "samples", "scale_mean", "tx_mean",
                  "ty_mean", "scene_tag")


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
    rate = motion.movie.frame_rate or 30000 / 1001
    rows = []
    for i, r in enumerate(regions.regions):
        start_s, end_s = (r.start_frame - 1) / rate, (r.end_frame - 1) / rate
        rows.append([video.stem, video.date_time, i, r.type, r.start_frame, r.end_frame,
                     round(start_s, 3), round(end_s, 3), round(end_s - start_s, 3),
                     r.stats.size, r.stats.scale_mean, r.stats.tx_mean, r.stats.ty_mean,
                     r.scene_tag])
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
            cache_path: str | None = None) -> tuple[list[SummaryRow], list[list]]:
    """Summary rows of ``videos`` and the region rows (:data:`REGION_COLUMNS`) of those
    analysed."""
    cache = _Cache(cache_path or os.path.join(plan.results, CACHE_NAME))
    summary, regions, used = [], [], []
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
        regions.extend(rows)
    cache.save(used)
    return summary, regions


def summary_frame(rows: Iterable[SummaryRow]):
    """The summary as a DataFrame (one row per video, :data:`SUMMARY_COLUMNS`)."""
    import pandas as pd

    frame = pd.DataFrame([{c: getattr(r, c) for c in SUMMARY_COLUMNS} for r in rows],
                         columns=list(SUMMARY_COLUMNS))
    for c in ("frames", "samples", "valid_samples", "static_regions"):
        frame[c] = frame[c].astype("Int64")
    return frame


def regions_frame(rows: Iterable[list]):
    """Every region as a DataFrame (:data:`REGION_COLUMNS`), in archive order."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(REGION_COLUMNS))
    frame = frame.astype({"index": "int64", "start_frame": "int64", "end_frame": "int64",
                          "samples": "int64", "scale_mean": "float64", "tx_mean": "float64",
                          "ty_mean": "float64", "start_s": "float64", "end_s": "float64",
                          "duration_s": "float64"})
    return frame.sort_values(["date_time", "stem", "start_frame"], kind="stable",
                             ignore_index=True)


def write_summary(rows: Iterable[SummaryRow], path: str | os.PathLike) -> None:
    """``summary.tsv``: the summary frame, numbers written as :meth:`SummaryRow.cells`."""
    rows = list(rows)
    frame = summary_frame(rows)
    # the cells keep their established text (4 significant digits, empty for unknown)
    text = frame.assign(**{c: [r.cells()[i] for r in rows]
                           for i, c in enumerate(SUMMARY_COLUMNS)})
    atomic_write_text(path, text.to_csv(sep="\t", index=False, lineterminator="\n"))


def write_regions_csv(regions, path: str | os.PathLike) -> int:
    """``regions.csv`` (the original's format, docs/FORMATS.md) from the regions frame."""
    statics = regions[regions["type"] == "static"]
    rows = [StaticRow(date_time=r.date_time, mov_basename=r.stem,
                      start_frame=int(r.start_frame), end_frame=int(r.end_frame),
                      scene_tag=r.scene_tag or None)
            for r in statics.itertuples(index=False)]
    return write_rows(rows, path)


def write_parquet(frame, path: str | os.PathLike) -> None:
    """``frame`` as Parquet, atomically."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


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
              regions_csv: str, summary: str, report: str, regions_parquet: str | None = None,
              timeline: str | None = None, static_stats: str | None = None
              ) -> list[SummaryRow]:
    rows, region_rows = collect(plan, videos, failed)
    regions = regions_frame(region_rows)
    n_static = write_regions_csv(regions, regions_csv)
    write_summary(rows, summary)
    if regions_parquet:
        write_parquet(regions, regions_parquet)
    if timeline:
        from camhd_motion.figures.archive import write_timeline

        write_timeline(summary_frame(rows), timeline)
    if static_stats:
        from camhd_motion.figures.archive import write_static_stats

        write_static_stats(regions, summary_frame(rows), static_stats)
    atomic_write_text(report, render_report(rows, n_static))
    return rows


def aggregate_after_errors(plan: Plan, config: Mapping) -> str | None:
    """After a run with failed jobs (snakemake's ``onerror``): write the aggregate
    (``regions.csv``, ``summary.tsv``, ``report.md``, ``tables/regions.parquet``, the
    archive figures) over what the run has, so one bad video never costs the run its
    tables: finished videos as ``ok``/``dark``, recorded bad ones as ``failed``, the rest
    (transient failures, jobs not run) as ``missing``.  The next run remakes it as soon as
    one of those is done (the rule's inputs are then newer).  Not for a shard (no
    aggregate) or outputs in a default storage (the main process cannot write there);
    returns what it did, for the log."""
    if plan.shard or not plan.local_outputs:
        return None
    try:  # in snakemake's onerror: say what went wrong, never raise
        rows = _aggregate_now(plan, config)
    except Exception as err:
        return f"could not write the archive tables after the errors: {err}"
    missing = sum(r.status == "missing" for r in rows)
    return (f"wrote {plan.results}/summary.tsv and the other archive tables over this run's "
            f"{len(rows)} videos ({missing} missing: a later run completes them)")


def _aggregate_now(plan: Plan, config: Mapping) -> list[SummaryRow]:
    videos = select(read_manifest(config["manifest"]).videos,
                    parse_day(config["start"], "start"), parse_day(config["end"], "end"),
                    config["pattern"])
    results = plan.results
    for sub in ("tables", "figures"):
        os.makedirs(os.path.join(results, sub), exist_ok=True)
    return aggregate(
        plan, videos, failed_records(results),
        regions_csv=os.path.join(results, "regions.csv"),
        summary=os.path.join(results, "summary.tsv"),
        report=os.path.join(results, "report.md"),
        regions_parquet=os.path.join(results, "tables", "regions.parquet"),
        timeline=os.path.join(results, "figures", "timeline.png"),
        static_stats=os.path.join(results, "figures", "static_sections.png"),
    )
