"""``camhd-motion config``: the workflow's configuration -- its full schema, or a check.

    camhd-motion config --schema          # every key, default, doc and bound (YAML)
    camhd-motion config FILE [FILE ...]   # validate config files as the workflow does

The schema printed is ``config/schema.yaml`` with the motion and region parameters merged
in from their one declaration (:mod:`camhd_motion.params`).  Exit 0 when valid, 2 with a
one-line ``config error: <key>: <cause>`` otherwise.
"""

from __future__ import annotations

import argparse
import sys

from camhd_motion.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("config", help="print the workflow config schema, or check config files",
                       description="Print the full config schema (--schema), or validate "
                       "workflow config files (merged in order, as --configfile does).")
    p.add_argument("files", nargs="*", metavar="FILE", help="config YAML files to check")
    p.add_argument("--schema", action="store_true", help="print the full schema as YAML")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import yaml

    from camhd_motion.pipeline.config import load_schema, load_yaml_file, validate_config

    schema = load_schema()
    if args.schema:
        yaml.safe_dump(schema, sys.stdout, sort_keys=False, width=92)
    if not args.files:
        if not args.schema:
            raise UserError("give config files to check, or --schema")
        return 0
    merged: dict = {}
    for name in args.files:
        merged.update(load_yaml_file(name))
    validate_config(merged, schema)
    print(f"{', '.join(args.files)}: valid")
    return 0
