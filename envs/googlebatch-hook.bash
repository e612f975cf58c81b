# Sourced by bash before any script it runs in the camhd-motion image (BASH_ENV, set in
# envs/Dockerfile); it acts only in the entrypoint that the Google Batch executor plugin
# (snakemake-executor-plugin-googlebatch 0.5.1, command.py) writes for a job on
# Container-Optimized OS and runs as `/bin/bash /tmp/workdir/entrypoint.sh`:
#
#     <the snakemake job: pip install --target .snakemake/pip-deployments <storage
#      plugins> && python -m snakemake --deploy-sources ... && python -m snakemake ...>
#
#     # https://github.com/boto/botocore/issues/3111
#     python3 -m pip install boto3==1.33.11
#     python3 -m pip install urllib3==1.26.17
#
# with no `set -e`, so the Batch task would exit with the status of the last pip, not of
# the job: a failed job would be reported as succeeded (or, with PIP_CONSTRAINT set, every
# job as failed).  In that script only, two shell functions shadow the commands:
#
#  - `python3 -m pip install ...` (the plugin's trailer; the job itself runs `python` and
#    `pip`, never `python3`) installs nothing and returns the exit status of the command
#    before it, so the task exits with the job's status;
#  - `pip install --target DIR PKG...` (the storage plugins snakemake deploys into every
#    remote job, unpinned, from PyPI) installs nothing when every PKG is already in the
#    image's venv (pinned by envs/constraints.txt): the job needs no PyPI access and runs
#    with exactly the tested versions.  Any other package goes to the real pip.
#
# Tested in the image with the script the plugin's own code generates
# (tests/test_container.py).  Everything else (snakemake's shell commands, other scripts,
# interactive shells) is untouched: $0 differs there and nothing is defined.

if [ "$0" = /tmp/workdir/entrypoint.sh ]; then
    python3() {
        local status=$?
        if [ "${1-}" = -m ] && [ "${2-}" = pip ] && [ "${3-}" = install ]; then
            echo "camhd-motion image: skipped 'python3 $*' (googlebatch plugin trailer);" \
                "the task keeps the job's exit status $status" >&2
            return "$status"
        fi
        command python3 "$@"
    }
    pip() {
        if [ "${1-}" = install ] && [ "${2-}" = --target ] && [ $# -gt 3 ] \
            && command python3 - "${@:4}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

try:
    found = [f"{name}=={version(name)}" for name in sys.argv[1:]]
except PackageNotFoundError:
    sys.exit(1)
print("camhd-motion image: already installed, not deployed again:", *found, file=sys.stderr)
PY
        then
            return 0
        fi
        command pip "$@"
    }
fi
