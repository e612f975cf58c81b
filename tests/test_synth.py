"""The synthetic archive generator: exact truth, determinism, layout, md5, co64."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from camhd_motion.archive.names import ARCHIVE_PREFIX, parse_name
from camhd_motion.cli import main as cli_main
from camhd_motion.geometry import Similarity
from camhd_motion.synth import (
    NO_EFFECTS,
    Preset,
    Truth,
    build_video,
    chunk_offset_tables,
    generate_video,
    get_preset,
    rewrite_as_co64,
    truth_path,
)
from camhd_motion.synth.camera import similarity_between
from camhd_motion.synth.render import grey_mean
from camhd_motion.synth.routine import MOVE_KINDS, make_routine
from camhd_motion.synth.steps import pair_truth, sample_pairs
from camhd_motion.synth.thresholds import STATIC_S, STATIC_T, gap_label

# A few-second video for end-to-end checks that must not wait for the archive fixture.
TINY = Preset("tiny", 320, 180, 2.0, dark_start_s=0.3, dark_end_s=0.3, ramp_on_s=0.2,
              ramp_off_s=0.1, hold_s=(1.0, 1.2), zoom_levels=(1.15, 2.1))


def _decoded_digests(path: Path) -> list[str]:
    """md5 of every decoded frame's planes."""
    out = []
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            digest = hashlib.md5()
            for plane in frame.planes:
                digest.update(bytes(plane))
            out.append(digest.hexdigest())
    return out


# -- the camera convention -------------------------------------------------------------


def _index_affine(sim: Similarity, w: int, h: int) -> np.ndarray:
    """``sim`` as a cv2 (index-coordinate) forward map: index = continuous - 0.5."""
    m = sim.to_affine((w / 2, h / 2))
    a = m[:, :2]
    return np.hstack([a, (a @ [0.5, 0.5] + m[:, 2] - 0.5)[:, None]])


def _residual_shift(frame_a, frame_b, m_index) -> np.ndarray:
    """Sub-pixel translation left between ``frame_b`` and ``frame_a`` warped by
    ``m_index`` (ECC on blurred grey images, inside the warped area)."""
    h, w = frame_b.shape[:2]
    warped = cv2.warpAffine(frame_a, m_index, (w, h), flags=cv2.INTER_LINEAR)
    inside = cv2.warpAffine(np.full((h, w), 255, np.uint8), m_index, (w, h)) == 255
    inside = cv2.erode(inside.astype(np.uint8), np.ones((9, 9), np.uint8))
    assert inside.mean() > 0.2

    def grey(img):
        g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return cv2.GaussianBlur(g, (0, 0), 1.5)

    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 200, 1e-6)
    _, warp = cv2.findTransformECC(grey(frame_b), grey(warped), np.eye(2, 3, dtype=np.float32),
                                   cv2.MOTION_TRANSLATION, crit, inside, 1)
    return warp[:, 2]


def test_similarity_between_maps_world_points():
    """The pixel of a world point in pose a maps to its pixel in pose b."""
    w, h = 960, 540
    pa, pb = (1000.0, 700.0, 1.3, 0.1), (1012.5, 689.0, 2.2, -0.2)
    sim = similarity_between(pa, pb)
    c = np.array([w / 2, h / 2])
    rng = np.random.default_rng(0)
    for p_a in rng.uniform(0, [w, h], (5, 2)):
        ca, sa = math.cos(pa[3]), math.sin(pa[3])
        world = np.array(pa[:2]) + np.array([[ca, -sa], [sa, ca]]) @ (p_a - c) / pa[2]
        cb, sb = math.cos(pb[3]), math.sin(pb[3])
        p_b = c + pb[2] * np.array([[cb, sb], [-sb, cb]]) @ (world - np.array(pb[:2]))
        got = sim.to_affine(tuple(c)) @ np.append(p_a, 1.0)
        np.testing.assert_allclose(got, p_b, atol=1e-9)


