#!/usr/bin/env python
"""Per-video cost of the motion step against the decode floor, measured in the same run.

For one 1920x1080 ProRes video (made with the synthetic generator if not given) and each
stride, prints wall and CPU seconds of:

* ``floor``   -- read + decode of exactly the frames the analysis needs, nothing else,
                 split over the same worker processes, in the same chunks (the physical
                 limit: ProRes has no reduced-resolution decode);
* ``python``  -- the Python engine (``camhd-motion motion``);
* ``native``  -- the C++ engine, if built;

with the ratios to the floor (wall: the target; CPU: steadier on a shared machine) and the
peak resident memory of the whole process tree.  Machines are noisy: the variants run in
interleaved rounds, each figure is the best of ``--repeat`` rounds, and only the ratios
measured in one run are meant to be compared.

    python bench/speed.py [--video PATH] [--strides 10 1] [--workers 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _decode_chunk(location: str, index, frames: list[int]) -> int:
    from camhd_motion.sources import open_source
    from camhd_motion.video.decoder import ProResDecoder

    source = open_source(location)
    decoder = ProResDecoder(index.codec_tag, index.width, index.height)
    ranges = [index.frame_range(f) for f in frames]
    for data in source.read_many(ranges):
        decoder.decode_luma(data)
    source.close()
    return len(frames)


def decode_floor(location: str, stride: int, offset: int, workers: int) -> dict:
    """Read + decode the needed frames with the engine's chunking, nothing else."""
    from camhd_motion.motion.analyze import CHUNKS_PER_WORKER
    from camhd_motion.motion.sampling import needed_frames, sample_pairs, split
    from camhd_motion.sources import open_source
    from camhd_motion.video.movindex import read_index

    t0 = time.perf_counter()
    before = os.times()
    source = open_source(location)
    index = read_index(source)
    source.close()
    pairs = sample_pairs(index.num_frames, stride, offset)
    chunks = split(pairs, workers * CHUNKS_PER_WORKER if workers > 1 else 1)
    frame_lists = [needed_frames(c) for c in chunks]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        n = len(frame_lists)
        decoded = sum(pool.map(_decode_chunk, [location] * n, [index] * n, frame_lists))
    after = os.times()  # the pool's workers have been waited for: their CPU is counted
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    ) + (after.user - before.user) + (after.system - before.system)
    return {"wall": time.perf_counter() - t0, "cpu": cpu, "frames": decoded}


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (kB), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ppid = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def run_measured(cmd: list[str]) -> dict:
    """Run ``cmd``; wall, CPU of the process tree, peak tree RSS (sampled every 20 ms)."""
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.join()
    after = os.times()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.strip()[-500:]}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {"wall": wall, "cpu": cpu, "rss_mb": peak / 1024}


def engine_cmd(engine: str, video: str, out: str, stride: int, workers: int) -> list[str]:
    if engine == "python":
        return [sys.executable, "-m", "camhd_motion", "motion", video, "-o", out,
                "--stride", str(stride), "--workers", str(workers)]
    binary = os.environ.get("CAMHD_NATIVE_BIN", str(REPO / "native/build/camhd-motion-native"))
    return [binary, video, "-o", out, "--stride", str(stride), "--workers", str(workers)]


def ensure_video(path: str | None, duration: float) -> str:
    if path:
        return path
    cache = Path(os.environ.get("CAMHD_BENCH_CACHE", Path.home() / ".cache/camhd-motion-bench"))
    existing = sorted(cache.rglob("*.mov")) if cache.exists() else []
    if existing:
        return str(existing[0])
    print(f"generating a {duration:.0f} s 1920x1080 synthetic video in {cache} ...", flush=True)
    subprocess.run([sys.executable, "-m", "camhd_motion", "synth", "video", "--out", str(cache),
                    "--preset", "hd", "--duration", str(duration), "--seed", "7"], check=True)
    return str(sorted(cache.rglob("*.mov"))[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", help="a 1920x1080 ProRes .mov (default: a synthetic one)")
    ap.add_argument("--duration", type=float, default=180.0, help="synthetic video seconds")
    ap.add_argument("--strides", type=int, nargs="+", default=[10, 1])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", nargs="+", default=["python", "native"])
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    video = ensure_video(args.video, args.duration)
    native_bin = Path(engine_cmd("native", video, "x", 10, 1)[0])
    engines = [e for e in args.engines if e != "native" or native_bin.exists()]
    if "native" in args.engines and "native" not in engines:
        print(f"(native engine not built at {native_bin}: skipped)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for stride in args.strides:
            # Rounds interleave the variants, so a burst of load elsewhere hits them alike;
            # each variant's figure is its best round.
            runs: dict[str, list[dict]] = {"floor": [], **{e: [] for e in engines}}
            for _ in range(args.repeat):
                runs["floor"].append(decode_floor(video, stride, 5, args.workers))
                for engine in engines:
                    out = os.path.join(tmp, f"{engine}_{stride}.json")
                    runs[engine].append(
                        run_measured(engine_cmd(engine, video, out, stride, args.workers)))
            floor = min(runs["floor"], key=lambda r: r["wall"])
            floor_cpu = min(r["cpu"] for r in runs["floor"])
            rows.append({"stride": stride, "what": "floor", "wall": floor["wall"],
                         "cpu": floor_cpu, "frames": floor["frames"]})
            for engine in engines:
                best = min(runs[engine], key=lambda r: r["wall"])
                best["cpu"] = min(r["cpu"] for r in runs[engine])
                best["rss_mb"] = max(r["rss_mb"] for r in runs[engine])
                rows.append({"stride": stride, "what": engine, **best,
                             "ratio": best["wall"] / floor["wall"],
                             "cpu_ratio": best["cpu"] / floor_cpu})
    print(f"\nvideo: {video}\nworkers: {args.workers}, best of {args.repeat}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores")
    head = ("stride", "what", "wall s", "cpu s", "wall/floor", "cpu/floor", "peak RSS MB")
    print("{:>6} {:>8} {:>8} {:>8} {:>10} {:>9} {:>12}".format(*head))
    nan = float("nan")
    for r in rows:
        print(f"{r['stride']:>6} {r['what']:>8} {r['wall']:>8.2f} {r['cpu']:>8.2f}"
              f" {r.get('ratio', 1.0):>10.2f} {r.get('cpu_ratio', 1.0):>9.2f}"
              f" {r.get('rss_mb', nan):>12.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
