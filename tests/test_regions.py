"""``find_regions`` on hand-built sample sequences, and the ``regions`` command."""

from __future__ import annotations

import json
import math
import random

import pytest

from camhd_motion.cli import main
from camhd_motion.formats.optical_flow import write_optical_flow
from camhd_motion.formats.regions_json import read_regions_json
from camhd_motion.geometry import Similarity
from camhd_motion.motion.model import (
    MotionParams,
    MotionResult,
    MotionSample,
    MovieInfo,
    RegionParams,
)
from camhd_motion.regions import find_regions, is_stable

STRIDE = 10
STILL = (1.0, 0.1, -0.2)  # (scale, tx, ty): a hold
INVALID = None


def seq(*segments, first: int = 1, stride: int = STRIDE) -> list[MotionSample]:
    """Samples every ``stride`` frames; ``segments`` are ``(count, (scale, tx, ty) | None)``,
    ``None`` meaning invalid samples."""
    out, frame = [], first
    for count, motion in segments:
        for _ in range(count):
            valid = motion is not None
            scale, tx, ty = motion if valid else (1.0, 0.0, 0.0)
            out.append(MotionSample(frame, frame - 5, frame + 5,
                                    Similarity(scale, 0.0, tx, ty), valid=valid))
            frame += stride
        # (frames advance for invalid samples too: they are missing from the valid list)
    return out


def frames_of(regions):
    return [(r.start_frame, r.end_frame, r.type) for r in regions]


def f(i: int) -> int:
    """Frame of the i-th sample (0-based) of a ``seq``."""
    return 1 + STRIDE * i


# -- empty and degenerate inputs ------------------------------------------------------------

@pytest.mark.parametrize(
    "samples",
    [[], seq((20, INVALID)), seq((20, (1.0, 30.0, 0.0))), seq((1, STILL), (3, (1.07, 0, 0)))],
    ids=["empty", "all-invalid", "all-moving", "one-stable-sample"],
)
def test_no_static_run_means_no_regions(samples):
    assert find_regions(samples, STRIDE) == []


def test_one_run_is_one_static_region_owning_all_its_samples():
    samples = seq((3, INVALID), (10, STILL), (2, INVALID))
    [r] = find_regions(samples, STRIDE)
    assert (r.start_frame, r.end_frame, r.type) == (f(3), f(12), "static")
    assert r.stats.size == 10
    assert r.stats.scale_mean == pytest.approx(1.0)
    assert (r.stats.tx_mean, r.stats.ty_mean) == pytest.approx((0.1, -0.2))


def test_stride_must_be_positive():
    with pytest.raises(ValueError):
        find_regions(seq((5, STILL)), 0)


# -- labels -------------------------------------------------------------------------------

def two_holds_around(motion, n=5):
    return seq((10, STILL), (n, motion), (10, STILL))


@pytest.mark.parametrize(
    "motion, label",
    [
        ((1.0, 20.0, 0.0), "W"),
        ((1.0, 20.0, 20.0), "NW"),
        ((1.0, 20.0, -20.0), "SW"),
        ((1.0, -20.0, 0.0), "E"),
        ((1.0, -20.0, 20.0), "NE"),
        ((1.0, -20.0, -20.0), "SE"),
        ((1.0, 0.0, 20.0), "N"),
        ((1.0, 0.0, -20.0), "S"),
        ((1.07, 1.0, -2.0), "zoom_in"),
        ((0.93, 1.0, 2.0), "zoom_out"),
        ((1.07, 20.0, 0.0), "W"),  # translation overrides zoom
        ((0.93, 0.0, -20.0), "S"),
        ((1.02, 1.0, 1.0), "unknown"),  # moving (|scale-1| >= 0.01) but below every label
        ((1.0, 10.0, 0.0), "unknown"),  # thresholds are strict: tx == 10 is not W
    ],
)
def test_motion_region_label(motion, label):
    regions = find_regions(two_holds_around(motion), STRIDE)
    assert frames_of(regions) == [(f(0), f(9), "static"), (f(10), f(15), label),
                                  (f(15), f(24), "static")]
    gap = regions[1]
    # The motion region owns the samples strictly between the holds: exactly the 5 moves.
    assert gap.stats.size == 5
    assert (gap.stats.scale_mean, gap.stats.tx_mean, gap.stats.ty_mean) == pytest.approx(motion)


