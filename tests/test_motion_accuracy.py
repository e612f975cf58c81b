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


# -- hard scenes (issue 10) ------------------------------------------------------------------
#
# Dark low-texture water, dense marine snow drifting on its own, strong global and per-lamp
# flicker, holds drifting just inside the static thresholds and holds of 2-3 samples, fast
# zooms and diagonal pans, pans during zooms: the ``hard_videos`` fixture combines them.  The
# same scores and targets as ``bench/accuracy.py`` (``camhd_motion.synth.score``), which
# measures them on fresh random seeds.


@pytest.fixture(scope="module")
def hard(hard_videos):
    """(video, estimated samples, true samples, score) of every hard video."""
    from camhd_motion.synth.score import score_video

    out = []
    for video in hard_videos:
        result = analyze_video(str(video.mov), MotionParams(), workers=2)
        truth = video.truth.samples(STRIDE, 5)
        out.append((video, result, truth,
                    score_video(video.mov.name, truth, result.samples, STRIDE)))
    return out


def test_hard_videos_cover_every_family(hard_videos):
    from camhd_motion.synth.presets import FAMILIES

    seen = [f for v in hard_videos for f in v.truth.extra.get("families", [])]
    assert all(seen.count(f) >= 2 for f in FAMILIES), seen


def test_hard_scenes_meet_the_targets(hard):
    """Issue 10's targets on the pooled hard videos: valid flags >= 0.99 on lit samples,
    stable-sample F1 >= 0.995, every true hold found (count exact per video) with its
    boundaries within one sample, translation error median <= 0.2 px and p95 <= 1 px,
    scale error median <= 5e-4, move labels >= 95 % right, nothing valid in the dark."""
    from camhd_motion.synth.score import misses, summarize

    summary = summarize([sc for *_, sc in hard])
    assert summary["lit"] >= 400 and summary["holds_true"] >= 15
    assert not misses(summary), (misses(summary), summary)
    for video, _, _, sc in hard:  # and per video, not only pooled
        assert sc.holds_found == sc.holds_true == sc.holds_est, video.mov.name
        assert sc.lit_valid >= 0.98 * sc.lit, (video.mov.name, dict(sc.reasons))


def test_hard_scenes_no_wrong_valid_estimate(hard):
    """A valid flag means a right answer: no valid estimate off by more than 2 px or 0.01
    in scale (the static thresholds are 10 px and 0.01)."""
    for video, _, _, sc in hard:
        assert sc.gross == 0, video.mov.name


def test_unknowable_pairs_are_invalid():
    """Two frames of independent sensor noise (no texture: the motion is unknowable) are
    invalid, not a confident random motion."""
    from camhd_motion.motion.estimator import MotionEstimator

    est = MotionEstimator(MotionParams(), (1920, 1080), 4)
    for seed in range(10):
        rng = np.random.default_rng(seed)
        a, b = (np.clip(rng.normal(20, 2, (270, 480)), 0, 255).astype(np.uint8)
                for _ in range(2))
        motion = est.estimate(est.prepare(1, a), est.prepare(11, b))
        assert not motion.valid, (seed, motion)


def test_two_motions_of_equal_support_are_ambiguous():
    """Half the texture moves one way, half the other (e.g. a snow layer as textured as the
    seafloor): no dominant motion, so no answer."""
    import cv2

    from camhd_motion.motion.estimator import MotionEstimator

    rng = np.random.default_rng(3)
    tex = cv2.GaussianBlur(rng.integers(0, 256, (400, 700)).astype(np.uint8), (0, 0), 2.0)
    a = tex[50:320, 50:530].copy()
    b = a.copy()
    b[:, :240] = tex[50:320, 56:296]  # left half: content moved 6 px left
    b[:, 240:] = tex[44:314, 290:530]  # right half: content moved 6 px down
    est = MotionEstimator(MotionParams(), (1920, 1080), 4)
    motion = est.estimate(est.prepare(1, a), est.prepare(11, b))
    assert not motion.valid and motion.reason.startswith("ambiguous"), motion
    same = est.estimate(est.prepare(1, a), est.prepare(11, np.roll(a, 6, axis=1)))
    assert same.valid and abs(same.similarity.tx - 24) < 0.5, same


def test_texture_image_is_the_integer_formula():
    """The texture image (estimator spec step 3) equals its definition in plain integers:
    the native engine implements the same arithmetic."""
    import cv2

    from camhd_motion.motion import estimator as E

    rng = np.random.default_rng(5)
    grey = cv2.GaussianBlur(rng.integers(0, 60, (135, 241)).astype(np.uint8), (0, 0), 1.0)
    grey[40:44, 100:103] = 250  # a snow speck
    got, got_gain = E.texture_image(grey, 7)
    opened = cv2.morphologyEx(grey, cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    assert opened[40:44, 100:103].max() < 100  # the speck is gone
    k, n = E.TEXTURE_BOX, E.TEXTURE_BOX ** 2
    pad = np.pad(opened.astype(np.int64), k // 2, mode="edge")
    box = sum(pad[i:i + opened.shape[0], j:j + opened.shape[1]]
              for i in range(k) for j in range(k))
    d = n * opened.astype(np.int64) - box
    gain = int(min(E.TEXTURE_GAIN_MAX,
                   max(1, math.floor(256 * E.TEXTURE_MAD * d.size / np.abs(d).sum() + 0.5))))
    want = np.clip(np.rint(np.maximum(d, -(32768 // gain)) * gain / 256 + 128), 0, 255)
    assert np.array_equal(got, want.astype(np.uint8)) and got_gain == gain
    assert abs(np.abs(got.astype(int) - 128).mean() - E.TEXTURE_MAD) < 2
