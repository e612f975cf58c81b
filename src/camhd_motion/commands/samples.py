"""``camhd-motion samples -o OUT.parquet MOTION_JSON...``: motion samples as a table."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser(
        "samples",
        help="every motion sample of some videos as one Parquet table",
        description="Read the motion files (<stem>_optical_flow.json) and write all their "
        "samples as one Parquet table (columns: docs/FORMATS.md).",
    )
    p.add_argument("motion_json", nargs="+", metavar="MOTION_JSON")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="Parquet file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from camhd_motion.pipeline.samples import write_samples

    n = write_samples(args.motion_json, args.output)
    log.info("wrote %s: %d samples of %d videos", args.output, n, len(args.motion_json))
    return 0
