"""The file formats: round trips, exact key sets (``camhd.md`` + documented extras), the
invalid-sample encoding, reading the original's 1.0 files, atomic writes, the CSV."""

from __future__ import annotations

import json
import math
import os

import pytest

from camhd_motion.errors import UserError
from camhd_motion.formats import common
from camhd_motion.formats.optical_flow import (
    motion_from_json,
    read_optical_flow,
    write_optical_flow,
)
from camhd_motion.formats.regions_csv import (
    HEADER,
    StaticRow,
    read_regions_csv,
    write_regions_csv,
)
from camhd_motion.formats.regions_json import read_regions_json, write_regions_json
from camhd_motion.geometry import Similarity
from camhd_motion.motion.model import (
    MotionParams,
    MotionResult,
    MotionSample,
    MovieInfo,
    Region,
    RegionParams,
    RegionsResult,
    RegionStats,
)

STEM = "CAMHDA301-20160101T000000Z"
URL = f"/RS03ASHS/PN03B/06-CAMHDA301/2016/01/01/{STEM}.mov"

# camhd.md: the keys downstream readers expect, and ours (docs/FORMATS.md).
FLOW_REQUIRED = {"similarity", "center", "fromFrame", "toFrame", "imgScale", "flowScale", "valid"}
FLOW_EXTRAS = {"confidence", "meanGrey", "invalidReason"}
MOVIE_REQUIRED = {"URL", "NumFrames", "Duration", "cacheURL"}
MOVIE_EXTRAS = {"Width", "Height", "FrameRate", "CreationTime"}


def movie(**kw) -> MovieInfo:
    return MovieInfo(url=URL, num_frames=25155, duration=839.338562011719,
                     cache_url="file:///data/x.mov", **kw)


def motion_result() -> MotionResult:
    samples = [
        MotionSample(1, 1, 6, Similarity(1.0, 0.0, 0.0, 0.0), valid=False, reason="dark",
                     mean_grey=(1.5, 2.25)),
        MotionSample(12581, 12576, 12586, Similarity(0.92471, 0.0012, -0.417, 1.353),
                     valid=True, tracked=287, inliers=251, mean_grey=(84.1, 83.9)),
        MotionSample(11, 6, 16, Similarity(1.0 + 1e-16, 0.1 + 0.2, 1 / 3, -2 / 7), valid=True,
                     tracked=300, inliers=12),
        # in memory an invalid sample may carry a stale fit: it must not be written
        MotionSample(21, 16, 26, Similarity(1.3, 0.2, 55.0, 3.0), valid=False,
                     reason="too few points", tracked=40, inliers=3),
        MotionSample(31, 26, 36, valid=False, reason=None),
    ]
    return MotionResult(
        movie=movie(creation_time="2016-01-01T00:00:02Z"),
        params=MotionParams(max_corners=500),
        samples=samples,
        engine="python",
        engine_version="0.1.0",
        performance={"wallSeconds": 12.5, "framesDecoded": 5040},
    )


# -- optical flow ------------------------------------------------------------------------------

def test_motion_round_trip_is_exact(tmp_path):
    result = motion_result()
    path = write_optical_flow(result, tmp_path / f"{STEM}_optical_flow.json")
    back = read_optical_flow(path)
    assert [s.frame for s in back.samples] == [1, 11, 21, 31, 12581]  # sorted by frame
    by_frame = {s.frame: s for s in result.samples}
    for s in back.samples:
        expected = by_frame[s.frame]
        if not expected.valid:  # written as identity
            expected = MotionSample(**{**expected.__dict__, "similarity": Similarity()})
        assert s == expected
    assert back.movie == result.movie
    assert back.params == result.params
    assert (back.engine, back.engine_version) == ("python", "0.1.0")
    assert back.performance == result.performance


