"""Streaming over HTTP: exact ranges, identical numbers, bounded transfer, faults survived."""

from __future__ import annotations

import http.client
import os
import re
import struct
import time
import urllib.parse

import numpy as np
import pytest

from camhd_motion.errors import SourceError
from camhd_motion.motion.analyze import analyze_video
from camhd_motion.motion.model import MotionParams
from camhd_motion.motion.sampling import needed_frames, sample_pairs
from camhd_motion.sources.http import HttpRangeSource
from camhd_motion.sources.local import LocalFileSource
from camhd_motion.video.movindex import read_index

# Fast retries: the faults below are injected, not real congestion.
FAST = {"backoff": 0.01, "timeout": 5.0}


def _url(server, net_archive, name):
    return server.url + net_archive.videos[name]


def _local(net_archive, name, params=None):
    return analyze_video(str(net_archive.path(name)), params)


def _same_samples(a, b):
    assert len(a.samples) == len(b.samples) > 0
    for x, y in zip(a.samples, b.samples, strict=True):
        assert x == y  # every field: frames, similarity floats, validity, reason, counts
    assert a.movie.num_frames == b.movie.num_frames
    assert a.movie.duration == b.movie.duration


@pytest.fixture
def served(archive_http_server, net_archive):
    return archive_http_server(net_archive.root)


@pytest.fixture(scope="module")
def local_results(net_archive):
    return {name: _local(net_archive, name) for name in net_archive.videos}


# -- the test server itself ----------------------------------------------------------


