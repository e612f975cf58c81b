"""The workflow's schema defaults are the engine's defaults (one truth, checked)."""

import dataclasses

from camhd_motion.motion.model import MotionParams, RegionParams
from camhd_motion.pipeline.config import load_schema, motion_args


def _schema_defaults(section: str) -> dict:
    props = load_schema()["properties"][section]["properties"]
    return {k: v["default"] for k, v in props.items() if "default" in v}


def test_motion_defaults_match_the_engine():
    schema = _schema_defaults("motion")
    for f in dataclasses.fields(MotionParams):
        assert schema[f.name] == getattr(MotionParams(), f.name), f.name


def test_region_defaults_match_find_regions():
    schema = _schema_defaults("regions")
    for f in dataclasses.fields(RegionParams):
        assert schema[f.name] == getattr(RegionParams(), f.name), f.name


def test_engine_is_passed_and_workers_are_not():
    args = motion_args({"motion": {"stride": 10, "workers": 2, "engine": "native",
                                   "native_bin": None}})
    assert "--engine 'native'" in args and "--workers" not in args
    assert "--native-bin" not in args