def test_motion_analysis_1_0_read_as_without_snow_removal(tmp_path):
    """analysis 1.1 added params.snowSize (issue 10); a 1.0 file (without it) was made
    without snow removal, so it reads as snow_size 0, not today's default."""
    path = write_optical_flow(motion_result(), tmp_path / "m.json")
    doc = json.loads(path.read_text())
    assert doc["analysis"]["params"]["snowSize"] == MotionParams().snow_size > 0
    del doc["analysis"]["params"]["snowSize"]
    doc["contents"]["analysis"] = "1.0"
    path.write_text(json.dumps(doc))
    back = read_optical_flow(path)
    assert back.params.snow_size == 0 and back.params.max_corners == 500


def test_motion_analysis_1_1_read_as_decoded_by_ffmpeg(tmp_path):
    """analysis 1.2 added params.decoder (issue 13); older files were decoded by FFmpeg."""
    result = motion_result()
    result.params.decoder = "partial"
    path = write_optical_flow(result, tmp_path / "m.json")
    doc = json.loads(path.read_text())
    assert doc["analysis"]["params"]["decoder"] == "partial"
    del doc["analysis"]["params"]["decoder"]
    doc["contents"]["analysis"] = "1.1"
    path.write_text(json.dumps(doc))
    assert read_optical_flow(path).params.decoder == "ffmpeg"
    del doc["analysis"]
    path.write_text(json.dumps(doc))
    assert read_optical_flow(path).params.decoder == "ffmpeg"  # the original's files


def test_motion_floats_keep_full_precision(tmp_path):
    path = write_optical_flow(motion_result(), tmp_path / "m.json")
    doc = json.loads(path.read_text())
    [s11] = [s for s in doc["frameStats"] if s["frameNumber"] == 11]
    assert s11["opticalFlow"]["similarity"] == [1.0 + 1e-16, 0.1 + 0.2, 1 / 3, -2 / 7]
    assert repr(0.1 + 0.2) in path.read_text()


def test_motion_key_sets(tmp_path):
    doc = json.loads(write_optical_flow(motion_result(), tmp_path / "m.json").read_text())
    assert set(doc) == {"contents", "movie", "frameStats", "performance", "analysis"}
    assert doc["contents"] == {"movie": "1.1", "frameStats": {"opticalFlow": "1.1"},
                               "performance": "1.0", "analysis": "1.3"}
    assert MOVIE_REQUIRED <= set(doc["movie"]) <= MOVIE_REQUIRED | MOVIE_EXTRAS
    assert doc["movie"]["URL"] == URL and doc["movie"]["NumFrames"] == 25155
    assert set(doc["analysis"]) == {"engine", "engineVersion", "params"}
    assert doc["analysis"]["params"]["maxCorners"] == 500
    for entry in doc["frameStats"]:
        assert set(entry) == {"frameNumber", "opticalFlow"}
        flow = entry["opticalFlow"]
        assert FLOW_REQUIRED <= set(flow) <= FLOW_REQUIRED | FLOW_EXTRAS
        assert flow["center"] == [-960.0, -540.0]
        assert (flow["imgScale"], flow["flowScale"]) == (0.25, 1.0)
        assert set(flow["confidence"]) == {"tracked", "inliers"}
        assert ("invalidReason" in flow) == (not flow["valid"] and entry["frameNumber"] != 31)


def test_invalid_samples_are_identity_and_say_why(tmp_path):
    doc = json.loads(write_optical_flow(motion_result(), tmp_path / "m.json").read_text())
    flows = {e["frameNumber"]: e["opticalFlow"] for e in doc["frameStats"]}
    for frame in (1, 21, 31):
        assert flows[frame]["valid"] is False
        assert flows[frame]["similarity"] == [1, 0, 0, 0]
    assert flows[21]["invalidReason"] == "too few points"
    assert (flows[21]["fromFrame"], flows[21]["toFrame"]) == (16, 26)
    assert flows[1]["meanGrey"] == [1.5, 2.25]
    assert "meanGrey" not in flows[21]
    assert flows[12581]["valid"] is True and "invalidReason" not in flows[12581]


