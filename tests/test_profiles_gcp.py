"""profiles/gcp against a GCS emulator on 127.0.0.1: everything but the Batch API.

The Batch API cannot be reached from here (docs/PROFILES.md lists the manual check).
What runs for real: the profile's dry run (googlebatch executor) listing the pending
videos from the bucket, and a run without any shared filesystem -- the cluster-generic
executor starts every job like a Batch VM would, in a fresh empty directory with a bare
environment, where snakemake deploys the workflow from the source tarball in the bucket
and moves every file through the bucket.  The videos come from an HTTP archive server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from camhd_motion.pipeline.aggregate import read_summary

REPO = Path(__file__).resolve().parents[1]
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"
WORKFLOW = ("Snakefile", "rules", "config", "envs", "profiles")
BUCKET = "camhd-profile-test"
IMAGE = "us-west1-docker.pkg.dev/test/camhd/camhd-motion@sha256:" + "0" * 64

# A Batch VM, minus the VM: run the jobscript in a new empty directory, bare environment.
SUBMIT = """#!/usr/bin/env bash
set -euo pipefail
dir=$(mktemp -d "{jobs}/job.XXXXXX")
cp "$1" "$dir/jobscript.sh"
cd "$dir"
setsid env -i PATH="{path}" HOME="$dir" STORAGE_EMULATOR_HOST="$STORAGE_EMULATOR_HOST" \\
  bash -c 'bash jobscript.sh > job.log 2>&1; echo $? > exitcode' </dev/null >/dev/null 2>&1 &
basename "$dir"
"""
STATUS = """#!/usr/bin/env bash
f="{jobs}/$1/exitcode"
if [ ! -s "$f" ]; then echo running; elif [ "$(cat "$f")" = 0 ]; then echo success
else echo failed; fi
"""


@pytest.fixture
def controller(tmp_path, gcs_emulator, synth_archive, archive_http_server):
    """A working directory with the workflow (a git checkout, as snakemake packs the
    sources from git) and a config reading the archive over HTTP; the settings of
    profiles/gcp point at the emulator's bucket."""
    if not shutil.which("git"):
        pytest.skip("git is needed to pack the workflow sources")
    server = archive_http_server(synth_archive.root)
    work = tmp_path / "controller"
    work.mkdir()
    for name in WORKFLOW:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, work / name)
    (work / "run.yaml").write_text(yaml.safe_dump({"source": server.url}))
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    subprocess.run(["git", "add", "-A"], cwd=work, check=True)
    gcs_emulator.bucket(BUCKET)
    env = dict(os.environ, CAMHD_GCP_PROJECT="test", CAMHD_GCP_REGION="us-west1",
               CAMHD_GCP_BUCKET=f"gs://{BUCKET}/run", CAMHD_GCP_IMAGE=IMAGE)
    return work, env, gcs_emulator


def snakemake(work: Path, env: dict, *args: str, check: bool = True):
    cmd = ["timeout", "-s", "INT", "-k", "30", "600", sys.executable, "-m", "snakemake",
           "--configfile", "run.yaml", "--profile", "profiles/gcp", *args]
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc


def no_shared_fs(tmp_path: Path) -> list[str]:
    """Command-line overrides: cluster-generic jobs in fresh directories, as on Batch."""
    jobs = tmp_path / "jobs"
    jobs.mkdir(parents=True)
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    (tmp_path / "submit.sh").write_text(SUBMIT.format(jobs=jobs, path=path))
    (tmp_path / "status.sh").write_text(STATUS.format(jobs=jobs))
    return ["--executor", "cluster-generic",
            "--cluster-generic-submit-cmd", f"bash {tmp_path / 'submit.sh'}",
            "--cluster-generic-status-cmd", f"bash {tmp_path / 'status.sh'}",
            "--shared-fs-usage", "none", "--job-deploy-sources",
            "--jobs", "2", "--cores", "2", "--group-components", "videos=2",
            "--seconds-between-status-checks", "2"]


def test_gcp_profile_without_shared_filesystem(controller, tmp_path, synth_archive):
    work, env, gcs = controller
    stems = sorted(v.truth.stem for v in synth_archive.videos)

    # the dry run of the profile as shipped (googlebatch executor): what is pending
    dry = snakemake(work, env, "-n").stdout
    for stem in stems:
        assert f"gs://{BUCKET}/run/results/{PREFIX}/2016/01/01/{stem}_optical_flow.json" in dry
    pending = subprocess.run([sys.executable, "-m", "camhd_motion", "pending",
                              "--configfile", "run.yaml", "--", "--profile", "profiles/gcp"],
                             cwd=work, env=env, capture_output=True, text=True, check=True)
    assert [line.split("\t")[:3] for line in pending.stdout.splitlines()[1:]] == [
        [stem, f"2016-01-01T{stem[19:21]}:00:00", "pending"] for stem in stems]

    # the run: every job in its own empty directory, every file through the bucket
    run = snakemake(work, env, *no_shared_fs(tmp_path))
    jobs = sorted((tmp_path / "jobs").iterdir())
    assert len(jobs) == 3  # 2 batches of videos (group jobs) + the aggregate
    for job in jobs:
        assert (job / "exitcode").read_text().strip() == "0"
        assert "--deploy-sources gs://" in (job / "jobscript.sh").read_text()
    blobs = {b.name for b in gcs.client.list_blobs(BUCKET, prefix="run/")}
    for stem in stems:
        for suffix in ("_optical_flow.json", "_optical_flow_regions.json"):
            assert f"run/results/{PREFIX}/2016/01/01/{stem}{suffix}" in blobs
    assert {"run/results/summary.tsv", "run/results/regions.csv", "run/results/report.md",
            "run/results/manifest.tsv"} <= blobs
    assert not [b for b in blobs if "snakemake-workflow-sources" in b]  # cleaned up
    # the controller keeps only its manifest copy: results live in the bucket
    assert [p.name for p in (work / "results").rglob("*") if p.is_file()] == ["manifest.tsv"]
    summary = tmp_path / "summary.tsv"
    gcs.client.bucket(BUCKET).blob("run/results/summary.tsv").download_to_filename(summary)
    rows = {r["stem"]: r for r in read_summary(summary)}
    for v in synth_archive.videos:
        assert rows[v.truth.stem]["status"] == ("dark" if v.truth.dark.all() else "ok")
        assert int(rows[v.truth.stem]["frames"]) == v.truth.num_frames
    assert "Finished jobid: 0 (Rule: all)" in run.stderr

    # a lost result: exactly that video is redone (its motion file is still in the bucket)
    lost = f"run/results/{PREFIX}/2016/01/01/{stems[0]}_optical_flow_regions.json"
    gcs.client.bucket(BUCKET).blob(lost).delete()
    redo = snakemake(work, env, *no_shared_fs(tmp_path / "redo"))
    assert redo.stderr.count("rule regions:") == 1 and f"vid=2016/01/01/{stems[0]}" in redo.stderr
    assert "rule motion:" not in redo.stderr
    assert gcs.client.bucket(BUCKET).blob(lost).exists()

    # a rerun has nothing to do, also from another controller (manifest from the bucket)
    again = snakemake(work, env, *no_shared_fs(tmp_path / "again"))
    assert "Nothing to be done" in again.stderr
    assert not list((tmp_path / "again" / "jobs").iterdir())
    other = tmp_path / "other-controller"
    shutil.copytree(work, other, ignore=shutil.ignore_patterns(".snakemake", "results"))
    assert "Nothing to be done" in snakemake(other, env, "-n").stdout
    assert (other / "results/manifest.tsv").exists()
