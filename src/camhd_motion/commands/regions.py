"""``camhd-motion regions MOTION_JSON [-o OUT] [thresholds]``: static sections of one video.

Reads ``<stem>_optical_flow.json`` (1.1, or the original's 1.0), runs
:func:`camhd_motion.regions.find_regions` and writes ``<stem>_optical_flow_regions.json``
(default: beside the input).  Exit 0 on success, 2 on a missing/invalid input or bad option.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from camhd_motion.motion.model import RegionParams
from camhd_motion.params import add_arguments, from_args


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "regions",
        help="find the static sections of one video from its motion file",
        description="Find the static sections of one video: read MOTION_JSON (motion file "
        "version 1.1 or the original's 1.0) and write <stem>_optical_flow_regions.json.",
    )
    p.add_argument("motion_json", type=Path, metavar="MOTION_JSON",
                   help="<stem>_optical_flow.json (version 1.1 or 1.0)")
    p.add_argument("-o", "--output", type=Path, metavar="OUT",
                   help="output file (default: <stem>_optical_flow_regions.json beside the input)")
    p.add_argument("--stride", type=int, help="sample spacing in frames (default: the file's)")
    p.add_argument("--plot", type=Path, metavar="PNG",
                   help="also draw the motion against time, static sections shaded")
    p.add_argument("--contact-sheet", type=Path, metavar="PNG",
                   help="also draw one thumbnail per static section (needs --video)")
    p.add_argument("--video", metavar="PATH|URL",
                   help="the video, for --contact-sheet (a path, http(s):// or gs:// URL)")
    add_arguments(p, RegionParams, "thresholds (defaults are the original's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from camhd_motion.pipeline.jobs import regions

    regions(args.motion_json, args.output, from_args(RegionParams, args), stride=args.stride,
            plot=args.plot, contact_sheet=args.contact_sheet, video=args.video)
    return 0
