"""``camhd-motion archive list``: list a source's videos into a manifest TSV."""

from __future__ import annotations

import argparse

from camhd_motion.archive.sources import OOI_RAW_DATA
from camhd_motion.params import add_arguments, as_dict, from_args
from camhd_motion.sources.options import NetOptions


def register(sub) -> None:
    p = sub.add_parser("archive", help="list archive videos (manifests)",
                       description="Work with archive listings.")
    asub = p.add_subparsers(dest="archive_command", metavar="ACTION", required=True)
    lp = asub.add_parser(
        "list",
        help="list a source's videos into a manifest TSV",
        description="List the videos of SOURCE (a local directory in the archive layout, a "
        "CSV/TSV/list file, an http(s):// archive index root, or gs://bucket/prefix) whose "
        "scheduled start is in [--start, --end] and write the manifest the workflow reads "
        "(stem, date_time, url, size, md5).  Only the YYYY/MM/DD directories inside the "
        "range are visited.",
    )
    lp.add_argument("source")
    lp.add_argument("-o", "--output", default="results/manifest.tsv",
                    help="manifest to write (default: results/manifest.tsv, the workflow's)")
    lp.add_argument("--start", help="first day, YYYY-MM-DD (default: unbounded)")
    lp.add_argument("--end", help="last day, inclusive (default: unbounded)")
    lp.add_argument("--no-md5", dest="md5", action="store_false",
                    help="do not read the .md5 siblings (saves one request per video)")
    lp.add_argument("--base-url", default=OOI_RAW_DATA,
                    help="archive root for files that name videos by mov_basename only")
    add_arguments(lp, NetOptions, "network (an http(s):// source's index pages)")
    lp.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    import sys

    from camhd_motion.pipeline.workflow import empty_listing_warning, refresh_manifest
    config = {"source": args.source, "start": args.start, "end": args.end, "md5": args.md5,
              "base_url": args.base_url, "net": as_dict(from_args(NetOptions, args))}
    n = refresh_manifest(config, args.output)
    print(f"{args.output}: {n} videos")
    if n == 0:
        print(empty_listing_warning(config), file=sys.stderr)
    return 0
