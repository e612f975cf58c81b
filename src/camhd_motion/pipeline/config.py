"""The workflow's configuration: validation against ``config/schema.yaml`` with one-line
errors naming the key, defaults filled in from the schema, and the command-line
arguments each step gets from it."""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

from camhd_motion.errors import UserError

SCHEMA_PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))))), "config", "schema.yaml")


class ConfigError(UserError):
    """A config value the schema rejects; the message is ``config error: <key>: <cause>``."""


def load_schema(path: str | os.PathLike = SCHEMA_PATH) -> dict:
    import yaml

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _normalise(value: Any) -> Any:
    """YAML turns an unquoted ``2016-01-01`` into a date: make dates strings again."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _fill_defaults(schema: dict, value: dict) -> None:
    for key, sub in schema.get("properties", {}).items():
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if isinstance(value.get(key), dict) and sub.get("type") == "object":
            _fill_defaults(sub, value[key])


def _message(err) -> str:
    path = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "additionalProperties":
        known = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(known))
        where = f"{path}." if path else ""
        return (f"{where}{extra[0]}: unknown key (known{' in ' + path if path else ''}: "
                f"{', '.join(known)})")
    if err.validator == "pattern" and path in ("start", "end"):
        return f"{path}: {err.instance!r} is not a date (YYYY-MM-DD)"
    text = " ".join(str(err.message).split())
    return f"{path}: {text}" if path else text


def validate_config(config: Mapping, schema: dict | None = None) -> dict:
    """A validated copy of ``config`` with defaults filled in.

    Raises :class:`ConfigError` whose one-line message names the offending key, e.g.
    ``config error: motion.stride: -1 is less than the minimum of 1``.
    """
    import jsonschema

    schema = schema if schema is not None else load_schema()
    value = _normalise(dict(config))
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is not None:
        raise ConfigError(f"config error: {_message(error)}")
    _fill_defaults(schema, value)
    for key in ("start", "end"):
        if value.get(key) is not None:
            try:
                dt.date.fromisoformat(value[key])
            except ValueError:
                raise ConfigError(
                    f"config error: {key}: {value[key]!r} is not a valid date") from None
    if value.get("start") and value.get("end") and value["end"] < value["start"]:
        raise ConfigError(f"config error: end: {value['end']} is before start {value['start']}")
    return value


def _cli(options: Mapping[str, Any]) -> str:
    return " ".join(f"--{k.replace('_', '-')} {v!r}" if isinstance(v, str)
                    else f"--{k.replace('_', '-')} {v}" for k, v in options.items())


def motion_args(config: Mapping) -> str:
    """``camhd-motion motion`` options from ``config['motion']`` (without ``workers``,
    which is the job's thread count and does not change results; ``native_bin`` only when
    set)."""
    options = {k: v for k, v in config["motion"].items() if k != "workers"}
    if not options.get("native_bin"):
        options.pop("native_bin", None)
    return _cli(options)


def regions_args(config: Mapping) -> str:
    """``camhd-motion regions`` threshold options from ``config['regions']``."""
    return _cli(config["regions"])
