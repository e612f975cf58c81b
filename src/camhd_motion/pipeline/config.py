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
    if "net" in props:
        from camhd_motion.sources.options import NetOptions

        props["net"]["properties"] = {**json_schema(NetOptions),
                                      **props["net"].get("properties", {})}
    return schema


def load_yaml_file(path: str | os.PathLike) -> dict:
    """A config file's mapping; :class:`ConfigError` naming the file and the line of a
    YAML error (snakemake itself says only "not valid JSON or YAML")."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as err:
        raise ConfigError(f"config error: {path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config error: {path}: not a text file (not UTF-8)") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(err, "problem", None) or str(err).split("\n")[0]
        raise ConfigError(f"config error: {path}:{where} not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config error: {path}: not a mapping of config keys")
    return data


def workflow_configfile(workflow_dir: str | os.PathLike) -> str:
    """The Snakefile's ``configfile:``: the run directory's ``config/config.yaml`` if it
    has one, else the workflow's own (so ``-d DIR`` needs no copy of it), checked as YAML
    first so that a broken file is named with its line.  Prints the one-line error and
    exits for the Snakefile."""
    import sys

    path = os.path.join("config", "config.yaml")
    if not os.path.exists(path):
        path = os.path.join(os.fspath(workflow_dir), "config", "config.yaml")
    try:
        load_yaml_file(path)
    except ConfigError as err:
        print(err, file=sys.stderr)
        raise SystemExit(1) from None
    return path


def _coerce_strings(schema: dict, value: dict, given: Mapping | None = None) -> None:
    """What ``snakemake --config`` gives as strings, as the schema's types.

    Top-level strings always: ``true``/``false`` for a boolean key, YAML for an object key
    (``motion={stride: 5}``).  Below that, and numbers and ``null``, only where ``given``
    (snakemake's ``--config`` values, ``workflow.config_settings.config``) set the key:
    snakemake parses ``motion={stride: 5}`` with YAML's base loader, which makes every
    nested value a string (``{'stride': '5'}``), while a quoted ``'5'`` in a config file
    stays an error."""
    import re

    import yaml

    for key, sub in schema.get("properties", {}).items():
        v = value.get(key)
        types = sub.get("type")
        types = types if isinstance(types, list) else [types]
        from_cli = given is not None and key in given
        if isinstance(v, str):
            text = v.strip()
            if "boolean" in types and text.lower() in ("true", "false"):
                value[key] = text.lower() == "true"
            elif "object" in types and text.startswith("{"):
                try:
                    parsed = yaml.safe_load(text)
                except yaml.YAMLError:
                    continue  # left as it is: the schema names the key
                if isinstance(parsed, dict):
                    value[key] = parsed
            elif not from_cli:
                continue
            elif "integer" in types and re.fullmatch(r"[+-]?\d+", text):
                value[key] = int(text)
            elif "number" in types and re.fullmatch(
                    r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf)", text.lower()):
                value[key] = float(text)
            elif "null" in types and text in ("null", "None", "~"):
                value[key] = None
        if isinstance(value.get(key), dict) and "object" in types:
            value[key] = dict(value[key])  # a copy: snakemake's config is not ours to edit
            inner = given.get(key) if from_cli else None
            _coerce_strings(sub, value[key], inner if isinstance(inner, Mapping) else
                            (value[key] if isinstance(v, str) else None))


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


def validate_config(config: Mapping, schema: dict | None = None, *,
                    given: Mapping | None = None) -> dict:
    """A validated copy of ``config`` with defaults filled in; ``given``: the values set
    with ``snakemake --config`` (strings where the schema wants numbers are read as such).

    Raises :class:`ConfigError` whose one-line message names the offending key, e.g.
    ``config error: motion.stride: -1 is less than the minimum of 1``.
    """
    import jsonschema

    schema = schema if schema is not None else load_schema()
    value = _normalise(dict(config))
    _coerce_strings(schema, value, given)
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
    for section, build in (("motion", motion_params), ("regions", region_params),
                           ("net", net_options)):
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


def net_options(config: Mapping):
    """The :class:`~camhd_motion.sources.options.NetOptions` of a validated config."""
    from camhd_motion.params import from_mapping
    from camhd_motion.sources.options import NetOptions

    return from_mapping(NetOptions, dict(config.get("net") or {}))


def net_cli_options(config: Mapping) -> str:
    """The command-line options of the config's ``net`` values that differ from the
    defaults (``--read-timeout 60.0 ...``; empty for the defaults)."""
    import dataclasses

    from camhd_motion.params import cli_options

    options = net_options(config)
    return cli_options({f.name: getattr(options, f.name) for f in dataclasses.fields(options)
                        if getattr(options, f.name) != f.default})


def region_params(config: Mapping):
    """The :class:`RegionParams` of a validated config."""
    from camhd_motion.motion.model import RegionParams
    from camhd_motion.params import from_mapping

    return from_mapping(RegionParams, dict(config["regions"]))


# keys of config["motion"] that say how a job runs, not what it computes
JOB_SETTINGS = ("workers", "engine", "native_bin")
