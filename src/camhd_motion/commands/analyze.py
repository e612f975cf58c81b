"""``camhd-motion analyze``: the workflow's per-video job (motion, then regions).

    camhd-motion analyze VIDEO --motion-json M --regions-json R [motion options]
        [region thresholds] [--workers N] [--no-reuse] [--failed-record F]

Runs ``camhd-motion motion`` (skipped when M exists and was made from the same movie with
the same motion parameters, unless ``--no-reuse``) and ``camhd-motion regions`` in one
process; see :mod:`camhd_motion.pipeline.steps`.  Exit codes are the steps': 0 ok, 2 bad
argument/input, 3 bad video (recorded in F when given), 4 source failure.
"""

from __future__ import annotations

import argparse
import dataclasses

from camhd_motion.commands.motion import add_motion_params, motion_params_from_args
from camhd_motion.commands.regions import params_from_args as region_params_from_args
from camhd_motion.errors import UserError
from camhd_motion.motion.model import RegionParams


def dataclass_argv(params) -> list[str]:
    """``--field-name value`` for every field of a parameters dataclass."""
    argv = []
    for f in dataclasses.fields(params):
        argv += [f"--{f.name.replace('_', '-')}", str(getattr(params, f.name))]
    return argv


def register(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="motion + static regions of one video (the workflow's per-video job)",
        description="Motion of VIDEO into --motion-json (reused if it was made from the same "
        "movie with the same motion parameters), then its static regions into "
        "--regions-json.",
    )
    p.add_argument("video", help="path or http(s):// / gs:// URL of the .mov")
    p.add_argument("--motion-json", required=True, help="<stem>_optical_flow.json to write")
    p.add_argument("--regions-json", required=True,
                   help="<stem>_optical_flow_regions.json to write")
    p.add_argument("--workers", type=int, default=1, help="worker processes of the motion step")
    p.add_argument("--no-reuse", dest="reuse", action="store_false",
                   help="recompute the motion even if --motion-json is up to date")
    p.add_argument("--failed-record", metavar="FILE",
                   help="on a bad video (exit 3) write the one-line error here; removed on "
                   "success")
    p.add_argument("--engine", choices=("python", "native"), default="python",
                   help="motion engine (as for camhd-motion motion)")
    p.add_argument("--native-bin", help="path of camhd-motion-native (native engine)")
    add_motion_params(p)
    g = p.add_argument_group("region thresholds (as for camhd-motion regions)")
    for f in dataclasses.fields(RegionParams):
        default = getattr(RegionParams(), f.name)
        g.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=type(default),
                       metavar="N", help=f"default {default}")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from camhd_motion.pipeline.steps import analyze

    params = motion_params_from_args(args)
    if args.workers < 1:
        raise UserError("--workers must be >= 1")
    regions = region_params_from_args(args)
    engine_argv = ["--engine", args.engine]
    if args.native_bin:
        engine_argv += ["--native-bin", args.native_bin]
    analyze(args.video, args.motion_json, args.regions_json,
            motion_argv=dataclass_argv(params) + engine_argv,
            regions_argv=dataclass_argv(regions), params=params, workers=args.workers,
            reuse=args.reuse, failed_record=args.failed_record)
    return 0
