"""The motion engine against exact ground truth on synthetic CamHD-like videos.

Targets (issue 2): translation error median <= 0.3 px and p95 <= 1.5 px (full-res px per
pair), scale error median <= 1e-3, stable-sample F1 >= 0.99, every true static region
found with both boundaries within one sample, black video -> all samples invalid and no
regions.  True static regions are ``find_regions`` applied to the true motion.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from camhd_motion.formats.optical_flow import read_optical_flow, write_optical_flow
from camhd_motion.motion.analyze import analyze_video
from camhd_motion.motion.model import MotionParams, RegionParams
from camhd_motion.regions import find_regions, is_stable

STRIDE = 10


@pytest.fixture(scope="module")
def analysed(synth_archive):
    """(video, estimated samples, true samples) for every video, analysed once."""
    out = []
    for video in synth_archive.videos:
        result = analyze_video(str(video.mov), MotionParams(), workers=1)
        out.append((video, result, video.truth.samples(STRIDE, 5)))
    return out


def _lit(analysed):
    return [a for a in analysed if a[0].truth.preset != "black"]


def _paired(analysed):
    """Samples valid in both the truth and the estimate, over all lit videos."""
    pairs = []
    for _, result, truth in _lit(analysed):
        assert [s.frame for s in result.samples] == [s.frame for s in truth]
        pairs += [(e, t) for e, t in zip(result.samples, truth, strict=True) if e.valid and t.valid]
    return pairs


def test_translation_error(analysed):
    pairs = _paired(analysed)
    err = np.array([math.hypot(e.similarity.tx - t.similarity.tx,
                               e.similarity.ty - t.similarity.ty) for e, t in pairs])
    assert len(err) > 300
    assert np.median(err) <= 0.3, f"median {np.median(err):.3f} px"
    assert np.percentile(err, 95) <= 1.5, f"p95 {np.percentile(err, 95):.3f} px"


def test_scale_error(analysed):
    pairs = _paired(analysed)
    err = np.array([abs(e.similarity.scale - t.similarity.scale) for e, t in pairs])
    assert np.median(err) <= 1e-3, f"median {np.median(err):.2e}"


def test_moves_are_measured_not_just_holds(analysed):
    """Guard against a test that passes on holds alone: moves must be accurate too."""
    pairs = [(e, t) for e, t in _paired(analysed)
             if math.hypot(t.similarity.tx, t.similarity.ty) > 20
             or abs(t.similarity.scale - 1) > 0.05]
    assert len(pairs) >= 20
    err = [math.hypot(e.similarity.tx - t.similarity.tx, e.similarity.ty - t.similarity.ty)
           for e, t in pairs]
    assert np.median(err) <= 0.5


def test_valid_flags_follow_the_lights(analysed):
    for video, result, truth in _lit(analysed):
        dark = [t.frame for t in truth if not t.valid]
        assert dark, "the routine starts and ends with the lights off"
        for e, t in zip(result.samples, truth, strict=True):
            if not t.valid:
                assert not e.valid and e.reason == "dark", (video.mov.name, e.frame)
        agree = np.mean([e.valid == t.valid for e, t in zip(result.samples, truth, strict=True)])
        assert agree >= 0.99, f"{video.mov.name}: valid flags agree on {agree:.3f}"


def test_stable_sample_f1(analysed):
    rp = RegionParams()
    tp = fp = fn = 0
    for _, result, truth in _lit(analysed):
        for e, t in zip(result.samples, truth, strict=True):
            est = e.valid and is_stable(e, rp)
            true = t.valid and is_stable(t, rp)
            tp += est and true
            fp += est and not true
            fn += true and not est
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert tp > 200
    assert f1 >= 0.99, f"F1 {f1:.4f} (tp {tp}, fp {fp}, fn {fn})"


def test_every_true_static_region_found(analysed):
    for video, result, truth in _lit(analysed):
        true_static = [r for r in find_regions(truth, STRIDE) if r.type == "static"]
        found = [r for r in find_regions(result.samples, STRIDE) if r.type == "static"]
        assert len(true_static) >= 5
        for r in true_static:
            match = [f for f in found if abs(f.start_frame - r.start_frame) <= STRIDE
                     and abs(f.end_frame - r.end_frame) <= STRIDE]
            assert match, f"{video.mov.name}: true static {r.start_frame}-{r.end_frame} missed"
        assert len(found) == len(true_static), f"{video.mov.name}: spurious static regions"


def test_move_labels_match_the_routine(analysed):
    """Gap regions between holds carry the routine's move labels (W, N, zoom_in, ...)."""
    for video, result, truth in _lit(analysed):
        want = [(r.start_frame, r.type) for r in find_regions(truth, STRIDE)
                if r.type != "static"]
        got = {(r.start_frame, r.type) for r in find_regions(result.samples, STRIDE)}
        for start, label in want:
            assert any(abs(s - start) <= STRIDE and t == label for s, t in got), (
                f"{video.mov.name}: move {label} at {start} not labelled")


def test_black_video_all_invalid_and_no_regions(analysed, tmp_path):
    blacks = [a for a in analysed if a[0].truth.preset == "black"]
    assert blacks
    for video, result, _ in blacks:
        assert result.samples and not any(s.valid for s in result.samples)
        assert all(s.reason == "dark" for s in result.samples)
        assert find_regions(result.samples, STRIDE) == []
        out = tmp_path / f"{video.mov.stem}_optical_flow.json"
        write_optical_flow(result, out)  # a valid output file, not an error
        again = read_optical_flow(out)
        assert len(again.samples) == len(result.samples)
        assert not any(s.valid for s in again.samples)


def test_two_workers_give_identical_numbers(synth_archive, analysed):
    video, single, _ = _lit(analysed)[0]
    double = analyze_video(str(video.mov), MotionParams(), workers=2)
    assert double.samples == single.samples
