"""The workflow with ``gs://`` default storage (GCS emulator on 127.0.0.1), local executor.

Every input and output goes through the bucket.  A change of a region threshold reruns
only the ``regions`` jobs -- snakemake's params trigger, with the motion files left as
they are in the bucket -- and a motion parameter reruns both steps.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from camhd_motion.formats.regions_json import read_regions_json

REPO = Path(__file__).resolve().parents[1]
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"
BUCKET = "camhd-storage-test"


def snakemake(work: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    (work / "run.yaml").write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(work),
           "--configfile", str(work / "run.yaml"), "--cores", "2",
           "--default-storage-provider", "gcs",
           "--default-storage-prefix", f"gs://{BUCKET}/run", "--storage-gcs-project", "test",
           *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
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