def test_renderer_obeys_truth_convention():
    """Two clean renders with a large zoom and roll difference: warping one onto the other
    with the truth leaves < 0.05 px; confusing index and continuous coordinates (about
    0.5 px here) would not pass."""
    video = build_video("test", 3, effects=NO_EFFECTS)
    r = video.renderer
    wx, wy = video.routine.world_size
    pa = (wx / 2, wy * 0.6, 1.2, 0.0)
    pb = (wx / 2 + 37.3, wy * 0.6 - 21.7, 2.1, 0.25)
    fa, fb = r.render(1, pa, 1.0), r.render(2, pb, 1.0)
    sim = similarity_between(pa, pb)
    shift = _residual_shift(fa, fb, _index_affine(sim, r.width, r.height))
    assert np.hypot(*shift) < 0.05, shift
    wrong = _residual_shift(fa, fb, sim.to_affine((r.width / 2, r.height / 2)))
    assert np.hypot(*wrong) > 0.3, wrong


def test_truth_of_routine_pairs(synth_archive):
    """Frame pairs of the archive's routine (a zoom, a diagonal, a hold) rendered clean
    and compared through ``Truth.similarity``."""
    mov, truth = synth_archive.lit[0]
    video = build_video(truth.preset, truth.seed, scene_seed=truth.scene_seed,
                        effects=NO_EFFECTS)
    np.testing.assert_array_equal(video.routine.x, truth.x)
    for label in ("zoom_in", "zoom_out", "NE", "static"):
        seg = next(s for s in truth.segments if s.label == label)
        mid = (seg.start_frame + seg.end_frame) // 2
        a, b = mid - 5, mid + 5
        sim = truth.similarity(a, b)
        shift = _residual_shift(video.frame(a), video.frame(b),
                                _index_affine(sim, truth.width, truth.height))
        assert np.hypot(*shift) < 0.05, (label, shift, sim)


# -- routine: thresholds, labels, kinds ------------------------------------------------


def _pair_stats(routine):
    _, a, b = sample_pairs(routine.num_frames)
    s, _, tx, ty = pair_truth(routine.x, routine.y, routine.z, routine.roll, a, b)
    return s, np.hypot(tx, ty)


@pytest.mark.parametrize("preset,seeds,duration", [
    ("test", range(1, 31), None), ("hd", range(1, 4), 900.0), ("hd", range(1, 6), None)])
def test_no_sample_pair_near_static_thresholds(preset, seeds, duration):
    for seed in seeds:
        routine = make_routine(get_preset(preset), seed, duration)
        s, t = _pair_stats(routine)
        assert np.all(np.abs(t - STATIC_T) > 1.0), seed
        assert np.all(np.abs(np.abs(s - 1) - STATIC_S) > 0.001), seed


def test_archive_truth_keeps_off_thresholds(synth_archive):
    for _, truth in synth_archive.lit:
        for smp in truth.samples():
            sim = smp.similarity
            assert abs(math.hypot(sim.tx, sim.ty) - STATIC_T) > 1.0, smp
            assert abs(abs(sim.scale - 1) - STATIC_S) > 0.001, smp


