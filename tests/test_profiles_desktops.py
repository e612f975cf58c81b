"""profiles/desktops: several machines share one run directory, one shard each.

Two real, concurrent ``snakemake --profile profiles/desktops`` processes (``shard=1/2``
and ``shard=2/2``) work on one results directory, as two desktops on one NFS export
would; their own logs show which videos each ran.  Then the unsharded aggregate step,
and what Snakemake's directory locks do and do not protect (docs/PROFILES.md).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from camhd_motion.pipeline.aggregate import read_summary
from camhd_motion.pipeline.shard import shard_index

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
    ran = {shard: executed(log, "analyze") for shard, log in logs.items()}
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
    # nothing left in either shard; the unsharded run has only the aggregate to do
    for shard in ("1/2", "2/2"):
        assert "Nothing to be done" in run(workdir, "-n", "--config", f"shard={shard}").stdout
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", run(workdir, "-n", "-q", "rules").stdout,
                             re.M))
    assert counts == {"aggregate": "1", "all": "1", "total": "2"}
    # the aggregate step: it may only aggregate (it fails if a video is still missing)
    done = run(workdir, "--allowed-rules", "aggregate", "all")
    assert not executed(done.stderr, "analyze")
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
