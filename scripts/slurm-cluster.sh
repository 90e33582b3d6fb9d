#!/usr/bin/env bash
# A single-node Slurm cluster on localhost for tests (toolchain.md section 5):
#   eval "$(scripts/slurm-cluster.sh start DIR)"   # prints `export SLURM_CONF=DIR/slurm.conf`
#   scripts/slurm-cluster.sh stop DIR              # stops munged, slurmctld and slurmd by pid
# munge, slurmctld and slurmd run as root with their state, spool, logs and pid files under DIR;
# slurm.conf is generated from nproc and the machine's memory (ProctrackType linuxproc,
# TaskPlugin none, SelectType cons_tres, MpiDefault pmix). munged's socket is in DIR too
# (AuthInfo=socket=...), so a cluster never meets another munged on the machine.
set -euo pipefail
action=${1:?usage: slurm-cluster.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: slurm-cluster.sh start|stop DIR}")

stop() {
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [[ -f $pidfile ]] || continue
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

if [[ $action == stop ]]; then stop; exit 0; fi
[[ $action == start ]] || { echo "slurm-cluster.sh: unknown action '$action'" >&2; exit 2; }
for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" > /dev/null || { echo "slurm-cluster.sh: $tool not found (scripts/install-deps.sh --slurm)" >&2; exit 1; }
done
stop  # a cluster left over from an earlier run of the same DIR
mkdir -p "$dir"/{state,spool,log}
install -d -o munge -g munge -m 700 "$dir/munge"
install -d -o munge -g munge -m 755 "$dir/munge-socket"  # munged wants its socket directory world-searchable
cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)  # GNU nproc honours OMP_NUM_THREADS
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
cat > "$dir/slurm.conf" <<CONF
ClusterName=cfmatest
SlurmctldHost=localhost
AuthType=auth/munge
AuthInfo=socket=$dir/munge-socket/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=pmix
ReturnToService=2
KillWait=10
MinJobAge=600
NodeName=localhost CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF=$dir/slurm.conf
runuser -u munge -- /usr/sbin/munged --log-file="$dir/munge/munged.log" --pid-file="$dir/munge/munged.pid" \
  --socket="$dir/munge-socket/munge.socket" --seed-file="$dir/munge/munged.seed"
munge -n --socket="$dir/munge-socket/munge.socket" | unmunge --socket="$dir/munge-socket/munge.socket" > /dev/null
/usr/sbin/slurmctld -f "$SLURM_CONF"
/usr/sbin/slurmd -f "$SLURM_CONF"
for _ in $(seq 300); do
  [[ $(sinfo -h -o %T 2>/dev/null) == idle ]] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.1
done
echo "slurm-cluster.sh: the node did not become idle in 30 s (see $dir/log)" >&2
stop
exit 1
