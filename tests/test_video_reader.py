"""Reading frames by byte range from the QuickTime index; bad input handled per frame."""

from __future__ import annotations

import shutil
import subprocess
import sys

import av
import numpy as np
import pytest

from camhd_motion.errors import VideoError
from camhd_motion.motion.analyze import analyze_video
from camhd_motion.motion.model import MotionParams
from camhd_motion.sources.local import LocalFileSource
from camhd_motion.synth.co64 import rewrite_as_co64
from camhd_motion.video.movindex import read_index
from camhd_motion.video.reader import FrameReader


@pytest.fixture(scope="module")
def video(synth_archive):
    return synth_archive.lit[0]


def test_index_matches_the_demuxer(video):
    with LocalFileSource(video.mov) as src:
        index = read_index(src)
    with av.open(str(video.mov)) as container:
        stream = container.streams.video[0]
        packets = [(p.pos, p.size) for p in container.demux(stream) if p.size]
        assert index.codec_tag == stream.codec_context.codec_tag == "apcn"
        assert (index.width, index.height) == (stream.width, stream.height)
    assert index.num_frames == len(packets) == video.truth.num_frames
    assert list(zip(index.offsets.tolist(), index.sizes.tolist(), strict=True)) == packets
    assert index.moov_offset > index.offsets[-1]  # moov at the end, like CamHD
    assert index.frame_rate == pytest.approx(30000 / 1001)


def test_frames_decode_to_what_pyav_decodes(video):
    wanted = [1, 2, 250, 251, video.truth.num_frames]
    with LocalFileSource(video.mov) as src:
        got = {g.frame: g.image for g in FrameReader(src, 1).grey_frames(wanted)}
    with av.open(str(video.mov)) as container:
        for i, frame in enumerate(container.decode(video=0), start=1):
            if i in got:
                y = np.frombuffer(frame.planes[0], np.uint16).reshape(frame.height, -1)
                from camhd_motion.video.grey import working_grey

                assert np.array_equal(got[i], working_grey(y[:, : frame.width], 1, 10)), i


def test_co64_index_reads_the_same(video, tmp_path):
    copy = tmp_path / video.mov.name
    rewrite_as_co64(video.mov, copy)
    assert b"co64" in copy.read_bytes()[-200_000:]
    with LocalFileSource(video.mov) as a, LocalFileSource(copy) as b:
        ia, ib = read_index(a), read_index(b)
    assert np.array_equal(ia.offsets, ib.offsets) and np.array_equal(ia.sizes, ib.sizes)
    params = MotionParams(stride=50)
    assert analyze_video(str(copy), params).samples == analyze_video(str(video.mov),
                                                                     params).samples


def test_each_needed_frame_decoded_once(video):
    """Each needed frame is decoded once by the chosen decoder (the partial decoder's
    step-9 full decodes of faint frames and second looks come on top: test_prores_partial)."""
    for decoder, counted in (("ffmpeg", "framesDecoded"), ("partial", "framesPartial")):
        result = analyze_video(str(video.mov), MotionParams(decoder=decoder), workers=1)
        perf = result.performance
        assert perf[counted] == perf["framesNeeded"], decoder
        assert perf["framesNeeded"] == len({s.from_frame for s in result.samples}
                                           | {s.to_frame for s in result.samples})


def test_truncated_file_is_a_clear_error(video, tmp_path):
    cut = tmp_path / "cut.mov"
    data = video.mov.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match="cut.mov: .*(truncated|moov)"):
        analyze_video(str(cut))


def test_not_a_movie_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.mov"
    junk.write_bytes(b"this is not a movie" * 100)
    with pytest.raises(VideoError, match="junk.mov"):
        analyze_video(str(junk))


def test_corrupt_frame_invalidates_only_its_samples(video, tmp_path):
    bad = tmp_path / video.mov.name
    shutil.copy(video.mov, bad)
    with LocalFileSource(bad) as src:
        index = read_index(src)
    frame = 306  # used by samples 301 (to) and 311 (from)
    offset, size = index.frame_range(frame)
    with open(bad, "r+b") as f:
        f.seek(offset)
        f.write(b"\0" * size)
    good = analyze_video(str(video.mov)).samples
    got = analyze_video(str(bad)).samples
    broken = [s for s in got if frame in (s.from_frame, s.to_frame)]
    assert [s.frame for s in broken] == [301, 311]
    for s in broken:
        assert not s.valid and f"frame {frame}" in s.reason
    assert [s for s in got if s not in broken] == [s for s in good if s.frame not in (301, 311)]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "camhd_motion", *args],
                          capture_output=True, text=True)


def test_cli_missing_video_one_line_error(tmp_path):
    r = _cli("motion", str(tmp_path / "CAMHDA301-20160101T000000Z.mov"), "-o",
             str(tmp_path / "out.json"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "CAMHDA301-20160101T000000Z.mov" in lines[0]
    assert "not found" in lines[0]
    assert not (tmp_path / "out.json").exists()


def test_cli_truncated_video_exit_3_and_no_output(video, tmp_path):
    cut = tmp_path / video.mov.name
    cut.write_bytes(video.mov.read_bytes()[:100_000])
    r = _cli("motion", str(cut), "-o", str(tmp_path / "out.json"))
    assert r.returncode == 3
    errors = [line for line in r.stderr.strip().splitlines() if "error" in line]
    assert len(errors) == 1 and video.mov.name in errors[0]
    assert not (tmp_path / "out.json").exists()


def test_cli_writes_the_format(video, tmp_path):
    out = tmp_path / "o.json"
    r = _cli("motion", str(video.mov), "-o", str(out), "--stride", "30")
    assert r.returncode == 0, r.stderr
    from camhd_motion.formats.optical_flow import read_optical_flow

    result = read_optical_flow(out)
    assert result.params.stride == 30
    assert result.movie.url == "/" + str(video.mov.relative_to(video.mov.parents[6]))
