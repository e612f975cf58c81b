"""Download mode over HTTP: resume, md5 verification, atomic placement, the CLI."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from camhd_motion.cli import main
from camhd_motion.errors import PermanentSourceError, SourceError
from camhd_motion.sources.download import download

FAST = {"backoff": 0.01, "timeout": 5.0}


@pytest.fixture
def archive(tmp_path, net_archive):
    """A private copy of one video (+ .md5) that a test may tamper with."""
    name = net_archive.co64_name
    rel = net_archive.videos[name]
    dst = tmp_path / "archive" / rel
    dst.parent.mkdir(parents=True)
    shutil.copy(net_archive.path(name), dst)
    shutil.copy(net_archive.path(name).with_name(name + ".md5"), dst.with_name(name + ".md5"))
    return tmp_path / "archive", rel, dst


@pytest.fixture
def served(archive_http_server, archive):
    root, rel, path = archive
    server = archive_http_server(root)
    server.video_url = server.url + rel
    server.video_path = path
    return server


def _mov_requests(server):
    return [r for r in server.file_requests() if r.path.endswith(".mov")]


def test_download_verifies_and_renames(served, tmp_path):
    dest = tmp_path / "cache" / "v.mov"
    result = download(served.video_url, dest, **FAST)
    data = served.video_path.read_bytes()
    assert dest.read_bytes() == data
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.bytes_transferred == len(data) and result.downloads == 1
    assert not dest.with_name("v.mov.part").exists()


def test_download_resumes_a_half_download(served, tmp_path):
    data = served.video_path.read_bytes()
    half = len(data) // 2
    dest = tmp_path / "v.mov"
    dest.with_name("v.mov.part").write_bytes(data[:half])
    result = download(served.video_url, dest, **FAST)
    assert dest.read_bytes() == data
    assert result.resumed_from == half
    (req,) = _mov_requests(served)
    assert req.range == f"bytes={half}-"
    assert req.sent == len(data) - half  # only the missing half crossed the wire


def test_download_survives_drops_by_resuming(served, tmp_path):
    data = served.video_path.read_bytes()
    served.faults.drop_after(300_000, every=1)  # every response is cut after 300 kB
    dest = tmp_path / "v.mov"
    download(served.video_url, dest, **FAST)
    assert dest.read_bytes() == data
    reqs = _mov_requests(served)
    assert len(reqs) == -(-len(data) // 300_000)
    assert sum(r.sent for r in reqs) == len(data)  # nothing transferred twice


def test_md5_mismatch_downloads_once_more_then_fails(served, tmp_path):
    served.video_path.with_name(served.video_path.name + ".md5").write_text("0" * 32 + "  x\n")
    dest = tmp_path / "v.mov"
    with pytest.raises(SourceError, match="md5 mismatch after a full re-download"):
        download(served.video_url, dest, **FAST)
    reqs = _mov_requests(served)
    assert len(reqs) == 2 and all(r.range is None for r in reqs)  # two full downloads
    assert not dest.exists() and not dest.with_name("v.mov.part").exists()


def test_stale_part_is_replaced_after_md5_mismatch(served, tmp_path):
    """A corrupt .part (e.g. from a changed file) costs one re-download, not a failure."""
    data = served.video_path.read_bytes()
    dest = tmp_path / "v.mov"
    dest.with_name("v.mov.part").write_bytes(b"\0" * 1000)
    result = download(served.video_url, dest, **FAST)
    assert dest.read_bytes() == data and result.downloads == 2


def test_md5_options(served, tmp_path):
    data = served.video_path.read_bytes()
    served.video_path.with_name(served.video_path.name + ".md5").unlink()
    assert download(served.video_url, tmp_path / "a.mov", **FAST).md5 is None  # size only
    digest = hashlib.md5(data).hexdigest()
    assert download(served.video_url, tmp_path / "b.mov", md5=digest, **FAST).md5 == digest
    with pytest.raises(SourceError, match="md5 mismatch"):
        download(served.video_url, tmp_path / "c.mov", md5="f" * 32, **FAST)
    assert download(served.video_url, tmp_path / "d.mov", md5="none", **FAST).md5 is None


def test_download_without_range_support_restarts(served, tmp_path):
    data = served.video_path.read_bytes()
    served.faults.ranges = False
    dest = tmp_path / "v.mov"
    dest.with_name("v.mov.part").write_bytes(data[:1000])
    download(served.video_url, dest, **FAST)
    assert dest.read_bytes() == data


def test_missing_file_is_a_clear_error(served, tmp_path):
    with pytest.raises(SourceError, match=r"nope\.mov: not found \(HTTP 404\)"):
        download(served.url + "nope.mov", tmp_path / "x.mov", md5="none", **FAST)


def test_cli_download(served, tmp_path, capsys):
    dest = tmp_path / "v.mov"
    assert main(["download", served.video_url, "-o", str(dest)]) == 0
    assert dest.read_bytes() == served.video_path.read_bytes()
    served.reset_stats()
    assert main(["download", served.video_url, "-o", str(dest), "--keep"]) == 0
    assert _mov_requests(served) == []
    assert main(["download", served.video_url, "-o", str(tmp_path / "w.mov"),
                 "--md5", "f" * 32, "--retries", "1"]) == PermanentSourceError.exit_code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "md5 mismatch after a full re-download" in err[0]
    assert main(["download", served.video_url, "-o", str(dest), "--md5", "xyz"]) == 2