def test_short_when_fewer_than_two_samples_between_the_holds():
    one = seq((10, STILL), (1, (1.0, 30.0, 0.0)), (4, INVALID), (10, STILL))
    regions = find_regions(one, STRIDE)
    assert frames_of(regions)[1] == (f(10), f(15), "short")
    assert regions[1].stats.size == 1 and regions[1].stats.tx_mean == 30.0

    none = seq((10, STILL), (5, INVALID), (10, STILL))  # lights off: nothing between
    regions = find_regions(none, STRIDE)
    assert frames_of(regions) == [(f(0), f(9), "static"), (f(10), f(15), "short"),
                                  (f(15), f(24), "static")]
    assert regions[1].stats.size == 0 and math.isnan(regions[1].stats.scale_mean)


# -- runs ---------------------------------------------------------------------------------

def test_an_invalid_sample_breaks_a_run():
    samples = seq((10, STILL), (1, INVALID), (10, STILL))
    unsquashed = find_regions(samples, STRIDE, RegionParams(squash_frames=0))
    assert frames_of(unsquashed) == [(f(0), f(9), "static"), (f(10), f(11), "short"),
                                     (f(11), f(20), "static")]
    # ...and with the default squash the 10-frame gap disappears again (the lights-off sample
    # is in no region's stats).
    [r] = find_regions(samples, STRIDE)
    assert (r.start_frame, r.end_frame, r.type, r.stats.size) == (f(0), f(20), "static", 20)


def test_gap_factor_decides_what_is_consecutive():
    samples = [s for s in seq((20, STILL)) if s.frame != f(10)]  # one sample missing
    assert len(find_regions(samples, STRIDE, RegionParams(squash_frames=0))) == 3
    assert len(find_regions(samples, STRIDE, RegionParams(gap_factor=2.0))) == 1


def test_single_sample_runs_are_dropped_and_their_sample_feeds_the_motion_region():
    move = (1.0, 0.0, 40.0)
    samples = seq((10, STILL), (3, move), (1, STILL), (3, move), (10, STILL))
    regions = find_regions(samples, STRIDE)
    assert frames_of(regions) == [(f(0), f(9), "static"), (f(10), f(17), "N"),
                                  (f(17), f(26), "static")]
    assert regions[1].stats.size == 7
    assert regions[1].stats.ty_mean == pytest.approx((6 * 40.0 - 0.2) / 7)


def test_min_run_is_configurable():
    samples = seq((10, STILL), (5, (1.0, 0, 40.0)), (5, STILL), (5, (1.0, 0, 40.0)), (10, STILL))
    assert [r.type for r in find_regions(samples, STRIDE)].count("static") == 3
    statics = [r for r in find_regions(samples, STRIDE, RegionParams(min_run=6))
               if r.type == "static"]
    assert [(r.start_frame, r.end_frame) for r in statics] == [(f(0), f(9)), (f(25), f(34))]


def test_stable_thresholds_are_strict_and_configurable():
    edge = (1.0, 6.0, 8.0)  # tx^2 + ty^2 == 100: not stable
    assert find_regions(seq((10, edge)), STRIDE) == []
    assert len(find_regions(seq((10, edge)), STRIDE, RegionParams(max_translation_sq=101))) == 1
    zoomish = (1.005, 0.0, 0.0)
    assert len(find_regions(seq((10, zoomish)), STRIDE)) == 1
    assert find_regions(seq((10, zoomish)), STRIDE, RegionParams(max_scale_dev=0.004)) == []


def test_label_thresholds_are_configurable():
    samples = two_holds_around((1.0, 20.0, 0.0))
    assert find_regions(samples, STRIDE, RegionParams(move_px=25.0))[1].type == "unknown"
    samples = two_holds_around((1.03, 0.0, 0.0))
    assert find_regions(samples, STRIDE)[1].type == "unknown"
    assert find_regions(samples, STRIDE, RegionParams(zoom_in=1.02))[1].type == "zoom_in"
    samples = two_holds_around((0.97, 0.0, 0.0))
    assert find_regions(samples, STRIDE, RegionParams(zoom_out=0.98))[1].type == "zoom_out"


