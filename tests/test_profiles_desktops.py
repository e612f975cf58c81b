"""profiles/desktops: several machines share one run directory, one shard each.

Two real, concurrent ``snakemake --profile profiles/desktops`` processes (``shard=1/2``
and ``shard=2/2``) work on one results directory, as two desktops on one NFS export
would; their own logs show which videos each ran.  Then the unsharded aggregate step,
and what Snakemake's directory locks do and do not protect (docs/PROFILES.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from camhd_motion.pipeline.aggregate import read_summary
from camhd_motion.pipeline.config import ConfigError
from camhd_motion.pipeline.shard import in_shard, parse_shard, shard_index

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles" / "desktops"
PREFIX = "RS03ASHS/PN03B/06-CAMHDA301"


def command(*args: str) -> list[str]:
    # one core per process: two "desktops" on this 2-core machine
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--configfile",
            "config.yaml", "--profile", str(PROFILE), "--cores", "1", *args]


def run(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(command(*args), cwd=workdir, capture_output=True, text=True,
                          timeout=600)
    if check and proc.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc


def executed(log: str, rule: str) -> list[str]:
    """The ``vid`` of every ``rule`` job a snakemake log says it started."""
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", log)
    return [m[1] for b in blocks if re.match(rf"(?:local)?rule {rule}:", b)
            for m in [re.search(r"wildcards: vid=(\S+)", b)] if m]


def test_shard_is_a_fixed_hash_of_the_stem():
    # pinned: a video's shard must never change between versions (machines would overlap)
    assert [shard_index("CAMHDA301-20160101T000000Z", n) for n in (2, 3, 16)] == [1, 1, 9]
    assert [shard_index("CAMHDA301-20190104T121500", n) for n in (2, 3, 16)] == [1, 2, 11]
    assert [shard_index("CAMHDA301-20170815T090000Z_01", n) for n in (2, 3, 16)] == [2, 3, 8]
    stems = [f"CAMHDA301-2016{m:02d}{d:02d}T{h:02d}0000Z" for m in range(1, 13)
             for d in range(1, 29) for h in range(0, 24, 3)]
    for n in (1, 3, 16):
        for stem in stems[:50]:
            assert sum(in_shard(stem, f"{i}/{n}") for i in range(1, n + 1)) == 1
        sizes = [sum(shard_index(s, n) == i for s in stems) for i in range(1, n + 1)]
        assert min(sizes) > 0.8 * len(stems) / n  # even enough
    assert in_shard("anything", None) and parse_shard(" 2/3 ") == (2, 3)
    for bad in ("0/3", "4/3", "2", "x/3", ""):
        with pytest.raises(ConfigError, match="config error: shard"):
            parse_shard(bad)


@pytest.fixture(scope="module")
def shard_run(tmp_path_factory, synth_archive):
    """Both shards run at the same time in one directory: (workdir, {shard: stderr})."""
    workdir = tmp_path_factory.mktemp("desktops")
    (workdir / "config.yaml").write_text(yaml.safe_dump({"source": str(synth_archive.root)}))
    procs, spans = {}, {}
    for shard in ("1/2", "2/2"):
        procs[shard] = subprocess.Popen(command("--config", f"shard={shard}"), cwd=workdir,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        spans[shard] = [time.monotonic(), None]
    logs = {}
    for shard, proc in procs.items():
        _, logs[shard] = proc.communicate(timeout=600)
        spans[shard][1] = time.monotonic()
        assert proc.returncode == 0, logs[shard][-3000:]
    (a0, a1), (b0, b1) = spans["1/2"], spans["2/2"]
    assert a0 < b1 and b0 < a1  # they ran at the same time
    return workdir, logs


def test_two_concurrent_shards_process_every_video_exactly_once(shard_run, synth_archive):
    workdir, logs = shard_run
    videos = {v.truth.path.split("/", 3)[3][: -len(".mov")]: v for v in synth_archive.videos}
    ran = {shard: executed(log, "motion") for shard, log in logs.items()}
    for shard, vids in ran.items():
        i = int(shard[0])
        assert vids, f"shard {shard} ran nothing: the test needs both shards non-empty"
        assert len(vids) == len(set(vids))
        # the shard is the stem's hash, not a position in the listing
        assert set(vids) == {r for r in videos if shard_index(r.rsplit("/", 1)[1], 2) == i}
    assert not set(ran["1/2"]) & set(ran["2/2"])
    assert set(ran["1/2"]) | set(ran["2/2"]) == set(videos)
    assert not any(executed(log, "aggregate") for log in logs.values())
    for rel in videos:
        for suffix in ("_optical_flow.json", "_optical_flow_regions.json"):
            assert (workdir / f"results/{PREFIX}/{rel}{suffix}").exists()
    # nothing left in either shard; the unsharded run has only the aggregate steps to do
    for shard in ("1/2", "2/2"):
        assert "Nothing to be done" in run(workdir, "-n", "--config", f"shard={shard}").stdout
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", run(workdir, "-n", "-q", "rules").stdout,
                             re.M))
    assert counts == {"aggregate": "1", "motion_samples": "1", "all": "1", "total": "3"}
    # the aggregate step: it may only aggregate (it fails if a video is still missing)
    done = run(workdir, "--allowed-rules", "aggregate", "motion_samples", "all")
    assert not executed(done.stderr, "motion")
    assert "Nothing to be done" in run(workdir, "-n").stdout
    rows = {r["stem"]: r for r in read_summary(workdir / "results/summary.tsv")}
    for v in videos.values():
        row = rows[v.truth.stem]
        assert row["status"] == ("dark" if v.truth.dark.all() else "ok")
        assert int(row["frames"]) == v.truth.num_frames


def test_what_the_directory_lock_protects(shard_run, tmp_path):
    """Snakemake refuses to start a run whose outputs another process has locked, and
    any process that ends removes every lock in the directory: the two facts the shard
    design (no shared output between shards) and its documented limits rest on."""
    src, _ = shard_run
    workdir = tmp_path / "run"
    shutil.copytree(src, workdir, symlinks=True)
    rel = next(p for p in (workdir / "results" / PREFIX).rglob("*_regions.json"))
    stem = rel.name[: -len("_optical_flow_regions.json")]
    other = "1/2" if shard_index(stem, 2) == 2 else "2/2"
    rel.unlink()
    lock = workdir / ".snakemake/locks/0.output.lock"  # as a running shard writes it
    lock.parent.mkdir(parents=True, exist_ok=True)
    assert not list(lock.parent.iterdir())  # no process holds a lock now
    lock.write_text(f"{rel.relative_to(workdir)}\n")
    blocked = run(workdir, check=False)
    assert blocked.returncode != 0 and "LockException" in blocked.stderr
    assert not rel.exists()
    # the other shard does not touch that file: it runs, and on exit removes all locks
    run(workdir, "--config", f"shard={other}")
    assert not lock.exists()


def test_desktops_sharing_a_bucket(tmp_path, synth_archive, gcs_emulator, archive_http_server):
    """The other shared store: each desktop its own working directory, all results in one
    bucket (GCS emulator); the videos come from the archive's HTTP server."""
    server = archive_http_server(synth_archive.root)
    gcs_emulator.bucket("camhd-desktops")
    bucket = ["--default-storage-provider", "gcs", "--default-storage-prefix",
              "gs://camhd-desktops/run", "--storage-gcs-project", "test"]
    dirs = {name: tmp_path / name for name in ("desk1", "desk2", "desk3")}
    for d in dirs.values():
        d.mkdir()
        (d / "config.yaml").write_text(yaml.safe_dump({"source": server.url}))
    procs = {shard: subprocess.Popen(command(*bucket, "--config", f"shard={shard}"),
                                     cwd=dirs[f"desk{shard[0]}"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
             for shard in ("1/2", "2/2")}
    ran = []
    for proc in procs.values():
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        ran += executed(err, "motion")
    assert sorted(ran) == sorted(v.truth.path.split("/", 3)[3][: -len(".mov")]
                                 for v in synth_archive.videos)
    # a third machine (no local results at all) sees only the aggregate to do, and does it
    done = run(dirs["desk3"], *bucket, "--allowed-rules", "aggregate", "motion_samples",
               "all")
    assert executed(done.stderr, "motion") == []
    assert "Nothing to be done" in run(dirs["desk3"], *bucket, "-n").stdout
    summary = tmp_path / "summary.tsv"
    blob = gcs_emulator.client.bucket("camhd-desktops").blob("run/results/summary.tsv")
    blob.download_to_filename(summary)
    assert len(read_summary(summary)) == len(synth_archive.videos)


def test_shards_script_shares_the_work(tmp_path, synth_archive):
    """profiles/desktops/shards.sh on two desktops at once: each claims free shards, no
    video runs twice, and the aggregate is made at the end."""
    workdir = tmp_path / "shared"
    workdir.mkdir()
    (workdir / "config.yaml").write_text(yaml.safe_dump({"source": str(synth_archive.root)}))
    cmd = ["bash", str(PROFILE / "shards.sh"), "3", "-s", str(REPO / "Snakefile"),
           "--configfile", "config.yaml", "--cores", "1"]
    env = dict(os.environ, SNAKEMAKE=str(Path(sys.executable).parent / "snakemake"))
    procs = [subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    ran = []
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        ran += executed(err, "motion")
    assert sorted(ran) == sorted(v.truth.path.split("/", 3)[3][: -len(".mov")]
                                 for v in synth_archive.videos)
    assert sorted(p.name for p in (workdir / ".shards/3").iterdir()) == [
        "1.done", "2.done", "3.done"]  # no claim left behind
    assert "Nothing to be done" in run(workdir, "-n").stdout
    # a late joiner finds nothing to do and runs no snakemake job
    late = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=600)
    assert late.returncode == 0 and not executed(late.stderr, "motion")
