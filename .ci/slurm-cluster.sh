#!/usr/bin/env bash
# slurm-cluster.sh -- a real single-node SLURM cluster on localhost, for CI and tests.
# From ../shared/reference/slurm-local.md (tested recipe), kept close to it on purpose.
# Debian 12 (bookworm), slurm-wlm 22.05, run as root, no systemd needed.
#
#   bash slurm-cluster.sh up      # install (if needed), configure, start; idempotent
#   bash slurm-cluster.sh down    # cancel jobs, stop every daemon by its pid file
#   bash slurm-cluster.sh status
#
# SLURM_CI_ACCOUNTING=dbd  (default) MariaDB + slurmdbd: sacct works, so the
#                          snakemake slurm plugin works with its defaults.
# SLURM_CI_ACCOUNTING=none no database: sacct fails; the plugin must then be
#                          run with  slurm-status-command: squeue  (see notes).
set -euo pipefail

ACCT=${SLURM_CI_ACCOUNTING:-dbd}
CLUSTER=ci
PARTITION=debug
DBPASS=slurmci-local   # MariaDB user for slurmdbd; server listens on 127.0.0.1 only
LOGDIR=/var/log/slurm
CONF_CHANGED=0

log() { printf '[slurm-ci] %s\n' "$*" >&2; }

# pid_running PID COMM: PID is a live (not zombie) process of program COMM
pid_running() {
  local st comm
  read -r st comm < <(ps -o stat=,comm= -p "$1" 2>/dev/null) || return 1
  [ "${st:0:1}" != Z ] && [ "$comm" = "$2" ]
}

# alive PIDFILE COMM: the pid in PIDFILE is a live COMM process
alive() {
  [ -s "$1" ] && pid_running "$(cat "$1")" "$2"
}

# wait_for SECONDS CMD...: retry CMD every 0.5 s until it succeeds
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$end" ]; then return 1; fi
    sleep 0.5
  done
}

# stop PIDFILE COMM: TERM, wait up to 30 s, then KILL -- only that one pid
stop() {
  local p i
  if alive "$1" "$2"; then
    p=$(cat "$1")
    log "stopping $2 (pid $p)"
    kill -TERM "$p" 2>/dev/null || true
    for i in $(seq 1 60); do pid_running "$p" "$2" || break; sleep 0.5; done
    if pid_running "$p" "$2"; then kill -KILL "$p" 2>/dev/null || true; fi
  fi
  rm -f "$1"
}

install_pkgs() {
  local pkgs="slurmctld slurmd slurm-client munge"
  if [ "$ACCT" = dbd ]; then pkgs="$pkgs slurmdbd mariadb-server"; fi
  # shellcheck disable=SC2086
  if ! dpkg -s $pkgs >/dev/null 2>&1; then
    log "installing $pkgs"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
  fi
}

write_conf() {
  local host node mem acct_type gather
  host=$(hostname -s)
  # slurmctld, slurmd and srun resolve this name: make sure it resolves
  getent hosts "$host" >/dev/null || echo "127.0.0.1 $host" >>/etc/hosts
  # slurmd -C prints this machine's real topology, e.g.
  # NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105
  node=$(slurmd -C | head -n 1)
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
  mem=$((mem / 2))   # declare less than there is, or the node is drained
  node=$(sed "s/RealMemory=[0-9]*/RealMemory=$mem/" <<<"$node")
  if [ "$ACCT" = dbd ]; then
    acct_type="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"
    gather=jobacct_gather/linux
  else
    acct_type="AccountingStorageType=accounting_storage/none"
    gather=jobacct_gather/none
  fi
  mkdir -p /etc/slurm
  cat >/etc/slurm/slurm.conf.new <<EOF
# written by slurm-cluster.sh
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=$gather
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without this a job that asks for no memory gets the whole node
DefMemPerCPU=500
ReturnToService=2
# keep finished jobs visible to squeue for 10 min (the plugin's squeue mode
# needs MinJobAge >= 3 x slurm-init-seconds-before-status-checks)
MinJobAge=600
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
$acct_type
JobCompType=jobcomp/none
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf; then
    rm /etc/slurm/slurm.conf.new
  else
    mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf
    CONF_CHANGED=1
  fi
  if [ "$ACCT" = dbd ]; then
    cat >/etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=slurm
DebugLevel=info
LogFile=$LOGDIR/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DBPASS
StorageLoc=slurm_acct_db
EOF
    chown slurm:slurm /etc/slurm/slurmdbd.conf
    chmod 600 /etc/slurm/slurmdbd.conf
  fi
  install -d -o slurm -g slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd "$LOGDIR"
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  if ! alive /run/munge/munged.pid munged; then
    log "starting munged"
    # --force: take over a stale socket left by a killed munged
    runuser -u munge -- /usr/sbin/munged --force
  fi
  wait_for 20 sh -c 'munge -n | unmunge' || { log "munged did not come up"; exit 1; }
}

