"""profiles/slurm on the real SLURM cluster of this machine (``bash .ci/slurm-cluster.sh up``).

The profile as shipped, with only the local cluster's settings on top (account root,
partition debug, status checks after 2 s, 2-video batches).  Proves that every job went
through sbatch (sacct, by the run's ID), that a batch's jobs run one at a time in one
1-CPU SLURM job sized as the profile says (docs/PROFILES.md), that the numbers equal a
local run's, and that a bad video is retried as a new SLURM job and reported while its
batch mate's results are kept.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from camhd_motion.archive.names import make_stem, parse_name
from camhd_motion.pipeline.aggregate import read_summary

REPO = Path(__file__).resolve().parents[1]
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"
LOCAL_CLUSTER = ["--slurm-init-seconds-before-status-checks", "2", "--group-components",
                 "videos=2", "--jobs", "4", "--slurm-keep-successful-logs"]


pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(not (shutil.which("sbatch") and shutil.which("sacct")),
                       reason="SLURM is not installed (no sbatch/sacct on PATH)"),
]


@pytest.fixture(autouse=True, scope="module")
def cluster_up():
    """SLURM installed but not running: a failure in CI (``.ci/run`` starts it), a skip
    that says how to start it on a developer's machine."""
    ping = subprocess.run(["sinfo", "-h", "-p", "debug", "-o", "%a"], capture_output=True,
                          text=True)
    if ping.returncode != 0 or "up" not in ping.stdout:
        why = ("no SLURM partition 'debug' up: run `bash .ci/slurm-cluster.sh up` (as root)\n"
               + ping.stderr)
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CAMHD_SLURM_ACCOUNT="root", CAMHD_SLURM_PARTITION="debug")
    # SIGINT on timeout: snakemake then scancels its jobs (SIGTERM would not)
    cmd = ["timeout", "-s", "INT", "-k", "30", "600", sys.executable, "-m", "snakemake",
           "-s", str(REPO / "Snakefile"), "--configfile", "config.yaml",
           "--profile", str(REPO / "profiles" / "slurm"), *LOCAL_CLUSTER, *args]
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)


def sacct(run_id: str) -> dict[str, str]:
    """``{slurm job id: state}`` of the jobs named after the snakemake run."""
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-S", "now-6hours", "--name", run_id,
                          "-o", "JobIDRaw,State"], capture_output=True, text=True, check=True)
    return dict(line.split("|")[:2] for line in out.stdout.split())


def submitted(log: str) -> dict[str, str]:
    """``{slurm job id: its log file}`` of every submission the snakemake log reports."""
    return dict(re.findall(r"submitted with SLURM jobid (\d+) \(log: (\S+)\)", log))


def targets(slurm_log: str) -> list[str]:
    """The videos a SLURM job was given: the --target-jobs of its first snakemake (each
    video once, whatever the number of its jobs)."""
    m = re.search(r"--target-jobs (.*?) --allowed-rules", Path(slurm_log).read_text())
    return sorted(set(re.findall(r"\w+:vid=(\S+)", m[1])))


def steps(job_id: str) -> list[tuple[str, str]]:
    """``[(start, end)]`` of the job steps (one ``srun`` per snakemake job) of a SLURM job,
    in start order, ISO times to the second."""
    out = subprocess.run(["sacct", "-n", "-P", "-j", job_id, "-o", "JobID,Start,End"],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split("|") for line in out.split()]
    return sorted((start, end) for step, start, end in rows if re.fullmatch(r"\d+\.\d+", step))


def request(job_id: str) -> tuple[str, str, str]:
    """(CPUs, memory, time limit) of a SLURM job."""
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-j", job_id, "-o",
                          "AllocCPUS,ReqMem,Timelimit"], capture_output=True, text=True,
                         check=True).stdout
    return tuple(out.split()[0].split("|"))


def without_performance(path: Path) -> dict:
    doc = json.loads(path.read_text())
    # wall times, host, and the digest of the motion file (which holds them) differ
    doc.pop("performance", None)
    doc.pop("depends", None)
    return doc


def write_config(workdir: Path, source: Path) -> Path:
    workdir.mkdir(parents=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump({"source": str(source)}))
    return workdir


