"""Parameters defined once: default, doc and bounds of each field, in the dataclass itself.

:class:`~camhd_motion.motion.model.MotionParams` and
:class:`~camhd_motion.motion.model.RegionParams` declare their fields with :func:`param`.
Everything else is derived from those declarations: the command-line options
(:func:`add_arguments`), the workflow config schema's ``motion``/``regions`` properties
(:func:`json_schema`, merged into ``config/schema.yaml`` when it is loaded), and the checks
(:func:`check`) that the CLI and the workflow jobs both apply.  So a default or a bound
changes in one place and every entry point follows.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from typing import Any

from camhd_motion.errors import UserError


def param(default: Any, doc: str, *, minimum: float | None = None,
          exclusive_minimum: float | None = None, maximum: float | None = None,
          choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its doc and bounds (inclusive ``minimum``/``maximum``), or
    for a string field the values it may take (``choices``)."""
    bounds = {"minimum": minimum, "exclusiveMinimum": exclusive_minimum, "maximum": maximum}
    bounds = {k: v for k, v in bounds.items() if v is not None}
    if choices is not None:
        bounds["enum"] = list(choices)
    return dataclasses.field(default=default, metadata={"doc": doc, "bounds": bounds})


def _fields(cls) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if "doc" in f.metadata]


def _json_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    return "integer" if isinstance(value, int) and not isinstance(value, bool) else "number"


def json_schema(cls) -> dict[str, dict]:
    """JSON-schema ``properties`` of the parameters of ``cls``: type, default, doc, bounds."""
    return {
        f.name: {"description": f.metadata["doc"], "type": _json_type(f.default),
                 "default": f.default, **f.metadata["bounds"]}
        for f in _fields(cls)
    }


def check(params) -> None:
    """Raise :class:`UserError` naming the first parameter outside its bounds (or NaN)."""
    for f in _fields(type(params)):
        value = getattr(params, f.name)
        name = f.name
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{name}: {value} is not a finite number")
        b = f.metadata["bounds"]
        if "enum" in b:
            if value not in b["enum"]:
                raise UserError(f"{name}: {value!r} is not one of {', '.join(b['enum'])}")
            continue
        if "minimum" in b and value < b["minimum"]:
            raise UserError(f"{name}: {value} is less than the minimum of {b['minimum']}")
        if "exclusiveMinimum" in b and value <= b["exclusiveMinimum"]:
            raise UserError(f"{name}: {value} must be greater than {b['exclusiveMinimum']}")
        if "maximum" in b and value > b["maximum"]:
            raise UserError(f"{name}: {value} is greater than the maximum of {b['maximum']}")
    extra = getattr(params, "extra_checks", None)
    if extra is not None:
        extra()


def add_arguments(parser: argparse.ArgumentParser, cls, title: str) -> None:
    """One ``--field-name`` option per parameter; omitted options keep the default."""
    group = parser.add_argument_group(title)
    for f in _fields(cls):
        option = f"--{f.name.replace('_', '-')}"
        help_text = f"{f.metadata['doc']} (default {f.default})"
        if _json_type(f.default) == "string":
            group.add_argument(option, dest=f.name, choices=f.metadata["bounds"].get("enum"),
                               help=help_text)
            continue
        kind = int if _json_type(f.default) == "integer" else float
        group.add_argument(option, dest=f.name, type=kind, metavar="N", help=help_text)


def from_mapping(cls, values: dict[str, Any], *, what: str = "parameters"):
    """``cls`` from a mapping of field values (missing ones keep their defaults), checked."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"{what}: unknown parameter {unknown[0]!r} (known: "
                        f"{', '.join(sorted(known))})")
    params = cls(**values)
    check(params)
    return params


def from_args(cls, args: argparse.Namespace):
    """``cls`` from the options of :func:`add_arguments`, checked."""
    values = {f.name: getattr(args, f.name) for f in _fields(cls)
              if getattr(args, f.name, None) is not None}
    try:
        return from_mapping(cls, values)
    except UserError as err:
        raise UserError(_option_message(str(err))) from None


def _option_message(message: str) -> str:
    """``img_scale: ...`` -> ``--img-scale: ...`` for errors about a command-line option."""
    name, sep, rest = message.partition(":")
    return f"--{name.replace('_', '-')}{sep}{rest}" if sep else message


def cli_options(values: dict[str, Any]) -> str:
    """``--field-name value ...`` for a mapping of parameter values: the options of
    :func:`add_arguments` that rebuild the same object (how a rule passes them)."""
    return " ".join(f"--{name.replace('_', '-')} {value!r}" for name, value in values.items())


def as_dict(params) -> dict[str, Any]:
    """The parameter fields of ``params`` as a plain dict (what the workflow passes on)."""
    return {f.name: getattr(params, f.name) for f in _fields(type(params))}
