"""``camhd-motion``: one command, one subcommand per step.

Each module in :mod:`camhd_motion.commands` defines ``register(subparsers)`` that adds its
subparser and sets ``func`` (called with the parsed args, returns an exit code).  Errors a
user can cause (a missing file, a bad video, a bad option) are raised as
:class:`camhd_motion.errors.UserError` and printed as one line, exit code 2; a video that
cannot be analysed is exit code 3.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from camhd_motion import __version__, commands
from camhd_motion.errors import CamhdError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="camhd-motion",
        description="Camera motion and static sections of CamHD seafloor videos.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except CamhdError as err:
        print(f"camhd-motion {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