def test_valid_non_finite_sample_is_refused_and_nothing_written(tmp_path):
    result = motion_result()
    result.samples[1] = MotionSample(12581, 12576, 12586, Similarity(float("nan"), 0, 0, 0),
                                     valid=True)
    target = tmp_path / "m.json"
    with pytest.raises(ValueError, match="12581"):
        write_optical_flow(result, target)
    assert os.listdir(tmp_path) == []


def v10_doc() -> dict:
    """A 1.0 file as the original wrote it (layout of the real one)."""
    def entry(frame, valid, sim):
        flow = {"center": [-960.0, -540.0] if valid else [0.0, 0.0], "duration_us": 1500000,
                "flowScale": 1.0 if valid else 0.0, "fromFrame": frame - 5 if valid else 0,
                "imgScale": 0.25 if valid else 0.0, "similarity": sim,
                "toFrame": frame + 5 if valid else 0, "valid": valid}
        return {"frameNumber": frame, "opticalFlow": flow}

    return {
        "contents": {"movie": "1.0", "timing": "1.0", "frameStats": {"opticalFlow": "1.0"}},
        "movie": {"Duration": 840.039184570312, "NumFrames": 25176, "URL": URL,
                  "cacheURL": "http://lazycache_nocache:8080/v1/org/x.mov"},
        "frameStats": [entry(21, True, [0.99, 0.0, 0.5, -0.25]), entry(1, False, [1, 0, 0, 0]),
                       entry(11, True, [1.0, 0.0, 0.0, 0.0])],
    }


def test_reads_the_originals_v1_0(tmp_path):
    path = tmp_path / "v10.json"
    path.write_text(json.dumps(v10_doc()))
    result = read_optical_flow(path)
    assert [s.frame for s in result.samples] == [1, 11, 21]
    assert [s.valid for s in result.samples] == [False, True, True]
    assert result.samples[2].similarity == Similarity(0.99, 0.0, 0.5, -0.25)
    assert (result.samples[2].from_frame, result.samples[2].to_frame) == (16, 26)
    assert (result.movie.width, result.movie.height) == (1920, 1080)  # from center
    assert result.movie.num_frames == 25176
    assert (result.params.stride, result.params.pair_offset, result.params.img_scale) == (
        10, 5, 0.25)
    assert result.engine == "original"
    assert result.performance == {"sampleSeconds": {"count": 3, "total": 4.5}}
    # and it is written back as a 1.1 file
    doc = json.loads(write_optical_flow(result, tmp_path / "v11.json").read_text())
    assert doc["contents"]["frameStats"]["opticalFlow"] == "1.1"


def test_reads_the_pre_2017_layout():
    doc = v10_doc()
    doc["frame_stats"] = [{"frame_number": e["frameNumber"], "similarity": e["opticalFlow"]}
                          for e in doc.pop("frameStats")]
    assert [s.frame for s in motion_from_json(doc).samples] == [1, 11, 21]


@pytest.mark.parametrize("content, cause", [
    (None, "no such file"),
    ("[1, 2]", "not a JSON object"),
    ('{"frameStats": []}', "missing movie.URL"),
    ('{"movie": {"URL": "/a.mov"}, "frameStats": [{"frameNumber": 1, "opticalFlow": '
     '{"similarity": [1, 0, 0], "valid": true}}]}', "frameStats[0]"),
    ('{"movie": {"URL": "/a.mov"}, "frameStats": [{"frameNumber": 1, "opticalFlow": '
     '{"similarity": [1, 0, 0, 0], "valid": "yes"}}]}', "frameStats[0]"),
])
def test_motion_reader_errors_name_the_file(tmp_path, content, cause):
    path = tmp_path / "m.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError) as info:
        read_optical_flow(path)
    assert str(info.value).startswith(f"{path}: ") and cause in str(info.value)


