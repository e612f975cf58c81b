#!/usr/bin/env python
"""Per-video cost of the motion step against the decode floor, measured in the same run.

For one 1920x1080 ProRes video (made with the synthetic generator if not given) and each
stride, prints wall and CPU seconds of:

* ``floor``   -- read + FFmpeg's full (gray) decode of exactly the frames the analysis
                 needs, nothing else, split over the same worker processes, in the same
                 chunks: the decode floor of every figure before the partial decoder;
* ``partial`` -- the same frames read + decoded by the partial ProRes decoder (the 1/4
                 picture straight from the bitstream, docs/PRORES.md): the new floor;
* ``python``  -- the Python engine (``camhd-motion motion``, partial decoder: default);
* ``python-ffmpeg`` -- the same with ``--decoder ffmpeg`` (every frame decoded in full);
* ``native``, ``native-ffmpeg`` -- the C++ engine, if built, with either decoder;

with the ratios to the FFmpeg floor (wall: the target; CPU: steadier on a shared machine)
and the peak resident memory of the whole process tree.  Before the strides, the cost per
frame of each decoder alone on the same frames (bytes in memory, one process): CPU ms per
frame and their ratio.  Machines are noisy: the variants run in interleaved rounds, each
figure is the best of ``--repeat`` rounds, and only the ratios measured in one run are
meant to be compared.

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


def _decode_chunk(location: str, index, frames: list[int], decoder: str = "ffmpeg") -> int:
    from camhd_motion.sources import open_source
    from camhd_motion.video.decoder import ProResDecoder
    from camhd_motion.video.partial import PartialDecoder

    source = open_source(location)
    if decoder == "partial":
        decode = PartialDecoder(index.codec_tag, index.width, index.height, 4).block_sums
    else:
        decode = ProResDecoder(index.codec_tag, index.width, index.height).decode_luma
    ranges = [index.frame_range(f) for f in frames]
    for data in source.read_many(ranges):
        decode(data)
    source.close()
    return len(frames)


def per_frame_costs(location: str, frames: int = 200, repeat: int = 3) -> dict:
    """CPU ms per frame of each decoder alone on the same frames (bytes in memory), best
    of ``repeat`` interleaved rounds."""
    from camhd_motion.sources import open_source
    from camhd_motion.video.decoder import ProResDecoder
    from camhd_motion.video.movindex import read_index
    from camhd_motion.video.partial import PartialDecoder

    source = open_source(location)
    index = read_index(source)
    step = max(1, index.num_frames // frames)
    data = [source.read(*index.frame_range(f)) for f in range(1, index.num_frames + 1, step)]
    source.close()
    decoders = {
        "ffmpeg": ProResDecoder(index.codec_tag, index.width, index.height).decode_luma,
        "partial": PartialDecoder(index.codec_tag, index.width, index.height, 4).block_sums,
    }
    best = {name: float("inf") for name in decoders}
    for _ in range(repeat):
        for name, decode in decoders.items():
            t0 = time.process_time()
            for d in data:
                decode(d)
            best[name] = min(best[name], (time.process_time() - t0) / len(data) * 1e3)
    return {"frames": len(data), "kb_per_frame": sum(map(len, data)) / len(data) / 1e3, **best}


def decode_floor(location: str, stride: int, offset: int, workers: int,
                 decoder: str = "ffmpeg") -> dict:
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
        decoded = sum(pool.map(_decode_chunk, [location] * n, [index] * n, frame_lists,
                               [decoder] * n))
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
    """``python``, ``native``, or either with ``-ffmpeg`` (``--decoder ffmpeg``)."""
    base, _, decoder = engine.partition("-")
    extra = ["--decoder", decoder] if decoder else []
    if base == "python":
        return [sys.executable, "-m", "camhd_motion", "motion", video, "-o", out,
                "--stride", str(stride), "--workers", str(workers), *extra]
    binary = os.environ.get("CAMHD_NATIVE_BIN", str(REPO / "native/build/camhd-motion-native"))
    return [binary, video, "-o", out, "--stride", str(stride), "--workers", str(workers),
            *extra]


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
    ap.add_argument("--engines", nargs="+",
                    default=["python", "python-ffmpeg", "native", "native-ffmpeg"])
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    video = ensure_video(args.video, args.duration)
    native_bin = Path(engine_cmd("native", video, "x", 10, 1)[0])
    engines = [e for e in args.engines if not e.startswith("native") or native_bin.exists()]
    if len(engines) < len(args.engines):
        print(f"(native engine not built at {native_bin}: skipped)")
    costs = per_frame_costs(video, repeat=args.repeat)
    print(f"per frame, one process, {costs['frames']} frames of {costs['kb_per_frame']:.0f} kB:"
          f" FFmpeg full (gray) decode {costs['ffmpeg']:.2f} CPU-ms, partial decode"
          f" {costs['partial']:.2f} CPU-ms: ratio {costs['partial'] / costs['ffmpeg']:.3f}",
          flush=True)
    rows = [{"what": "per-frame", **costs}]
    with tempfile.TemporaryDirectory() as tmp:
        for stride in args.strides:
            # Rounds interleave the variants, so a burst of load elsewhere hits them alike;
            # each variant's figure is its best round.
            runs: dict[str, list[dict]] = {"floor": [], "partial": [],
                                           **{e: [] for e in engines}}
            for _ in range(args.repeat):
                runs["floor"].append(decode_floor(video, stride, 5, args.workers))
                runs["partial"].append(decode_floor(video, stride, 5, args.workers, "partial"))
                for engine in engines:
                    out = os.path.join(tmp, f"{engine}_{stride}.json")
                    runs[engine].append(
                        run_measured(engine_cmd(engine, video, out, stride, args.workers)))
            floor = min(runs["floor"], key=lambda r: r["wall"])
            floor_cpu = min(r["cpu"] for r in runs["floor"])
            rows.append({"stride": stride, "what": "floor", "wall": floor["wall"],
                         "cpu": floor_cpu, "frames": floor["frames"]})
            part = min(runs["partial"], key=lambda r: r["wall"])
            part_cpu = min(r["cpu"] for r in runs["partial"])
            rows.append({"stride": stride, "what": "partial", "wall": part["wall"],
                         "cpu": part_cpu, "frames": part["frames"],
                         "ratio": part["wall"] / floor["wall"], "cpu_ratio": part_cpu / floor_cpu,
                         "walls": [r["wall"] for r in runs["partial"]]})
            for engine in engines:
                best = min(runs[engine], key=lambda r: r["wall"])
                best["cpu"] = min(r["cpu"] for r in runs[engine])
                best["rss_mb"] = max(r["rss_mb"] for r in runs[engine])
                rows.append({"stride": stride, "what": engine, **best,
                             "ratio": best["wall"] / floor["wall"],
                             "cpu_ratio": best["cpu"] / floor_cpu,
                             "walls": [r["wall"] for r in runs[engine]]})
    print(f"\nvideo: {video}\nworkers: {args.workers}, best of {args.repeat}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores")
    head = ("stride", "what", "wall s", "cpu s", "wall/floor", "cpu/floor", "peak RSS MB",
            "walls of the rounds")
    print("{:>6} {:>14} {:>8} {:>8} {:>10} {:>9} {:>12}  {}".format(*head))
    nan = float("nan")
    for r in rows:
        if r["what"] == "per-frame":
            continue
        walls = " ".join(f"{w:.2f}" for w in r.get("walls", []))
        print(f"{r['stride']:>6} {r['what']:>14} {r['wall']:>8.2f} {r['cpu']:>8.2f}"
              f" {r.get('ratio', 1.0):>10.3f} {r.get('cpu_ratio', 1.0):>9.3f}"
              f" {r.get('rss_mb', nan):>12.0f}  {walls}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
