"""Parameters are declared once (``camhd_motion.params``): the config schema, the CLI and
the checks all come from the dataclasses, and reject the same values."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from camhd_motion.errors import UserError
from camhd_motion.motion.model import MotionParams, RegionParams
from camhd_motion.params import check, from_mapping
from camhd_motion.pipeline.config import (
    ConfigError,
    load_schema,
    motion_params,
    region_params,
    validate_config,
)


@pytest.mark.parametrize(("section", "cls"), [("motion", MotionParams),
                                              ("regions", RegionParams)])
def test_schema_is_made_from_the_dataclass(section, cls):
    props = load_schema()["properties"][section]["properties"]
    for f in dataclasses.fields(cls):
        assert props[f.name]["default"] == f.default, f.name
        assert props[f.name]["description"] == f.metadata["doc"], f.name
    # and the defaults of a validated empty config are the dataclass defaults
    config = validate_config({})
    assert {"motion": motion_params, "regions": region_params}[section](config) == cls()


def test_cli_help_shows_the_same_docs_and_defaults():
    out = subprocess.run([sys.executable, "-m", "camhd_motion", "motion", "--help"],
                         capture_output=True, text=True, check=True).stdout
    flat = " ".join(out.split())
    for f in dataclasses.fields(MotionParams):
        assert f"--{f.name.replace('_', '-')}" in flat
        assert f"(default {f.default})" in flat


BAD = [("motion", "stride", 0), ("motion", "pair_offset", -1), ("motion", "img_scale", 0.3),
       ("motion", "img_scale", 0), ("motion", "min_inliers", 0),
       ("motion", "ransac_threshold", -1.0), ("motion", "dark_threshold", 300.0),
       ("regions", "min_run", 0), ("regions", "max_scale_dev", 0.0),
       ("regions", "squash_frames", -1)]


@pytest.mark.parametrize(("section", "key", "value"), BAD)
def test_config_cli_and_checks_reject_the_same_values(section, key, value, tmp_path):
    cls = MotionParams if section == "motion" else RegionParams
    with pytest.raises(UserError, match=key):
        check(cls(**{key: value}))
    with pytest.raises(ConfigError, match=rf"^config error: {section}\.{key}: "):
        validate_config({section: {key: value}})
    command = "motion" if section == "motion" else "regions"
    target = "x.mov" if section == "motion" else "x.json"
    proc = subprocess.run([sys.executable, "-m", "camhd_motion", command, target,
                           f"--{key.replace('_', '-')}", str(value)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f"camhd-motion {command}: error: --{key.replace('_', '-')}: ")


def test_unknown_parameter_is_named():
    with pytest.raises(UserError, match="'strid'"):
        from_mapping(MotionParams, {"strid": 3})


def test_command_line_config_strings_are_accepted():
    """What ``snakemake --config`` gives: strings for booleans and nested values."""
    config = validate_config({"retry_failed": "true", "refresh_manifest": "False",
                              "motion": "{stride: 5, workers: 2}"})
    assert config["retry_failed"] is True and config["refresh_manifest"] is False
    assert config["motion"]["stride"] == 5 and config["motion"]["workers"] == 2
    assert motion_params(config).stride == 5
