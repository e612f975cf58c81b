#!/usr/bin/env bash
# Install the camhd-motion package (without dependencies: the env has them) from the
# workflow's source tree.  rules/common.smk exports CAMHD_MOTION_WORKFLOW_DIR.
set -euo pipefail
pip install --no-deps --no-build-isolation -e "${CAMHD_MOTION_WORKFLOW_DIR:?not set: run through snakemake}"
