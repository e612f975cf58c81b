#!/usr/bin/env bash
# Build envs/Dockerfile here with podman: bash .ci/build-image.sh [TAG]
# (default TAG localhost/camhd-motion:test, what tests/test_container.py runs).
#
# No container registry is reachable from these machines, so the base is made locally:
# Debian 12 (bookworm, + updates + security) from Debian's packages with mmdebstrap,
# imported as localhost/debian:bookworm-min and passed as BASE_IMAGE (the Dockerfile's
# default is debian:bookworm-slim by digest, for real builds).  pip inside the build
# trusts this machine's CA bundle through a build secret (TLS proxy); nothing of it ends
# up in the image.  Recipe and flags: docs/CONTAINER.md.
#
# Idempotent and incremental: packages are installed only if missing, the base is made
# only if missing (CAMHD_REBUILD_BASE=1 makes it again: every layer is rebuilt then), and
# podman reuses every layer whose inputs did not change.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-localhost/camhd-motion:test}
BASE=localhost/debian:bookworm-min
CA=/etc/ssl/certs/ca-certificates.crt
export DEBIAN_FRONTEND=noninteractive
log() { printf 'build-image: %s\n' "$*" >&2; }

pkgs="podman runc mmdebstrap uidmap"
# shellcheck disable=SC2086
if ! dpkg -s $pkgs >/dev/null 2>&1; then
    log "installing $pkgs"
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

# The flags podman needs on these machines (cgroups v1 hybrid, no systemd, a low
# RLIMIT_NOFILE hard limit): without them it fails with "cgroups in hybrid mode not
# supported" or "setrlimit RLIMIT_NOFILE: Operation not permitted".
P=(podman --runtime runc --cgroup-manager=cgroupfs)
U=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network host)

if [ "${CAMHD_REBUILD_BASE:-0}" = 1 ] || ! "${P[@]}" image exists "$BASE"; then
    log "making $BASE with mmdebstrap"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    nice mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$tmp/rootfs.tar" \
        "deb http://deb.debian.org/debian bookworm main" \
        "deb http://deb.debian.org/debian bookworm-updates main" \
        "deb http://deb.debian.org/debian-security bookworm-security main"
    "${P[@]}" import --quiet "$tmp/rootfs.tar" "$BASE" >/dev/null
    rm -rf "$tmp"
    trap - EXIT
fi

secret=()
if [ -s "$CA" ]; then secret=(--secret "id=pipcert,src=$CA"); fi
log "building $TAG"
start=$SECONDS
nice "${P[@]}" build "${U[@]}" --layers --pull=never \
    --build-arg BASE_IMAGE="$BASE" "${secret[@]}" \
    -f envs/Dockerfile -t "$TAG" .
log "built $TAG in $((SECONDS - start)) s: $("${P[@]}" image inspect --format '{{.Id}} {{.Size}}' "$TAG")"
# Images of older builds stay as <none> (podman rmi ID); `podman image prune` would also
# drop the untagged build stage (the native build), which the next build then redoes.
