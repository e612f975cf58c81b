"""Archive sources, manifests, config validation and the pending-table parser.

Listing needs no real videos: the files here are placeholders with archive names.  The
HTTP source is crawled from a real local server (``archive_http_server``), the GCS source
from the fake-gcs-server emulator (skipped when it is unavailable).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path

import pytest

from camhd_motion.archive.manifest import (
    Video,
    covers,
    read_manifest,
    read_meta,
    select,
    video_from_location,
    write_manifest,
)
from camhd_motion.archive.sources import (
    date_dirs,
    index_links,
    list_gcs,
    list_http,
    list_local,
    list_manifest_file,
    list_source,
    source_kind,
)
from camhd_motion.errors import SourceError, UserError
from camhd_motion.pipeline.config import (
    ConfigError,
    load_schema,
    validate_config,
)
from camhd_motion.pipeline.pending import parse_summary
from camhd_motion.pipeline.workflow import make_plan, manifest_status

REPO = Path(__file__).resolve().parents[1]
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"
METADATA = REPO.parent / "shared" / "data" / "movie_metadata.csv"

# 2015-16 names carry Z, later ones not; parts _01/_02; one day outside every range used
NAMES = [
    "CAMHDA301-20151231T210000Z.mov",
    "CAMHDA301-20160101T000000Z.mov",
    "CAMHDA301-20160101T030000Z_01.mov",
    "CAMHDA301-20160101T030000Z_02.mov",
    "CAMHDA301-20160102T000000Z.mov",
    "CAMHDA301-20170301T001500.mov",
]


def make_tree(root: Path, names=NAMES, *, md5: bool = True) -> dict[str, str]:
    """Placeholder .mov files (content = name) in the archive layout; returns name -> md5."""
    digests = {}
    for name in names:
        v = video_from_location(name)
        path = root / v.archive_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())
        digests[name] = hashlib.md5(name.encode()).hexdigest()
        if md5:
            path.with_name(name + ".md5").write_text(f"{digests[name]}  {name}\n")
    day = root / PREFIX / "2016/01/01"
    (day / "README.txt").write_text("not a video")
    (day / "notes.mov").write_text("not a CamHD name")
    (root / PREFIX / "2016/01/xx").mkdir()  # not a day directory
    return digests


def stems(videos) -> list[str]:
    return [v.stem for v in videos]


D = dt.date


# -- names, selection, manifest file ---------------------------------------------------


def test_names_kept_as_they_are_and_selection_is_inclusive_by_day():
    videos = [video_from_location(f"/x/{n}") for n in NAMES]
    assert stems(videos)[2:4] == ["CAMHDA301-20160101T030000Z_01", "CAMHDA301-20160101T030000Z_02"]
    assert videos[0].rel == "2015/12/31/CAMHDA301-20151231T210000Z"
    assert videos[5].archive_path == f"{PREFIX}/2017/03/01/CAMHDA301-20170301T001500.mov"
    assert stems(select(videos, D(2016, 1, 1), D(2016, 1, 1))) == [
        "CAMHDA301-20160101T000000Z", "CAMHDA301-20160101T030000Z_01",
        "CAMHDA301-20160101T030000Z_02"]
    assert len(select(videos, None, D(2016, 1, 2))) == 5
    assert stems(select(videos, D(2016, 1, 2), None)) == [
        "CAMHDA301-20160102T000000Z", "CAMHDA301-20170301T001500"]
    assert stems(select(videos, pattern="*_0[12]")) == stems(videos)[2:4]
    with pytest.raises(ValueError, match="not a CamHD video name"):
        video_from_location("/x/CAMHDA301-2016.mov")


def test_manifest_round_trip(tmp_path):
    videos = [
        Video("CAMHDA301-20160101T000000Z", "2016-01-01T00:00:00",
              "https://h/a/CAMHDA301-20160101T000000Z.mov", 15_000_000_000, "0" * 32),
        Video("CAMHDA301-20151231T210000Z", "2015-12-31T21:00:00", "rel/x.mov"),
    ]
    path = tmp_path / "m" / "manifest.tsv"
    meta = {"source": "s", "start": "2015-12-01", "end": None}
    assert write_manifest(path, videos + videos[:1], meta) == 2  # duplicates dropped
    assert not list(path.parent.glob(".*.tmp"))
    assert read_meta(path) == meta
    back = read_manifest(path)
    assert back.meta == meta
    # sorted by time; the relative path is now relative to the manifest's directory
    assert back.videos[0] == Video(videos[1].stem, videos[1].date_time,
                                   str(path.parent / "rel/x.mov"))
    assert back.videos[1] == videos[0]
    assert covers(meta, D(2015, 12, 1), D(2030, 1, 1))
    assert not covers(meta, D(2015, 11, 30), D(2016, 1, 1))
    assert not covers(meta, None, D(2016, 1, 1))
    assert not covers({"start": None, "end": "2016-01-01"}, None, D(2016, 1, 2))
    (tmp_path / "bad.tsv").write_text("stem\tdate_time\n")
    with pytest.raises(UserError, match="not a camhd-motion manifest"):
        read_manifest(tmp_path / "bad.tsv")


# -- local directory ---------------------------------------------------------------------


def test_local_source_lists_only_the_range(tmp_path):
    digests = make_tree(tmp_path)
    videos = list_local(str(tmp_path), D(2016, 1, 1), D(2016, 1, 2))
    assert stems(videos) == [n[:-4] for n in NAMES[1:5]]
    v = videos[0]
    assert v.url == str(tmp_path / PREFIX / "2016/01/01" / NAMES[1])
    assert v.size == len(NAMES[1]) and v.md5 == digests[NAMES[1]]
    # the instrument directory itself is accepted as the root, too
    assert stems(list_local(str(tmp_path / PREFIX), D(2017, 1, 1), None)) == [
        "CAMHDA301-20170301T001500"]
    assert len(list_source(str(tmp_path))) == len(NAMES)
    with pytest.raises(UserError, match="no RS03ASHS/PN03B/06-CAMHDA301"):
        list_local(str(tmp_path / PREFIX / "2016"))


def test_date_dirs_visits_only_overlapping_years_and_months():
    tree = {"": ["2015", "2016", "2017", "junk"], "2015": ["12"], "2016": ["01", "02"],
            "2016/01": ["01", "02", "31"], "2016/02": ["01"], "2015/12": ["31"],
            "2017": ["03"], "2017/03": ["01"]}
    asked = []

    def subdirs(rel):
        asked.append(rel)
        return tree[rel]

    assert date_dirs(subdirs, D(2016, 1, 2), D(2016, 1, 31)) == ["2016/01/02", "2016/01/31"]
    assert asked == ["", "2016", "2016/01"]


# -- manifest files ------------------------------------------------------------------------


def test_manifest_file_sources(tmp_path):
    (tmp_path / "a.csv").write_text(
        "url,size,md5\n"
        f"https://h/{PREFIX}/2016/01/01/{NAMES[1]},12,{'a' * 32}\n"
        f"gs://b/p/{NAMES[2]},,\n"
        "https://h/other/readme.mov,,\n")
    videos = list_manifest_file(str(tmp_path / "a.csv"))
    assert [(v.stem, v.size, v.md5) for v in videos] == [
        (NAMES[1][:-4], 12, "a" * 32), (NAMES[2][:-4], None, None)]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.tsv").write_text(f"path\tnote\n../videos/{NAMES[5]}\tx\n")
    (v,) = list_manifest_file(str(tmp_path / "sub" / "b.tsv"))
    assert v.url == str(tmp_path / "videos" / NAMES[5])
    (tmp_path / "c.txt").write_text(f"/data/{NAMES[0]}\n\n# comment\n/data/{NAMES[4]}\n")
    assert len(list_manifest_file(str(tmp_path / "c.txt"))) == 2
    (tmp_path / "d.csv").write_text("name,when\nx,y\n")
    with pytest.raises(UserError, match="no url/path/location/mov_basename column"):
        list_manifest_file(str(tmp_path / "d.csv"))


@pytest.mark.skipif(not METADATA.exists(), reason="shared data not present")
def test_real_archive_listing_as_a_source():
    """movie_metadata.csv (CRLF, mov_basename + file_size) names 11,645 real videos."""
    videos = list_manifest_file(str(METADATA), base_url="https://example.org/files")
    assert len(videos) == 11645
    assert len({v.stem for v in videos}) == 11645
    assert sum("Z" in v.stem for v in videos) == 2972
    parts = [v for v in videos if v.stem[-3] == "_"]
    assert len(parts) == 8 and all(v.stem[-2:].isdigit() for v in parts)
    v = next(v for v in videos if v.stem == "CAMHDA301-20160101T000000Z")
    assert v.url == f"https://example.org/files/{PREFIX}/2016/01/01/CAMHDA301-20160101T000000Z.mov"
    assert v.size == 14124848185
    jan = select(videos, D(2016, 1, 1), D(2016, 1, 31))
    assert len(jan) > 200 and all(x.date_time.startswith("2016-01") for x in jan)


# -- HTTP index ----------------------------------------------------------------------------


def test_index_links_skip_sort_parent_and_foreign_links():
    page = ('<a href="?C=N;O=D">Name</a><a href="/files/">Parent Directory</a>'
            '<a href="2016/">2016/</a><a href="x%20y.mov">x y.mov</a>'
            '<a href="http://e/">http://e/</a><a href="a.mov">b.mov</a>')
    assert index_links(page) == ["2016/", "x y.mov"]


def test_http_source_crawls_only_the_range(tmp_path, archive_http_server):
    digests = make_tree(tmp_path)
    server = archive_http_server(tmp_path)
    videos = list_http(server.url, D(2016, 1, 1), D(2016, 1, 1))
    assert stems(videos) == [n[:-4] for n in NAMES[1:4]]
    base = f"{server.url}{PREFIX}/2016/01/01/"
    assert [v.url for v in videos] == [base + n for n in NAMES[1:4]]
    assert [v.md5 for v in videos] == [digests[n] for n in NAMES[1:4]]
    pages = sorted(r.path for r in server.requests if r.path.endswith("/"))
    assert pages == sorted(f"/{PREFIX}/{d}" for d in ("", "2016/", "2016/01/", "2016/01/01/"))
    md5s = [r.path for r in server.requests if r.path.endswith(".md5")]
    assert len(md5s) == 3
    # the root URL may also be given down to the instrument, and md5s skipped
    server.reset_stats()
    videos = list_http(f"{server.url}{PREFIX}", D(2015, 12, 31), D(2016, 1, 1), md5=False)
    assert len(videos) == 4 and all(v.md5 is None for v in videos)
    assert not [r for r in server.requests if r.path.endswith(".md5")]


def test_http_source_retries_an_overloaded_server_and_names_a_missing_page(
        tmp_path, archive_http_server):
    make_tree(tmp_path)
    server = archive_http_server(tmp_path)
    server.faults.fail_next(2, 503)  # the first two pages answer 503, then all is well
    videos = list_http(server.url, D(2016, 1, 2), D(2016, 1, 2), md5=False)
    assert stems(videos) == [NAMES[4][:-4]]
    assert [r.status for r in server.requests][:2] == [503, 503]
    with pytest.raises(SourceError, match=r"/nowhere/RS03ASHS/PN03B/06-CAMHDA301/: not found"):
        list_http(server.url + "nowhere/", D(2016, 1, 2), D(2016, 1, 2))


def test_gcs_source(tmp_path, gcs_emulator):
    digests = make_tree(tmp_path)
    url = gcs_emulator.upload_tree("camhd-test", tmp_path, "mirror/")
    videos = list_gcs(url, D(2016, 1, 1), D(2016, 1, 2))
    assert stems(videos) == [n[:-4] for n in NAMES[1:5]]
    assert videos[0].url == f"gs://camhd-test/mirror/{PREFIX}/2016/01/01/{NAMES[1]}"
    assert videos[0].md5 == digests[NAMES[1]] and videos[0].size == len(NAMES[1])
    assert len(list_gcs(url)) == len(NAMES)
    assert source_kind(url) == "gs"


# -- config ------------------------------------------------------------------------------


@pytest.mark.parametrize("config, message", [
    ({"motion": {"stride": -1}},
     "config error: motion.stride: -1 is less than the minimum of 1"),
    ({"motion": {"strid": 5}},
     "config error: motion.strid: unknown key (known in motion: dark_threshold, decoder, engine, "
     "img_scale, max_corners, min_inliers, native_bin, pair_offset, ransac_threshold, "
     "snow_size, stride, workers)"),
    ({"start": "2016-13-01"}, "config error: start: '2016-13-01' is not a valid date"),
    ({"end": "January"}, "config error: end: 'January' is not a date (YYYY-MM-DD)"),
    ({"read_mode": "copy"},
     "config error: read_mode: 'copy' is not one of ['stream', 'download']"),
    ({"regions": {"min_run": "2"}}, "config error: regions.min_run: '2' is not of type 'integer'"),
    ({"start": "2016-02-01", "end": "2016-01-01"},
     "config error: end: 2016-01-01 is before start 2016-02-01"),
    ({"sourc": "x"}, "config error: sourc: unknown key (known: "),
])
def test_bad_config_is_one_line_naming_the_key(config, message):
    with pytest.raises(ConfigError) as err:
        validate_config(config, load_schema())
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_config_defaults_and_step_arguments():
    from camhd_motion.params import as_dict, cli_options
    from camhd_motion.pipeline.config import motion_params, region_params

    config = validate_config({"start": dt.date(2016, 1, 1), "motion": {"stride": 20}})
    assert config["start"] == "2016-01-01" and config["end"] is None
    assert config["motion"]["pair_offset"] == 5 and config["resources"]["motion_mem_mb"] > 0
    options = cli_options(as_dict(motion_params(config)))
    assert options.startswith("--stride 20 --pair-offset 5 --img-scale 0.25")
    assert "--workers" not in options and "--engine" not in options
    assert "--min-run 2" in cli_options(as_dict(region_params(config)))
    shipped = (REPO / "config" / "config.yaml").read_text()
    import yaml

    validate_config(yaml.safe_load(shipped))


# -- the manifest the workflow keeps -----------------------------------------------------


def test_manifest_is_reused_until_stale(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path / "arch")
    config = validate_config({"source": "arch", "start": "2016-01-01", "end": "2016-01-02"})
    assert manifest_status(config) == "missing"
    plan = make_plan(config)
    assert sorted(v.stem for v in plan.videos.values()) == [n[:-4] for n in NAMES[1:5]]
    assert manifest_status(config) is None
    narrower = dict(config, start="2016-01-02", pattern="*T000000Z")
    assert manifest_status(narrower) is None  # a sub-range reuses the listing
    assert [v.stem for v in make_plan(narrower).videos.values()] == [NAMES[4][:-4]]
    assert "not the selected range" in manifest_status(dict(config, end="2016-01-03"))
    assert "another source" in manifest_status(dict(config, source=str(tmp_path)))
    # a video added to a day directory makes a local listing stale
    time.sleep(0.01)
    new = tmp_path / "arch" / PREFIX / "2016/01/02/CAMHDA301-20160102T030000Z.mov"
    new.write_text("x")
    os.utime(new.parent, (time.time() + 5, time.time() + 5))
    assert manifest_status(config) == "the source directory changed"
    assert len(make_plan(config).videos) == 5
    # a job (not the main process) never lists: it only reads the manifest
    os.remove(config["manifest"])
    with pytest.raises(UserError, match="a job cannot list the source"):
        make_plan(config, main_process=False)


def test_plan_paths_and_failed_records(tmp_path, monkeypatch):
    from camhd_motion.formats import optical_flow, regions_json
    from camhd_motion.pipeline import workflow

    # the workflow names files without importing the format modules (parse-time cost)
    assert workflow.MOTION_SUFFIX == optical_flow.SUFFIX
    assert workflow.REGIONS_SUFFIX == regions_json.SUFFIX
    monkeypatch.chdir(tmp_path)
    local_mov = tmp_path / "local" / NAMES[4]
    local_mov.parent.mkdir()
    local_mov.write_bytes(b"")
    (tmp_path / "list.csv").write_text(
        f"url\nhttps://h/{PREFIX}/2016/01/01/{NAMES[1]}\n{local_mov}\n")
    rel = "2016/01/01/" + NAMES[1][:-4]
    record = tmp_path / "results" / "failed" / (rel + ".txt")
    record.parent.mkdir(parents=True)
    record.write_text("x.mov: truncated\n")
    config = validate_config({"source": "list.csv"})
    plan = make_plan(config)
    assert list(plan.failed) == [NAMES[1][:-4]] and len(plan.videos) == 1
    (local,) = plan.videos
    assert plan.video_input(local) == [str(local_mov)]
    # a listed file that is missing is no input snakemake would stop the run for: its
    # motion job runs, fails alone and records it (tests/test_reliability.py)
    local_mov.unlink()
    assert make_plan(config).video_input(local) == []
    plan = make_plan(dict(config, retry_failed=True, read_mode="download"))
    assert plan.video_input(rel) == [f"downloads/{PREFIX}/{rel}.mov"]
    assert plan.location(rel) == plan.video_input(rel)[0]
    assert plan.motion_json(rel) == f"results/{PREFIX}/{rel}_optical_flow.json"
    stream = make_plan(dict(config, retry_failed=True))
    assert stream.video_input(rel) == [] and stream.location(rel).startswith("https://h/")
    with pytest.raises(UserError, match="not a selected video"):
        stream.location("2016/01/09/CAMHDA301-20160109T000000Z")
    # a listing mixing roots has no {vid} pattern: the rules use the input functions
    assert stream.location_pattern() is None and stream.input_pattern() is None


def test_plan_patterns_give_the_same_paths(tmp_path, monkeypatch):
    """Under one archive root the rules use {vid} patterns: the same values as the
    input functions give, for every read mode and kind of source."""
    from camhd_motion.pipeline.workflow import make_plan

    monkeypatch.chdir(tmp_path)
    for n in NAMES[:4]:  # the local archive's files exist (a missing one: no pattern)
        mov = tmp_path / "archive" / PREFIX / n[10:14] / n[14:16] / n[16:18] / n
        mov.parent.mkdir(parents=True, exist_ok=True)
        mov.write_bytes(b"")
    for root in ("https://h/files", str(tmp_path / "archive")):
        (tmp_path / "list.csv").write_text("url\n" + "".join(
            f"{root}/{PREFIX}/{n[10:14]}/{n[14:16]}/{n[16:18]}/{n}\n" for n in NAMES[:4]))
        for mode in ("stream", "download"):
            config = validate_config({"source": "list.csv", "read_mode": mode})
            plan = make_plan(config)
            assert plan.videos and plan.common_root() == root
            for rel in plan.videos:
                assert plan.location_pattern().replace("{vid}", rel) == plan.location(rel)
                assert [p.replace("{vid}", rel) for p in plan.input_pattern()] == (
                    plan.video_input(rel))
    mov.unlink()
    plan = make_plan(validate_config({"source": "list.csv"}))
    n = mov.name
    missing = f"{n[10:14]}/{n[14:16]}/{n[16:18]}/{mov.stem}"
    assert plan.input_pattern() is None and plan.missing == {missing}
    assert [rel for rel in plan.videos if not plan.video_input(rel)] == [missing]


# -- pending ---------------------------------------------------------------------------


def test_parse_summary():
    a = f"results/{PREFIX}/2016/01/01/CAMHDA301-20160101T000000Z"
    b = f"results/{PREFIX}/2016/01/01/CAMHDA301-20160101T030000Z_01"
    text = "\n".join([
        "Building DAG of jobs...",
        "output_file\tdate\trule\tlog-file(s)\tstatus\tplan",
        "results/regions.csv\t-\taggregate\t-\tmissing\tupdate pending",
        f"{a}_optical_flow.json\t-\tanalyze\tl\tok\tno update",
        f"{a}_optical_flow_regions.json\t-\tanalyze\tl\tok\tno update",
        f"{b}_optical_flow.json\t-\tanalyze\tl\tparams changed\tupdate pending",
        f"{b}_optical_flow_regions.json\t-\tanalyze\tl\tmissing\tupdate pending",
    ])
    videos = parse_summary(text)
    assert set(videos) == {"CAMHDA301-20160101T000000Z", "CAMHDA301-20160101T030000Z_01"}
    assert not videos["CAMHDA301-20160101T000000Z"].pending
    b_status = videos["CAMHDA301-20160101T030000Z_01"]
    assert b_status.date_time == "2016-01-01T03:00:00"
    assert b_status.line().split("\t") == [
        "CAMHDA301-20160101T030000Z_01", "2016-01-01T03:00:00", "pending", "analyze",
        "params changed, missing"]


# -- the per-video job's reuse of a motion file ------------------------------------------
