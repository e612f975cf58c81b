#!/usr/bin/env bash
# Run by snakemake once after it creates the conda env of envs/camhd-motion.yaml, with the
# env active: install the camhd-motion package (without dependencies: the env pins them)
# from the workflow's source tree, its partial ProRes decoder compiled (setup.py), and
# build the native engine into the env's bin/.
# rules/common.smk exports CAMHD_MOTION_WORKFLOW_DIR (the workflow's own directory).
set -euo pipefail
src="${CAMHD_MOTION_WORKFLOW_DIR:?not set: run through snakemake}"
pip install --no-deps --no-build-isolation -e "$src"
# the partial ProRes decoder (setup.py) compiles with the env's compilers: check it did
python -c "import camhd_motion.video._prores"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
cmake -S "$src/native" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$CONDA_PREFIX" -DCMAKE_INSTALL_PREFIX="$CONDA_PREFIX"
cmake --build "$build" -j"$(nproc)"
cmake --install "$build"
camhd-motion-native --version
