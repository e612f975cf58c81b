"""``camhd-motion``: one command, one subcommand per step.

Each module in :mod:`camhd_motion.commands` defines ``register(subparsers)`` that adds its
subparser and sets ``func`` (called with the parsed args, returns an exit code).  Every
error a user can cause is printed as one line naming the input and the cause, and the exit
code says whether running again can help (:mod:`camhd_motion.errors`): 2 fix the command
or environment first (a bad option, a missing file, an unwritable directory), 3 this video
cannot be analysed (bad, missing from its server, not a movie), 4 transient (a failing or
stalled server, a full disk: run again later).  Anything else is a bug: one line, exit 1,
and the traceback with ``-v``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from camhd_motion import __version__, commands
from camhd_motion.errors import CamhdError, os_error


class Parser(argparse.ArgumentParser):
    """Usage errors in one line (argparse prints the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    prog = f"camhd-motion {args.command}"
    try:
        return int(args.func(args) or 0)
    except CamhdError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:  # a file this command had to read or write
        if args.verbose:
            raise
        one = os_error(err)
        print(f"{prog}: error: {one}", file=sys.stderr)
        return one.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 - a bug: one line, the traceback with -v
        if args.verbose:
            raise
        cause = " ".join(str(err).split())[:300]
        print(f"{prog}: internal error: {type(err).__name__}: {cause} (run with -v for the "
              "traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
