#!/usr/bin/env python3
"""Snakemake's own cost of a per-video job graph, without this workflow: the floor under
``bench/dag_scale.py``'s figures.

For N videos it times ``snakemake -n -q rules`` of two bare Snakefiles -- one rule per
video, and two chained rules per video (``a -> b``), each rule with only an input, an
output, a log and a shell command, every per-video file a target as in the workflow -- and
prints wall, CPU and peak RSS of each and the ratio of the two.  That ratio is what
doubling the jobs per video costs in snakemake itself, whatever the rules do.

    .venv/bin/python bench/dag_floor.py 10000 35000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNAKEFILE = """
N = int(config["videos"])
VIDS = [f"{{i // 1000:03d}}/v{{i:06d}}" for i in range(N)]
TWO = int(config["per_video"]) == 2


rule all:
    input:
        [f"out/{{v}}.a" for v in VIDS] + ([f"out/{{v}}.b" for v in VIDS] if TWO else []),


rule a:
    input:
        "in/{{v}}.txt",
    output:
        "out/{{v}}.a",
    log:
        "logs/a/{{v}}.log",
    shell:
        "cp {{input}} {{output}} 2> {{log}}"


if TWO:

    rule b:
        input:
            "out/{{v}}.a",
        output:
            "out/{{v}}.b",
        log:
            "logs/b/{{v}}.log",
        shell:
            "cp {{input}} {{output}} 2> {{log}}"
"""


def measure(work: Path, n: int, rules: int) -> tuple[float, float, int]:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(work / "Snakefile"), "-d", str(work),
           "--cores", "2", "-n", "-q", "rules", "--config", f"videos={n}", f"per_video={rules}"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10000, 35000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dag-floor-") as tmp:
        work = Path(tmp)
        (work / "Snakefile").write_text(SNAKEFILE.format())
        for n in args.sizes:
            for i in range(n):  # the inputs exist: only the per-job cost is measured
                path = work / "in" / f"{i // 1000:03d}" / f"v{i:06d}.txt"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            one = measure(work, n, 1)
            two = measure(work, n, 2)
            for label, (wall, cpu, rss) in (("1 rule/video", one), ("2 rules/video", two)):
                print(f"{n:>6} videos  {label:<14} {wall:6.1f} s wall {cpu:6.1f} s CPU "
                      f"peak RSS {rss / 1e6:6.0f} MB", flush=True)
            print(f"{n:>6} videos  ratio 2/1: CPU {two[1] / one[1]:.2f}x, "
                  f"RSS {two[2] / one[2]:.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
