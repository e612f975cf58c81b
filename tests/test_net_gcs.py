"""Streaming and downloading from GCS, against fake-gcs-server on 127.0.0.1."""

from __future__ import annotations

import pytest

from camhd_motion.errors import SourceError, UserError
from camhd_motion.motion.analyze import analyze_video
from camhd_motion.sources.download import download
from camhd_motion.sources.gcs import GcsRangeSource, parse_gs_url

BUCKET = "camhd-test-archive"


@pytest.fixture(scope="module")
def gs_archive(gcs_emulator, net_archive):
    """The test archive uploaded to the emulator; returns the gs:// URL of its root."""
    return gcs_emulator.upload_tree(BUCKET, net_archive.root)


@pytest.fixture(scope="module")
def local_results(net_archive):
    return {name: analyze_video(str(net_archive.path(name))) for name in net_archive.videos}


def test_parse_gs_url():
    assert parse_gs_url("gs://b/a/b.mov") == ("b", "a/b.mov")
    for bad in ("gs://bucket", "gs:///key", "http://x/y"):
        with pytest.raises(UserError):  # a malformed URL: fix the input (exit 2)
            parse_gs_url(bad)


@pytest.mark.parametrize("which", ["stco", "co64"])
def test_analysis_over_gcs_equals_local(gs_archive, net_archive, local_results, which):
    name = net_archive.co64_name if which == "co64" else next(
        n for n in net_archive.videos if n != net_archive.co64_name)
    # co64 also with 2 worker processes: each opens its own client (emulator env inherited)
    workers = 2 if which == "co64" else 1
    remote = analyze_video(gs_archive + net_archive.videos[name], workers=workers)
    local = local_results[name]
    assert len(remote.samples) == len(local.samples) > 0
    for a, b in zip(local.samples, remote.samples, strict=True):
        assert a == b
    assert sum(s.valid for s in remote.samples) >= 4


def test_exact_ranges_and_byte_count(gs_archive, net_archive):
    name = net_archive.co64_name
    data = net_archive.path(name).read_bytes()
    ranges = [(0, 16), (1000, 50_000), (len(data) - 10, 10), (77, 1)]
    with GcsRangeSource(gs_archive + net_archive.videos[name]) as src:
        assert src.size() == len(data)
        assert list(src.read_many(ranges)) == [data[o : o + n] for o, n in ranges]
        assert src.bytes_read == sum(n for _, n in ranges)


def test_dropped_transfer_resumes_the_tail(gs_archive, net_archive, monkeypatch):
    """A connection lost mid-range keeps what arrived and asks only for the rest."""
    from google.cloud.storage.blob import Blob

    real = Blob.download_to_file
    calls = []

    def flaky(self, file_obj, *args, **kwargs):
        calls.append((kwargs["start"], kwargs["end"]))
        if len(calls) > 1:
            return real(self, file_obj, *args, **kwargs)

        class Cut:  # delivers 10 kB, then the "connection" dies
            def write(self, data):
                room = 10_000 - cut.n
                file_obj.write(data[:room])
                cut.n += min(room, len(data))
                if cut.n >= 10_000:
                    raise ConnectionResetError("connection reset by peer")

        cut = Cut()
        cut.n = 0
        return real(self, cut, *args, **kwargs)

    name = net_archive.co64_name
    data = net_archive.path(name).read_bytes()
    with GcsRangeSource(gs_archive + net_archive.videos[name], backoff=0.01) as src:
        monkeypatch.setattr(Blob, "download_to_file", flaky)
        assert src.read(500, 100_000) == data[500:100_500]
    assert calls == [(500, 100_499), (10_500, 100_499)]


def test_missing_object_is_a_clear_error(gs_archive):
    with pytest.raises(SourceError, match="not found"):
        GcsRangeSource(gs_archive + "RS03ASHS/nope.mov")


def test_download_from_gcs_verifies_and_resumes(gs_archive, net_archive, tmp_path):
    name = net_archive.co64_name
    data = net_archive.path(name).read_bytes()
    url = gs_archive + net_archive.videos[name]
    dest = tmp_path / name
    (tmp_path / (name + ".part")).write_bytes(data[: len(data) // 2])
    result = download(url, dest)
    assert dest.read_bytes() == data
    assert result.resumed_from == len(data) // 2
    assert result.bytes_transferred == len(data) - len(data) // 2
    assert result.md5 is not None  # from the .md5 sibling object
    assert not (tmp_path / (name + ".part")).exists()


def test_download_from_gcs_without_sibling_uses_object_md5(gcs_emulator, net_archive, tmp_path):
    name = net_archive.co64_name
    bucket = gcs_emulator.bucket("camhd-no-md5")
    bucket.blob("v.mov").upload_from_filename(str(net_archive.path(name)))
    result = download("gs://camhd-no-md5/v.mov", tmp_path / "v.mov")
    assert result.md5 == net_archive.path(name).with_name(name + ".md5").read_text().split()[0]