def test_input_order_and_non_finite_samples_do_not_matter():
    samples = two_holds_around((1.0, 0.0, 30.0))
    expected = find_regions(samples, STRIDE)
    shuffled = samples[:]
    random.Random(1).shuffle(shuffled)
    assert find_regions(shuffled, STRIDE) == expected
    broken = samples[:]
    broken[12] = MotionSample(f(12), 0, 0, Similarity(float("nan"), 0, 0, 0), valid=True)
    assert find_regions(broken, STRIDE)[1].stats.size == 4  # treated as invalid


def test_other_stride():
    samples = seq((10, STILL), (8, (1.0, 0.0, -30.0)), (10, STILL), stride=5)
    regions = find_regions(samples, 5)
    assert [(r.start_frame, r.end_frame, r.type) for r in regions] == [
        (1, 46, "static"), (51, 91, "S"), (91, 136, "static")]


# -- squash ---------------------------------------------------------------------------------

def test_short_motion_between_holds_is_squashed_into_one_static_region():
    blip = (1.0, 0.0, 30.0)
    samples = seq((10, STILL), (2, blip), (10, STILL))  # motion region [f10, f12]: 20 frames
    [r] = find_regions(samples, STRIDE)
    assert (r.start_frame, r.end_frame, r.type) == (f(0), f(21), "static")
    # Fix 1: stats are those of the merged hold (both runs), not of the last run only; the
    # blip's moving samples are bridged, not averaged in.
    assert r.stats.size == 20
    assert (r.stats.tx_mean, r.stats.ty_mean) == pytest.approx((0.1, -0.2))


def test_a_hold_with_a_bad_fit_keeps_the_holds_stats():
    samples = seq((10, STILL), (1, (0.5, 275.0, 125.0)), (10, STILL))
    [r] = find_regions(samples, STRIDE)
    assert r.stats.size == 20 and r.stats.scale_mean == pytest.approx(1.0)


def test_short_hold_between_moves_is_squashed_and_the_merged_move_relabelled():
    north, west = (1.0, 0.0, 40.0), (1.0, 40.0, 0.0)
    samples = seq((10, STILL), (5, north), (3, STILL), (5, west), (10, STILL))
    unsquashed = find_regions(samples, STRIDE, RegionParams(squash_frames=0))
    assert [r.type for r in unsquashed] == ["static", "N", "static", "W", "static"]
    regions = find_regions(samples, STRIDE)
    # The 3-sample hold [f15, f17] (20 frames) and the N move before it are merged into the
    # W move after it, which takes the N move's start.  The original kept the W move's
    # label and stats; here they are recomputed over the 13 samples.
    assert frames_of(regions) == [(f(0), f(9), "static"), (f(10), f(23), "NW"),
                                  (f(23), f(32), "static")]
    m = regions[1].stats
    assert m.size == 13
    assert (m.tx_mean, m.ty_mean) == pytest.approx(((200 + 0.3) / 13, (200 - 0.6) / 13))


@pytest.mark.parametrize("moves, squashed", [(3, True), (4, False)])
def test_squash_limit_is_inclusive_in_frames(moves, squashed):
    # A gap of n moving samples spans (n) * stride frames: 30 is squashed, 40 is not.
    samples = seq((10, STILL), (moves, (1.0, 0.0, 40.0)), (10, STILL))
    assert len(find_regions(samples, STRIDE)) == (1 if squashed else 3)


def test_first_and_last_regions_are_never_squashed():
    samples = seq((2, STILL), (5, (1.0, 40.0, 0.0)), (10, STILL), (5, (1.0, -40.0, 0)),
                  (2, STILL))
    regions = find_regions(samples, STRIDE)
    assert frames_of(regions) == [(f(0), f(1), "static"), (f(2), f(7), "W"),
                                  (f(7), f(16), "static"), (f(17), f(22), "E"),
                                  (f(22), f(23), "static")]


def test_squash_frames_is_configurable():
    samples = seq((10, STILL), (5, (1.0, 40.0, 0.0)), (10, STILL))
    assert len(find_regions(samples, STRIDE)) == 3
    assert len(find_regions(samples, STRIDE, RegionParams(squash_frames=50))) == 1


