"""The native engine (``native/``, ``docs/NATIVE.md``) against the Python engine.

Parity: the same samples, valid flags, reasons, confidences and regions, per-sample
``|dtx|, |dty| < 0.01`` px and ``|dscale| < 1e-5`` -- the stated tolerance between the
engines, which are built against different OpenCV releases (the pip wheel 4.14 and the
system's 4.6); measured: ~1e-13 px, last-bit differences.  The decoded luma of the two FFmpeg
versions (PyAV's 8, the system's 5.1) is checked to be bit-identical.

The videos are small synthetic ProRes files made here (textured scene, dark start, holds,
pans, a zoom, a flat section without corners); they take a few seconds to make once per
session.  Skipped, with the reason, when the binary is not built.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from camhd_motion.errors import UserError, VideoError
from camhd_motion.formats.optical_flow import read_optical_flow
from camhd_motion.motion.analyze import analyze_video
from camhd_motion.motion.model import MotionParams
from camhd_motion.native import (
    BINARY_NAME,
    ENV_VAR,
    analyze_video_native,
    find_native_binary,
    native_available,
    run_native,
)
from camhd_motion.regions import find_regions
from camhd_motion.synth.co64 import rewrite_as_co64

pytestmark = [
    pytest.mark.native,
    pytest.mark.skipif(
        not native_available(),
        reason=f"{BINARY_NAME} not built (cmake -S native -B native/build "
        "-DCMAKE_BUILD_TYPE=Release && cmake --build native/build -j2)",
    ),
]

TX_TOL = 0.01  # full-res px
SCALE_TOL = 1e-5
WIDTH, HEIGHT = 960, 540
STEM = "CAMHDA301-20160101T000000Z"


# --------------------------------------------------------------------------- videos


def _texture(h: int, w: int, seed: int = 7) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    t = np.zeros((h, w), np.float32)
    for s in (4, 16, 64):
        n = rng.normal(size=(h // s + 2, w // s + 2)).astype(np.float32)
        t += cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)[:h, :w] * s**0.5
    t = (t - t.min()) / (t.max() - t.min()) * 200 + 30
    for _ in range(h * w // 4000):
        x, y, r = (int(v) for v in (rng.integers(0, w), rng.integers(0, h), rng.integers(3, 20)))
        cv2.circle(t, (x, y), r, float(rng.integers(20, 235)), -1)
    return t


# (first frame, last frame exclusive, dx, dy per frame in px, zoom factor per frame)
SCHEDULE = [
    (0, 12, 0.0, 0.0, 1.0),  # dark (lights off)
    (12, 82, 0.0, 0.0, 1.0),  # hold
    (82, 122, 6.0, 0.0, 1.0),  # pan: content moves 60 px per pair to the left ("E")
    (122, 192, 0.0, 0.0, 1.0),  # hold
    (192, 232, 0.0, 0.0, 1.008),  # zoom in: ~8 % per pair
    (232, 302, 0.0, 0.0, 1.0),  # hold
    (302, 342, -2.0, -4.0, 1.0),  # diagonal: content moves right and down ("NW")
    (342, 412, 0.0, 0.0, 1.0),  # hold
    (412, 422, 0.0, 0.0, 1.0),  # flat grey: no corners
    (422, 432, 0.0, 0.0, 1.0),  # hold
]
NUM_FRAMES = SCHEDULE[-1][1]


def make_video(path: Path, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """A ProRes 422 (apcn, yuv422p10le) .mov with the moov at the end, as CamHD's."""
    import av
    import cv2

    tex = _texture(height * 3, width * 3)
    out = av.open(str(path), "w", format="mov")
    out.metadata["creation_time"] = "2016-01-01T00:00:07.000000Z"  # mvhd, as CamHD's
    stream = out.add_stream("prores_aw", rate=Fraction(30000, 1001), options={"profile": "2"})
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv422p10le"
    x, y, z = float(width), float(height), 1.0
    cx, cy = width / 2, height / 2
    frame_no = 0
    noise = [np.random.default_rng(i).normal(0, 2, (height, width)).astype(np.float32)
             for i in range(7)]
    for start, end, dx, dy, dz in SCHEDULE:
        for i in range(start, end):
            x, y, z = x + dx, y + dy, z * dz
            m = np.array([[z, 0, cx - z * (x + cx)], [0, z, cy - z * (y + cy)]])
            img = cv2.warpAffine(tex, m, (width, height), flags=cv2.INTER_LINEAR)
            img += noise[i % len(noise)]  # sensor noise
            if start == 0:
                img[:] = 2.0  # lights off
            elif start == 412:
                img[:] = 120.0
            grey = np.clip(img, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(grey, format="gray").reformat(
                format="yuv422p10le"
            )
            frame.pts = frame_no
            frame_no += 1
            for packet in stream.encode(frame):
                out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return path


def make_co64(src: Path, dst: Path) -> Path:
    """``src`` with 64-bit chunk offsets, like real (> 4 GB) CamHD files."""
    rewrite_as_co64(src, dst)
    assert b"co64" in dst.read_bytes()[-100_000:]
    return dst


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("native_videos")
    main = make_video(d / f"{STEM}.mov")
    co64 = d / "co64" / f"{STEM}.mov"
    co64.parent.mkdir()
    make_co64(main, co64)
    data = main.read_bytes()
    truncated = d / "truncated.mov"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = d / "garbage.mov"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 100_000, np.uint8).tobytes())
    text = d / "notes.mov"
    text.write_text("this is not a movie\n" * 100)
    return {"main": main, "co64": co64, "truncated": truncated, "garbage": garbage,
            "text": text}


