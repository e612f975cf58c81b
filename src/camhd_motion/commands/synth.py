"""``camhd-motion synth``: synthetic CamHD-like videos with exact ground truth.

    camhd-motion synth video --out DIR --preset test --seed 1 --start 2016-01-01T00:00:00
    camhd-motion synth archive --out DIR --count 4 --preset test --seed 1
"""

from __future__ import annotations

import argparse
import datetime as dt

from camhd_motion.errors import UserError


def _datetime(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.rstrip("Z"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {text!r}") from None
    if value.tzinfo is not None:  # names are in UTC; keep naive UTC
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _common(p: argparse.ArgumentParser) -> None:
    from camhd_motion.synth.presets import FAMILIES, PRESETS

    p.add_argument("--out", required=True, help="archive root directory")
    p.add_argument("--preset", default="test",
                   help=f"one of {', '.join(sorted(PRESETS))}, optionally with scene families "
                   "added as PRESET+FAMILY+... (default: test)")
    p.add_argument("--family", action="append", default=[], choices=list(FAMILIES),
                   help="add a scene family (repeatable; combinable): "
                   + "; ".join(f"{k}: {v.doc}" for k, v in FAMILIES.items()).replace("%", "%%"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=_datetime, default=dt.datetime(2016, 1, 1),
                   help="start (UTC) of the (first) video, e.g. 2016-01-01T00:00:00")
    p.add_argument("--duration", type=float, help="seconds (default: the preset's)")
    p.add_argument("--z-suffix", action="store_true",
                   help="name files like 2015-16 CamHD files: ...T000000Z.mov")
    p.add_argument("--co64", action="store_true",
                   help="64-bit chunk offsets (co64), like real files larger than 4 GB")
    p.add_argument("--threads", type=int, default=0, help="encoder threads (0 = auto)")
    p.add_argument("--force", action="store_true", help="redo complete outputs")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth", help="render synthetic CamHD-like videos with ground truth",
        description="Render CamHD-like ProRes videos of a virtual camera over a procedural "
        "seafloor, with <stem>.mov.md5 and <stem>.truth.json beside each video.",
    )
    sub = parser.add_subparsers(dest="synth_command", metavar="WHAT", required=True)

    video = sub.add_parser("video", help="one video")
    _common(video)
    video.add_argument("--scene-seed", type=int, help="scene seed (default: --seed)")
    video.set_defaults(func=_run_video)

    archive = sub.add_parser("archive", help="several videos, every 3 hours")
    _common(archive)
    archive.add_argument("--count", type=int, default=4, help="number of videos")
    archive.add_argument("--black", type=int, action="append", metavar="INDEX",
                         help="0-based index of a lights-off video (repeatable; default: "
                         "the third when --count >= 4)")
    archive.add_argument("--jobs", type=int, default=1, help="videos rendered in parallel")
    archive.set_defaults(func=_run_archive)


def _check(args) -> None:
    from camhd_motion.synth.presets import get_preset

    args.preset = "+".join([args.preset, *args.family])
    get_preset(args.preset)  # a bad name or family: UserError
    if args.duration is not None and args.duration <= 0:
        raise UserError(f"--duration must be positive, got {args.duration}")
    if args.threads < 0:
        raise UserError("--threads must be >= 0")


def _run_video(args) -> int:
    from camhd_motion.synth.generate import generate_video

    _check(args)
    path = generate_video(args.out, args.start, args.preset, args.seed, args.duration,
                          scene_seed=args.scene_seed, z_suffix=args.z_suffix, co64=args.co64,
                          threads=args.threads, force=args.force)
    print(path)
    return 0


def _run_archive(args) -> int:
    from camhd_motion.synth.archive import generate_archive

    _check(args)
    if args.count < 1:
        raise UserError(f"--count must be >= 1, got {args.count}")
    if args.jobs < 1:
        raise UserError(f"--jobs must be >= 1, got {args.jobs}")
    bad = [i for i in args.black or [] if not 0 <= i < args.count]
    if bad:
        raise UserError(f"--black index out of range 0..{args.count - 1}: {bad}")
    paths = generate_archive(args.out, args.count, args.start, args.seed, args.preset,
                             duration=args.duration, z_suffix=args.z_suffix, black=args.black,
                             co64=args.co64, jobs=args.jobs, threads=args.threads,
                             force=args.force)
    for path in paths:
        print(path)
    return 0