def test_routine_deterministic():
    a = make_routine(get_preset("test"), 11)
    b = make_routine(get_preset("test"), 11)
    c = make_routine(get_preset("test"), 12)
    for k in ("x", "y", "z", "roll", "light"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.segments == b.segments
    assert a.num_frames != c.num_frames or not np.array_equal(a.x, c.x)


def test_hd_preset_duration_and_moves():
    routine = make_routine(get_preset("hd"), 5, 600.0)
    assert routine.num_frames == round(600 * 30000 / 1001)
    s, t = _pair_stats(routine)
    moving = t >= STATIC_T
    assert 25 <= t[moving].max() <= 50.5  # pans of 25-50 px per pair
    zooms = s[np.abs(s - 1) > 0.05]
    assert np.all((zooms <= 1.0801) & (zooms >= 0.9099))  # zooms of x1.07-1.08 / x0.91-0.93


def _static_runs(samples, stride):
    """The original's static runs (>= 2 consecutive stable valid samples)."""
    runs, cur = [], []
    for smp in (s for s in samples if s.valid):
        sim = smp.similarity
        stable = sim.tx**2 + sim.ty**2 < STATIC_T**2 and abs(sim.scale - 1) < STATIC_S
        if stable and cur and smp.frame - cur[-1].frame <= 1.01 * stride:
            cur.append(smp)
            continue
        if len(cur) > 1:
            runs.append(cur)
        cur = [smp] if stable else []
    if len(cur) > 1:
        runs.append(cur)
    return runs


def test_segments_and_original_gap_labels(synth_archive):
    """Segments tile the video; each test video shows every move kind and a drift; the
    original's static runs are the holds and drifts, and the original's label of each gap
    between them is the move's label."""
    for _, truth in synth_archive.lit:
        segs = truth.segments
        assert segs[0].start_frame == 1 and segs[-1].end_frame == truth.num_frames
        assert all(a.end_frame + 1 == b.start_frame for a, b in zip(segs, segs[1:], strict=False))
        moves = [s for s in segs if s.kind == "move"]
        assert {s.label for s in moves} == set(MOVE_KINDS)
        assert any(s.kind == "drift" for s in segs)
        for s in segs:
            if s.kind == "hold":
                assert s.end_frame - s.start_frame + 1 >= 5 * truth.fps - 1
        samples = truth.samples()
        runs = _static_runs(samples, 10)
        assert len(runs) == len(moves) + 1
        valid = [s for s in samples if s.valid]
        for prev, nxt, move in zip(runs[:-1], runs[1:], moves, strict=True):
            lo, hi = prev[-1].frame + 10, nxt[0].frame
            assert prev[-1].frame <= move.start_frame + 5 and move.end_frame - 5 <= hi
            gap = [s.similarity for s in valid if lo <= s.frame <= hi]
            mean = np.mean([[g.scale, g.tx, g.ty] for g in gap], axis=0)
            assert gap_label(*mean, len(gap)) == move.label


# -- dark frames -------------------------------------------------------------------------


def test_dark_flags(synth_archive):
    for mov, truth in synth_archive.lit:
        fps = truth.fps
        assert truth.is_dark(1) and truth.is_dark(truth.num_frames)
        dark = truth.dark
        start = np.argmin(dark)  # first lit frame (0-based)
        end = truth.num_frames - np.argmin(dark[::-1])
        assert 1.2 * fps <= start <= 1.8 * fps and 1.2 * fps <= truth.num_frames - end <= 1.8 * fps
        assert not dark[start:end].any()
        assert truth.mean_grey[dark].max() < 2.0 and truth.mean_grey[~dark].min() > 8.0
        assert [s.label for s in truth.segments if s.kind == "dark"] == ["dark", "dark"]
        assert np.array_equal(dark, truth.light == 0)
        samples = truth.samples()
        assert not samples[0].valid and samples[0].reason == "dark"
        assert samples[len(samples) // 2].valid
        # the encoded file agrees: decoded grey of the first frame and the first lit one
        with av.open(str(mov)) as c:
            for i, frame in enumerate(c.decode(video=0)):
                if i in (0, start):
                    assert (frame.to_ndarray(format="gray").mean() < 5) == (i == 0)
                if i >= start:
                    break
    for _, truth in synth_archive.black:
        assert truth.dark.all() and truth.num_frames == round(4.0 * truth.fps)
        assert not any(s.valid for s in truth.samples())
        assert [s.kind for s in truth.segments] == ["dark"]


# -- archive layout, files, md5 -----------------------------------------------------------


def test_archive_layout(synth_archive):
    root = synth_archive.root
    assert [v.truth.preset for v in synth_archive.videos] == ["test", "test", "black"]
    assert len({v.truth.seed for v in synth_archive.videos}) == 3
    starts = []
    for mov, truth in synth_archive.videos:
        name = parse_name(mov.name)
        assert name.z_suffix and name.stem == truth.stem
        assert mov == root / name.archive_path
        assert truth.path == name.archive_path and truth.path.startswith(ARCHIVE_PREFIX + "/")
        assert truth.start_time == name.start.isoformat() + "Z"
        starts.append(name.start)
        with av.open(str(mov)) as c:
            st = c.streams.video[0]
            assert (st.width, st.height) == (truth.width, truth.height) == (960, 540)
            assert st.average_rate == Fraction(30000, 1001) and st.frames == truth.num_frames
            assert st.codec_context.name == "prores" and st.codec_context.profile == "Standard"
            assert st.codec_tag == "apcn" and st.format.name == "yuv422p10le"
            assert c.metadata["creation_time"].startswith(name.start.strftime("%Y-%m-%dT%H:%M"))
        with open(mov, "rb") as fh:  # the index is at the end, like CamHD's recorder writes
            fh.seek(0, 2)
            size = fh.tell()
        atoms = _top_level_atoms(mov)
        assert atoms[-1][0] == b"moov" and atoms[-1][1] + atoms[-1][2] == size
        assert chunk_offset_tables(mov) == ["stco"]
    assert starts == [dt.datetime(2016, 1, 1, 3 * i) for i in range(3)]
    assert not list(root.rglob(".*"))  # no temporary files left behind
    assert {p.name for p in root.iterdir()} == {"RS03ASHS"}


def _top_level_atoms(path: Path) -> list[tuple[bytes, int, int]]:
    out, pos, size = [], 0, path.stat().st_size
    with open(path, "rb") as fh:
        while pos + 8 <= size:
            fh.seek(pos)
            head = fh.read(16)
            n, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if n == 1:
                n = int.from_bytes(head[8:16], "big")
            out.append((kind, pos, n))
            pos += n
    return out


def test_md5_siblings(synth_archive):
    for mov, _ in synth_archive.videos:
        text = (mov.parent / (mov.name + ".md5")).read_text()
        digest = hashlib.md5(mov.read_bytes()).hexdigest()
        assert text == f"{digest}  {mov.name}\n"


def test_truth_file_round_trip(synth_archive, tmp_path):
    _, truth = synth_archive.lit[1]
    copy = tmp_path / "x.truth.json"
    truth.save(copy)
    again = Truth.load(copy)
    for k in ("x", "y", "z", "roll", "dark"):
        np.testing.assert_array_equal(getattr(again, k), getattr(truth, k))
    assert again.segments == truth.segments and again.num_frames == truth.num_frames
    samples = truth.samples(stride=10, offset=5)
    assert [s.frame for s in samples] == list(range(1, truth.num_frames + 1, 10))
    assert samples[0].from_frame == 1 and samples[0].to_frame == 6
    assert samples[-1].to_frame <= truth.num_frames
    s = samples[100]
    assert s.similarity == truth.similarity(s.from_frame, s.to_frame)
    assert truth.similarity(40, 40) == Similarity(1.0, 0.0, 0.0, 0.0)


# -- determinism, co64, CLI ---------------------------------------------------------------


def test_same_seed_same_files(tmp_path):
    start = dt.datetime(2017, 3, 4, 0, 15)
    a = generate_video(tmp_path / "a", start, TINY, seed=5, threads=1)
    b = generate_video(tmp_path / "b", start, TINY, seed=5, threads=2)
    assert a.relative_to(tmp_path / "a") == b.relative_to(tmp_path / "b")
    assert a.name == "CAMHDA301-20170304T001500.mov"
    assert a.read_bytes() == b.read_bytes()
    assert truth_path(a).read_text() == truth_path(b).read_text()
    c = generate_video(tmp_path / "c", start, TINY, seed=6, threads=1)
    assert c.read_bytes() != a.read_bytes()


def test_render_deterministic_and_effects_vary():
    v1, v2 = build_video("test", 4), build_video("test", 4)
    f1, f2 = v1.frame(300), v2.frame(300)
    assert np.array_equal(f1, f2)
    clean = build_video("test", 4, effects=NO_EFFECTS).frame(300)
    assert 0 < np.abs(f1.astype(int) - clean).mean() < 60  # lamp, noise, snow, flicker
    assert grey_mean(v1.frame(1)) < 5


def test_co64_rewrite(synth_archive, tmp_path):
    mov, truth = synth_archive.black[0]
    dst = tmp_path / mov.name
    assert rewrite_as_co64(mov, dst) == 1
    assert chunk_offset_tables(dst) == ["co64"]
    grown = dst.stat().st_size - mov.stat().st_size  # 4 more bytes per chunk offset
    assert grown > 0 and grown % 4 == 0 and grown <= 4 * truth.num_frames
    assert _decoded_digests(dst) == _decoded_digests(mov)
    # random access goes through the (now 64-bit) index
    with av.open(str(dst)) as c:
        st = c.streams.video[0]
        c.seek(60 * 1001, stream=st)
        frame = next(c.decode(st))
        assert frame.pts == 60 * 1001
    assert rewrite_as_co64(dst, tmp_path / "again.mov") == 0  # nothing left to convert
    assert (tmp_path / "again.mov").read_bytes() == dst.read_bytes()


def test_cli_video_is_idempotent(tmp_path, capsys):
    args = ["synth", "video", "--out", str(tmp_path), "--preset", "black", "--duration", "1",
            "--start", "2019-01-04T12:15:00", "--co64"]
    assert cli_main(args) == 0
    mov = Path(capsys.readouterr().out.strip())
    assert mov == tmp_path / ARCHIVE_PREFIX / "2019/01/04/CAMHDA301-20190104T121500.mov"
    assert chunk_offset_tables(mov) == ["co64"]
    mtime = mov.stat().st_mtime_ns
    assert cli_main(args) == 0 and mov.stat().st_mtime_ns == mtime  # complete: skipped
    assert cli_main([*args, "--seed", "2"]) == 2  # different parameters: refuse
    longer = [("2" if a == "1" else a) for a in args]
    assert cli_main(longer) == 2  # another duration too
    assert cli_main([*args, "--seed", "2", "--force"]) == 0
    assert Truth.load(truth_path(mov)).seed == 2
    assert cli_main(["synth", "video", "--out", str(tmp_path), "--duration", "-1"]) == 2


# -- scene families (issue 10) ---------------------------------------------------------


def test_families_combine_with_any_preset():
    from camhd_motion.errors import UserError
    from camhd_motion.synth.presets import FAMILIES, with_families

    p = get_preset("short+snow+dark")
    assert p.name == "short+dark+snow" and p.families == ("dark", "snow")
    assert get_preset(p.name) == p == with_families(get_preset("short"), ["snow", "dark"])
    assert p.effects.particles == 1000 and p.water > 0.6 and p.lit_grey is not None
    every = get_preset("hd+" + "+".join(FAMILIES))
    assert every.width == 1920 and set(every.families) == set(FAMILIES)
    with pytest.raises(UserError, match="unknown scene family"):
        get_preset("test+fog")
    with pytest.raises(UserError, match="unknown preset"):
        get_preset("nope+dark")
    # plain presets are unchanged by the families' new fields
    assert get_preset("test").families == () and get_preset("test").water == 0.0


@pytest.mark.parametrize("families",
                         ["holds", "fast", "holds+fast", "dark+fast+flicker+holds+snow"])
def test_family_routines_keep_off_the_thresholds(families):
    for seed in range(40, 48):
        routine = make_routine(get_preset("test+" + families), seed)
        s, t = _pair_stats(routine)
        assert np.all(np.abs(t - STATIC_T) > 1.0), seed
        assert np.all(np.abs(np.abs(s - 1) - STATIC_S) > 0.001), seed


def _stable(routine):
    _, a, b = sample_pairs(routine.num_frames)
    s, _, tx, ty = pair_truth(routine.x, routine.y, routine.z, routine.roll, a, b)
    stable = (np.hypot(tx, ty) < STATIC_T) & (np.abs(s - 1) < STATIC_S)
    return stable, s, np.hypot(tx, ty)


def test_holds_family_drifts_near_thresholds_and_short_holds():
    """Drifts of 7.5-8.8 px or |scale-1| 0.006-0.0085 per pair (just inside the static
    rule's 10 px / 0.01), and stops of exactly 2 or 3 static samples between moves."""
    short, near_t, near_s = [], 0, 0
    for seed in range(50, 56):
        routine = make_routine(get_preset("test+holds"), seed)
        stable, s, t = _stable(routine)
        near_t += np.sum(stable & (t > 7.5))
        near_s += np.sum(stable & (np.abs(s - 1) > 0.006))
        assert t[stable].max() < 9.0 and np.abs(s[stable] - 1).max() < 0.009
        # lengths of the static runs strictly inside the video (not the first or last)
        edges = np.flatnonzero(np.diff(np.r_[0, stable.astype(int), 0]))
        lengths = (edges[1::2] - edges[0::2])[1:-1]
        short += [n for n in lengths if n < 5]
    assert near_t > 20 and near_s > 5
    assert short and set(short) <= {2, 3}, short


def test_fast_family_moves():
    """Zooms x1.07-1.08 and x0.92-0.93 per pair, diagonal pans 40-50 px per pair, and pans
    during zooms."""
    zoom_in, zoom_out, diagonal, pan_zoom = [], [], [], 0
    for seed in range(60, 66):
        routine = make_routine(get_preset("test+fast"), seed)
        for seg in routine.segments:
            if seg.kind != "move":
                continue
            mid = (seg.start_frame + seg.end_frame) // 2
            sim = similarity_between(routine.pose(mid - 5), routine.pose(mid + 5))
            t = math.hypot(sim.tx, sim.ty)
            if abs(sim.scale - 1) > 0.05:
                (zoom_in if sim.scale > 1 else zoom_out).append(sim.scale)
                pan_zoom += t > 20
            elif min(abs(sim.tx), abs(sim.ty)) > 20:
                diagonal.append(t)
    assert zoom_in and min(zoom_in) >= 1.0699 and max(zoom_in) <= 1.0801
    assert zoom_out and min(zoom_out) >= 0.9199 and max(zoom_out) <= 0.9301
    assert diagonal and min(diagonal) >= 39.9 and max(diagonal) <= 50.1
    assert pan_zoom >= 2


def test_dark_family_frames():
    """Lit frames' mean grey 8-20 with at least 60 % of the frame dark water."""
    video = build_video("short+dark", 7)
    clean = build_video("short+dark", 7, effects=NO_EFFECTS)
    clean.renderer.exposure = 1.0
    lit = np.flatnonzero(video.routine.light >= 1.0) + 1
    for f in lit[:: len(lit) // 8]:
        assert 8.0 <= grey_mean(video.frame(int(f))) <= 20.0, f
        grey = cv2.cvtColor(clean.frame(int(f)), cv2.COLOR_BGR2GRAY)
        assert np.mean(grey < 30) >= 0.6, f  # the water is ~18 at full light, the floor ~60


def test_snow_family_drift():
    """Every particle drifts 10-30 px per pair, in one direction per video (+-10 deg) that
    does not depend on the camera."""
    from camhd_motion.synth.steps import STRIDE

    angles = []
    for seed in (1, 2, 3):
        r = build_video("short+snow", seed).renderer
        speed = np.hypot(r._snow["vx"], r._snow["vy"]) * STRIDE
        assert len(speed) == 1000 and speed.min() >= 10.0 - 1e-9 and speed.max() <= 30 + 1e-9
        angle = np.arctan2(r._snow["vy"], r._snow["vx"])
        spread = np.angle(np.exp(1j * (angle - r.snow_drift[1])))
        assert np.abs(spread).max() < math.radians(45)
        angles.append(r.snow_drift[1])
    assert np.ptp(np.mod(angles, 2 * math.pi)) > 0.1  # a direction per video


def test_flicker_family_global_and_per_lamp():
    """The frame's level moves by up to +-20 % frame to frame, and the left and right lamps
    change independently (the ratio of the halves' brightness varies)."""
    video = build_video("short+flicker", 5, effects=replace(
        get_preset("short+flicker").effects, particles=0, noise_sigma=0.0, flicker=0.0))
    pose = video.routine.pose(200)
    means, ratios = [], []
    for f in range(100, 160):
        img = cv2.cvtColor(video.renderer.render(f, pose, 1.0), cv2.COLOR_BGR2GRAY)
        means.append(img.mean())
        ratios.append(img[:, :240].mean() / img[:, -240:].mean())
    means = np.array(means) / np.median(means)
    assert 0.7 < means.min() < 0.88 and means.max() > 1.12
    assert np.ptp(ratios) > 0.15


def test_cli_video_with_families(tmp_path, capsys):
    args = ["synth", "video", "--out", str(tmp_path), "--preset", "short", "--family", "snow",
            "--family", "flicker", "--duration", "1", "--seed", "3"]
    assert cli_main(args) == 0
    mov = Path(capsys.readouterr().out.strip())
    truth = Truth.load(truth_path(mov))
    assert truth.preset == "short+flicker+snow"
    assert truth.extra["families"] == ["flicker", "snow"] and "snowDrift" in truth.extra
    assert cli_main(["synth", "video", "--out", str(tmp_path), "--preset", "short+fog"]) == 2
