"""``camhd-motion motion``: the motion of one video -> ``<stem>_optical_flow.json``."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from camhd_motion.archive.names import parse_name
from camhd_motion.errors import UserError
from camhd_motion.motion.model import MotionParams

log = logging.getLogger(__name__)


def add_motion_params(parser: argparse.ArgumentParser) -> None:
    d = MotionParams()
    g = parser.add_argument_group("motion parameters (defaults: the original system's)")
    g.add_argument("--stride", type=int, default=d.stride, help="frames between samples")
    g.add_argument("--pair-offset", type=int, default=d.pair_offset,
                   help="sample f compares f-OFFSET and f+OFFSET")
    g.add_argument("--img-scale", type=float, default=d.img_scale,
                   help="working resolution, 1/k (0.25 = 480x270 for 1080p)")
    g.add_argument("--dark-threshold", type=float, default=d.dark_threshold,
                   help="mean grey (0-255) below which a frame counts as dark")
    g.add_argument("--max-corners", type=int, default=d.max_corners)
    g.add_argument("--min-inliers", type=int, default=d.min_inliers)
    g.add_argument("--ransac-threshold", type=float, default=d.ransac_threshold,
                   help="RANSAC inlier threshold, working-resolution px")


def motion_params_from_args(args: argparse.Namespace) -> MotionParams:
    p = MotionParams(
        stride=args.stride,
        pair_offset=args.pair_offset,
        img_scale=args.img_scale,
        dark_threshold=args.dark_threshold,
        max_corners=args.max_corners,
        min_inliers=args.min_inliers,
        ransac_threshold=args.ransac_threshold,
    )
    if p.stride < 1 or p.pair_offset < 1:
        raise UserError("--stride and --pair-offset must be >= 1")
    return p


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
                   help="python (default) or native: the C++ tool camhd-motion-native, same "
                   "results, local files only (docs/NATIVE.md)")
    p.add_argument("--native-bin", help="path of camhd-motion-native (default: "
                   "$CAMHD_NATIVE_BIN, native/build/, then PATH)")
    add_motion_params(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from camhd_motion.formats.optical_flow import write_optical_flow
    from camhd_motion.motion.analyze import analyze_video

    params = motion_params_from_args(args)
    if args.workers < 1:
        raise UserError("--workers must be >= 1")
    output = args.output or default_output(args.video)
    if not args.video.startswith(("http://", "https://", "gs://")) and not os.path.exists(
        args.video
    ):
        raise UserError(f"{args.video}: file not found")
    try:
        parse_name(args.video)
    except ValueError:
        log.warning("%s: not a CamHD archive name; movie URL taken from the file name",
                    args.video)
    if args.engine == "native":
        from camhd_motion.native import run_native

        run_native(args.video, output, params, workers=args.workers, movie_url=args.movie_url,
                   binary=args.native_bin)
        log.info("%s: native engine -> %s", args.video, output)
        return 0
    result = analyze_video(args.video, params, workers=args.workers, movie_url=args.movie_url)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    write_optical_flow(result, output)
    valid = sum(s.valid for s in result.samples)
    log.info("%s: %d samples, %d valid, %.1f s -> %s", args.video, len(result.samples), valid,
             result.performance["wallSeconds"], output)
    return 0
