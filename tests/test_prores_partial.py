"""The partial ProRes decoder (native/src/prores_partial.cpp, docs/PRORES.md) against
FFmpeg's full decode, which stays its fallback and its reference.

- the picture: the working grey image from the partial decoder against FFmpeg's full
  decode block-summed by 4 (or 8) and mapped by the same table, within the error stated
  in docs/PRORES.md, on every synthetic preset and every ProRes profile of both FFmpeg
  encoders;
- the motion: partial against full decode on the synthetic test archive, median
  translation difference <= 0.05 px, the same valid flags; where the partial picture is
  not good enough (estimator step 9), the full decode's estimates: frames of faint texture
  decoded in full, the pairs the partial picture leaves unsettled looked at again;
- the fallback: the extension missing, another working scale, an interlaced frame,
  ``decoder="ffmpeg"`` -- each gives FFmpeg's results, with the reason logged once;
- hostile bytes: mutated and truncated frames never crash and end as an image, a
  ``damaged`` frame or an FFmpeg decision; slice data overwritten is ``damaged``;
- the output says which decoder ran (``analysis.params.decoder``, ``framesPartial``).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from camhd_motion.formats.optical_flow import read_optical_flow, write_optical_flow
from camhd_motion.motion.analyze import analyze_video
from camhd_motion.motion.model import MotionParams
from camhd_motion.sources.local import LocalFileSource
from camhd_motion.video import partial
from camhd_motion.video.decoder import DamagedFrame, ProResDecoder
from camhd_motion.video.grey import working_grey
from camhd_motion.video.reader import FrameReader
from tests.fixtures.prores import PROFILE_TAGS, encode_clip, frames_of

pytestmark = pytest.mark.skipif(not partial.available(),
                                reason="camhd_motion.video._prores not built (pip install -e .)")

# The stated error of the partial picture against FFmpeg's (8-bit grey levels, 0-255):
# mean absolute difference and 99th percentile, per video (docs/PRORES.md).  Synthetic
# CamHD-like presets; the profile clips are sharp noise (the worst case for a 2x2
# transform: much of their energy is above the frequencies it reads).
PRESET_MEAN, PRESET_P99 = 0.6, 3
CLIP_MEAN, CLIP_P99 = 1.5, 6


def grey_error(path: Path, factor: int = 4, every: int = 1) -> tuple[float, float, int, int]:
    """(mean, p99, max) |partial - FFmpeg| in grey levels over the frames, and the number
    of frames the partial decoder decoded."""
    errs = []
    with LocalFileSource(path) as src:
        reader = FrameReader(src, factor, decoder="partial")
        index = reader.index
        full = ProResDecoder(index.codec_tag, index.width, index.height)
        frames = list(range(1, index.num_frames + 1, every))
        for g in reader.grey_frames(frames):
            luma, depth = full.decode_luma(src.read(*index.frame_range(g.frame)))
            ref = working_grey(luma, factor, depth)
            assert g.image.shape == ref.shape
            errs.append(np.abs(g.image.astype(np.int16) - ref.astype(np.int16)))
        done = reader.frames_partial
    e = np.stack(errs)
    return float(e.mean()), float(np.percentile(e, 99)), int(e.max()), done


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[tuple[str, int], Path]:
    d = tmp_path_factory.mktemp("prores_profiles")
    out = {}
    for encoder in ("prores_ks", "prores_aw"):
        for profile in PROFILE_TAGS:
            out[encoder, profile] = encode_clip(d / f"{encoder}_{profile}.mov", encoder, profile)
    return out


@pytest.fixture(scope="module")
def hd_video(tmp_path_factory) -> Path:
    """A short `hd`-preset video (1920x1080)."""
    out = tmp_path_factory.mktemp("hd")
    subprocess.run([sys.executable, "-m", "camhd_motion", "synth", "video", "--out", str(out),
                    "--preset", "hd", "--duration", "2", "--seed", "3"], check=True,
                   capture_output=True)
    return next(out.rglob("*.mov"))


# --------------------------------------------------------------------------- the picture


@pytest.mark.parametrize("encoder", ["prores_ks", "prores_aw"])
@pytest.mark.parametrize("profile", sorted(PROFILE_TAGS))
def test_picture_matches_ffmpeg_on_every_profile(clips, encoder, profile):
    path = clips[encoder, profile]
    mean, p99, worst, done = grey_error(path)
    assert done == 4, "every frame decoded by the partial decoder"
    assert mean <= CLIP_MEAN and p99 <= CLIP_P99, (PROFILE_TAGS[profile], mean, p99, worst)


def test_picture_matches_ffmpeg_on_every_preset(synth_archive, hd_video):
    test_video = synth_archive.lit[0].mov
    black = synth_archive.black[0].mov
    for path, every in ((test_video, 7), (hd_video, 3), (black, 5)):
        mean, p99, worst, done = grey_error(path, every=every)
        assert done > 0
        assert mean <= PRESET_MEAN and p99 <= PRESET_P99, (path.name, mean, p99, worst)


def test_dc_only_picture_at_one_eighth(synth_archive):
    """Factor 8: the DC alone is the exact block mean (FFmpeg's rounding apart)."""
    mean, p99, worst, done = grey_error(synth_archive.lit[0].mov, factor=8, every=11)
    assert done > 0
    assert mean <= 0.1 and worst <= 2, (mean, p99, worst)


def test_block_sums_are_on_the_luma_scale(clips):
    """A flat 10-bit picture's sums are 16 x its value (the table's scale), clipped like
    FFmpeg's pixels."""
    index, frames = frames_of(clips["prores_ks", 2])
    dec = partial.PartialDecoder(index.codec_tag, index.width, index.height, 4)
    sums = dec.block_sums(frames[0])
    assert sums.shape == (index.height // 4, index.width // 4)
    assert sums.min() >= 16 * 4 and sums.max() <= 16 * 1019
    dec12 = partial.PartialDecoder("ap4h", index.width, index.height, 4)
    index4, frames4 = frames_of(clips["prores_ks", 4])
    assert dec12.depth == 12 and dec12.block_sums(frames4[0]).max() <= 16 * 4079


# --------------------------------------------------------------------------- the motion


def translation_differences(a, b) -> np.ndarray:
    return np.array([np.hypot(x.similarity.tx - y.similarity.tx,
                              x.similarity.ty - y.similarity.ty)
                     for x, y in zip(a.samples, b.samples, strict=True) if x.valid and y.valid])


def test_motion_agrees_with_the_full_decode(synth_archive):
    """On the synthetic test archive: median translation difference <= 0.05 px (full
    resolution, per pair), the same valid flags, and both as close to the truth."""
    for video in synth_archive.videos:
        part = analyze_video(str(video.mov), MotionParams(decoder="partial"))
        full = analyze_video(str(video.mov), MotionParams(decoder="ffmpeg"))
        perf = part.performance  # lit scenes: (nearly) every frame by the partial decoder
        assert perf["framesPartial"] == perf["framesNeeded"] > 0
        assert perf["framesFaint"] <= 0.02 * perf["framesNeeded"]
        assert (perf["framesDecoded"] - perf["framesPartial"]
                <= perf["framesFaint"] + 2 * perf["samplesSecondLook"])
        assert full.performance["framesPartial"] == 0
        assert [s.valid for s in part.samples] == [s.valid for s in full.samples]
        d = translation_differences(part, full)
        if d.size:
            assert np.median(d) <= 0.05, np.median(d)
        truth = video.truth.samples()
        for result in (part, full):
            err = np.array([np.hypot(s.similarity.tx - t.similarity.tx,
                                     s.similarity.ty - t.similarity.ty)
                            for s, t in zip(result.samples, truth, strict=True) if s.valid])
            if err.size:
                assert np.median(err) <= 0.3 and np.percentile(err, 95) <= 1.5


def test_second_look_rule():
    """Looked at again: a fit that failed on the texture, or a valid one on few inliers;
    not a dark pair or an unusable frame (the full decode would not change them)."""
    from camhd_motion.motion.estimator import SECOND_LOOK_INLIERS as N
    from camhd_motion.motion.estimator import worth_a_second_look as look

    assert look(True, None, N - 1) and not look(True, None, N)
    for reason in ("ambiguous (20 vs 15)", "too few inliers (5)", "too few tracked (3)",
                   "too few corners (0)"):
        assert look(False, reason, 0), reason
    for reason in ("dark", "frame 7 damaged: the decoder found corrupt data in it",
                   "frame 7 unreadable: gone", "no pair: from and to are the same frame"):
        assert not look(False, reason, 0), reason


def dark_videos(hard_videos):
    return [v for v in hard_videos if "dark" in v.truth.extra.get("families", [])]


def sample_key(s):
    """What a sample says (not its meanGrey): compared between decoders."""
    return (s.frame, s.valid, s.reason, s.similarity, s.tracked, s.inliers)


def test_faint_frames_are_decoded_in_full(hard_videos):
    """Estimator step 9: a frame whose partial picture has a texture gain >= FAINT_GAIN is
    decoded in full: on the dark hard videos every pair of two such frames gets exactly
    the full decode's estimate, and the others are counted as partial."""
    from camhd_motion.motion.estimator import FAINT_GAIN, MotionEstimator

    both_faint = 0
    for video in dark_videos(hard_videos):
        got = analyze_video(str(video.mov), MotionParams(decoder="partial"))
        full = analyze_video(str(video.mov), MotionParams(decoder="ffmpeg"))
        with LocalFileSource(video.mov) as src:
            reader = FrameReader(src, 4, decoder="partial")
            estimator = MotionEstimator(MotionParams(), (reader.index.width,
                                                         reader.index.height), 4)
            needed = sorted({f for s in got.samples for f in (s.from_frame, s.to_frame)})
            faint = {g.frame for g in reader.grey_frames(needed)
                     if estimator.prepare(g.frame, g.image).gain >= FAINT_GAIN}
        assert got.performance["framesFaint"] == len(faint) < len(needed)
        for g, f in zip(got.samples, full.samples, strict=True):
            if g.from_frame in faint and g.to_frame in faint:
                assert sample_key(g) == sample_key(f)
                both_faint += 1
    assert both_faint > 50, "too few faint pairs: the test proves little"


def test_second_look_is_the_full_decode_of_unsettled_pairs(hard_videos, monkeypatch):
    """On the dark hard videos, every frame's partial picture kept (the faint-frame rule
    off, so that the partial pictures leave pairs unsettled): every such pair gets exactly
    the full decode's estimate, every other pair the partial picture's."""
    from camhd_motion.motion import analyze
    from camhd_motion.motion.estimator import worth_a_second_look

    monkeypatch.setattr(analyze, "too_faint_for_partial", lambda _: False)
    looks = 0
    for video in dark_videos(hard_videos):
        params = MotionParams(decoder="partial")
        got = analyze_video(str(video.mov), params)
        full = analyze_video(str(video.mov), MotionParams(decoder="ffmpeg"))
        with monkeypatch.context() as m:
            m.setattr(analyze, "worth_a_second_look", lambda *_: False)
            first = analyze_video(str(video.mov), params)
        looked = [worth_a_second_look(s.valid, s.reason, s.inliers) for s in first.samples]
        assert sum(looked) == got.performance["samplesSecondLook"] < len(looked)
        assert first.performance["samplesSecondLook"] == got.performance["framesFaint"] == 0
        looks += sum(looked)
        for g, f, p, again in zip(got.samples, full.samples, first.samples, looked,
                                  strict=True):
            assert sample_key(g) == sample_key(f if again else p)
    assert looks > 0, "no pair looked at again: the test proves nothing"


def test_output_records_the_decoder(synth_archive, tmp_path):
    video = synth_archive.lit[0].mov
    result = analyze_video(str(video), MotionParams(stride=30, decoder="partial"))
    path = write_optical_flow(result, tmp_path / "out.json")
    doc = json.loads(path.read_text())
    assert doc["analysis"]["params"]["decoder"] == "partial"
    assert doc["performance"]["framesPartial"] == doc["performance"]["framesDecoded"]
    assert read_optical_flow(path).params.decoder == "partial"
    # a file written before the partial decoder existed was decoded by FFmpeg
    del doc["analysis"]["params"]["decoder"]
    path.write_text(json.dumps(doc))
    assert read_optical_flow(path).params.decoder == "ffmpeg"


# --------------------------------------------------------------------------- the fallback


def samples_of(result):
    return [sample_key(s) for s in result.samples]


def test_without_the_extension_ffmpeg_decodes_and_says_why(synth_archive, monkeypatch,
                                                           caplog):
    video = str(synth_archive.lit[0].mov)
    params = MotionParams(stride=20, decoder="partial")
    full = analyze_video(video, MotionParams(stride=20, decoder="ffmpeg"))
    monkeypatch.setattr(partial, "_prores", None)
    monkeypatch.setattr(partial, "_logged", set())
    with caplog.at_level(logging.INFO, logger="camhd_motion.video.partial"):
        got = analyze_video(video, params)
    assert samples_of(got) == samples_of(full)
    assert got.performance["framesPartial"] == 0
    notes = [r.getMessage() for r in caplog.records if "not used" in r.getMessage()]
    assert len(notes) == 1 and "_prores is not built" in notes[0], notes


def test_another_scale_falls_back_to_ffmpeg(synth_archive, caplog, monkeypatch):
    video = str(synth_archive.lit[0].mov)
    monkeypatch.setattr(partial, "_logged", set())
    with caplog.at_level(logging.INFO, logger="camhd_motion.video.partial"):
        got = analyze_video(video, MotionParams(stride=40, img_scale=0.5, decoder="partial"))
    full = analyze_video(video, MotionParams(stride=40, img_scale=0.5, decoder="ffmpeg"))
    assert samples_of(got) == samples_of(full) and got.performance["framesPartial"] == 0
    assert any("1/2" in r.getMessage() for r in caplog.records)


def test_interlaced_frames_go_to_ffmpeg_with_the_reason(tmp_path, caplog, monkeypatch):
    clip = encode_clip(tmp_path / "interlaced.mov", "prores_ks", 2, interlaced=True)
    monkeypatch.setattr(partial, "_logged", set())
    with LocalFileSource(clip) as src, caplog.at_level(logging.INFO,
                                                      logger="camhd_motion.video.partial"):
        a = list(FrameReader(src, 4, decoder="partial").grey_frames([1, 2, 3, 4]))
        b = list(FrameReader(src, 4, decoder="ffmpeg").grey_frames([1, 2, 3, 4]))
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image)
    notes = [r.getMessage() for r in caplog.records if "interlaced" in r.getMessage()]
    assert len(notes) == 1, notes  # once, not once per frame


def test_decoder_option_on_the_command_line(synth_archive, tmp_path):
    out = tmp_path / "o.json"
    r = subprocess.run([sys.executable, "-m", "camhd_motion", "motion",
                        str(synth_archive.lit[0].mov), "-o", str(out), "--stride", "60",
                        "--decoder", "ffmpeg"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["analysis"]["params"]["decoder"] == "ffmpeg"
    assert doc["performance"]["framesPartial"] == 0
    r = subprocess.run([sys.executable, "-m", "camhd_motion", "motion",
                        str(synth_archive.lit[0].mov), "--decoder", "fast"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--decoder" in r.stderr


# --------------------------------------------------------------------------- hostile bytes


def test_mutated_frames_never_crash(clips):
    """Random mutations and truncations through the Python binding: each ends as an
    image, a DamagedFrame or Unsupported (the FFmpeg fallback), never anything else."""
    rng = np.random.default_rng(5)
    outcomes = {"ok": 0, "damaged": 0, "fallback": 0}
    for key in (("prores_ks", 0), ("prores_aw", 2), ("prores_ks", 4)):
        index, frames = frames_of(clips[key])
        dec = partial.PartialDecoder(index.codec_tag, index.width, index.height, 4)
        for _ in range(300):
            data = bytearray(frames[int(rng.integers(len(frames)))])
            for _ in range(int(rng.integers(1, 6))):
                kind = int(rng.integers(4))
                if kind == 0:
                    data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
                elif kind == 1:
                    data[int(rng.integers(min(len(data), 2048)))] = int(rng.integers(256))
                elif kind == 2:
                    del data[int(rng.integers(len(data))):]
                else:
                    at = int(rng.integers(len(data)))
                    n = int(rng.integers(1, 4096))
                    data[at : at + n] = rng.integers(0, 256, len(data[at : at + n]),
                                                     np.uint8).tobytes()
                if not data:
                    data = bytearray(b"\0")
            try:
                grey = dec.grey(bytes(data))
                assert grey.shape == (index.height // 4, index.width // 4)
                outcomes["ok"] += 1
            except DamagedFrame:
                outcomes["damaged"] += 1
            except partial.Unsupported:
                outcomes["fallback"] += 1
    assert all(outcomes.values()), outcomes


def test_overwritten_slice_data_is_damaged(clips):
    index, frames = frames_of(clips["prores_ks", 2])
    dec = partial.PartialDecoder(index.codec_tag, index.width, index.height, 4)
    data = bytearray(frames[1])
    rng = np.random.default_rng(0)
    data[2000:] = rng.integers(0, 256, len(data) - 2000, np.uint8).tobytes()
    with pytest.raises(DamagedFrame, match="partial decoder: slice"):
        dec.grey(bytes(data))
    with pytest.raises(partial.Unsupported):  # a broken header: FFmpeg decides
        dec.grey(b"\xff" * 64 + bytes(frames[1][64:]))
    with pytest.raises(partial.Unsupported):  # the index's size is not the frame's
        partial.PartialDecoder(index.codec_tag, index.width + 16, index.height, 4).grey(
            frames[1])