@pytest.fixture(scope="session")
def native_bin() -> Path:
    return find_native_binary()


def run_bin(native_bin, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(native_bin), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


# --------------------------------------------------------------------------- parity


def assert_parity(py, nat) -> dict:
    """Per-sample parity; returns the max absolute differences."""
    assert nat.engine == "native" and py.engine == "python"
    assert [s.frame for s in py.samples] == [s.frame for s in nat.samples]
    worst = {"scale": 0.0, "theta": 0.0, "tx": 0.0, "ty": 0.0}
    for a, b in zip(py.samples, nat.samples, strict=True):
        where = f"sample {a.frame}"
        assert (a.from_frame, a.to_frame) == (b.from_frame, b.to_frame), where
        assert a.valid == b.valid, where
        assert a.reason == b.reason, where
        assert (a.tracked, a.inliers) == (b.tracked, b.inliers), where
        assert a.mean_grey == b.mean_grey, where  # identical grey images
        for key, u, v in zip(worst, a.similarity.as_list(), b.similarity.as_list(),
                             strict=True):
            worst[key] = max(worst[key], abs(u - v))
    assert worst["tx"] < TX_TOL and worst["ty"] < TX_TOL, worst
    assert worst["scale"] < SCALE_TOL, worst
    return worst


def assert_same_regions(py, nat, stride: int) -> None:
    ra, rb = find_regions(py.samples, stride), find_regions(nat.samples, stride)
    assert [(r.start_frame, r.end_frame, r.type, r.stats.size) for r in ra] == [
        (r.start_frame, r.end_frame, r.type, r.stats.size) for r in rb
    ]
    for a, b in zip(ra, rb, strict=True):
        for u, v in ((a.stats.tx_mean, b.stats.tx_mean), (a.stats.ty_mean, b.stats.ty_mean)):
            assert u == pytest.approx(v, abs=TX_TOL, nan_ok=True)
        assert a.stats.scale_mean == pytest.approx(b.stats.scale_mean, abs=SCALE_TOL,
                                                   nan_ok=True)


@pytest.mark.parametrize("stride", [10, 3])
def test_parity_with_python_engine(videos, stride):
    params = MotionParams(stride=stride)
    py = analyze_video(str(videos["main"]), params)
    nat = analyze_video_native(str(videos["main"]), params, workers=2)
    worst = assert_parity(py, nat)
    print(f"stride {stride}: max |d| {worst}")
    assert_same_regions(py, nat, stride)
    # the video exercises every path of the estimator
    reasons = {s.reason for s in py.samples if not s.valid}
    assert "dark" in reasons and any(r.startswith("too few") for r in reasons)
    assert sum(s.valid for s in py.samples) > len(py.samples) // 2
    assert {r.type for r in find_regions(nat.samples, stride)} >= {"static", "E", "zoom_in",
                                                                    "NW"}
    # movie block and params round-trip the same
    assert nat.movie == py.movie
    assert nat.movie.creation_time == "2016-01-01T00:00:07+00:00"
    assert nat.movie.num_frames == NUM_FRAMES
    assert nat.params == py.params


def test_parity_with_each_decoder(videos):
    """With every frame decoded by the partial decoder (the default, with its second look
    on full decodes) or by FFmpeg, the engines agree within the same tolerance, look again
    at the same pairs, and record the choice."""
    assert MotionParams().decoder == "partial"
    for decoder, partial in (("ffmpeg", False), ("partial", True)):
        params = MotionParams(stride=10, decoder=decoder)
        py = analyze_video(str(videos["main"]), params)
        nat = analyze_video_native(str(videos["main"]), params, workers=2)
        assert_parity(py, nat)
        assert nat.params.decoder == py.params.decoder == decoder
        for k in ("framesFaint", "samplesSecondLook"):
            assert nat.performance[k] == py.performance[k], k
        for r in (py, nat):  # every frame, or none, by the partial decoder; FFmpeg only for
            perf = r.performance  # faint frames and second looks (1 or 2 frames each)
            ffmpeg = perf["framesDecoded"] - perf["framesPartial"]
            faint, looks = perf["framesFaint"], perf["samplesSecondLook"]
            if partial:
                assert perf["framesPartial"] >= perf["framesNeeded"]
                assert faint + min(1, looks) <= ffmpeg <= faint + 2 * looks
            else:
                assert perf["framesPartial"] == faint == looks == 0


DUMP_FRAMES = [1, 20, 77, 150, 280, NUM_FRAMES]


def dump_frames(native_bin, video, dest) -> list[int]:
    """The native tool's raw luma / grey / partial grey of DUMP_FRAMES, written to dest."""
    r = run_bin(native_bin, "--dump-frames", ",".join(map(str, DUMP_FRAMES)), "--dump-dir",
                dest, video)
    assert r.returncode == 0, r.stderr
    return DUMP_FRAMES


def test_partial_grey_identical_to_python(videos, native_bin, tmp_path):
    """The partial decoder is the same C++ in both engines: the same grey bytes."""
    from camhd_motion.sources.local import LocalFileSource
    from camhd_motion.video.movindex import read_index
    from camhd_motion.video.partial import PartialDecoder, available

    if not available():
        pytest.skip("camhd_motion.video._prores not built")
    frames = dump_frames(native_bin, videos["main"], tmp_path)
    with LocalFileSource(videos["main"]) as src:
        index = read_index(src)
        dec = PartialDecoder(index.codec_tag, index.width, index.height, 4)
        for f in frames:
            grey = dec.grey(src.read(*index.frame_range(f)))
            native = np.fromfile(tmp_path / f"partial_{f}.raw", np.uint8)
            assert np.array_equal(native.reshape(grey.shape), grey), f"frame {f}"


def test_parity_on_synth_archive(synth_archive):
    """The shared synthetic archive (tests/fixtures/synth.py: CamHD-like routine, lamps
    ramping on and off, particles): one lit video and the black one, stride 10."""
    videos = [v.mov for v in synth_archive.lit[:1]] + [v.mov for v in synth_archive.black[:1]]
    assert videos
    for video in videos:
        py = analyze_video(str(video))
        nat = analyze_video_native(str(video), workers=2)
        worst = assert_parity(py, nat)
        print(f"{video.name}: max |d| {worst}")
        assert_same_regions(py, nat, py.params.stride)
        assert nat.movie == py.movie


def test_parity_on_hard_scenes(hard_videos):
    """The hard scene families of issue 10 (dark water, dense drifting snow, lamp flicker;
    tests/fixtures/synth.py): the texture image, the snow removal and the rival fit run the
    same operations in both engines, and so does the partial decoder's step 9."""
    video = next(v for v in hard_videos if "snow" in v.truth.extra.get("families", [])
                 and "dark" in v.truth.extra["families"])
    py = analyze_video(str(video.mov), workers=2)  # the same chunks (frames counted per chunk)
    nat = analyze_video_native(str(video.mov), workers=2)
    worst = assert_parity(py, nat)
    print(f"{video.mov.name} ({video.truth.preset}): max |d| {worst}")
    assert_same_regions(py, nat, py.params.stride)
    assert nat.params == py.params and py.params.snow_size > 0
    # the partial decoder's step 9: the same frames decoded in full for their faint texture
    assert nat.performance["framesFaint"] == py.performance["framesFaint"] > 0


def test_same_document_keys(videos, tmp_path):
    """The native file has exactly the Python writer's layout (same keys, same order)."""
    from camhd_motion.formats.optical_flow import write_optical_flow

    py_out, nat_out = tmp_path / "py.json", tmp_path / "nat.json"
    write_optical_flow(analyze_video(str(videos["main"])), py_out)
    run_native(str(videos["main"]), nat_out)
    a, b = json.loads(py_out.read_text()), json.loads(nat_out.read_text())

    def shape(doc):
        if isinstance(doc, dict):
            return {k: shape(v) for k, v in doc.items()}
        if isinstance(doc, list):
            return [shape(v) for v in doc]
        return type(doc).__name__

    perf_a, perf_b = a.pop("performance"), b.pop("performance")
    assert set(perf_a) <= set(perf_b)
    a["analysis"].pop("engine"), b["analysis"].pop("engine")
    assert shape(a) == shape(b)
    assert [list(s["opticalFlow"]) for s in a["frameStats"]] == [
        list(s["opticalFlow"]) for s in b["frameStats"]
    ]
    assert list(a) == list(b) and list(a["movie"]) == list(b["movie"])
    assert b["contents"]["frameStats"]["opticalFlow"] == "1.1"


def test_workers_do_not_change_results(videos):
    params = MotionParams(stride=3)
    one = analyze_video_native(str(videos["main"]), params, workers=1)
    two = analyze_video_native(str(videos["main"]), params, workers=2)
    assert [(s.frame, s.valid, s.similarity, s.tracked, s.inliers) for s in one.samples] == [
        (s.frame, s.valid, s.similarity, s.tracked, s.inliers) for s in two.samples
    ]
    # one worker, one chunk: each needed frame decoded once (plus the second looks' full
    # decodes, the same with two workers)
    assert one.performance["framesPartial"] == one.performance["framesNeeded"]
    assert one.performance["samplesSecondLook"] == two.performance["samplesSecondLook"]
    assert two.performance["workers"] == 2


def test_co64_index(videos):
    """64-bit chunk offsets (real CamHD files are > 4 GB) give the same frames."""
    a = analyze_video_native(str(videos["main"]))
    b = analyze_video_native(str(videos["co64"]))
    assert [(s.frame, s.valid, s.similarity) for s in a.samples] == [
        (s.frame, s.valid, s.similarity) for s in b.samples
    ]
    assert b.movie.num_frames == a.movie.num_frames


def test_decoded_luma_identical_to_pyav(videos, native_bin, tmp_path):
    """FFmpeg 5.1 (native) and PyAV's FFmpeg 8 decode the same luma, bit for bit."""
    from camhd_motion.sources.local import LocalFileSource
    from camhd_motion.video.decoder import ProResDecoder
    from camhd_motion.video.grey import working_grey
    from camhd_motion.video.movindex import read_index

    frames = dump_frames(native_bin, videos["main"], tmp_path)
    with LocalFileSource(videos["main"]) as src:
        index = read_index(src)
        dec = ProResDecoder(index.codec_tag, index.width, index.height)
        for f in frames:
            luma, depth = dec.decode_luma(src.read(*index.frame_range(f)))
            assert depth == 10
            native = np.fromfile(tmp_path / f"luma_{f}.raw", np.uint16).reshape(luma.shape)
            assert np.array_equal(native, luma), f"frame {f}: luma differs"
            grey = np.fromfile(tmp_path / f"grey_{f}.raw", np.uint8)
            assert np.array_equal(grey.reshape(HEIGHT // 4, WIDTH // 4),
                                  working_grey(luma, 4, depth)), f"frame {f}: grey differs"


def test_unreadable_frame_makes_its_samples_invalid(videos, tmp_path):
    """A frame whose bytes do not decode: its samples are invalid with the reason, the
    others are unaffected; both engines agree."""
    from camhd_motion.sources.local import LocalFileSource
    from camhd_motion.video.movindex import read_index

    bad = tmp_path / f"{STEM}.mov"
    data = bytearray(videos["main"].read_bytes())
    with LocalFileSource(videos["main"]) as src:
        offset, size = read_index(src).frame_range(46)
    data[offset : offset + 64] = b"\xff" * 64  # a broken frame header
    bad.write_bytes(bytes(data))
    py = analyze_video(str(bad))
    nat = analyze_video_native(str(bad))
    broken = [s for s in nat.samples if not s.valid and s.reason and "frame 46" in s.reason]
    assert [s.frame for s in broken] == [41, 51]
    assert all(s.reason.startswith("frame 46 undecodable: ") for s in broken)
    for a, b in zip(py.samples, nat.samples, strict=True):
        assert a.valid == b.valid and (a.reason or "").split(":")[0] == (b.reason or "").split(
            ":")[0]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "code", "cause"),
    [
        ("missing", 2, "file not found"),
        ("garbage", 3, "not a QuickTime movie"),
        ("text", 3, "not a QuickTime movie"),
        ("truncated", 3, "truncated: an atom claims bytes up to"),
    ],
)
def test_bad_videos_one_line_errors(videos, native_bin, tmp_path, name, code, cause):
    video = tmp_path / "missing.mov" if name == "missing" else videos[name]
    r = run_bin(native_bin, video, "-o", tmp_path / "out.json")
    assert r.returncode == code, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"{BINARY_NAME}: error: {video}: {cause}"), lines[0]
    assert not (tmp_path / "out.json").exists()


