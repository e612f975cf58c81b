"""The workflow's configuration: validation against ``config/schema.yaml`` (with the
motion and region parameters merged in from their dataclasses, :mod:`camhd_motion.params`)
with one-line errors naming the key, defaults filled in from the schema, and the parameter
objects each step gets from it."""

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
    """``config/schema.yaml`` with the ``motion`` and ``regions`` parameters merged in from
    :class:`MotionParams` and :class:`RegionParams` (their one declaration)."""
    import yaml

    from camhd_motion.motion.model import MotionParams, RegionParams
    from camhd_motion.params import json_schema

    with open(path, encoding="utf-8") as f:
        schema = yaml.safe_load(f)
    props = schema["properties"]
    props["motion"]["properties"] = {**json_schema(MotionParams),
                                     **props["motion"].get("properties", {})}
    props["regions"]["properties"] = {**json_schema(RegionParams),
                                      **props["regions"].get("properties", {})}
    return schema


def _coerce_strings(schema: dict, value: dict) -> None:
    """What ``snakemake --config key=value`` gives as strings: ``true``/``false`` for a
    boolean key, YAML (``motion={stride: 5}``) for an object key."""
    import yaml

    for key, sub in schema.get("properties", {}).items():
        v = value.get(key)
        if not isinstance(v, str):
            continue
        types = sub.get("type")
        types = types if isinstance(types, list) else [types]
        if "boolean" in types and v.lower() in ("true", "false"):
            value[key] = v.lower() == "true"
        elif "object" in types and v.lstrip().startswith("{"):
            try:
                parsed = yaml.safe_load(v)
            except yaml.YAMLError:
                continue  # left as it is: the schema names the key
            if isinstance(parsed, dict):
                value[key] = parsed


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
    _coerce_strings(schema, value)
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
    # what the schema cannot say (e.g. img_scale = 1/k): the engine's own checks
    for section, build in (("motion", motion_params), ("regions", region_params)):
        try:
            build(value)
        except UserError as err:
            raise ConfigError(f"config error: {section}.{err}") from None
    return value


def motion_params(config: Mapping):
    """The :class:`MotionParams` of a validated config (``motion`` minus the job settings
    ``workers``, ``engine``, ``native_bin``)."""
    from camhd_motion.motion.model import MotionParams
    from camhd_motion.params import from_mapping

    values = {k: v for k, v in config["motion"].items() if k not in JOB_SETTINGS}
    return from_mapping(MotionParams, values)


def region_params(config: Mapping):
    """The :class:`RegionParams` of a validated config."""
    from camhd_motion.motion.model import RegionParams
    from camhd_motion.params import from_mapping

    return from_mapping(RegionParams, dict(config["regions"]))


# keys of config["motion"] that say how a job runs, not what it computes
JOB_SETTINGS = ("workers", "engine", "native_bin")
