"""``<stem>_optical_flow_regions.json``: the regions of one video, version 1.1.

Keys of ``camhd.md`` (``movie``, ``contents.regions``, ``versions.findRegions``, ``regions[]``,
``depends``, ``performance``) plus a top-level ``analysis`` block (``docs/FORMATS.md``).
Reads the original's files too: ``sceneTag`` is kept in ``Region.scene_tag``, any other
per-region key (``sceneTagMeta``, ...) in ``Region.extra``, unknown top-level keys in
``RegionsResult.extra``.  ``stats.size`` is returned as written: for ``findRegions`` "1.0"
files it is the original's DataFrame element count, not a sample count.
"""

from __future__ import annotations

import os
from pathlib import Path

from camhd_motion.formats.common import (
    MOVIE_VERSION,
    FormatError,
    atomic_write_text,
    dumps,
    float_or_nan,
    float_or_none,
    load_json,
    movie_from_json,
    movie_to_json,
    params_from_json,
    params_to_json,
)
from camhd_motion.motion.model import Region, RegionParams, RegionsResult, RegionStats
from camhd_motion.regions import FIND_REGIONS_VERSION

REGIONS_VERSION = "1.1"
ANALYSIS_VERSION = "1.0"
SUFFIX = "_optical_flow_regions.json"
DEFAULT_STRIDE = 10  # the original's (hard-coded there)

_KNOWN_TOP = ("movie", "contents", "versions", "regions", "depends", "performance", "analysis")
_KNOWN_REGION = ("startFrame", "endFrame", "type", "stats", "sceneTag")


def regions_filename(stem: str) -> str:
    return f"{stem}{SUFFIX}"


def write_regions_json(result: RegionsResult, path: str | os.PathLike) -> Path:
    """Write ``result`` atomically (temp file + ``os.replace``); returns the path."""
    return atomic_write_text(path, dumps(regions_to_json(result)))


def read_regions_json(path: str | os.PathLike) -> RegionsResult:
    """Read a regions file (ours or the original's).  Raises ``FormatError``."""
    return regions_from_json(load_json(path), path)


def regions_to_json(result: RegionsResult) -> dict:
    # A result read from an original file keeps its findRegions "1.0" (its sizes are 1.0's).
    versions = {"findRegions": FIND_REGIONS_VERSION, **result.versions}
    doc = {
        "movie": movie_to_json(result.movie),
        "contents": {"movie": MOVIE_VERSION, "regions": REGIONS_VERSION,
                     "analysis": ANALYSIS_VERSION},
        "versions": versions,
        "regions": [_region_to_json(r) for r in sorted(result.regions, key=_order)],
        "depends": result.depends,
        "performance": result.performance,
        "analysis": {"stride": int(result.stride), "params": params_to_json(result.params)},
    }
    for key, value in result.extra.items():
        doc.setdefault(key, value)
    return doc


def _order(r: Region) -> tuple[int, int]:
    return (r.start_frame, r.end_frame)


def _region_to_json(r: Region) -> dict:
    doc = {
        "startFrame": int(r.start_frame),
        "endFrame": int(r.end_frame),
        "type": r.type,
        "stats": {
            "scaleMean": float_or_none(r.stats.scale_mean),
            "txMean": float_or_none(r.stats.tx_mean),
            "tyMean": float_or_none(r.stats.ty_mean),
            "size": int(r.stats.size),
        },
    }
    if r.scene_tag is not None:
        doc["sceneTag"] = r.scene_tag
    for key, value in r.extra.items():
        doc.setdefault(key, value)
    return doc


def regions_from_json(doc: dict, path: str | os.PathLike = "<json>") -> RegionsResult:
    items = doc.get("regions")
    if not isinstance(items, list):
        raise FormatError(path, "missing regions list")
    movie = movie_from_json(doc.get("movie"), path)
    regions = []
    for i, item in enumerate(items):
        try:
            regions.append(_region_from_json(item))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise FormatError(path, f"regions[{i}]: bad region ({err!r})") from None
    analysis = doc.get("analysis") if isinstance(doc.get("analysis"), dict) else {}
    try:
        params = params_from_json(RegionParams, analysis.get("params"))
        stride = int(analysis.get("stride", DEFAULT_STRIDE))
    except (TypeError, ValueError) as err:
        raise FormatError(path, f"bad analysis block: {err}") from None
    return RegionsResult(
        movie=movie,
        params=params,
        regions=sorted(regions, key=_order),
        stride=stride,
        depends=_dict(doc.get("depends")),
        performance=_dict(doc.get("performance")),
        versions=_dict(doc.get("versions")),
        extra={k: v for k, v in doc.items() if k not in _KNOWN_TOP},
    )


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _region_from_json(item: dict) -> Region:
    stats = item.get("stats") or {}
    tag = item.get("sceneTag")
    if not isinstance(item["type"], str):
        raise ValueError(f"type must be a string, got {item['type']!r}")
    return Region(
        start_frame=_int(item["startFrame"]),
        end_frame=_int(item["endFrame"]),
        type=item["type"],
        stats=RegionStats(
            scale_mean=float_or_nan(stats.get("scaleMean")),
            tx_mean=float_or_nan(stats.get("txMean")),
            ty_mean=float_or_nan(stats.get("tyMean")),
            size=_int(stats.get("size", 0)),
        ),
        scene_tag=str(tag) if tag is not None else None,
        extra={k: v for k, v in item.items() if k not in _KNOWN_REGION},
    )


def _int(value) -> int:
    if isinstance(value, bool) or float(value) != int(value):
        raise ValueError(f"not an integer: {value!r}")
    return int(value)