def test_every_valid_sample_between_first_and_last_hold_belongs_to_one_region():
    rng = random.Random(7)
    kinds = [STILL, INVALID, (1.0, 30.0, 0.0), (1.07, 0.0, 0.0), (1.0, 0.0, -25.0)]
    segments = [(rng.randint(1, 12), rng.choice(kinds)) for _ in range(60)]
    samples = seq((10, STILL), *segments, (10, STILL))
    regions = find_regions(samples, STRIDE)
    params = RegionParams()
    owned = [s.frame for s in samples if s.valid
             if regions[0].start_frame <= s.frame <= regions[-1].end_frame]
    # ...except moving samples inside a static region (a squashed blip): bridged, not owned
    owned = [fr for fr in owned
             if not any(r.type == "static" and r.start_frame <= fr <= r.end_frame
                        and not is_stable(samples[(fr - 1) // STRIDE], params)
                        for r in regions)]
    assert sum(r.stats.size for r in regions) == len(owned)
    # regions tile the span: static/motion alternate and touch as in the original
    for a, b in zip(regions, regions[1:], strict=False):
        assert (a.type == "static") != (b.type == "static")
        assert b.start_frame == (a.end_frame + STRIDE if a.type == "static" else a.end_frame)
        assert b.end_frame - b.start_frame > 30 or b is regions[-1]


# -- the command ------------------------------------------------------------------------------

def motion_file(tmp_path, samples, stem="CAMHDA301-20160101T030000Z"):
    movie = MovieInfo(url=f"/RS03ASHS/PN03B/06-CAMHDA301/2016/01/01/{stem}.mov",
                      num_frames=samples[-1].frame + 5, duration=100.0)
    path = tmp_path / f"{stem}_optical_flow.json"
    write_optical_flow(MotionResult(movie, MotionParams(), samples), path)
    return path


def test_command_writes_beside_the_input(tmp_path):
    path = motion_file(tmp_path, two_holds_around((1.0, 0.0, 30.0)))
    assert main(["regions", str(path)]) == 0
    out = tmp_path / "CAMHDA301-20160101T030000Z_optical_flow_regions.json"
    result = read_regions_json(out)
    assert [r.type for r in result.regions] == ["static", "N", "static"]
    assert result.versions == {"findRegions": "1.1"}
    assert result.stride == 10
    [(key, blob)] = result.depends["opticalFlow"].items()
    assert key == ("RS03ASHS/PN03B/06-CAMHDA301/2016/01/01/"
                   "CAMHDA301-20160101T030000Z_optical_flow.json")
    assert len(blob) == 40


def test_command_threshold_options_and_output(tmp_path):
    path = motion_file(tmp_path, two_holds_around((1.0, 0.0, 30.0)))
    out = tmp_path / "sub" / "r.json"
    assert main(["regions", str(path), "-o", str(out), "--squash-frames", "60",
                 "--move-px", "5"]) == 0
    result = read_regions_json(out)
    assert [r.type for r in result.regions] == ["static"]
    assert result.params.squash_frames == 60 and result.params.move_px == 5.0


@pytest.mark.parametrize("content, cause", [
    (None, "no such file"),
    ("{not json", "not valid JSON"),
    ('{"movie": {"URL": "/x.mov"}}', "missing frameStats"),
    ('{"movie": {"URL": "/x.mov"}, "frameStats": [{"frameNumber": 1}]}', "frameStats[0]"),
])
def test_command_bad_input_is_a_one_line_error(tmp_path, capsys, content, cause):
    path = tmp_path / "x_optical_flow.json"
    if content is not None:
        path.write_text(content)
    assert main(["regions", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err and cause in err
    assert not (tmp_path / "x_optical_flow_regions.json").exists()


def test_command_no_static_section_still_writes_an_empty_file(tmp_path):
    path = motion_file(tmp_path, seq((20, INVALID)))
    assert main(["regions", str(path)]) == 0
    doc = json.loads(path.with_name(path.name.replace(".json", "_regions.json")).read_text())
    assert doc["regions"] == []
