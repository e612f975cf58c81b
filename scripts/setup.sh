#!/usr/bin/env bash
# Set up a fresh checkout: .venv with the package and the workflow tools (from
# pyproject.toml), and the synthetic demo archive data/synthetic/archive if it is missing.
#
#   bash scripts/setup.sh             # venv + demo archive (a few minutes the first time)
#   bash scripts/setup.sh --no-data   # venv only (CI)
#
# PYTHON=/path/to/python3.11 picks the interpreter (3.11 or 3.12).
set -euo pipefail
cd "$(dirname "$0")/.."

with_data=1
[ "${1:-}" = "--no-data" ] && with_data=0

ok_python() { "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null; }

if [ ! -x .venv/bin/python ] || ! ok_python .venv/bin/python; then
    py="${PYTHON:-}"
    if [ -z "$py" ]; then
        for candidate in python3.11 python3.12 python3; do
            if command -v "$candidate" >/dev/null && ok_python "$candidate"; then
                py="$candidate"
                break
            fi
        done
    fi
    [ -n "$py" ] || { echo "setup: needs Python 3.11 or 3.12 (set PYTHON=...)" >&2; exit 1; }
    "$py" -m venv .venv
fi

# (re)install when pyproject.toml, the pins or the compiled part (setup.py: the partial
# ProRes decoder) changed since the last install; every package at the exact version of
# envs/constraints.txt (the transitive ones too)
stamp=.venv/.camhd-motion-installed
changed=0
for f in pyproject.toml envs/constraints.txt setup.py native/src/prores_partial.cpp \
         native/src/prores_partial.hpp src/camhd_motion/video/_prores.cpp; do
    [ "$f" -nt "$stamp" ] && changed=1
done
if [ ! -f "$stamp" ] || [ "$changed" = 1 ]; then
    .venv/bin/python -m pip install -q -U pip setuptools wheel
    .venv/bin/python -m pip install -q -c envs/constraints.txt -e ".[workflow,dev]"
    touch "$stamp"
fi
# The partial ProRes decoder is an optional extension: without a C++ compiler and the
# Python headers the package installs without it and decodes with FFmpeg (slower).
if ! .venv/bin/python -c "import camhd_motion.video._prores" 2>/dev/null; then
    echo "setup: note: the partial ProRes decoder was not built (no g++ or Python headers?" \
         "apt-get install g++ python3-dev, then rerun); frames are decoded with FFmpeg" >&2
fi

archive=data/synthetic/archive
if [ "$with_data" = 1 ] && [ ! -d "$archive/RS03ASHS" ]; then
    echo "setup: rendering the synthetic archive $archive (4 small videos, a few minutes)..."
    # rendered beside, renamed when complete: never a half archive under the final name
    .venv/bin/camhd-motion synth archive --out "$archive.partial" --count 4 --preset test \
        --start 2016-01-01T00:00:00 --z-suffix --jobs 2
    mv "$archive.partial" "$archive"
fi
echo "setup: done"
