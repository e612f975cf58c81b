#!/usr/bin/env python3
"""How long snakemake takes to build the workflow's DAG for N archive videos.

For each N (default 1k, 10k, 35k) this writes a manifest source of N archive-style URLs
(3-hourly names like the real archive: ``Z`` suffix until 2016-11-21, a few ``_NN`` parts;
no video files are needed), lets the workflow list it once into its manifest, then times
``snakemake -n -q rules`` (all videos pending) and reports wall seconds, CPU seconds and
the peak RSS of the snakemake process (from ``wait4``).  ``--metadata FILE`` does the same
for the real archive listing (``movie_metadata.csv``).

    .venv/bin/python bench/dag_scale.py                  # 1000 10000 35000
    .venv/bin/python bench/dag_scale.py 2000 --repeat 2
    .venv/bin/python bench/dag_scale.py --metadata ../shared/data/movie_metadata.csv
    .venv/bin/python bench/dag_scale.py 35000 --repeat 3 --variant per_video_figures=false

``--variant KEY=VALUE ...`` measures the workflow with those ``--config`` values too, each
repeat of it right after the same repeat of the default (interleaved: load on a shared
machine hits both alike), and prints the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASE = "https://rawdata.oceanobservatories.org/files/RS03ASHS/PN03B/06-CAMHDA301"
Z_UNTIL = dt.datetime(2016, 11, 21)


def archive_urls(n: int, start: dt.datetime = dt.datetime(2015, 11, 18)) -> list[str]:
    """``n`` URLs named like the archive's: every 3 h; every 500th video in two parts."""
    urls, t, i = [], start, 0
    while len(urls) < n:
        stem = f"CAMHDA301-{t:%Y%m%dT%H%M%S}{'Z' if t < Z_UNTIL else ''}"
        parts = [f"_{k:02d}" for k in (1, 2)] if i % 500 == 499 else [""]
        for part in parts[: n - len(urls)]:
            urls.append(f"{BASE}/{t:%Y/%m/%d}/{stem}{part}.mov")
        t += dt.timedelta(hours=3)
        i += 1
    return urls


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """(wall s, CPU s, peak RSS bytes, stderr tail) of one child process."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=err, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        tail = err.read().decode(errors="replace")[-3000:]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{tail}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, tail


def snakemake_cmd(workdir: Path, config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
            "-d", str(workdir), "--configfile", str(config), "--cores", "2", *args]


def measure(label: str, source: Path, workdir: Path, repeat: int,
            pending: bool = False, variant: list[str] | None = None) -> list[dict]:
    config = workdir / "config.yaml"
    config.write_text(f"source: {source}\nmanifest: results/manifest.tsv\n")
    # first parse: lists the source into results/manifest.tsv (not part of the DAG figure)
    wall, cpu, rss, _ = run_measured(snakemake_cmd(workdir, config, "--list-rules"), workdir)
    print(f"{label}: first parse incl. listing {wall:.1f} s", flush=True)
    rows = []
    kinds = [("default", [])] + ([(" ".join(variant), ["--config", *variant])]
                                 if variant else [])
    for _ in range(repeat):
        for kind, extra in kinds:
            wall, cpu, rss, tail = run_measured(
                snakemake_cmd(workdir, config, "-n", "-q", "rules", *extra), workdir)
            jobs = next((ln.split()[-1] for ln in tail.splitlines()
                         if ln.startswith("total")), "?")
            rows.append({"videos": label, "kind": kind, "jobs": jobs, "wall_s": wall,
                         "cpu_s": cpu, "peak_rss_mb": rss / 1e6})
            print(f"{label:>10} videos  {kind:>24}  {jobs:>6} jobs  dry run {wall:6.1f} s wall"
                  f"  {cpu:6.1f} s CPU  peak RSS {rss / 1e6:7.0f} MB", flush=True)
    if variant:
        base = [r for r in rows if r["kind"] == "default"]
        other = [r for r in rows if r["kind"] != "default"]
        print(f"{label:>10} videos  default / variant: CPU x"
              f"{sum(r['cpu_s'] for r in base) / sum(r['cpu_s'] for r in other):.3f}, peak RSS x"
              f"{max(r['peak_rss_mb'] for r in base) / max(r['peak_rss_mb'] for r in other):.3f}",
              flush=True)
    if pending:
        for what, extra in (("all", []), ("one month", ["--start", "2016-01-01", "--end",
                                                        "2016-01-31"])):
            cmd = [sys.executable, "-m", "camhd_motion", "pending", "-s",
                   str(REPO / "Snakefile"), "-d", str(workdir), "--configfile", str(config),
                   "--count", *extra]
            wall, cpu, rss, tail = run_measured(cmd, workdir)
            count = tail.strip().splitlines()[-1] if tail.strip() else "?"
            print(f"{label:>10} videos  pending table ({what}: {count} pending) {wall:6.1f} s"
                  f" wall  {cpu:6.1f} s CPU  peak RSS {rss / 1e6:7.0f} MB", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000, 35000])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--metadata", type=Path, help="instead, a movie_metadata.csv listing")
    ap.add_argument("--pending", action="store_true",
                    help="also time `camhd-motion pending` (all, and one month)")
    ap.add_argument("--variant", nargs="+", metavar="KEY=VALUE",
                    help="also measure with these --config values, interleaved")
    args = ap.parse_args(argv)
    print(f"snakemake dry-run scale, {os.cpu_count()} CPUs, {dt.date.today()}, "
          f"python {sys.version.split()[0]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="dag-scale-") as tmp:
        tmp = Path(tmp)
        if args.metadata:
            work = tmp / "metadata"
            work.mkdir()
            measure(f"{args.metadata.name}", args.metadata.resolve(), work, args.repeat,
                    args.pending, args.variant)
            return 0
        for n in args.sizes:
            work = tmp / f"n{n}"
            work.mkdir()
            source = work / "videos.txt"
            source.write_text("url\n" + "\n".join(archive_urls(n)) + "\n")
            measure(str(n), source, work, args.repeat, args.pending, args.variant)
    return 0


if __name__ == "__main__":
    sys.exit(main())
