"""Full-HD accuracy: a 1920x1080 synthetic video of 3 minutes, end to end through the CLI.

Marked ``slow`` (rendering the video takes ~9 minutes on 2 cores; it is cached in
``$CAMHD_BENCH_CACHE``, default ``~/.cache/camhd-motion-bench``, shared with
``bench/speed.py``).  Run with ``python -m pytest -m slow``.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from camhd_motion.formats.optical_flow import read_optical_flow
from camhd_motion.regions import find_regions
from camhd_motion.synth.truth import Truth, truth_path

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hd_video() -> Path:
    cache = Path(os.environ.get("CAMHD_BENCH_CACHE", Path.home() / ".cache/camhd-motion-bench"))
    movs = sorted(cache.rglob("*.mov")) if cache.exists() else []
    if not movs:
        subprocess.run([sys.executable, "-m", "camhd_motion", "synth", "video", "--out",
                        str(cache), "--preset", "hd", "--duration", "180", "--seed", "7",
                        "--co64"], check=True)
        movs = sorted(cache.rglob("*.mov"))
    return movs[0]


def test_full_hd_video_end_to_end(hd_video, tmp_path):
    truth = Truth.load(truth_path(hd_video))
    assert (truth.width, truth.height) == (1920, 1080) and truth.num_frames >= 120 * 29.97
    out = tmp_path / "m.json"
    subprocess.run([sys.executable, "-m", "camhd_motion", "motion", str(hd_video), "-o",
                    str(out), "--workers", "2"], check=True)
    est = read_optical_flow(out).samples
    true = truth.samples(10, 5)
    both = [(e, t) for e, t in zip(est, true, strict=True) if e.valid and t.valid]
    err = np.array([math.hypot(e.similarity.tx - t.similarity.tx,
                               e.similarity.ty - t.similarity.ty) for e, t in both])
    serr = np.array([abs(e.similarity.scale - t.similarity.scale) for e, t in both])
    assert np.median(err) <= 0.3 and np.percentile(err, 95) <= 1.5
    assert np.median(serr) <= 1e-3
    assert np.mean([e.valid == t.valid for e, t in zip(est, true, strict=True)]) >= 0.99
    true_static = [r for r in find_regions(true, 10) if r.type == "static"]
    found = [r for r in find_regions(est, 10) if r.type == "static"]
    for r in true_static:
        assert any(abs(f.start_frame - r.start_frame) <= 10
                   and abs(f.end_frame - r.end_frame) <= 10 for f in found), r