start_db() {
  [ "$ACCT" = dbd ] || return 0
  install -d -o mysql -g mysql /run/mysqld
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  if ! alive /run/mysqld/mysqld.pid mariadbd; then
    log "starting mariadbd"
    setsid /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 \
      --pid-file=/run/mysqld/mysqld.pid \
      >"$LOGDIR/mariadbd.log" 2>&1 </dev/null &
  fi
  wait_for 60 mariadb-admin ping || { log "mariadbd did not come up"; exit 1; }
  mariadb <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF
  if ! alive /run/slurmdbd.pid slurmdbd; then
    log "starting slurmdbd"
    slurmdbd
  fi
  wait_for 60 sacctmgr -n show cluster || { log "slurmdbd did not come up"; tail -20 "$LOGDIR/slurmdbd.log"; exit 1; }
  if ! sacctmgr -n -P show cluster format=cluster | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
  fi
}

start_slurm() {
  local host state
  host=$(hostname -s)
  if [ "$CONF_CHANGED" = 1 ]; then
    # daemons started with another slurm.conf: restart them to load this one
    stop /run/slurmd.pid slurmd
    stop /run/slurmctld.pid slurmctld
  fi
  if ! alive /run/slurmctld.pid slurmctld; then
    log "starting slurmctld"
    slurmctld
  fi
  wait_for 60 scontrol ping || { log "slurmctld did not come up"; tail -20 "$LOGDIR/slurmctld.log"; exit 1; }
  if ! alive /run/slurmd.pid slurmd; then
    log "starting slurmd"
    slurmd
  fi
  # wait until the node has registered; resume it if an old state left it down
  for _ in $(seq 1 60); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    case "$state" in
      idle | mixed | allocated) break ;;
      down* | drain* | *fail*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
  done
  case "$state" in
    idle | mixed | allocated) ;;
    *) log "node $host is '$state'"; tail -20 "$LOGDIR/slurmd.log"; exit 1 ;;
  esac
}

up() {
  install_pkgs
  write_conf
  start_munge
  start_db
  start_slurm
  sinfo
  log "up (accounting: $ACCT, partition: $PARTITION)"
}

down() {
  if alive /run/slurmctld.pid slurmctld; then
    scancel --user=root 2>/dev/null || true
    wait_for 30 sh -c '[ -z "$(squeue -h -o %i)" ]' || log "jobs still in queue"
  fi
  stop /run/slurmd.pid slurmd
  stop /run/slurmctld.pid slurmctld
  stop /run/slurmdbd.pid slurmdbd
  stop /run/mysqld/mysqld.pid mariadbd
  stop /run/munge/munged.pid munged
  log "down"
}

status() {
  local f
  for f in /run/munge/munged.pid:munged /run/mysqld/mysqld.pid:mariadbd \
    /run/slurmdbd.pid:slurmdbd /run/slurmctld.pid:slurmctld /run/slurmd.pid:slurmd; do
    if alive "${f%%:*}" "${f##*:}"; then echo "${f##*:}: running (pid $(cat "${f%%:*}"))"
    else echo "${f##*:}: stopped"; fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
