"""``camhd-motion regions MOTION_JSON [-o OUT] [thresholds]``: static sections of one video.

Reads ``<stem>_optical_flow.json`` (1.1, or the original's 1.0), runs
:func:`camhd_motion.regions.find_regions` and writes ``<stem>_optical_flow_regions.json``
(default: beside the input).  Exit 0 on success, 2 on a missing/invalid input or bad option.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import time
from pathlib import Path

from camhd_motion.errors import UserError
from camhd_motion.formats.common import movie_stem
from camhd_motion.formats.optical_flow import SUFFIX as MOTION_SUFFIX
from camhd_motion.formats.optical_flow import read_optical_flow
from camhd_motion.formats.regions_json import regions_filename, write_regions_json
from camhd_motion.motion.model import RegionParams, RegionsResult
from camhd_motion.regions import FIND_REGIONS_VERSION, find_regions

log = logging.getLogger(__name__)

_HELP = {
    "max_translation_sq": "stable when tx^2+ty^2 < this (full-res px^2 per pair)",
    "max_scale_dev": "stable when |scale-1| < this",
    "gap_factor": "stable samples are consecutive when their frames differ by <= this x stride",
    "min_run": "drop static runs of fewer samples than this",
    "zoom_in": "label zoom_in when the mean scale > this",
    "zoom_out": "label zoom_out when the mean scale < this",
    "move_px": "label a direction when a mean translation component exceeds this (px)",
    "squash_frames": "squash interior regions with end-start <= this many frames",
}


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
    group = p.add_argument_group("thresholds (defaults are the original's)")
    for f in dataclasses.fields(RegionParams):
        default = getattr(RegionParams(), f.name)
        group.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=type(default),
                           metavar="N", help=f"{_HELP.get(f.name, f.name)} (default {default})")
    p.set_defaults(func=run)


def default_output(motion_path: Path, stem: str) -> Path:
    """``<stem>_optical_flow_regions.json`` in the directory of ``motion_path``."""
    name = motion_path.name
    if name.endswith(MOTION_SUFFIX):
        stem = name[: -len(MOTION_SUFFIX)]
    return motion_path.with_name(regions_filename(stem))


def params_from_args(args: argparse.Namespace) -> RegionParams:
    overrides = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(RegionParams)
        if getattr(args, f.name, None) is not None
    }
    params = RegionParams(**overrides)
    if params.min_run < 1 or params.gap_factor <= 0 or params.max_translation_sq <= 0:
        raise UserError("--min-run must be >= 1, --gap-factor and --max-translation-sq > 0")
    return params


def run(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    params = params_from_args(args)
    motion = read_optical_flow(args.motion_json)
    stride = args.stride if args.stride is not None else motion.params.stride
    if stride <= 0:
        raise UserError(f"{args.motion_json}: stride must be positive, got {stride}")
    out = args.output or default_output(args.motion_json, movie_stem(motion.movie))

    t1 = time.monotonic()
    regions = find_regions(motion.samples, stride, params)
    t2 = time.monotonic()
    result = RegionsResult(
        movie=motion.movie,
        params=params,
        regions=regions,
        stride=stride,
        depends={"opticalFlow": {_depends_key(args.motion_json, motion.movie.url):
                                 _git_blob_id(args.motion_json)}},
        performance={"timing": {"regionAnalysis": t2 - t1, "elapsedSeconds": t2 - t0}},
        versions={"findRegions": FIND_REGIONS_VERSION},
    )
    try:
        write_regions_json(result, out)
    except OSError as err:
        raise UserError(f"{out}: cannot write: {err.strerror or err}") from None
    n_static = sum(r.type == "static" for r in regions)
    if not regions:
        log.warning("%s: no static section found (no valid stable run)", args.motion_json)
    log.info("wrote %s: %d regions, %d static", out, len(regions), n_static)
    return 0


def _depends_key(motion_path: Path, movie_url: str) -> str:
    """Archive-relative path of the motion file, as the original wrote it."""
    archive_dir = movie_url.lstrip("/").rpartition("/")[0]
    return f"{archive_dir}/{motion_path.name}" if archive_dir else motion_path.name


def _git_blob_id(path: Path) -> str:
    """``git hash-object`` of the file: a content id computable without git."""
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