# -- atomic writes ------------------------------------------------------------------------------

@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch, fail_at):
    target = tmp_path / "m.json"
    target.write_text("old complete content")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(common.os, fail_at, boom)
    with pytest.raises(OSError):
        write_optical_flow(motion_result(), target)
    assert target.read_text() == "old complete content"
    assert os.listdir(tmp_path) == ["m.json"]  # no temporary file left behind


def test_write_creates_directories_and_replaces(tmp_path):
    target = tmp_path / "a" / "b" / "m.json"
    write_optical_flow(motion_result(), target)
    write_optical_flow(motion_result(), target)
    assert os.listdir(target.parent) == ["m.json"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)


# -- regions json ------------------------------------------------------------------------------

def regions_result() -> RegionsResult:
    regions = [
        Region(591, 1061, "static", RegionStats(0.99999, 0.0005, -0.0015, 48),
               scene_tag="d2_p1_z0", extra={"sceneTagMeta": {"inferredBy": "cnn"}}),
        Region(1071, 1221, "zoom_in", RegionStats(1.0715076897155, 1.2269, -1.8411, 15)),
        Region(1221, 1361, "static", RegionStats(1.00005, 0.0315, -0.0436, 15)),
        Region(1371, 1421, "short", RegionStats(math.nan, math.nan, math.nan, 0)),
        Region(1421, 1501, "static", RegionStats(1.0, 0.0, 0.0, 9), scene_tag="unknown"),
    ]
    return RegionsResult(movie=movie(), params=RegionParams(squash_frames=20), regions=regions,
                         stride=10, depends={"opticalFlow": {"a/b.json": "0" * 40}},
                         performance={"timing": {"regionAnalysis": 0.01}})


def test_regions_round_trip(tmp_path):
    result = regions_result()
    back = read_regions_json(write_regions_json(result, tmp_path / "r.json"))
    assert back.versions == {"findRegions": "1.1"}
    short = back.regions[3]
    assert short.stats.size == 0 and math.isnan(short.stats.scale_mean)
    back.versions = {}
    back.regions[3] = result.regions[3]  # NaN != NaN
    assert back == result


def test_regions_key_sets(tmp_path):
    doc = json.loads(write_regions_json(regions_result(), tmp_path / "r.json").read_text())
    assert set(doc) == {"movie", "contents", "versions", "regions", "depends", "performance",
                        "analysis"}
    assert doc["contents"] == {"movie": "1.1", "regions": "1.1", "analysis": "1.0"}
    assert doc["versions"] == {"findRegions": "1.1"}
    assert MOVIE_REQUIRED <= set(doc["movie"]) <= MOVIE_REQUIRED | MOVIE_EXTRAS
    assert doc["analysis"] == {"stride": 10, "params": {
        "maxTranslationSq": 100.0, "maxScaleDev": 0.01, "gapFactor": 1.01, "minRun": 2,
        "zoomIn": 1.05, "zoomOut": 0.95, "movePx": 10.0, "squashFrames": 20}}
    for r in doc["regions"]:
        assert {"startFrame", "endFrame", "type", "stats"} <= set(r) <= {
            "startFrame", "endFrame", "type", "stats", "sceneTag", "sceneTagMeta"}
        assert set(r["stats"]) == {"scaleMean", "txMean", "tyMean", "size"}
    assert doc["regions"][3]["stats"] == {"scaleMean": None, "txMean": None, "tyMean": None,
                                          "size": 0}
    assert doc["regions"][0]["sceneTagMeta"] == {"inferredBy": "cnn"}
    assert "sceneTag" not in doc["regions"][1]


