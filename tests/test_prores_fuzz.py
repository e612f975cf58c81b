"""Fuzzing the partial ProRes decoder under AddressSanitizer and UBSan, for a bounded time.

native/tests/fuzz_prores_partial.cpp mutates and truncates real frames (every profile's
layout: a 422 Proxy, a 422 and a 4444 clip) and decodes each from a heap buffer of exactly
its size: any read outside the frame, overflow or other undefined behaviour aborts.  The
time is ``$CAMHD_FUZZ_SECONDS`` (default 30; CI: 60).  Skipped when no C++ compiler is
found, unless ``CAMHD_REQUIRE_FUZZ=1`` (CI), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.fixtures.prores import encode_clip, write_seeds

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
CXX = os.environ.get("CXX", "g++")


def test_fuzz_under_address_sanitizer(tmp_path):
    if shutil.which(CXX) is None:
        if os.environ.get("CAMHD_REQUIRE_FUZZ") == "1":
            pytest.fail(f"no C++ compiler ({CXX}) for the fuzz test")
        pytest.skip(f"no C++ compiler ({CXX})")
    binary = tmp_path / "fuzz_prores_partial"
    build = subprocess.run(
        [CXX, "-std=c++17", "-O1", "-g", "-fsanitize=address,undefined",
         "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", f"-I{REPO / 'native/src'}",
         str(REPO / "native/tests/fuzz_prores_partial.cpp"),
         str(REPO / "native/src/prores_partial.cpp"), "-o", str(binary)],
        capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    clips = [encode_clip(tmp_path / f"p{profile}.mov", "prores_ks", profile, frames=2)
             for profile in (0, 2, 4)]
    seeds = write_seeds(clips, tmp_path / "seeds.bin")
    seconds = float(os.environ.get("CAMHD_FUZZ_SECONDS", "30"))
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([str(binary), str(seeds), str(seconds), "7"], capture_output=True,
                         text=True, env=env, timeout=seconds + 120)
    assert run.returncode == 0, run.stderr[-4000:]
    counts = dict(zip(run.stdout.split()[::2], map(int, run.stdout.split()[1::2]),
                      strict=True))
    assert counts["iterations"] > 1000 and counts["ok"] > 0 and counts["damaged"] > 0, counts