def test_truncated_same_cause_as_python(videos):
    with pytest.raises(VideoError) as py_err:
        analyze_video(str(videos["truncated"]))
    with pytest.raises(VideoError) as nat_err:
        analyze_video_native(str(videos["truncated"]))
    assert nat_err.value.cause == py_err.value.cause
    assert nat_err.value.exit_code == 3


def test_directory_is_a_bad_video(native_bin, tmp_path):
    r = run_bin(native_bin, tmp_path)
    assert r.returncode == 3 and "not a regular file" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--stride", "0", "x.mov"],
        ["--stride", "ten", "x.mov"],
        ["--img-scale", "0.3", "x.mov"],
        ["--workers", "0", "x.mov"],
        ["--snow-size", "-1", "x.mov"],
        ["--bogus", "x.mov"],
        ["a.mov", "b.mov"],
        ["http://example.org/a.mov"],
    ],
)
def test_usage_errors(native_bin, args):
    r = run_bin(native_bin, *args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith(f"{BINARY_NAME}: error: ")


def test_help_and_version(native_bin):
    r = run_bin(native_bin, "--help")
    assert r.returncode == 0
    for opt in ("--stride", "--pair-offset", "--img-scale", "--dark-threshold",
                "--max-corners", "--min-inliers", "--ransac-threshold", "--snow-size", "--workers",
                "--movie-url", "-o"):
        assert opt in r.stdout
    r = run_bin(native_bin, "--version")
    assert r.returncode == 0 and "OpenCV 4.6" in r.stdout


def test_default_output_name_and_movie_url(videos, native_bin, tmp_path):
    r = subprocess.run([str(native_bin), str(videos["main"]), "-q"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == ""
    out = read_optical_flow(tmp_path / f"{STEM}_optical_flow.json")
    assert out.movie.url == f"/RS03ASHS/PN03B/06-CAMHDA301/2016/01/01/{STEM}.mov"
    assert out.movie.cache_url == str(videos["main"])
    r = run_bin(native_bin, videos["main"], "-o", tmp_path / "x.json", "--movie-url", "/a/b.mov",
                "--stride", "50", "--max-corners", "100")
    out = read_optical_flow(tmp_path / "x.json")
    assert out.movie.url == "/a/b.mov"
    assert out.params.stride == 50 and out.params.max_corners == 100
    assert [s.frame for s in out.samples] == list(range(1, NUM_FRAMES + 1, 50))


# --------------------------------------------------------------------------- wrapper


def test_binary_lookup_errors(monkeypatch, tmp_path):
    with pytest.raises(UserError, match="native engine selected but camhd-motion-native not "
                       "found at /no/such/bin; build it with: cmake -S native"):
        find_native_binary("/no/such/bin")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(UserError, match=str(tmp_path / "nope")):
        find_native_binary()


def test_env_var_selects_binary(monkeypatch, native_bin):
    monkeypatch.setenv(ENV_VAR, str(native_bin))
    assert find_native_binary() == native_bin


def test_motion_command_native_engine(videos, native_bin, tmp_path):
    out = tmp_path / "sub" / "m.json"
    cmd = [sys.executable, "-m", "camhd_motion", "motion", str(videos["main"]), "-o", str(out),
           "--engine", "native", "--native-bin", str(native_bin), "--stride", "20",
           "--workers", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    assert r.returncode == 0, r.stderr
    result = read_optical_flow(out)
    assert result.engine == "native" and result.params.stride == 20
    r = subprocess.run([*cmd[:4], str(videos["truncated"]), "--engine", "native",
                        "--native-bin", str(native_bin)], capture_output=True, text=True)
    assert r.returncode == 3
    assert r.stderr.strip().splitlines()[-1].startswith(
        f"camhd-motion motion: error: {videos['truncated']}: truncated")


def test_workflow_native_engine_streams_a_remote_video(synth_archive, native_bin, tmp_path,
                                                       archive_http_server):
    """The workflow's motion rule with ``motion.engine: native`` on an HTTP archive: the
    Python reader streams the sampled frames to the tool, whose motion agrees with the
    Python engine's on the same video within the stated tolerance."""
    import yaml

    video = synth_archive.lit[0]
    server = archive_http_server(synth_archive.root)
    config = {"source": server.url, "pattern": video.truth.stem,
              "motion": {"engine": "native", "native_bin": str(native_bin)}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    repo = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"),
                        "-d", str(tmp_path), "--configfile", str(tmp_path / "config.yaml"),
                        "--cores", "2"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    rel = video.truth.path.split("/", 3)[3][: -len(".mov")]
    motion = tmp_path / f"results/RS03ASHS/PN03B/06-CAMHDA301/{rel}_optical_flow.json"
    nat = read_optical_flow(motion)
    assert nat.engine == "native" and nat.movie.cache_url.startswith(server.url)
    assert_parity(analyze_video(str(video.mov)), nat)
    # only the index and the sampled frames crossed the network
    assert 0 < server.bytes_sent < 0.5 * video.mov.stat().st_size
