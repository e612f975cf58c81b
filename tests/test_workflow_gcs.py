"""The workflow with ``gs://`` default storage (GCS emulator on 127.0.0.1), local executor.

Every input and output goes through the bucket.  A change of a region threshold reruns
only the ``regions`` jobs -- snakemake's params trigger, with the motion files left as
they are in the bucket -- and a motion parameter reruns both steps.  A bad video's record
is kept in the bucket too (a cloud VM's disk disappears with it): the next run leaves the
video out and the aggregate shows it as failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from camhd_motion.formats.regions_json import read_regions_json

REPO = Path(__file__).resolve().parents[1]
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"
BUCKET = "camhd-storage-test"


def snakemake(work: Path, config: dict, *args: str, prefix: str = "run",
              check: bool = True) -> subprocess.CompletedProcess:
    work.mkdir(parents=True, exist_ok=True)
    (work / "run.yaml").write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(work),
           "--configfile", str(work / "run.yaml"), "--cores", "2",
           "--default-storage-provider", "gcs",
           "--default-storage-prefix", f"gs://{BUCKET}/{prefix}",
           "--storage-gcs-project", "test", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def jobs_of(dry_run: str) -> dict[str, int]:
    """``rule -> count`` from the job stats of ``snakemake -n -q rules``."""
    counts = {}
    for line in dry_run.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


def test_threshold_change_reruns_only_regions_in_the_bucket(tmp_path, gcs_emulator,
                                                              synth_archive):
    gcs_emulator.bucket(BUCKET)
    bucket = gcs_emulator.client.bucket(BUCKET)
    n = len(synth_archive.videos)
    base = {"source": str(synth_archive.root)}
    snakemake(tmp_path, base)

    def blobs(suffix: str) -> dict[str, tuple]:
        return {b.name: (b.md5_hash, b.updated) for b in
                gcs_emulator.client.list_blobs(BUCKET, prefix=f"run/results/{PREFIX}/")
                if b.name.endswith(suffix)}

    motion_before = blobs("_optical_flow.json")
    assert len(motion_before) == n and len(blobs("_optical_flow_regions.json")) == n

    changed = {**base, "regions": {"min_run": 3}}
    dry = snakemake(tmp_path, changed, "-n", "-q", "rules").stdout
    assert jobs_of(dry) == {"regions": n, "aggregate": 1, "all": 1}
    snakemake(tmp_path, changed)
    assert blobs("_optical_flow.json") == motion_before  # the motion files untouched
    for name in blobs("_optical_flow_regions.json"):
        local = tmp_path / "check.json"
        bucket.blob(name).download_to_filename(local)
        assert read_regions_json(local).params.min_run == 3
    assert "Nothing to be done" in snakemake(tmp_path, changed, "-n").stdout

    stride = {**changed, "motion": {"stride": 20}}
    dry = snakemake(tmp_path, stride, "-n", "-q", "rules").stdout
    assert jobs_of(dry) == {"motion": n, "regions": n, "motion_samples": 1, "aggregate": 1,
                            "all": 1}


def test_failed_records_in_a_bucket(gcs_emulator):
    """Write, list (with and without the reason metadata), remove: the records' storage."""
    from camhd_motion.errors import SourceError
    from camhd_motion.pipeline.jobs import failed_record_path, record_failure, remove_failure
    from camhd_motion.pipeline.workflow import read_failed_records

    gcs_emulator.bucket(BUCKET)
    failed = f"gs://{BUCKET}/records/results/failed"
    assert read_failed_records(failed) == {}
    assert read_failed_records(f"gs://{BUCKET}-none/results/failed") == {}
    stem = "CAMHDA301-20160101T000000Z"
    url = failed_record_path(failed, f"/archive/{stem}.mov")
    assert url == f"{failed}/2016/01/01/{stem}.txt"
    record_failure(url, ValueError(f"{stem}.mov: truncated:\n  cut short"))
    blob = gcs_emulator.client.bucket(BUCKET).get_blob(f"records/results/failed/2016/01/01/"
                                                      f"{stem}.txt")
    assert blob.download_as_text() == f"{stem}.mov: truncated: cut short\n"
    # the reason is in the listing itself: no download per record
    listed = list(gcs_emulator.client.list_blobs(BUCKET, prefix=blob.name))
    assert [b.metadata for b in listed] == [{"reason": f"{stem}.mov: truncated: cut short"}]
    # one written by hand (the old workaround), without metadata; a stray non-record
    by_hand = "CAMHDA301-20160102T000000Z"
    bucket = gcs_emulator.client.bucket(BUCKET)
    bucket.blob(f"records/results/failed/2016/01/02/{by_hand}.txt").upload_from_string(
        "not a movie\n")
    bucket.blob("records/results/failed/README").upload_from_string("x")
    assert read_failed_records(failed) == {stem: f"{stem}.mov: truncated: cut short",
                                           by_hand: "not a movie"}
    remove_failure(url)
    remove_failure(url)  # none: nothing to do
    assert read_failed_records(failed) == {by_hand: "not a movie"}

    # a record that cannot be written: one line, transient (not recorded: tried again)
    with pytest.raises(SourceError, match=r"^gs://camhd-storage-test-none/r/x\.txt: cannot "
                       r"write the bad video's record: [^\n]*$") as caught:
        record_failure(f"gs://{BUCKET}-none/r/x.txt", ValueError("bad"))
    assert caught.value.exit_code == 4


