"""Reliability: each failure a hostile or unlucky user meets, injected with its own server
or file, and the behaviour docs/FAILURES.md promises for it.

- wrong numbers never pass as valid: a damaged frame invalidates its samples, with a reason;
- what a server or a file is, is checked at the edges: an HTML page, an image or text is
  never analysed, downloaded or listed as a movie or an index, and says so;
- one line naming the input and the cause, with an exit code that says whether running
  again can help (2 fix the input / 3 bad video, recorded / 4 transient), no traceback;
- time limits: a silent, trickling or merely slow server ends as a transient failure;
- listings accept only archive names under the source root;
- in the workflow, every bad row fails alone and is recorded (missing, not a movie, damaged
  index, 404, 403, an HTML page), transient failures are not, the good videos finish, and
  the next run writes the aggregate and redoes only the retriable ones.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from camhd_motion import cli
from camhd_motion.errors import SourceError, VideoError
from camhd_motion.motion.analyze import analyze_video
from camhd_motion.motion.model import MotionParams
from camhd_motion.native import native_available
from camhd_motion.sources.local import LocalFileSource
from camhd_motion.video.movindex import read_index
from tests.fixtures.hostile import MAINTENANCE, HostileServer
from tests.fixtures.http import write_test_video

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"
STEM = "CAMHDA301-20160101T000000Z"
# short network patience, so that the failure tests take seconds
FAST = ["--connect-timeout", "1", "--read-timeout", "0.5", "--retries", "1", "--backoff",
        "0.01", "--give-up-after", "1.5"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0" + bytes(200)
TEXT = b"this is not a movie\n" * 50


# -- helpers -----------------------------------------------------------------------------


def run_cli(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "camhd_motion", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    """The stderr lines that are not log records (the CLI's own error line)."""
    return [line for line in proc.stderr.splitlines()
            if line.strip() and " INFO " not in line and " WARNING " not in line]


def assert_one_line(proc, code: int, *parts: str) -> str:
    """Exit ``code``, exactly one error line containing every part, no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A 60-frame 384x216 ProRes video that holds, pans 3 px/frame (frames 21-41), holds."""
    day = tmp_path_factory.mktemp("small") / PREFIX / "2016/01/01"
    day.mkdir(parents=True)
    return write_test_video(day / f"{STEM}.mov")


@pytest.fixture
def hostile():
    servers = []

    def start() -> HostileServer:
        servers.append(HostileServer().start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def damage_frame(src: Path, dst: Path, frame: int, nbytes: int, *, keep_head: int = 2000,
                 seed: int = 0) -> None:
    """``src`` with ``nbytes`` random bytes over the slice data of ``frame``: its first
    ``keep_head`` bytes (frame header, picture header, slice table) are kept intact."""
    with LocalFileSource(src) as source:
        offset, size = read_index(source).frame_range(frame)
    data = bytearray(src.read_bytes())
    n = min(nbytes, size - keep_head)
    start = offset + keep_head
    data[start : start + n] = np.random.default_rng(seed).integers(0, 256, n, np.uint8).tobytes()
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(bytes(data))


def stsz_claiming(src: Path, dst: Path, frames: int) -> None:
    """``src`` with its sample-size table claiming ``frames`` frames."""
    data = bytearray(src.read_bytes())
    at = data.rfind(b"stsz")
    struct.pack_into(">I", data, at + 12, frames)  # after version/flags and uniform size
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(bytes(data))


# -- 1. damage is detected, not averaged in ----------------------------------------------


def test_a_damaged_frame_invalidates_its_samples_with_a_reason(small, tmp_path):
    clean = analyze_video(str(small)).samples
    bad = tmp_path / small.name
    damage_frame(small, bad, 36, 200_000)
    got = analyze_video(str(bad)).samples
    broken = [s for s in got if 36 in (s.from_frame, s.to_frame)]
    assert [s.frame for s in broken] == [31, 41]  # the pan: truth tx = -30 px, -15 px
    for s in broken:
        assert not s.valid and s.reason.startswith("frame 36 damaged: "), s
    assert [s for s in got if s not in broken] == [s for s in clean if s.frame not in (31, 41)]


def test_the_issue_case_damage_in_a_synthetic_pan(synth_archive, tmp_path):
    """Random bytes over ~200 kB of one frame's slice data, header intact, in the middle
    of a pan: before, its two samples came out valid with wrong translations."""
    video = synth_archive.lit[0]
    params = MotionParams()
    truth = video.truth.samples(params.stride, params.pair_offset)
    moving = [s for s in truth if s.valid and abs(s.similarity.tx) + abs(s.similarity.ty) > 5]
    assert moving, "the synthetic video has a pan"
    target = moving[len(moving) // 2]
    frame = target.to_frame
    bad = tmp_path / video.mov.name
    damage_frame(video.mov, bad, frame, 200_000)
    got = {s.frame: s for s in analyze_video(str(bad), params).samples}
    users = [f for f, s in got.items() if frame in (s.from_frame, s.to_frame)]
    assert target.frame in users
    for f in users:
        assert not got[f].valid and got[f].reason.startswith(f"frame {frame} damaged: ")


def test_the_native_engine_reports_damage_the_same_way(small, tmp_path):
    """Whatever engine decodes, a damaged frame is an invalid sample with the same reason."""
    from camhd_motion.native import analyze_video_native, native_available

    if not native_available():
        pytest.skip("camhd-motion-native not built")
    bad = tmp_path / small.name
    damage_frame(small, bad, 36, 200_000)
    py = analyze_video(str(bad)).samples
    nat = analyze_video_native(str(bad)).samples
    assert [(s.frame, s.valid, s.reason) for s in nat] == [(s.frame, s.valid, s.reason)
                                                            for s in py]
    assert any(s.reason and "damaged" in s.reason for s in nat)


def test_a_one_frame_video_compares_nothing(tmp_path):
    """Its only sample would compare frame 1 with itself: invalid with a reason, in both
    engines."""
    from camhd_motion.native import analyze_video_native

    one = write_test_video(tmp_path / f"{STEM}.mov", frames=1)
    samples = analyze_video(str(one)).samples
    assert [(s.frame, s.from_frame, s.to_frame, s.valid) for s in samples] == [(1, 1, 1, False)]
    assert samples[0].reason == "no pair: from and to are the same frame"
    if native_available():
        nat = analyze_video_native(str(one)).samples
        assert [(s.frame, s.valid, s.reason) for s in nat] == [(1, False, samples[0].reason)]


# -- 2. what it is, checked at the edges ---------------------------------------------------


@pytest.mark.parametrize(("content", "what"), [
    (MAINTENANCE, "an HTML page titled 'Down for maintenance'"),
    (PNG, "a PNG image"),
    (JPEG, "a JPEG image"),
    (TEXT, "text"),
])
def test_a_file_that_is_not_a_movie_says_so_and_is_recorded(tmp_path, content, what):
    video = tmp_path / "in" / f"{STEM}.mov"
    video.parent.mkdir()
    video.write_bytes(content)
    failed = tmp_path / "failed"
    proc = run_cli("motion", video, "-o", tmp_path / "out.json", "--failed-dir", failed)
    assert_one_line(proc, 3, str(video), f"not a QuickTime movie ({what})")
    assert "atom claims" not in proc.stderr
    record = failed / "2016/01/01" / f"{STEM}.txt"
    assert f"not a QuickTime movie ({what})" in record.read_text()
    assert not (tmp_path / "out.json").exists()


def test_an_html_page_for_a_ranged_video_is_reported_as_such(hostile, tmp_path):
    server = hostile()
    # a maintenance page answered with 200 to the Range request, with and without its type
    typed = server.route(f"/a/{STEM}.mov", 200, MAINTENANCE, {"Content-Type": "text/html"})
    untyped = server.route(f"/b/{STEM}.mov", 200, MAINTENANCE)
    for url in (typed, untyped):
        proc = run_cli("motion", url, "-o", tmp_path / "out.json", *FAST)
        assert_one_line(proc, 3, url, "the server sent an HTML page titled 'Down for "
                        "maintenance' (HTTP 200) instead of the video")
        assert "ignores HTTP Range" not in proc.stderr
    # a page that honours Range (206), under another type: found by the movie check
    ranged = server.route(f"/c/{STEM}.mov", body=MAINTENANCE, mode="ranged")
    with pytest.raises(VideoError, match=r"not a QuickTime movie \(an HTML page titled"):
        analyze_video(ranged)


def test_download_never_keeps_an_html_page_as_the_video(hostile, tmp_path):
    server = hostile()  # no .md5 sibling (404): before, only the size was checked
    url = server.route(f"/{PREFIX}/2016/01/01/{STEM}.mov", 200, MAINTENANCE)
    dest = tmp_path / "dl" / f"{STEM}.mov"
    failed = tmp_path / "failed"
    proc = run_cli("download", url, "-o", dest, "--failed-dir", failed, *FAST)
    assert_one_line(proc, 3, url, "not a QuickTime movie (an HTML page titled 'Down for "
                    "maintenance'); nothing kept")
    assert not dest.exists() and not dest.with_name(dest.name + ".part").exists()
    assert "not a QuickTime movie" in (failed / "2016/01/01" / f"{STEM}.txt").read_text()


def test_an_index_page_that_is_not_an_index_is_an_error_naming_the_url(hostile, tmp_path):
    from camhd_motion.archive.sources import list_http

    server = hostile()
    root = server.route(f"/files/{PREFIX}/", 200, MAINTENANCE, {"Content-Type": "text/html"})
    with pytest.raises(SourceError, match=rf"^{root}: not an archive index page \(the server "
                       r"sent an HTML page titled 'Down for maintenance'\)"):
        list_http(server.url + "/files")
    out = tmp_path / "manifest.tsv"
    proc = run_cli("archive", "list", server.url + "/files", "-o", out, *FAST)
    assert_one_line(proc, 4, root, "not an archive index page")
    assert not out.exists()  # never an empty archive


def test_an_html_md5_sibling_is_an_error_not_a_missing_digest(hostile):
    from camhd_motion.archive.sources import list_http

    server = hostile()
    base = f"/files/{PREFIX}/"
    page = "<html><title>Index of {0}</title><a href=\"{1}\">{1}</a></html>"
    server.route(base, 200, page.format(base, "2016/").encode())
    server.route(base + "2016/", 200, page.format(base, "01/").encode())
    server.route(base + "2016/01/", 200, page.format(base, "01/").encode())
    server.route(base + "2016/01/01/", 200, (
        f"<html><title>Index of x</title><a href=\"{STEM}.mov\">{STEM}.mov</a>"
        f"<a href=\"{STEM}.mov.md5\">{STEM}.mov.md5</a></html>").encode())
    server.route(f"{base}2016/01/01/{STEM}.mov.md5", 200, MAINTENANCE)
    with pytest.raises(SourceError, match=r"\.md5: an HTML page .* instead of an md5 file"):
        list_http(server.url + "/files")
    assert [v.stem for v in list_http(server.url + "/files", md5=False)] == [STEM]


def test_an_empty_listing_is_a_warning_and_is_listed_again(tmp_path):
    from camhd_motion.pipeline.workflow import manifest_status

    (tmp_path / "archive" / PREFIX / "2016/01/01").mkdir(parents=True)
    out = tmp_path / "manifest.tsv"
    proc = run_cli("archive", "list", tmp_path / "archive", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "no videos listed" in proc.stderr and "lists it again" in proc.stderr
    config = {"manifest": str(out), "source": str(tmp_path / "archive"), "start": None,
              "end": None, "md5": True}
    assert manifest_status(config) == "the last listing found no videos"


# -- 3. a bad index: one line, recorded ----------------------------------------------------


@pytest.mark.parametrize("frames", [61, 120, 1_000_000])
def test_a_sample_table_claiming_more_frames_is_a_bad_video(small, tmp_path, frames):
    bad = tmp_path / "v" / small.name
    stsz_claiming(small, bad, frames)
    with pytest.raises(VideoError, match=f"corrupt index: stsz claims {frames} frames but "
                       "holds 60"):
        analyze_video(str(bad))
    failed = tmp_path / "failed"
    proc = run_cli("motion", bad, "-o", tmp_path / "o.json", "--workers", "2",
                   "--failed-dir", failed)
    assert_one_line(proc, 3, str(bad), "corrupt index")
    assert (failed / "2016/01/01" / f"{STEM}.txt").exists()


def test_refused_and_missing_remote_videos_are_permanent_and_recorded(hostile, tmp_path):
    server = hostile()
    cases = {"404": (404, "not found (HTTP 404)"), "403": (403, "access refused (HTTP 403")}
    for name, (status, cause) in cases.items():
        url = server.route(f"/{name}/{STEM}.mov", status, b"no")
        failed = tmp_path / name
        proc = run_cli("motion", url, "-o", tmp_path / "o.json", "--failed-dir", failed, *FAST)
        assert_one_line(proc, 3, url, cause)
        assert cause in (failed / "2016/01/01" / f"{STEM}.txt").read_text()


def test_a_directory_or_an_unreadable_path_is_one_line(tmp_path):
    folder = tmp_path / f"{STEM}.mov"
    folder.mkdir()
    assert_one_line(run_cli("motion", folder, "-o", tmp_path / "o.json"), 3,
                    "not a regular file")


# -- 4. time limits -------------------------------------------------------------------------


def test_a_server_that_never_answers_is_a_transient_failure(hostile, tmp_path):
    server = hostile()
    url = server.route(f"/{STEM}.mov", mode="silent")
    failed = tmp_path / "failed"
    t0 = time.monotonic()
    proc = run_cli("motion", url, "-o", tmp_path / "o.json", "--failed-dir", failed, *FAST)
    assert time.monotonic() - t0 < 20
    assert_one_line(proc, 4, url, "timed out (gave up")
    assert not failed.exists()  # transient: the next run tries again


def test_a_trickling_server_is_cut_below_the_minimum_rate(hostile, tmp_path):
    server = hostile()  # a byte every 0.05 s: 20 bytes/s, each socket read well in time
    url = server.route(f"/{STEM}.mov", 206, b"\0" * 4000,
                       {"Content-Range": "bytes 0-3999/4000"}, mode="trickle", interval=0.05)
    t0 = time.monotonic()
    proc = run_cli("motion", url, "-o", tmp_path / "o.json", *FAST, "--min-rate", "1000")
    assert time.monotonic() - t0 < 30
    assert_one_line(proc, 4, url, "too slow")


def test_the_per_video_deadline_stops_a_slow_but_steady_video(small, archive_http_server,
                                                             tmp_path):
    server = archive_http_server(small.parents[6])
    server.faults.rate = 40_000  # steady, above min_rate: only the deadline can stop it
    url = f"{server.url}{PREFIX}/2016/01/01/{small.name}"
    t0 = time.monotonic()
    proc = run_cli("motion", url, "-o", tmp_path / "o.json", "--min-rate", "100",
                   "--deadline", "1.5", "--failed-dir", tmp_path / "failed")
    assert time.monotonic() - t0 < 30
    assert_one_line(proc, 4, url, "stopped at the deadline of 1.5 s")
    assert not (tmp_path / "failed").exists()
    if native_available():  # the native engine's remote reads obey the same options
        t0 = time.monotonic()
        proc = run_cli("motion", url, "-o", tmp_path / "n.json", "--engine", "native",
                       "--min-rate", "100", "--deadline", "1.5")
        assert time.monotonic() - t0 < 30
        assert_one_line(proc, 4, url, "stopped at the deadline of 1.5 s")
    dest = tmp_path / "dl.mov"
    proc = run_cli("download", url, "-o", dest, "--min-rate", "100", "--deadline", "1")
    assert_one_line(proc, 4, url, "deadline of 1 s", "kept in")  # resumable later


def test_network_options_are_declared_once():
    from camhd_motion.params import json_schema
    from camhd_motion.pipeline.config import ConfigError, load_schema, validate_config
    from camhd_motion.sources.options import NetOptions

    schema = load_schema()
    assert schema["properties"]["net"]["properties"] == json_schema(NetOptions)
    defaults = validate_config({})["net"]
    assert defaults == {k: v["default"] for k, v in json_schema(NetOptions).items()}
    assert defaults["deadline"] > 0 and defaults["min_rate"] > 0
    # --config 'net={read_timeout: 60}' as snakemake passes it: a string
    assert validate_config({"net": "{read_timeout: 60}"})["net"]["read_timeout"] == 60
    for bad, message in [({"read_timeout": 0}, "net.read_timeout: 0 is less than or equal to "
                          "the minimum of 0"),
                         ({"retries": -1}, "net.retries: -1 is less than the minimum of 0"),
                         ({"timeout": 3}, "net.timeout: unknown key")]:
        with pytest.raises(ConfigError) as err:
            validate_config({"net": bad})
        assert message in str(err.value), str(err.value)
    for args, message in [(["--read-timeout", "0"], "--read-timeout: 0.0 must be greater"),
                          (["--deadline", "nan"], "--deadline: nan is not a finite number"),
                          (["--retries", "x"], "--retries: invalid int value")]:
        proc = run_cli("motion", f"/nowhere/{STEM}.mov", *args)
        assert_one_line(proc, 2, message)


# -- 5. every error a user can cause: one line, an exit code that says what helps ----------


def test_malformed_urls_are_usage_errors():
    for url in ("http://[::1/x.mov", f"http://127.0.0.1:99999/{STEM}.mov",
                "gs://bucket-only"):
        for command in ("motion", "download"):
            args = [command, url, "-o", "/tmp/never-written.mov"]
            assert_one_line(run_cli(*args), 2, url)


def test_unwritable_output_and_full_disk(small, tmp_path, monkeypatch, capsys):
    import camhd_motion.formats.optical_flow as optical_flow
    import camhd_motion.sources.partfile as partfile

    def fail(code):
        def write(*args, **kwargs):
            raise OSError(code, os.strerror(code), str(tmp_path / "out" / "x"))
        return write

    cases = [(errno.EROFS, 2, "Read-only file system"), (errno.EACCES, 2, "Permission denied"),
             (errno.ENOSPC, 4, "No space left on device")]
    for code, exit_code, cause in cases:
        monkeypatch.setattr(optical_flow, "write_optical_flow", fail(code))
        assert cli.main(["motion", str(small), "-o", str(tmp_path / "o.json"),
                         "--stride", "30"]) == exit_code
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith("camhd-motion motion: error: ") and "cannot write" in err
        assert cause in err and "Traceback" not in err
    # a download onto a full disk: transient, the .part kept for the next run
    monkeypatch.setattr(partfile.PartFile, "write", fail(errno.ENOSPC))
    from camhd_motion.errors import LocalIOError
    from camhd_motion.sources.serve import ArchiveServer

    server = ArchiveServer(small.parents[6]).start()
    try:
        url = f"{server.url}{PREFIX}/2016/01/01/{small.name}"
        with pytest.raises(LocalIOError, match="No space left on device"):
            from camhd_motion.sources.download import download

            download(url, tmp_path / "dl" / small.name)
    finally:
        server.stop()
    if os.geteuid() != 0:  # a real read-only directory (root writes anyway)
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        proc = run_cli("motion", small, "-o", ro / "o.json", "--stride", "30")
        assert_one_line(proc, 2, "cannot write", "Permission denied")


def test_a_bug_is_one_line_and_its_traceback_needs_verbose(monkeypatch, capsys):
    import camhd_motion.commands.serve as serve

    def boom(args):
        raise RuntimeError("something no user can cause")

    monkeypatch.setattr(serve, "run", boom)
    assert cli.main(["serve", "."]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: something no user can cause" in err
    assert "Traceback" not in err and "-v" in err
    with pytest.raises(RuntimeError):
        cli.main(["-v", "serve", "."])


def test_usage_errors_are_one_line():
    proc = run_cli("motion")
    assert_one_line(proc, 2, "camhd-motion motion: error: the following arguments are "
                    "required: video")


def test_a_binary_file_as_source(tmp_path, small):
    blob = tmp_path / "data.bin"
    blob.write_bytes(bytes(range(256)) * 8)
    proc = run_cli("archive", "list", blob, "-o", tmp_path / "m.tsv")
    assert_one_line(proc, 2, f"source {blob}: not a text listing (binary data")
    proc = run_cli("archive", "list", small, "-o", tmp_path / "m.tsv")
    assert_one_line(proc, 2, f"source {small}: a movie, not a listing")


def test_invalid_yaml_config_is_named_with_its_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: data\nmotion:\n  stride: [5\nend: x\n")
    proc = run_cli("config", bad)
    assert_one_line(proc, 2, f"{bad}: line 4, column 4: not valid YAML")


def snakemake(workdir: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d",
                           str(workdir), "--cores", "2", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_snakemake_config_errors_name_the_file(tmp_path, small):
    # -d DIR without config/config.yaml: the workflow's own defaults
    proc = snakemake(tmp_path / "run", "-n", "-p", "--config", f"source={small.parents[6]}",
                     "motion={stride: 5}", "net={read_timeout: 60}", "retry_failed=true",
                     "start=null")
    assert proc.returncode == 0, proc.stderr
    command = next(line for line in proc.stdout.splitlines() if "camhd-motion motion" in line)
    assert " --stride 5 " in command and " --read-timeout 60.0 " in command
    # the run directory's config/config.yaml, broken
    cfg = tmp_path / "run2" / "config" / "config.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("source: [x\n")
    proc = snakemake(tmp_path / "run2", "-n")
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "config error: config/config.yaml: line 2, column 1: not valid YAML")
    # a binary file as source
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)))
    proc = snakemake(tmp_path / "run3", "-n", "--config", f"source={blob}")
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f"error: source {blob}: not a text listing")


# -- 6. listings accept only names under the root ------------------------------------------


def test_listing_skips_entries_outside_the_root(hostile, caplog):
    from camhd_motion.archive.sources import list_http

    server = hostile()
    base = f"/files/{PREFIX}/"

    def page(*names: str) -> bytes:
        links = "".join(f'<a href="{n}">{n}</a>\n' for n in names)
        return f"<html><title>Index of x</title>{links}</html>".encode()

    evil = f"../../../../etc/{STEM}.mov"
    server.route(base, 200, page("2016/", "../2017/"))
    server.route(base + "2016/", 200, page("01/"))
    server.route(base + "2016/01/", 200, page("01/"))
    server.route(base + "2016/01/01/", 200, page(f"{STEM}.mov", evil,
                                                  "sub/CAMHDA301-20160101T030000Z.mov"))
    with caplog.at_level("WARNING"):
        videos = list_http(server.url + "/files", md5=False)
    assert [v.url for v in videos] == [f"{server.url}{base}2016/01/01/{STEM}.mov"]
    assert "skipped 3 index entries that are not names under the source root" in caplog.text
    assert not [p for p in server.paths if ".." in p or "etc" in p]


def test_gcs_listing_skips_objects_outside_the_layout():
    from camhd_motion.archive.sources import list_gcs

    class Blob:
        def __init__(self, name):
            self.name, self.md5_hash, self.size = name, None, 1

    class Client:
        def list_blobs(self, bucket, prefix):
            return [Blob(f"{prefix}2016/01/01/{STEM}.mov"),
                    Blob(f"{prefix}2016/01/01/../../x/CAMHDA301-20160101T030000Z.mov")]

    videos = list_gcs("gs://b/p", client=Client())
    assert [v.stem for v in videos] == [STEM]


# -- 3 (workflow). every bad row fails alone; the aggregate is written ---------------------


def test_workflow_isolates_every_bad_row(small, hostile, archive_http_server, tmp_path):
    """One listing with a good video, and beside it every kind of bad row: a missing file,
    a text file named .mov, a damaged sample table, a 404, a 403, an HTML page with 200,
    and a server error that may pass (503).  The good video finishes; the bad ones are
    recorded with their reasons; the 503 is not; the same run writes the archive tables
    over what it has; the next run retries only the 503 and writes them again."""
    from camhd_motion.archive.names import make_stem, parse_name
    from camhd_motion.pipeline.aggregate import read_summary

    start = parse_name(STEM).start
    stems = {kind: make_stem(start.replace(hour=h), z_suffix=True) for h, kind in enumerate(
        ["good", "missing", "text", "stsz", "404", "403", "html", "503"])}
    files = tmp_path / "files"
    good = files / f"{stems['good']}.mov"
    files.mkdir()
    shutil.copy(small, good)
    (files / f"{stems['text']}.mov").write_bytes(TEXT)
    stsz_claiming(small, files / f"{stems['stsz']}.mov", 120)
    server = hostile()
    rows = {kind: str(files / f"{stems[kind]}.mov") for kind in ("good", "missing", "text",
                                                                 "stsz")}
    rows["404"] = server.route(f"/v/{stems['404']}.mov", 404, b"gone")
    rows["403"] = server.route(f"/v/{stems['403']}.mov", 403, b"no")
    rows["html"] = server.route(f"/v/{stems['html']}.mov", 200, MAINTENANCE,
                                {"Content-Type": "text/html"})
    rows["503"] = server.route(f"/v/{stems['503']}.mov", 503, b"busy")
    listing = tmp_path / "videos.csv"
    listing.write_text("path\n" + "".join(f"{loc}\n" for loc in rows.values()))
    work = tmp_path / "run"
    work.mkdir()
    net = {"connect_timeout": 1, "read_timeout": 1, "retries": 1, "backoff": 0.01,
           "give_up_after": 1.5}
    (work / "config.yaml").write_text(yaml.safe_dump({"source": str(listing), "net": net}))
    first = snakemake(work, "--configfile", str(work / "config.yaml"))
    assert first.returncode != 0  # the bad rows failed, alone
    assert "MissingInputException" not in first.stderr + first.stdout
    results = work / "results"
    day = f"{PREFIX}/2016/01/01"
    assert (results / day / f"{stems['good']}_optical_flow_regions.json").exists()
    records = {kind: results / "failed/2016/01/01" / f"{stems[kind]}.txt" for kind in stems}
    causes = {"missing": "file not found", "text": "not a QuickTime movie (text)",
              "stsz": "corrupt index: stsz claims 120 frames", "404": "not found (HTTP 404)",
              "403": "access refused (HTTP 403", "html": "instead of the video"}
    for kind, cause in causes.items():
        text = records[kind].read_text()
        assert cause in text and len(text.splitlines()) == 1, (kind, text)
    assert not records["503"].exists() and not records["good"].exists()
    assert "bad video(s) recorded" in first.stderr + first.stdout
    # the same run wrote the archive tables over what it has: the 503 video is missing
    status = {r["stem"]: r["status"] for r in read_summary(results / "summary.tsv")}
    assert status == {**{stems[k]: "failed" for k in causes}, stems["good"]: "ok",
                      stems["503"]: "missing"}
    assert "other archive tables over this run's 8 videos (1 missing" in first.stderr
    assert (results / "tables/regions.parquet").exists()
    for kind in causes:
        log = (work / f"logs/motion/2016/01/01/{stems[kind]}.log").read_text()
        assert "Traceback" not in log, log
    # the server is back: the next run retries only the 503 video (the recorded ones are
    # left out, never asked again), and writes the aggregate
    asked = dict(server.hits)
    server.route(f"/v/{stems['503']}.mov", body=small.read_bytes(), mode="ranged")
    second = snakemake(work, "--configfile", str(work / "config.yaml"))
    assert second.returncode == 0, second.stderr[-3000:]
    assert {p: n for p, n in server.hits.items() if asked.get(p) != n} == {
        f"/v/{stems['503']}.mov": server.hits[f"/v/{stems['503']}.mov"]}
    status = {r["stem"]: r for r in read_summary(results / "summary.tsv")}
    assert status[stems["good"]]["status"] == status[stems["503"]]["status"] == "ok"
    for kind, cause in causes.items():
        assert status[stems[kind]]["status"] == "failed"
        assert cause in status[stems[kind]]["error"], (kind, status[stems[kind]])
    assert "Nothing to be done" in snakemake(work, "-n", "--configfile",
                                             str(work / "config.yaml")).stdout
    # a change of the network settings reruns nothing
    (work / "slow.yaml").write_text(yaml.safe_dump({"source": str(listing),
                                                    "net": {**net, "read_timeout": 9}}))
    dry = snakemake(work, "-n", "--configfile", str(work / "slow.yaml"))
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout, dry.stdout[-2000:]


# -- 7. recovery after kill -9 of the main snakemake process --------------------------------


def test_recovery_after_kill_9_is_one_command(small, tmp_path):
    """The jobs finish on their own; the rerun stops on the lock, then on the incomplete
    files; `snakemake --unlock && snakemake --rerun-incomplete` recovers, and every file
    is a complete one (written atomically)."""
    import signal

    from camhd_motion.formats.optical_flow import read_optical_flow

    day = tmp_path / "archive" / PREFIX / "2016/01/01"
    day.mkdir(parents=True)
    for hour in ("00", "03", "06"):
        shutil.copy(small, day / f"CAMHDA301-20160101T{hour}0000Z.mov")
    work = tmp_path / "run"
    args = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "-d", str(work),
            "--config", f"source={tmp_path / 'archive'}", "--cores", "1"]
    main = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    incomplete = work / ".snakemake" / "incomplete"
    deadline = time.monotonic() + 300
    while not (incomplete.is_dir() and any(incomplete.iterdir())):
        assert time.monotonic() < deadline and main.poll() is None, "no job started"
        time.sleep(0.1)
    main.send_signal(signal.SIGKILL)
    main.wait()
    while time.monotonic() < deadline:  # the orphaned job runs to its end
        try:
            os.killpg(main.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    plain = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert plain.returncode != 0  # snakemake: incomplete files (--rerun-incomplete), lock
    assert "--rerun-incomplete" in plain.stderr or "--unlock" in plain.stderr
    recover = subprocess.run(["bash", "-c", f"{' '.join(args)} --unlock && "
                              f"{' '.join(args)} --rerun-incomplete"],
                             capture_output=True, text=True, timeout=900)
    assert recover.returncode == 0, recover.stderr[-3000:]
    for mov in sorted(day.glob("*.mov")):
        rel = f"{PREFIX}/2016/01/01/{mov.stem}"
        assert read_optical_flow(work / "results" / f"{rel}_optical_flow.json").samples
        assert (work / "results" / f"{rel}_optical_flow_regions.json").exists()
    assert "Nothing to be done" in subprocess.run(args + ["-n"], capture_output=True,
                                                  text=True, timeout=600).stdout


def test_a_listing_row_with_a_malformed_url_is_skipped_and_reported(tmp_path, caplog):
    from camhd_motion.archive.sources import list_manifest_file

    listing = tmp_path / "videos.csv"
    good = f"https://example.org/{PREFIX}/2016/01/01/{STEM}.mov"
    listing.write_text(f"url\n{good}\nhttp://[::1/CAMHDA301-20160101T030000Z.mov\n"
                       "https://example.org:99999/CAMHDA301-20160101T060000Z.mov\n")
    with caplog.at_level("WARNING"):
        videos = list_manifest_file(str(listing))
    assert [v.url for v in videos] == [good]
    assert "skipped 2 rows whose URL is not valid" in caplog.text


def test_workflow_download_mode_records_what_cannot_be_had(small, hostile, tmp_path):
    """read_mode: download -- a 404 and an HTML page served as the video are recorded by
    their download jobs (nothing kept as "the video"); the good one is analysed; the next
    run writes the aggregate."""
    from camhd_motion.archive.names import make_stem, parse_name
    from camhd_motion.pipeline.aggregate import read_summary

    start = parse_name(STEM).start
    stems = {kind: make_stem(start.replace(hour=h), z_suffix=True)
             for h, kind in enumerate(["good", "404", "html"])}
    server = hostile()
    urls = {"good": server.route(f"/v/{stems['good']}.mov", body=small.read_bytes(),
                                 mode="ranged"),
            "404": server.route(f"/v/{stems['404']}.mov", 404, b"gone"),
            "html": server.route(f"/v/{stems['html']}.mov", 200, MAINTENANCE)}
    listing = tmp_path / "videos.txt"
    listing.write_text("".join(f"{url}\n" for url in urls.values()))
    work = tmp_path / "run"
    work.mkdir()
    (work / "config.yaml").write_text(yaml.safe_dump({
        "source": str(listing), "read_mode": "download", "md5": False,
        "net": {"retries": 1, "backoff": 0.01, "give_up_after": 2}}))
    first = snakemake(work, "--configfile", str(work / "config.yaml"))
    assert first.returncode != 0
    failed = work / "results/failed/2016/01/01"
    assert "not found (HTTP 404)" in (failed / f"{stems['404']}.txt").read_text()
    assert "not a QuickTime movie (an HTML page" in (failed / f"{stems['html']}.txt").read_text()
    assert not [p for p in (work / "downloads").rglob("*") if p.is_file()]
    second = snakemake(work, "--configfile", str(work / "config.yaml"))
    assert second.returncode == 0, second.stderr[-3000:]
    status = {r["stem"]: r["status"] for r in read_summary(work / "results/summary.tsv")}
    assert status == {stems["good"]: "ok", stems["404"]: "failed", stems["html"]: "failed"}


def test_a_missing_gcs_object_is_permanent(gcs_emulator, tmp_path):
    from camhd_motion.errors import PermanentSourceError
    from camhd_motion.sources import open_source

    gcs_emulator.bucket("camhd-reliability")
    with pytest.raises(PermanentSourceError, match="not found"):
        open_source(f"gs://camhd-reliability/{PREFIX}/2016/01/01/{STEM}.mov", anonymous=True)
