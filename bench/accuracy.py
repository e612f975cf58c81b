#!/usr/bin/env python
"""Accuracy of the motion engine on hard synthetic scenes, against exact truth (issue 10).

Renders ``--seeds`` FRESH random seeds of every scene family (``camhd_motion.synth.presets.
FAMILIES``: dark, snow, flicker, holds, fast, and ``all`` = the five together) on the
``--preset`` routine, plus one lights-off video, runs the engine(s) on each and prints, per
family and overall: valid-flag accuracy on lit samples (and valid-but-wrong estimates),
translation error median / p95 (full-resolution px per pair), scale error median,
stable-sample precision / recall / F1, holds found / true (and videos whose hold count is
exact), boundary error p95 (samples), labels right / true, and the invalid reasons.  The
definitions are in ``camhd_motion.synth.score``; the tests use the same code on fixed seeds.

The seeds are drawn from a range the tests never use (>= 100000) and printed, so a run can
be repeated (``--seed-base``) to compare two versions of the engine on the same videos.
Videos are rendered into ``--cache`` and deleted after scoring unless ``--keep``.

    python bench/accuracy.py [--seeds 5] [--families dark snow ...] [--engine python native]
        [--decoder partial ffmpeg] [--preset test] [--seed-base N] [--keep] [--jobs 2]
        [--json OUT]
        [--python-src OTHER/src] [--native-bin PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import multiprocessing
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CACHE = Path.home() / ".cache" / "camhd-motion-accuracy"
ALL = "all"


def family_preset(preset: str, family: str) -> str:
    from camhd_motion.synth.presets import FAMILIES

    names = list(FAMILIES) if family == ALL else [family]
    return "+".join([preset, *names])


def render(root: Path, preset: str, seed: int) -> Path:
    from camhd_motion.synth.generate import generate_video

    return generate_video(root, dt.datetime(2016, 1, 1), preset, seed, threads=1)


def analyse(mov: Path, engine: str, workers: int, decoder: str,
            python_src: Path | None = None, native_bin: Path | None = None):
    """The engine's motion of ``mov`` and its wall seconds.  ``python_src``: run the Python
    engine of that source tree (``src/`` of another checkout or a copy), in a subprocess;
    ``native_bin``: that native binary."""
    from camhd_motion.formats.optical_flow import read_optical_flow
    from camhd_motion.motion.analyze import analyze_video
    from camhd_motion.motion.model import MotionParams
    from camhd_motion.native import analyze_video_native

    params = MotionParams(decoder=decoder)
    t0 = time.perf_counter()
    if engine == "native":
        result = analyze_video_native(str(mov), params, workers=workers, binary=native_bin)
    elif python_src is not None:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "motion.json"
            env = {**os.environ, "PYTHONPATH": str(python_src)}
            subprocess.run([sys.executable, "-m", "camhd_motion", "motion", str(mov), "-o",
                            str(out), "--workers", str(workers), "--decoder", decoder],
                           env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            result = read_optical_flow(out)
    else:
        result = analyze_video(str(mov), params, workers=workers)
    return result, time.perf_counter() - t0


def fmt(summary: dict) -> list[str]:
    def f(v, spec):
        return "nan" if isinstance(v, float) and math.isnan(v) else format(v, spec)

    s = summary
    return [
        f(s["valid_acc"], ".4f") + (f" ({s['gross']} wrong)" if s["gross"] else ""),
        f"{f(s['t_median'], '.3f')} / {f(s['t_p95'], '.3f')}",
        f(s["s_median"], ".1e"),
        f"{f(s['precision'], '.4f')} / {f(s['recall'], '.4f')} / {f(s['f1'], '.4f')}",
        f"{s['holds_found']}/{s['holds_true']} ({s['count_exact']}/{s['videos']})",
        f(s["boundary_p95"], ".1f"),
        f"{s['labels_right']}/{s['labels_true']}",
    ]


HEADER = ["family", "valid acc (lit)", "t err med / p95 px", "scale err med",
          "stable P / R / F1", "holds found/true (count exact)", "boundary p95 (samples)",
          "labels right/true"]


def table(rows: list[tuple[str, dict]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for name, summary in rows:
        lines.append("| " + " | ".join([name, *fmt(summary)]) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    from camhd_motion.synth.presets import FAMILIES

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="fresh seeds per family")
    ap.add_argument("--families", nargs="+", default=[*FAMILIES, ALL],
                    choices=[*FAMILIES, ALL])
    ap.add_argument("--preset", default="test", help="routine the families are added to")
    ap.add_argument("--engine", nargs="+", default=["python"], choices=["python", "native"])
    ap.add_argument("--decoder", nargs="+", default=["partial"], choices=["partial", "ffmpeg"],
                    help="frame decoders to compare (each with every engine)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--python-src", type=Path,
                    help="run the Python engine of this source tree (e.g. another checkout's "
                    "src/) instead of this one: before/after comparisons on the same videos")
    ap.add_argument("--native-bin", type=Path, help="the native binary to run")
    ap.add_argument("--seed-base", type=int,
                    help="seeds are seed-base, seed-base+1, ... (default: random >= 100000)")
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--keep", action="store_true", help="keep the rendered videos")
    ap.add_argument("--jobs", type=int, default=1, help="videos rendered in parallel")
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args(argv)

    from camhd_motion.regions import find_regions
    from camhd_motion.synth.score import misses, score_video, summarize
    from camhd_motion.synth.truth import Truth, truth_path

    base = args.seed_base if args.seed_base is not None else 100000 + secrets.randbelow(10**8)
    seeds = list(range(base, base + args.seeds))
    print(f"seeds {seeds[0]}..{seeds[-1]} (--seed-base {base}), preset {args.preset}, "
          f"families {' '.join(args.families)}", flush=True)
    jobs = [(fam, family_preset(args.preset, fam), seed) for fam in args.families
            for seed in seeds]
    jobs.append(("lights-off", "black", seeds[0]))

    t0 = time.perf_counter()
    roots = {(fam, seed): args.cache / f"{preset}-{seed}" for fam, preset, seed in jobs}
    if args.jobs > 1:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool:
            movs = list(pool.map(render, [roots[f, s] for f, _, s in jobs],
                                 [p for _, p, _ in jobs], [s for *_, s in jobs]))
    else:
        movs = [render(roots[f, s], p, s) for f, p, s in jobs]
    print(f"rendered {len(movs)} videos in {time.perf_counter() - t0:.0f} s", flush=True)

    report: dict = {"seeds": seeds, "preset": args.preset, "engines": {}}
    status = 0
    for engine, decoder in [(e, d) for e in args.engine for d in args.decoder]:
        run = f"{engine}/{decoder}"
        scores: dict[str, list] = {}
        seconds = 0.0
        looked = samples = 0  # pairs looked at again on full decodes (estimator step 9)
        for (fam, _, seed), mov in zip(jobs, movs, strict=True):
            truth = Truth.load(truth_path(mov))
            result, wall = analyse(mov, engine, args.workers, decoder, args.python_src,
                                   args.native_bin)
            seconds += wall
            looked += result.performance.get("samplesSecondLook", 0)
            samples += len(result.samples)
            stride = result.params.stride
            if fam == "lights-off":
                ok = not any(s.valid for s in result.samples) and not find_regions(
                    result.samples, stride)
                report.setdefault("lights_off", {})[run] = ok
                print(f"{run}: lights-off video: "
                      f"{'all invalid, no regions' if ok else 'FAILED'}", flush=True)
                status |= not ok
                continue
            sc = score_video(f"{fam}/{seed}", truth.samples(stride, result.params.pair_offset),
                             result.samples, stride)
            scores.setdefault(fam, []).append(sc)
            print(f"  {run} {fam} seed {seed}: valid {sc.lit_valid}/{sc.lit}, holds "
                  f"{sc.holds_found}/{sc.holds_true} (est {sc.holds_est}), labels "
                  f"{sc.labels_right}/{sc.labels_true}, stable fp {sc.fp} fn {sc.fn}, "
                  f"gross {sc.gross} {dict(sc.reasons) or ''}", flush=True)
        rows = [(fam, summarize(v)) for fam, v in scores.items()]
        overall = summarize([s for v in scores.values() for s in v])
        rows.append(("**overall**", overall))
        print(f"\n{engine} engine, decoder {decoder} ({len(movs) - 1} videos + 1 lights-off, "
              f"{seconds:.0f} s of analysis; second looks {looked}/{samples} samples):\n")
        print(table(rows))
        for name, summary in rows:
            if summary["reasons"]:
                print(f"  {name}: invalid on lit samples: {summary['reasons']}")
            missed = misses(summary)
            if missed:
                print(f"  {name}: misses {'; '.join(missed)}")
        status |= bool(misses(overall))
        report["engines"][run] = {name: s for name, s in rows}
        report.setdefault("second_looks", {})[run] = [looked, samples]
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n")
    if not args.keep:
        for root in set(roots.values()):
            shutil.rmtree(root, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