def test_bad_video_is_recorded_in_the_bucket(tmp_path, gcs_emulator, synth_archive):
    """A truncated video beside a good one, outputs in the bucket: the motion job records
    it in the bucket (not on the job's disk), the run's note names it, the next run leaves
    it out and writes the aggregate, whose summary (in the bucket) says failed, with the
    reason; retry_failed tries it again."""
    from camhd_motion.archive.manifest import rel_path
    from camhd_motion.archive.names import make_stem, parse_name
    from camhd_motion.pipeline.aggregate import read_summary

    gcs_emulator.bucket(BUCKET)
    bucket = gcs_emulator.client.bucket(BUCKET)
    good = synth_archive.black[0].mov
    day = tmp_path / "archive" / good.parent.relative_to(synth_archive.root)
    day.mkdir(parents=True)
    try:
        os.link(good, day / good.name)
    except OSError:
        shutil.copy2(good, day / good.name)
    name = parse_name(good.name)
    bad_stem = make_stem(name.start.replace(hour=23, minute=59), z_suffix=name.z_suffix)
    (day / f"{bad_stem}.mov").write_bytes(good.read_bytes()[:50_000])
    work = tmp_path / "work"
    base = {"source": str(tmp_path / "archive")}

    first = snakemake(work, base, "--keep-going", prefix="bad", check=False)
    assert first.returncode != 0
    record = bucket.get_blob(f"bad/results/failed/{rel_path(bad_stem)}.txt")
    assert record is not None, first.stderr[-3000:]
    reason = record.download_as_text()
    assert reason.endswith("\n") and "\n" not in reason[:-1]
    reason = reason.strip()
    assert bad_stem in reason and "truncated" in reason, reason
    assert not (work / "results" / "failed").exists()  # nothing on the job's disk
    assert f"1 bad video(s) recorded in gs://{BUCKET}/bad/results/failed/ ({bad_stem})" \
        in first.stderr

    dry = jobs_of(snakemake(work, base, "-n", "-q", "rules", prefix="bad").stdout)
    assert "motion" not in dry and "regions" not in dry and dry["aggregate"] == 1, dry
    retry = {**base, "retry_failed": True}
    dry = jobs_of(snakemake(work, retry, "-n", "-q", "rules", prefix="bad").stdout)
    assert dry.get("motion") == 1, dry  # retry_failed: the record is ignored

    snakemake(work, base, prefix="bad")
    summary = work / "summary.tsv"
    bucket.blob("bad/results/summary.tsv").download_to_filename(summary)
    rows = {r["stem"]: r for r in read_summary(summary)}
    assert rows[bad_stem]["status"] == "failed" and rows[bad_stem]["error"] == reason
    assert rows[good.stem]["status"] in ("ok", "dark")
    assert "Nothing to be done" in snakemake(work, base, "-n", prefix="bad").stdout
