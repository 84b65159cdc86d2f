#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian's slurm-wlm and munge), to check the sweeps'
# job arrays with Slurm's own tools: `sbatch --test-only`, and real array jobs.
#
#   scripts/slurm-local.sh start    # prints `export SLURM_CONF=…`; eval it, then
#   cargo test --test sweep         # slurm_array_on_a_live_controller submits a real array
#   scripts/slurm-local.sh stop     # ends the daemons it started (by their pid files)
#
# Everything lives in $SLURM_LOCAL_DIR (default /tmp/burstccn-slurm): its own munge key and
# socket, slurm.conf, state and logs, so the machine's own munge or Slurm (if any) is left alone.
# Needs root (the daemons run as root here); ports $SLURM_LOCAL_PORT and the next one (16817).
set -euo pipefail
DIR=${SLURM_LOCAL_DIR:-/tmp/burstccn-slurm}
PORT=${SLURM_LOCAL_PORT:-16817}
CONF=$DIR/slurm.conf

stop() {
  for d in slurmd slurmctld munged; do
    if [ -s "$DIR/$d.pid" ]; then
      pid=$(cat "$DIR/$d.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$DIR/$d.pid"
    fi
  done
}

case "${1:-}" in
start)
  for c in munged slurmctld slurmd sbatch sinfo; do
    command -v "$c" >/dev/null || { echo "$c is missing: apt-get install slurm-wlm munge (scripts/setup.sh does)" >&2; exit 1; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
  stop
  mkdir -p "$DIR"/{state,spool,log,munge}
  chmod 700 "$DIR/munge"
  [ -s "$DIR/munge/munge.key" ] || dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$DIR/munge/munge.key"
  munged --force --socket="$DIR/munge/socket" --key-file="$DIR/munge/munge.key" \
    --pid-file="$DIR/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/seed"
  host=$(hostname -s)
  cpus=$(nproc)
  cat > "$CONF" <<EOF
ClusterName=burstccn-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/socket
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus RealMemory=2000 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -f "$CONF"
  slurmd -f "$CONF"
  # Wait (bounded) until the node is up and idle.
  for _ in $(seq 100); do
    SLURM_CONF=$CONF sinfo -h -o %T 2>/dev/null | grep -qx idle && break
    sleep 0.2
  done
  SLURM_CONF=$CONF sinfo -h -o %T | grep -qx idle || { echo "the node did not come up; see $DIR/log" >&2; exit 1; }
  echo "export SLURM_CONF=$CONF"
  ;;
stop)
  stop
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
