#!/usr/bin/env python
"""Throughput of a whole pipeline run on 2 cores, with snakemake's own cost per job shown
apart, measured in the same run.

On a synthetic archive of N videos (``test`` preset, made once and cached), it times:

* ``direct``    -- ``camhd-motion motion`` then ``camhd-motion regions`` of every video,
                   one after the other, the motion with ``--workers 2`` (all cores): the
                   work itself, no workflow manager;
* ``snakemake`` -- ``snakemake --cores 2`` on the same archive in an empty working
                   directory (jobs with 1 worker each, 2 at a time; same total cores).

and prints videos per hour for each and snakemake's overhead per job
``(snakemake wall - direct wall) / jobs`` (it includes the small aggregate job and the
listing of the archive into the manifest).  The archive has one lights-off video in
every few, like the real one.  Each figure is the best of ``--repeat``
interleaved rounds.

    python bench/throughput.py [--videos 6] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("CAMHD_BENCH_CACHE", Path.home() / ".cache/camhd-motion-bench"))


def ensure_archive(n: int) -> Path:
    root = CACHE / f"archive-test-{n}"
    if not root.exists():
        print(f"rendering a {n}-video synthetic archive in {root} (once) ...", flush=True)
        tmp = root.with_name(root.name + ".partial")
        subprocess.run([sys.executable, "-m", "camhd_motion", "synth", "archive", "--out",
                        str(tmp), "--count", str(n), "--preset", "test",
                        "--start", "2016-01-01T00:00:00", "--jobs", "2"], check=True)
        tmp.rename(root)
    return root


def timed(cmd: list[str], cwd: Path | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def direct(archive: Path, out: Path) -> float:
    """Every video's motion and regions, in sequence (2 motion workers each)."""
    shutil.rmtree(out, ignore_errors=True)
    movs = sorted(archive.rglob("*.mov"))
    total = 0.0
    for mov in movs:
        rel = mov.relative_to(archive).with_suffix("")
        motion = out / f"{rel}_optical_flow.json"
        total += timed([sys.executable, "-m", "camhd_motion", "motion", str(mov),
                        "-o", str(motion), "--workers", "2"])
        total += timed([sys.executable, "-m", "camhd_motion", "regions", str(motion),
                        "-o", str(out / f"{rel}_optical_flow_regions.json")])
    return total


def with_snakemake(archive: Path, work: Path) -> float:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "config.yaml").write_text(yaml.safe_dump({"source": str(archive)}))
    return timed([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d",
                  str(work), "--configfile", str(work / "config.yaml"), "--cores", "2",
                  "--scheduler", "greedy", "--quiet", "all"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    archive = ensure_archive(args.videos)
    n = len(list(archive.rglob("*.mov")))
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"direct": [], "snakemake": []}
        for _ in range(args.repeat):
            runs["direct"].append(direct(archive, Path(tmp) / "direct"))
            runs["snakemake"].append(with_snakemake(archive, Path(tmp) / "smk"))
    d, s = min(runs["direct"]), min(runs["snakemake"])
    jobs = 2 * n + 1  # a motion and a regions job per video + the aggregate
    print(f"\n{n} videos ({archive}), 2 cores, best of {args.repeat}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    print(f"{'run':>10} {'wall s':>8} {'videos/hour':>12}")
    print(f"{'direct':>10} {d:>8.1f} {n / d * 3600:>12.0f}")
    print(f"{'snakemake':>10} {s:>8.1f} {n / s * 3600:>12.0f}")
    print(f"snakemake overhead: {s - d:.1f} s in all, {(s - d) / jobs:.2f} s per job "
          f"({jobs} jobs), {100 * (s - d) / d:.0f}% of the work")
    return 0


if __name__ == "__main__":
    sys.exit(main())
