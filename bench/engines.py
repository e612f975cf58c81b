#!/usr/bin/env python3
"""Native vs Python engine vs the decode floor, on a 1920x1080 ProRes video.

    python bench/engines.py [VIDEO] [--stride 10] [--stride1] [--workers 2] [--repeat 3]

Without VIDEO, a synthetic 1920x1080 ProRes 422 video (textured scene, holds and pans) of
``--frames`` frames is made once and kept (``--cache-dir``).  Every measurement runs as a
subprocess, its wall time taken around it and its CPU time from ``RUSAGE_CHILDREN`` (which
includes the worker processes/threads), interleaved over ``--repeat`` rounds:

- ``floor native``: ``camhd-motion-native --decode-only``: read and decode exactly the
  frames the samples need, each once, on the same workers, with the native build's FFmpeg;
- ``floor PyAV``: the same frames with the Python engine's decoder (PyAV's FFmpeg), in
  ``--workers`` spawned processes;
- ``native``: ``camhd-motion-native VIDEO -o ...``;
- ``python``: ``camhd-motion motion VIDEO -o ... --engine python``.

Each engine's ratio is to the floor of its own decoder.  "core" columns are the timings
the programs report for their work alone (no interpreter start-up or imports).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


# --------------------------------------------------------------------------- test video


def make_video(path: Path, frames: int, width: int = 1920, height: int = 1080) -> Path:
    """Textured scene, holds of 3 s alternating with 1-s pans/tilts/zooms; ProRes 422."""
    import av
    import cv2
    import numpy as np

    rng = np.random.default_rng(3)
    th, tw = height * 2, width * 2
    tex = np.zeros((th, tw), np.float32)
    for s in (8, 32, 128):
        n = rng.normal(size=(th // s + 2, tw // s + 2)).astype(np.float32)
        tex += cv2.resize(n, (tw, th), interpolation=cv2.INTER_CUBIC)[:th, :tw] * s**0.5
    tex = ((tex - tex.min()) / (tex.max() - tex.min()) * 190 + 30).astype(np.uint8)
    for _ in range(3000):
        x, y, r = int(rng.integers(0, tw)), int(rng.integers(0, th)), int(rng.integers(4, 40))
        cv2.circle(tex, (x, y), r, int(rng.integers(20, 235)), -1)
    noise = [rng.normal(0, 2, (height, width)).astype(np.int16) for _ in range(5)]
    moves = [(6.0, 0.0, 1.0), (0.0, 0.0, 1.004), (-4.0, -3.0, 1.0), (0.0, 0.0, 1 / 1.004),
             (0.0, 4.0, 1.0), (-2.0, 0.0, 1.0)]
    tmp = path.with_name(f".{path.name}.tmp")
    out = av.open(str(tmp), "w", format="mov")
    stream = out.add_stream("prores_aw", rate=Fraction(30000, 1001), options={"profile": "2"})
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv422p10le"
    stream.codec_context.thread_type = "FRAME"
    stream.codec_context.thread_count = 2
    x, y, z = width / 2, height / 2, 1.0
    cx, cy = width / 2, height / 2
    for i in range(frames):
        phase, k = divmod(i, 120)
        if k >= 90:
            dx, dy, dz = moves[phase % len(moves)]
            x, y, z = x + dx, y + dy, z * dz
        m = np.array([[z, 0, cx - z * (x + cx)], [0, z, cy - z * (y + cy)]])
        img = cv2.warpAffine(tex, m, (width, height), flags=cv2.INTER_LINEAR)
        grey = np.clip(img.astype(np.int16) + noise[i % len(noise)], 0, 255).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(grey, format="gray").reformat(format="yuv422p10le")
        frame.pts = i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- PyAV floor


def _decode_frames(video: str, frames: list[int]) -> dict:
    from camhd_motion.sources.local import LocalFileSource
    from camhd_motion.video.decoder import ProResDecoder
    from camhd_motion.video.movindex import read_index

    t0, c0 = time.perf_counter(), time.process_time()
    with LocalFileSource(video) as src:
        index = read_index(src)
        dec = ProResDecoder(index.codec_tag, index.width, index.height)
        for f in frames:
            dec.decode_luma(src.read(*index.frame_range(f)))
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "decoded": dec.frames_decoded}


def floor_pyav(video: str, stride: int, offset: int, workers: int) -> dict:
    """Decode each needed frame once with the Python engine's decoder, in `workers`
    processes over contiguous runs of frames; prints the core timings as JSON."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from camhd_motion.motion.sampling import needed_frames, sample_pairs
    from camhd_motion.sources.local import LocalFileSource
    from camhd_motion.video.movindex import read_index

    with LocalFileSource(video) as src:
        n = read_index(src).num_frames
    frames = needed_frames(sample_pairs(n, stride, offset))
    parts = [frames[i * len(frames) // workers:(i + 1) * len(frames) // workers]
             for i in range(workers)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        list(pool.map(_decode_frames, [video] * workers, [[frames[0]]] * workers))  # warm up
        t0 = time.perf_counter()
        stats = list(pool.map(_decode_frames, [video] * workers, parts))
        wall = time.perf_counter() - t0
    return {"wallSeconds": wall, "cpuSeconds": sum(s["cpu"] for s in stats),
            "framesDecoded": sum(s["decoded"] for s in stats), "framesNeeded": len(frames)}


# --------------------------------------------------------------------------- runs


def timed(cmd: list[str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def measure(video: str, stride: int, workers: int, repeat: int, native_bin: str) -> dict:
    common = ["--stride", str(stride), "--workers", str(workers)]
    results: dict[str, list[dict]] = {k: [] for k in ("floor native", "floor PyAV", "native",
                                                       "python")}
    with tempfile.TemporaryDirectory(prefix="camhd-bench-") as tmp:
        for _ in range(repeat):
            wall, cpu, out = timed([native_bin, "--decode-only", video, *common])
            core = json.loads(out)
            results["floor native"].append({"wall": wall, "cpu": cpu,
                                            "core_wall": core["wallSeconds"],
                                            "core_cpu": core["cpuSecondsWorkers"],
                                            "frames": core["framesDecoded"]})
            wall, cpu, out = timed([sys.executable, __file__, "--floor-pyav", video, *common])
            core = json.loads(out)
            results["floor PyAV"].append({"wall": wall, "cpu": cpu,
                                          "core_wall": core["wallSeconds"],
                                          "core_cpu": core["cpuSeconds"],
                                          "frames": core["framesDecoded"]})
            out_json = os.path.join(tmp, "native.json")
            wall, cpu, _ = timed([native_bin, video, "-o", out_json, "-q", *common])
            perf = json.loads(Path(out_json).read_text())["performance"]
            results["native"].append({"wall": wall, "cpu": cpu,
                                      "core_wall": perf["wallSeconds"],
                                      "core_cpu": perf["cpuSecondsWorkers"],
                                      "frames": perf["framesDecoded"]})
            out_json = os.path.join(tmp, "python.json")
            wall, cpu, _ = timed([sys.executable, "-m", "camhd_motion", "motion", video, "-o",
                                  out_json, "--engine", "python", *common])
            perf = json.loads(Path(out_json).read_text())["performance"]
            results["python"].append({"wall": wall, "cpu": cpu,
                                      "core_wall": perf["wallSeconds"],
                                      "core_cpu": perf["cpuSecondsWorkers"],
                                      "frames": perf["framesDecoded"]})
    return results


def report(results: dict, stride: int, workers: int, frames_total: int) -> None:
    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    floors = {"native": results["floor native"], "python": results["floor PyAV"]}
    needed = results["floor native"][0]["frames"]
    print(f"\nstride {stride}, {workers} workers: {needed} frames needed of {frames_total} "
          f"(median of {len(results['native'])} runs; best wall in brackets)")
    print(f"{'':14} {'wall s':>15} {'CPU s':>7} {'core wall':>10} {'core CPU':>9} "
          f"{'decoded':>8} {'wall/floor':>11} {'CPU/floor':>10}")
    for name, rows in results.items():
        wall, cpu = med(rows, "wall"), med(rows, "cpu")
        best = min(r["wall"] for r in rows)
        ratio = ""
        if name in floors:
            floor = floors[name]
            ratio = (f"{wall / med(floor, 'wall'):>11.2f} {cpu / med(floor, 'cpu'):>10.2f}")
        print(f"{name:14} {wall:>7.2f} ({best:>5.2f}) {cpu:>7.2f} {med(rows, 'core_wall'):>10.2f} "
              f"{med(rows, 'core_cpu'):>9.2f} {rows[0]['frames']:>8} {ratio}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video", nargs="?", help="a ProRes .mov (default: make a 1080p one)")
    ap.add_argument("--frames", type=int, default=900, help="frames of the made video")
    ap.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "camhd-bench"))
    ap.add_argument("--stride", type=int, default=10)
    ap.add_argument("--stride1", action="store_true", help="also measure stride 1")
    ap.add_argument("--pair-offset", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--native-bin", help="default: as camhd-motion --engine native finds it")
    ap.add_argument("--floor-pyav", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.floor_pyav:  # internal: one PyAV floor measurement, JSON on stdout
        print(json.dumps(floor_pyav(args.video, args.stride, args.pair_offset, args.workers)))
        return 0

    from camhd_motion.native import find_native_binary
    from camhd_motion.sources.local import LocalFileSource
    from camhd_motion.video.movindex import read_index

    native_bin = str(find_native_binary(args.native_bin))
    video = args.video
    if video is None:
        cache = Path(args.cache_dir)
        cache.mkdir(parents=True, exist_ok=True)
        path = cache / f"CAMHDA301-20190104T121500_{args.frames}f.mov"
        if not path.exists():
            print(f"making {path} ({args.frames} frames, 1920x1080) ...", flush=True)
            t0 = time.perf_counter()
            make_video(path, args.frames)
            print(f"  {time.perf_counter() - t0:.0f} s", flush=True)
        video = str(path)
    with LocalFileSource(video) as src:
        index = read_index(src)
    size = os.path.getsize(video)
    version = subprocess.run([native_bin, "--version"], capture_output=True, text=True)
    print(f"{video}: {index.width}x{index.height} {index.codec_tag}, {index.num_frames} frames, "
          f"{size / 1e6:.0f} MB ({size / index.num_frames / 1e3:.0f} kB/frame); "
          f"{version.stdout.strip()}; load average {os.getloadavg()[0]:.1f}")
    strides = [args.stride] + ([1] if args.stride1 and args.stride != 1 else [])
    for stride in strides:
        report(measure(video, stride, args.workers, args.repeat, native_bin), stride,
               args.workers, index.num_frames)
    print(f"\nload average after: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
