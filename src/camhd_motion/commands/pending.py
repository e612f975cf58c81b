"""``camhd-motion pending``: the videos a workflow run would (re)analyse, one per line."""

from __future__ import annotations

import argparse
import sys

from camhd_motion.commands.aggregate import add_selection


def register(sub) -> None:
    p = sub.add_parser(
        "pending",
        help="list the videos a snakemake run would (re)analyse, and why",
        description="Run `snakemake --summary` for the videos of [--start, --end] (and "
        "--pattern) and print one tab-separated line per video still to do: stem, "
        "date_time, state, steps (download,motion,regions) and snakemake's reason "
        "(missing, params changed, updated input files, ...).  Exit 0.  Arguments after "
        "`--` go to snakemake (e.g. `-- --profile profiles/slurm`).",
    )
    add_selection(p)
    p.add_argument("--all", action="store_true", help="also list the videos that are done")
    p.add_argument("-s", "--snakefile", help="the workflow's Snakefile (default: ./Snakefile)")
    p.add_argument("-d", "--directory", help="the run's working directory (default: .)")
    p.add_argument("--configfile", action="append", default=[], help="as for snakemake")
    p.add_argument("--count", action="store_true", help="print only the number pending")
    p.add_argument("extra", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from camhd_motion.pipeline.pending import HEADER, pending_videos

    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    videos = pending_videos(snakefile=args.snakefile, directory=args.directory,
                            configfiles=args.configfile, start=args.start, end=args.end,
                            pattern=None if args.pattern == "*" else args.pattern,
                            extra=extra)
    todo = [v for v in videos if v.pending]
    if args.count:
        print(len(todo))
        return 0
    print(HEADER)
    for video in videos if args.all else todo:
        print(video.line())
    print(f"{len(todo)} of {len(videos)} videos pending", file=sys.stderr)
    return 0
