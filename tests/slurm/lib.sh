# Shared by the Slurm tests (sourced): a single-node cluster under $scratch/cluster, started
# here and stopped on exit, a tiny study config, and helpers to wait for jobs.
set -euo pipefail
build=$(realpath "$1") shared=$(realpath "$2") source=$(realpath "$3")
cfma=$build/cfma
scratch=$build/test-scratch/slurm-$(basename "$0" .sh)
rm -rf "$scratch" && mkdir -p "$scratch"
trap '"$source/scripts/slurm-cluster.sh" stop "$scratch/cluster"' EXIT
cluster_env=$("$source/scripts/slurm-cluster.sh" start "$scratch/cluster")
eval "$cluster_env"
[[ -n ${SLURM_CONF:-} ]]
export CFMA_BIN=$cfma

# A small study on the 24 reference notes: regular net, 3 epochs, every stage.
write_config() {  # path, workdir
  cat > "$1" <<TOML
[run]
name = "slurmtest"
workdir = "$2"
threads = 1
[data]
root = "$shared/reference/nsynth-mini"
exclude_families = []
[train]
architectures = ["regular"]
tasks = ["family"]
seeds = [1]
epochs = 3
batch_size = 8
[extract]
layers = ["conv3", "fc1"]
[probe]
ridge = 1.0
include_input = false
concat_top_k = 2
[similarity]
measures = ["linear_cka", "cca_r2"]
max_feature_space_dim = 600
minibatch_size = 8
[slurm]
ntasks = 2
TOML
}

# Seconds since the test started, for the closing line.
started=$SECONDS
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1; }
restarts() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p' | head -1; }
# Waits until job $1 (every element of an array) has left the queue; fails after $2 seconds.
wait_gone() {
  local id=$1 limit=${2:-300} t0=$SECONDS
  declare -A held=()
  while [[ -n $(squeue -h -j "$id" 2>/dev/null) ]]; do
    (( SECONDS - t0 < limit )) || { echo "job $id still queued after $limit s"; squeue; exit 1; }
    if squeue -h -j "$id" -t PD -o %r 2>/dev/null | grep -q PartitionConfig; then
      echo "job $id can never start here:"; squeue; sinfo; exit 1
    fi
    # A requeued job waits ~2 minutes (BeginTime) before it may start again: let it start
    # sooner, but not within seconds of the requeue (slurmd still refuses the revoked
    # credential then: "Job credential revoked", and the job fails).
    for pending in $(squeue -h -j "$id" -t PD -r -o '%i %r' 2>/dev/null | awk '$2 == "BeginTime" {print $1}'); do
      held[$pending]=$(( ${held[$pending]:-0} + 1 ))
      if (( held[$pending] == 5 )); then scontrol update JobId="$pending" StartTime=now > /dev/null 2>&1 || true; fi
    done
    sleep 1
  done
}
# Waits until the file $1 contains the regular expression $2.
wait_for_line() {
  local t0=$SECONDS
  until grep -Eq "$2" "$1" 2>/dev/null; do
    (( SECONDS - t0 < ${3:-120} )) || { echo "no line matching '$2' in $1"; cat "$1" 2>/dev/null; exit 1; }
    sleep 0.2
  done
}
mpi() { mpirun --oversubscribe --bind-to none -np "$@"; }
# Compares two workdirs' outputs: features.h5 and activations bit for bit, models by their
# parameter hash, probes.csv exactly, similarity.h5 to 1e-9 relative.
same_outputs() {
  h5diff "$1/features.h5" "$2/features.h5" || { echo "features.h5 differ"; return 1; }
  for f in "$1"/activations/*.h5; do
    h5diff "$f" "$2/activations/$(basename "$f")" || { echo "$(basename "$f") differ"; return 1; }
  done
  for m in "$1"/runs/*/model.json; do
    local run; run=$(basename "$(dirname "$m")")
    [[ $(grep -o '"parameter_hash": *"[0-9a-f]*"' "$m") == $(grep -o '"parameter_hash": *"[0-9a-f]*"' "$2/runs/$run/model.json") ]] \
      || { echo "$run: parameter hashes differ"; return 1; }
  done
  cmp "$1/results/probes.csv" "$2/results/probes.csv" || { echo "probes.csv differ"; return 1; }
  h5diff -p 1e-9 "$1/results/similarity.h5" "$2/results/similarity.h5" > /dev/null || { echo "similarity.h5 differ"; return 1; }
}
