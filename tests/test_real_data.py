"""The original system's published files (``../shared/data/real`` beside the checkout): we
read them, and our ``find_regions`` on the original's motion file reproduces the original's regions.

Agreement on ``CAMHDA301-20160101T030000Z`` (default parameters):

- all 81 regions have identical bounds (all 41 static regions, all 40 motion regions);
- 80 of 81 types are identical.  The exception, ``2201-2511``, is a region merged by the
  squash (NW move 2201-2471 + 3-sample hold 2471-2491 + 1-sample move 2501-2511): the
  original labelled it ``E`` because it kept the label of the last piece, computed from one
  sample (its ``short`` rule compared 13 x 1 < 2, so 1-sample regions got direction labels);
  our label comes from the merged region's 31 samples (mean tx +22, ty +26: ``NW``);
- the 74 regions not touched by the squash have the original's stats up to the two fixes:
  motion regions exactly (same samples: size = original size / 13); static regions own one
  more sample, their last, which the original's ``[start, end)`` window left out (size =
  original / 13 + 1; over ``[start, end)`` our means equal the original's exactly);
- the 7 merged regions (4 static, 3 motion) differ in stats by design (fix 1: the original
  kept the stats of the last piece).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from camhd_motion.formats.optical_flow import read_optical_flow, write_optical_flow
from camhd_motion.formats.regions_csv import read_regions_csv, write_regions_csv
from camhd_motion.formats.regions_json import read_regions_json, write_regions_json
from camhd_motion.motion.model import RegionParams
from camhd_motion.regions import find_regions

# shared/ lies beside the checkout (CI copies it there)
_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
DAY = _REAL / "RS03ASHS/PN03B/06-CAMHDA301/2016/01/01"
STEMS = ("CAMHDA301-20160101T000000Z", "CAMHDA301-20160101T030000Z",
         "CAMHDA301-20160101T060000Z")
MOTION = DAY / "CAMHDA301-20160101T030000Z_optical_flow.json"
ORIGINAL_SIZE_FACTOR = 13  # columns of the original's DataFrame for a 1.0 motion file

pytestmark = pytest.mark.skipif(not DAY.is_dir(), reason="real data not available")


def regions_path(stem: str) -> Path:
    return DAY / f"{stem}_optical_flow_regions.json"


@pytest.fixture(scope="module")
def motion():
    return read_optical_flow(MOTION)


@pytest.fixture(scope="module")
def original():
    return read_regions_json(regions_path(STEMS[1]))


@pytest.fixture(scope="module")
def ours(motion):
    return find_regions(motion.samples, motion.params.stride, RegionParams())


@pytest.mark.parametrize("stem, n_regions, n_static", [
    (STEMS[0], 77, 39), (STEMS[1], 81, 41), (STEMS[2], 77, 39)])
def test_reads_the_original_regions_files(tmp_path, stem, n_regions, n_static):
    result = read_regions_json(regions_path(stem))
    assert len(result.regions) == n_regions
    static = [r for r in result.regions if r.type == "static"]
    assert len(static) == n_static
    assert all(r.scene_tag and "sceneTagMeta" in r.extra for r in static)
    assert all(r.scene_tag is None and not r.extra for r in result.regions if r not in static)
    assert result.versions == {"findRegions": "1.0", "classifyRegions": "1.1"}
    assert result.movie.url.endswith(f"/{stem}.mov")
    assert list(result.depends["opticalFlow"])[0].endswith("_optical_flow.json")
    assert "classification" in result.performance["timing"]
    # written back and read again: nothing lost (sceneTagMeta, versions, depends, ...)
    again = read_regions_json(write_regions_json(result, tmp_path / "r.json"))
    assert again == result


def test_camhd_md_reference_values():
    static = [r for r in read_regions_json(regions_path(STEMS[0])).regions
              if r.type == "static"]
    assert len(static) == 39
    assert [(r.start_frame, r.end_frame) for r in static[:3]] == [
        (581, 1051), (1221, 1351), (1711, 2191)]
    assert (static[-1].start_frame, static[-1].end_frame) == (24121, 24421)


def test_csv_of_the_three_videos(tmp_path):
    results = [read_regions_json(regions_path(s)) for s in reversed(STEMS)]
    path = tmp_path / "regions.csv"
    assert write_regions_csv(results, path) == 39 + 41 + 39
    lines = path.read_text().splitlines()
    # the first data row of the original's published regions.csv
    assert lines[1] == "CAMHDA301-20160101T000000Z,2016-01-01T00:00:00,581,1051,d2_p1_z0"
    rows = read_regions_csv(path)
    assert [r.mov_basename for r in rows] == sorted(r.mov_basename for r in rows)
    assert rows[-1].date_time == "2016-01-01T06:00:00"


def test_reads_the_original_motion_file(motion):
    samples = motion.samples
    assert len(samples) == 2518
    assert [s.frame for s in samples] == list(range(1, 25172, 10))
    valid = [s for s in samples if s.valid]
    assert len(valid) == 2378 and (valid[0].frame, valid[-1].frame) == (581, 24351)
    assert motion.movie.num_frames == 25176 and motion.movie.duration == 840.039184570312
    assert (motion.movie.width, motion.movie.height) == (1920, 1080)
    assert (motion.params.stride, motion.params.pair_offset, motion.params.img_scale) == (
        10, 5, 0.25)
    assert motion.performance["sampleSeconds"]["count"] == 2518
    # the two fits at the estimator's limits
    by_frame = {s.frame: s for s in samples}
    assert by_frame[4171].similarity.scale == 0.5 and by_frame[2621].similarity.scale == 1.5


def test_static_regions_reproduced_exactly(ours, original):
    ours_static = [(r.start_frame, r.end_frame) for r in ours if r.type == "static"]
    theirs = [(r.start_frame, r.end_frame) for r in original.regions if r.type == "static"]
    assert len(theirs) == 41
    assert ours_static == theirs


def test_all_bounds_identical_and_all_labels_but_one(ours, original):
    assert [(r.start_frame, r.end_frame) for r in ours] == [
        (r.start_frame, r.end_frame) for r in original.regions]
    differ = [(r.start_frame, r.end_frame, r.type, o.type)
              for r, o in zip(ours, original.regions, strict=True) if r.type != o.type]
    assert differ == [(2201, 2511, "NW", "E")]


def _merged_bounds(motion) -> set[tuple[int, int]]:
    unsquashed = find_regions(motion.samples, 10, RegionParams(squash_frames=-1))
    return {(r.start_frame, r.end_frame) for r in unsquashed}


def _mean_half_open(motion, start: int, end: int) -> tuple[float, float, float, int]:
    owned = [s.similarity for s in motion.samples if s.valid and start <= s.frame < end]
    n = len(owned)
    return (sum(s.scale for s in owned) / n, sum(s.tx for s in owned) / n,
            sum(s.ty for s in owned) / n, n)


def test_stats_match_the_original_up_to_the_fixes(motion, ours, original):
    unsquashed = _merged_bounds(motion)
    merged = [(r.start_frame, r.end_frame, r.type) for r in ours
              if (r.start_frame, r.end_frame) not in unsquashed]
    assert merged == [(1371, 1711, "N"), (2201, 2511, "NW"), (2591, 2701, "unknown"),
                      (3991, 4201, "static"), (4261, 4341, "static"),
                      (18631, 19121, "static"), (23481, 23861, "static")]
    merged_bounds = {(a, b) for a, b, _ in merged}
    checked = 0
    for r, o in zip(ours, original.regions, strict=True):
        if (r.start_frame, r.end_frame) in merged_bounds:
            continue
        checked += 1
        assert o.stats.size % ORIGINAL_SIZE_FACTOR == 0
        n_original = o.stats.size // ORIGINAL_SIZE_FACTOR
        mine = (r.stats.scale_mean, r.stats.tx_mean, r.stats.ty_mean)
        theirs = (o.stats.scale_mean, o.stats.tx_mean, o.stats.ty_mean)
        if r.type == "static":
            assert r.stats.size == n_original + 1  # we also own the last sample
            half_open = _mean_half_open(motion, r.start_frame, r.end_frame)
            assert half_open[3] == n_original
            assert half_open[:3] == pytest.approx(theirs, rel=1e-12, abs=1e-12)
            assert mine == pytest.approx(theirs, abs=1.0)  # a hold either way
        else:
            assert r.stats.size == n_original
            assert mine == pytest.approx(theirs, rel=1e-12, abs=1e-12)
    assert checked == 74


def test_merged_static_regions_describe_the_hold(ours):
    # e.g. 3991-4201 bridges the bad fit at 4171 (scale 0.5, tx 275): the original kept the
    # stats of its last 2 samples; ours are over the 21 stable samples of both runs.
    [r] = [r for r in ours if (r.start_frame, r.end_frame) == (3991, 4201)]
    assert r.stats.size == 21
    assert abs(r.stats.scale_mean - 1) < 0.01
    assert math.hypot(r.stats.tx_mean, r.stats.ty_mean) < 1.0


def test_original_motion_file_survives_conversion_to_1_1(tmp_path, motion, ours):
    again = read_optical_flow(write_optical_flow(motion, tmp_path / "m.json"))
    assert again.samples == motion.samples  # invalid samples were already identity
    assert again.movie == motion.movie and again.params == motion.params
    assert find_regions(again.samples, again.params.stride) == ours
