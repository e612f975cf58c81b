#!/usr/bin/env bash
# Work through an archive run together with other desktops: claim a shard nobody runs,
# run it (profiles/desktops, --config shard=i/N), repeat until every shard is done, then
# make the aggregate once.  Join by starting it, leave with Ctrl-C (docs/PROFILES.md).
#
#   bash profiles/desktops/shards.sh N [snakemake options, e.g. -s ../Snakefile]
#
# Run it in the shared working directory (NFS) with the same N everywhere.  A claim is a
# directory .shards/N/<i> (mkdir is atomic, also on NFS) holding who runs it; <i>.done
# marks a shard finished.  rm -r .shards to go over every shard again (new videos).
set -uo pipefail
n=${1:?usage: shards.sh N [snakemake options]}
shift
case " $* " in *" --config "* | *" -C "*)
  echo "shards.sh: put config in a --configfile: a second --config would drop shard=" >&2
  exit 2 ;;
esac
profile=$(cd "$(dirname "$0")" && pwd)
snakemake=${SNAKEMAKE:-snakemake}
claims=.shards/$n
mkdir -p "$claims"
current=
trap '[ -z "$current" ] || rm -rf "$current"' EXIT
trap 'exit 130' INT TERM

claim() { # claim DIR: take it if nobody has, and say who has it
  mkdir "$1" 2>/dev/null || return 1
  current=$1
  echo "$(hostname) pid $$ since $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$1/owner"
}

status=0
first=$(($(hostname | cksum | cut -d' ' -f1) % n)) # machines start at different shards
for k in $(seq 0 $((n - 1))); do
  i=$(((first + k) % n + 1))
  [ -e "$claims/$i.done" ] && continue
  claim "$claims/$i" || continue
  # --nolock: the claim above makes the shard ours, and shards share no output; snakemake's
  # own lock files race between runs starting together in one directory (measured: one run
  # failed with FileNotFoundError on .snakemake/locks/0.input.lock)
  if "$snakemake" --profile "$profile" --config "shard=$i/$n" --nolock "$@"; then
    touch "$claims/$i.done"
  else
    status=1
  fi
  rm -rf "$current"
  current=
done

# everything done: one machine makes the aggregate (it never analyses a video)
if [ "$(find "$claims" -maxdepth 1 -name '*.done' | wc -l)" -eq "$n" ] && claim "$claims/aggregate"; then
  "$snakemake" --profile "$profile" --allowed-rules aggregate motion_samples all "$@" || status=1
  rm -rf "$current"
  current=
fi
exit "$status"
