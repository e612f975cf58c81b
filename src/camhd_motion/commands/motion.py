"""``camhd-motion motion``: the motion of one video -> ``<stem>_optical_flow.json``."""

from __future__ import annotations

import argparse

from camhd_motion.motion.model import MotionParams
from camhd_motion.params import add_arguments, as_dict, from_args
from camhd_motion.sources.options import NetOptions


def default_output(video: str) -> str:
    base = video.rstrip("/").rsplit("/", 1)[-1]
    stem = base[:-4] if base.lower().endswith(".mov") else base
    return f"{stem}_optical_flow.json"


def register(sub) -> None:
    p = sub.add_parser(
        "motion",
        help="camera motion of one video",
        description="Estimate the camera motion of one video (a path, http(s):// or gs:// "
        "URL) every STRIDE frames and write <stem>_optical_flow.json (format 1.1).",
    )
    p.add_argument("video", help="path or URL of the .mov")
    p.add_argument("-o", "--output", help="output JSON (default: <stem>_optical_flow.json)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (one per core)")
    p.add_argument("--movie-url", help="archive-relative URL recorded in the output "
                   "(default: derived from the name)")
    p.add_argument("--engine", choices=("python", "native"), default="python",
                   help="python (default) or native: the C++ tool camhd-motion-native "
                   "(docs/NATIVE.md)")
    p.add_argument("--native-bin", help="path of camhd-motion-native (default: "
                   "$CAMHD_NATIVE_BIN, native/build/, then PATH)")
    p.add_argument("--failed-dir", metavar="DIR",
                   help="on a bad or unavailable video (missing, not a movie, damaged index, "
                   "404/403 ...: exit 2 or 3) write its one-line error to "
                   "DIR/YYYY/MM/DD/<stem>.txt; removed on success (the workflow's record of "
                   "bad videos; transient failures, exit 4, are not recorded)")
    add_arguments(p, MotionParams, "motion parameters (defaults: the original system's)")
    add_arguments(p, NetOptions, "network (http(s):// and gs:// videos; docs/NETWORK.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from camhd_motion.pipeline.jobs import failed_record_path, motion

    motion(args.video, args.output or default_output(args.video),
           from_args(MotionParams, args), workers=args.workers, engine=args.engine,
           native_bin=args.native_bin, movie_url=args.movie_url,
           net=as_dict(from_args(NetOptions, args)),
           failed_record=failed_record_path(args.failed_dir, args.video)
           if args.failed_dir else None)
    return 0
