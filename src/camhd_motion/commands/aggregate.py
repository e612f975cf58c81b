"""``camhd-motion aggregate``: regions.csv, summary table and report over a run's videos."""

from __future__ import annotations

import argparse
import logging
import os
from collections import Counter

from camhd_motion.archive.manifest import parse_day, read_manifest, select
from camhd_motion.pipeline.workflow import FAILED_DIR, Plan, read_failed_records

log = logging.getLogger(__name__)


def add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--start", help="first day, YYYY-MM-DD (default: unbounded)")
    p.add_argument("--end", help="last day, inclusive (default: unbounded)")
    p.add_argument("--pattern", default="*", help="glob on the video stem (default: *)")


def register(sub) -> None:
    p = sub.add_parser(
        "aggregate",
        help="regions.csv, per-video summary and report over the selected videos",
        description="Read the motion and regions files of every video of MANIFEST selected "
        "by --start/--end/--pattern under RESULTS and write regions.csv (static regions), "
        "summary.tsv (one row per video: frames, samples, valid fraction, static regions, "
        "seconds, status ok/dark/failed/missing) and report.md.",
    )
    p.add_argument("--manifest", required=True, help="the manifest TSV of the run")
    p.add_argument("--results", default="results", help="results root (default: results)")
    p.add_argument("--failed-dir", metavar="DIR",
                   help="the bad videos' records, shown as failed: a directory or a gs:// "
                   "prefix (the workflow's with a default storage; default: RESULTS/failed)")
    add_selection(p)
    p.add_argument("--regions-csv", help="default: RESULTS/regions.csv")
    p.add_argument("--summary", help="default: RESULTS/summary.tsv")
    p.add_argument("--report", help="default: RESULTS/report.md")
    p.add_argument("--regions-parquet", help="every region of every video (Parquet); "
                   "default: none")
    p.add_argument("--timeline", help="timeline figure of the scheduled videos (PNG)")
    p.add_argument("--static-stats", help="figure of static sections over time (PNG)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from camhd_motion.pipeline.aggregate import aggregate

    videos = select(read_manifest(args.manifest).videos, parse_day(args.start, "--start"),
                    parse_day(args.end, "--end"), args.pattern)
    rows = aggregate(
        Plan(args.results), videos,
        read_failed_records(args.failed_dir or os.path.join(args.results, FAILED_DIR)),
        regions_csv=args.regions_csv or os.path.join(args.results, "regions.csv"),
        summary=args.summary or os.path.join(args.results, "summary.tsv"),
        report=args.report or os.path.join(args.results, "report.md"),
        regions_parquet=args.regions_parquet, timeline=args.timeline,
        static_stats=args.static_stats,
    )
    counts = Counter(r.status for r in rows)
    log.info("%d videos: %s", len(rows), ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return 0