def test_regions_reader_keeps_unknown_keys_and_original_versions(tmp_path):
    doc = json.loads(write_regions_json(regions_result(), tmp_path / "r.json").read_text())
    doc["versions"] = {"findRegions": "1.0", "classifyRegions": "1.1"}
    doc["custom"] = {"x": 1}
    del doc["analysis"]
    path = tmp_path / "orig.json"
    path.write_text(json.dumps(doc))
    back = read_regions_json(path)
    assert back.versions == {"findRegions": "1.0", "classifyRegions": "1.1"}
    assert back.extra == {"custom": {"x": 1}}
    assert back.stride == 10 and back.params == RegionParams()
    again = json.loads(write_regions_json(back, tmp_path / "again.json").read_text())
    assert again["versions"] == doc["versions"] and again["custom"] == {"x": 1}


@pytest.mark.parametrize("content, cause", [
    (None, "no such file"),
    ('{"movie": {"URL": "/a.mov"}}', "missing regions"),
    ('{"movie": {"URL": "/a.mov"}, "regions": [{"startFrame": 1, "type": "static"}]}',
     "regions[0]"),
])
def test_regions_reader_errors(tmp_path, content, cause):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError) as info:
        read_regions_json(path)
    assert str(info.value).startswith(f"{path}: ") and cause in str(info.value)


# -- regions csv ------------------------------------------------------------------------------

def test_csv_rows_static_only_sorted(tmp_path):
    later = regions_result()
    later.movie = MovieInfo(url="/RS03ASHS/PN03B/06-CAMHDA301/2019/01/04/"
                            "CAMHDA301-20190104T121500.mov", num_frames=1, duration=1.0)
    early = regions_result()
    path = tmp_path / "regions.csv"
    assert write_regions_csv([later, early], path) == 6
    lines = path.read_text().split("\n")
    assert lines[0] == ",".join(HEADER)
    assert lines[1:4] == [
        "CAMHDA301-20160101T000000Z,2016-01-01T00:00:00,591,1061,d2_p1_z0",
        "CAMHDA301-20160101T000000Z,2016-01-01T00:00:00,1221,1361,",
        "CAMHDA301-20160101T000000Z,2016-01-01T00:00:00,1421,1501,unknown",
    ]
    assert lines[4].startswith("CAMHDA301-20190104T121500,2019-01-04T12:15:00,591,")
    assert lines[-1] == "" and "\r" not in path.read_text()
    rows = read_regions_csv(path)
    assert rows[1] == StaticRow(date_time="2016-01-01T00:00:00",
                                mov_basename="CAMHDA301-20160101T000000Z",
                                start_frame=1221, end_frame=1361, scene_tag=None)
    assert len(rows) == 6


def test_csv_reader_accepts_crlf_and_rejects_bad_files(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"mov_basename,date_time,start_frame,end_frame,scene_tag\r\n"
                     b"CAMHDA301-20160101T000000Z,2016-01-01T00:00:00,581,1051,d2_p1_z0\r\n")
    assert read_regions_csv(path)[0].start_frame == 581
    path.write_text("a,b\n")
    with pytest.raises(UserError, match="header"):
        read_regions_csv(path)
    path.write_text(",".join(HEADER) + "\nx,y,one,2,\n")
    with pytest.raises(UserError, match="line 2"):
        read_regions_csv(path)


def test_csv_needs_camhd_names(tmp_path):
    result = regions_result()
    result.movie = MovieInfo(url="/x/holiday.mov", num_frames=1, duration=1.0)
    with pytest.raises(ValueError, match="holiday"):
        write_regions_csv([result], tmp_path / "r.csv")
    assert not (tmp_path / "r.csv").exists()


def test_numpy_scalars_in_performance_are_written_as_numbers(tmp_path):
    np = pytest.importorskip("numpy")
    result = motion_result()
    result.performance = {"wallSeconds": np.float64(1.5), "framesDecoded": np.int64(7)}
    back = read_optical_flow(write_optical_flow(result, tmp_path / "m.json"))
    assert back.performance == {"wallSeconds": 1.5, "framesDecoded": 7}