def test_slurm_run_equals_local_run(tmp_path, synth_archive):
    local = write_config(tmp_path / "local", synth_archive.root)
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                    "--configfile", "config.yaml", "--cores", "2"], cwd=local, check=True,
                   capture_output=True, timeout=600)
    work = write_config(tmp_path / "slurm", synth_archive.root)
    proc = snakemake(work)
    log = proc.stderr
    assert proc.returncode == 0, log[-3000:]
    run_id = re.search(r"SLURM run ID: (\S+)", log)[1]
    jobs = submitted(log)
    # 3 videos in batches of 2, then the aggregate: 3 sbatch jobs, all by this run
    assert len(jobs) == 3
    assert sacct(run_id) == dict.fromkeys(jobs, "COMPLETED")
    ran = [vid for slurm_log in jobs.values() for vid in targets(slurm_log)]
    videos = sorted(p.relative_to(synth_archive.root / PREFIX).with_suffix("").as_posix()
                    for p in (synth_archive.root / PREFIX).rglob("*.mov"))
    assert sorted(ran) == videos  # every video in exactly one SLURM job
    # plugin 2.8.0 runs a batch's jobs one at a time (its job step executor has --jobs 1):
    # the profile asks for 1 CPU, the largest job's memory and the sum of the runtimes
    # (2 videos x (10 + 2) min); if the steps ever overlap, revisit profiles/slurm
    for job_id, slurm_log in jobs.items():
        n = len(targets(slurm_log))
        if n:
            assert request(job_id) == ("1", "2000M", f"00:{24 if n == 2 else 12}:00")
            spans = steps(job_id)
            assert len(spans) >= n + 1  # a video: its motion, then its regions
            assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), spans
    assert "Nothing to be done" in snakemake(work, "-n").stdout
    # same numbers as the local run
    for rel in videos:
        for suffix in ("_optical_flow.json", "_optical_flow_regions.json"):
            path = f"results/{PREFIX}/{rel}{suffix}"
            assert without_performance(work / path) == without_performance(local / path)
    assert (work / "results/regions.csv").read_text() == (
        local / "results/regions.csv").read_text()
    drop = ("seconds",)
    assert ([{k: v for k, v in r.items() if k not in drop}
             for r in read_summary(work / "results/summary.tsv")]
            == [{k: v for k, v in r.items() if k not in drop}
                for r in read_summary(local / "results/summary.tsv")])


def test_bad_video_is_retried_by_slurm_then_reported(tmp_path, synth_archive):
    """A truncated video and a good one, in one 2-video batch: the batch job fails, is
    resubmitted (profile retries: 2, so 3 SLURM jobs), the bad video is recorded and
    reported, what the good one finished is kept and the archive tables are written; the
    next run leaves the bad video out and submits nothing.

    A batch's jobs run one at a time in the job's own snakemake, which the plugin starts
    without --keep-going; the Snakefile sets it there, so the bad video does not stop the
    rest of its batch: the good video is finished by the first attempt."""
    good = synth_archive.black[0].mov  # the short one
    day = tmp_path / "archive" / good.relative_to(synth_archive.root).parent
    day.mkdir(parents=True)
    (day / good.name).symlink_to(good)
    name = parse_name(good.name)
    bad_stem = make_stem(name.start.replace(hour=23, minute=59), z_suffix=name.z_suffix)
    (day / f"{bad_stem}.mov").write_bytes(good.read_bytes()[:50_000])
    work = write_config(tmp_path / "run", tmp_path / "archive")

    proc = snakemake(work)
    log = proc.stderr
    assert proc.returncode != 0
    run_id = re.search(r"SLURM run ID: (\S+)", log)[1]
    jobs = submitted(log)
    states = sacct(run_id)
    with_bad = [j for j, slurm_log in jobs.items()
                if any(bad_stem in vid for vid in targets(slurm_log))]
    assert len(with_bad) == 3  # first attempt + 2 retries, each a new sbatch job
    assert {states[j] for j in with_bad} == {"FAILED"}
    assert f"1 bad video(s) recorded in results/failed/ ({bad_stem})" in log
    results = work / "results" / PREFIX
    good_rel = good.relative_to(synth_archive.root / PREFIX).with_suffix("").as_posix()
    assert (results / f"{good_rel}_optical_flow.json").exists()
    assert (results / f"{good_rel}_optical_flow_regions.json").exists()
    assert not list(results.rglob(f"{bad_stem}*"))
    record = work / f"results/failed/{good_rel.rsplit('/', 1)[0]}/{bad_stem}.txt"
    assert bad_stem in record.read_text()

    # the same run wrote the archive tables over what it had (snakemake's onerror)
    rows = {r["stem"]: r["status"] for r in read_summary(work / "results/summary.tsv")}
    assert rows == {bad_stem: "failed", good.stem: "dark"}

    # the next run leaves the bad video out: no cluster job left, only the local monthly
    # motion-sample table
    again = snakemake(work)
    assert again.returncode == 0, again.stderr[-3000:]
    assert not submitted(again.stderr)
    assert (work / "results/tables/motion_samples/2016-01.parquet").exists()
    rows = {r["stem"]: r["status"] for r in read_summary(work / "results/summary.tsv")}
    assert rows == {bad_stem: "failed", good.stem: "dark"}