def _get(server, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", urllib.parse.urlsplit(server.url).port)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


def test_server_ranges_and_index(served, net_archive):
    name = next(iter(net_archive.videos))
    path = "/" + net_archive.videos[name]
    data = net_archive.path(name).read_bytes()
    size = len(data)
    for spec, want in [("bytes=10-19", (10, 20)), (f"bytes={size - 5}-", (size - 5, size)),
                       ("bytes=-7", (size - 7, size)), ("bytes=5-999999999", (5, size))]:
        resp, body = _get(served, path, {"Range": spec})
        assert resp.status == 206 and body == data[want[0] : want[1]]
        assert resp.getheader("Content-Range") == f"bytes {want[0]}-{want[1] - 1}/{size}"
        assert resp.getheader("Accept-Ranges") == "bytes"
    resp, _ = _get(served, path, {"Range": f"bytes={size}-"})
    assert resp.status == 416 and resp.getheader("Content-Range") == f"bytes */{size}"
    resp, body = _get(served, path, method="HEAD")
    assert resp.status == 200 and body == b"" and int(resp.getheader("Content-Length")) == size
    resp, body = _get(served, path + ".md5")
    assert resp.status == 200 and re.match(rb"[0-9a-f]{32}  " + name.encode(), body)
    assert _get(served, "/nope.mov")[0].status == 404
    assert _get(served, "/../../etc/passwd")[0].status == 404
    day = path.rsplit("/", 1)[0]
    resp, _ = _get(served, day)
    assert resp.status == 301 and resp.getheader("Location") == day + "/"
    resp, page = _get(served, day + "/")
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>', page.decode())
    entries = [href for href, text in links if href == text]
    assert sorted(entries) == sorted(
        [n for n in net_archive.videos] + [n + ".md5" for n in net_archive.videos])
    assert ("?C=N;O=D", "Name") in links  # the sort links a crawler must skip
    assert any(text == "Parent Directory" for _, text in links)
    resp, page = _get(served, "/")
    assert '<a href="RS03ASHS/">RS03ASHS/</a>' in page.decode()


def test_server_accounting_and_keepalive(served, net_archive):
    name = next(iter(net_archive.videos))
    with HttpRangeSource(_url(served, net_archive, name)) as src:
        served.reset_stats()
        assert src.read(100, 5000) == net_archive.path(name).read_bytes()[100:5100]
        assert src.read(0, 10) == net_archive.path(name).read_bytes()[:10]
    assert served.bytes_sent == 5010
    assert [(r.start, r.sent) for r in served.file_requests()] == [(100, 5000), (0, 10)]
    assert served.connections == 1  # probe and both reads on one kept-alive connection


def test_redirects_are_followed(served, net_archive, tmp_path):
    from camhd_motion.sources.download import download

    name = net_archive.co64_name
    served.redirects["/old/x.mov"] = "/" + net_archive.videos[name]
    served.redirects["/old/x.mov.md5"] = "/" + net_archive.videos[name] + ".md5"
    data = net_archive.path(name).read_bytes()
    with HttpRangeSource(served.url + "old/x.mov") as src:
        assert src.url == _url(served, net_archive, name)
        assert src.read(1000, 10) == data[1000:1010]
    result = download(served.url + "old/x.mov", tmp_path / "x.mov")
    assert (tmp_path / "x.mov").read_bytes() == data and result.md5 is not None


# -- identical numbers ---------------------------------------------------------------


@pytest.mark.parametrize("which", ["stco", "co64"])
def test_analysis_over_http_equals_local(served, net_archive, local_results, which):
    name = net_archive.co64_name if which == "co64" else next(
        n for n in net_archive.videos if n != net_archive.co64_name)
    remote = analyze_video(_url(served, net_archive, name))
    _same_samples(local_results[name], remote)
    assert sum(s.valid for s in remote.samples) >= 4  # a real comparison, not all-invalid


def test_co64_index_over_http(served, net_archive):
    """The co64 copy really has 64-bit offsets, and they parse to the same frames."""
    other = next(n for n in net_archive.videos if n != net_archive.co64_name)
    with HttpRangeSource(_url(served, net_archive, net_archive.co64_name)) as src:
        remote = read_index(src)
    moov = net_archive.path(net_archive.co64_name).read_bytes()[remote.moov_offset :]
    assert b"co64" in moov and b"stco" not in moov
    with LocalFileSource(net_archive.path(other)) as src:
        local = read_index(src)
    assert np.array_equal(remote.offsets, local.offsets)
    assert np.array_equal(remote.sizes, local.sizes)


def test_parallel_workers_stream_identically(served, net_archive, local_results):
    name = net_archive.co64_name
    remote = analyze_video(_url(served, net_archive, name), workers=2)
    _same_samples(local_results[name], remote)


# -- bytes transferred -----------------------------------------------------------------


def _top_level_atoms(path) -> int:
    data, pos, n = path.read_bytes(), 0, 0
    while pos + 8 <= len(data):
        size, _ = struct.unpack_from(">I4s", data, pos)
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
        pos, n = pos + size, n + 1
    return n


def test_stride10_transfers_close_to_ideal(served, net_archive):
    name = net_archive.co64_name
    with LocalFileSource(net_archive.path(name)) as src:
        index = read_index(src)
    pairs = sample_pairs(index.num_frames, 10, 5)
    frames = needed_frames(pairs)
    ideal = (sum(int(index.sizes[f - 1]) for f in frames) + index.moov_size
             + 16 * _top_level_atoms(net_archive.path(name)))
    served.reset_stats()
    result = analyze_video(_url(served, net_archive, name))
    assert result.performance["framesPartial"] == len(frames)
    assert served.bytes_sent <= 1.12 * ideal
    assert served.bytes_sent >= ideal - 16 * _top_level_atoms(net_archive.path(name))
    assert served.bytes_sent < 0.2 * index.file_size


def test_every_frame_mode_reads_each_byte_once(served, net_archive):
    name = net_archive.co64_name
    path = net_archive.path(name)
    served.reset_stats()
    result = analyze_video(_url(served, net_archive, name), MotionParams(stride=1))
    assert result.performance["framesPartial"] == result.movie.num_frames
    # the partial decoder's full decodes (faint frames, second looks: estimator step 9)
    # use the bytes already fetched: the coverage below stays 1
    assert result.performance["framesDecoded"] > result.performance["framesPartial"]
    coverage = np.zeros(path.stat().st_size, np.int32)
    probes = 0
    for r in served.file_requests():
        if r.sent <= 16:  # the size probe and the top-level atom headers
            probes += r.sent
        else:
            coverage[r.start : r.start + r.sent] += 1
    assert coverage.max() == 1  # frames and moov: each byte at most once
    assert probes <= 16 * (_top_level_atoms(path) + 1)
    assert served.bytes_sent <= path.stat().st_size + probes


# -- concurrency -----------------------------------------------------------------------


def test_read_many_keeps_requests_in_flight(served, net_archive):
    name = net_archive.co64_name
    data = net_archive.path(name).read_bytes()
    ranges = [(i * 20_000, 15_000) for i in range(12)]
    with HttpRangeSource(_url(served, net_archive, name), concurrency=4) as src:
        served.faults.delay = 0.05  # a 50 ms round trip
        served.reset_stats()
        t0 = time.perf_counter()
        blobs = list(src.read_many(ranges))
        elapsed = time.perf_counter() - t0
    assert blobs == [data[o : o + n] for o, n in ranges]  # in request order
    assert served.max_in_flight >= 3
    assert elapsed < 12 * 0.05 * 0.75  # well under the sequential 0.6 s


# -- faults ------------------------------------------------------------------------------


def _analyze_with(served, net_archive, local_results, **options):
    name = net_archive.co64_name
    remote = analyze_video(_url(served, net_archive, name), source_options={**FAST, **options})
    _same_samples(local_results[name], remote)
    return remote


def test_connection_dropped_mid_frame_resumes(served, net_archive, local_results):
    served.faults.drop_after(10_000)  # the first body longer than 10 kB is cut
    _analyze_with(served, net_archive, local_results)
    reqs = served.file_requests()
    cut = next(r for r in reqs if r.sent < r.length)
    assert cut.sent == 10_000
    # the retry asks only for the missing tail
    resumed = [r for r in reqs if r.start == cut.start + cut.sent]
    assert resumed and resumed[0].length == cut.length - cut.sent


def test_connection_dropped_repeatedly(served, net_archive, local_results):
    served.faults.drop_after(5_000, every=3)
    _analyze_with(served, net_archive, local_results)
    assert sum(r.sent < r.length for r in served.file_requests()) >= 2


def test_503_burst(served, net_archive, local_results):
    served.faults.fail_next(4)  # covers the open (size probe) and the first reads
    _analyze_with(served, net_archive, local_results)
    assert sum(r.status == 503 for r in served.requests) == 4


def test_slow_and_stalled_server(served, net_archive, local_results):
    served.faults.delay = 0.01
    served.faults.rate = 4e6  # 4 MB/s
    served.faults.stall_next(1, 1.5)  # one request hangs past the client timeout
    _analyze_with(served, net_archive, local_results, timeout=0.5)


def test_persistent_faults_give_a_clear_error(served, net_archive):
    with HttpRangeSource(_url(served, net_archive, net_archive.co64_name), retries=2,
                         backoff=0.01) as src:
        served.faults.fail_next(100)
        with pytest.raises(SourceError, match=r"HTTP 503 .*gave up after 2 retries"):
            src.read(0, 100)


def test_server_without_range_is_a_clear_error(served, net_archive):
    served.faults.ranges = False
    url = _url(served, net_archive, net_archive.co64_name)
    with pytest.raises(SourceError) as info:
        HttpRangeSource(url)
    assert str(info.value) == f"{url}: server ignores HTTP Range requests; use read_mode: download"


def test_cli_reports_no_range_in_one_line(served, net_archive, tmp_path, capsys):
    from camhd_motion.cli import main

    served.faults.ranges = False
    url = _url(served, net_archive, net_archive.co64_name)
    code = main(["motion", url, "-o", str(tmp_path / "out.json")])
    err = capsys.readouterr().err.strip()
    assert code == SourceError.exit_code
    assert err.splitlines() == [
        f"camhd-motion motion: error: {url}: server ignores HTTP Range requests; "
        "use read_mode: download"
    ]


def test_no_range_falls_back_to_download_when_asked(served, net_archive, local_results):
    served.faults.ranges = False
    name = net_archive.co64_name
    src = HttpRangeSource(_url(served, net_archive, name), on_no_range="download")
    cache = src._tmpdir
    assert src.read(0, 100) == net_archive.path(name).read_bytes()[:100]
    src.close()
    assert not os.path.exists(cache)  # the temporary copy goes with the source
    _analyze_with(served, net_archive, local_results, on_no_range="download")


def test_serve_command(net_archive):
    import subprocess
    import sys
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, "-m", "camhd_motion", "serve", str(net_archive.root), "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert b'<a href="RS03ASHS/">RS03ASHS/</a>' in resp.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


# -- exact ranges, timeouts and crawling servers -----------------------------------------


def test_a_range_from_the_wrong_offset_is_refused(served, net_archive):
    name = net_archive.co64_name
    size = net_archive.path(name).stat().st_size
    with HttpRangeSource(_url(served, net_archive, name), **FAST) as src:
        real = served.file_headers

        def shifted(h, path, start, end, status):  # claims one byte further than it sends
            headers = real(h, path, start, end, status)
            headers["Content-Range"] = f"bytes {start + 1}-{end}/{size}"
            return headers

        served.file_headers = shifted
        with pytest.raises(SourceError, match=r"asked for bytes from 1000, server sent from "
                                              r"1001"):
            src.read(1000, 10)


def test_a_silent_server_is_given_up_in_time(served, net_archive):
    """Accepts, never answers: each attempt times out, and the source gives up when
    ``give_up_after`` has passed without progress, whatever the retries left."""
    url = _url(served, net_archive, net_archive.co64_name)
    served.faults.stall_next(1000, 5.0)
    t0 = time.monotonic()
    with pytest.raises(SourceError) as info:
        HttpRangeSource(url, connect_timeout=1.0, read_timeout=0.3, give_up_after=1.0,
                        retries=100, backoff=0.01)
    elapsed = time.monotonic() - t0
    assert str(info.value) == f"{url}: timed out (gave up: no progress for 1 s)"
    assert 0.9 < elapsed < 2.5
    assert 3 <= len(served.requests) <= 5  # timeouts at 0.3, 0.6, 0.9, then the 0.1 s left


@pytest.mark.parametrize("rate, read_timeout, fault", [
    (4000, 0.5, r"too slow \(\d+ bytes/s\)"),  # 1 kB every 0.26 s: under min_rate
    (2000, 0.3, r"timed out"),  # 1 kB every 0.51 s: a burst, then silence
])
def test_a_trickling_server_is_cut_and_given_up(served, net_archive, rate, read_timeout,
                                                fault):
    """Every attempt delivers some bytes, so neither the read timeout nor "progress resets
    the retries" would ever end it; below ``min_rate`` an attempt is cut (or judged, when
    it timed out) as making no progress."""
    name = net_archive.co64_name
    with HttpRangeSource(_url(served, net_archive, name), read_timeout=read_timeout,
                         min_rate=10_000, give_up_after=1.0, retries=100,
                         backoff=0.01) as src:
        served.faults.rate = rate
        t0 = time.monotonic()
        with pytest.raises(SourceError, match=fault + r" \(gave up: no progress for 1 s\)"):
            src.read(0, 100_000)
    assert time.monotonic() - t0 < 4.0
