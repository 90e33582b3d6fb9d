#!/usr/bin/env bash
# Preprocess benchmark (issue 2): compute speed per rank and the whole job, 1 vs 2 ranks.
#   bench/preprocess.sh [BUILD_DIR [DATA_DIR [PASSES]]]
# BUILD_DIR (default build) holds cfma and bench/bench_preprocess; DATA_DIR (default data/demo,
# the default rendering) is rendered with `cfma render --out` when absent; for a larger set:
#   build/cfma render --out /tmp/nsynth-step1 --set render.pitch_step=1
# Prints ms per example per core for mel + all hand-crafted + wavelet features (goal <= 2.6) at
# 1 and 2 ranks, the speed-up (goal >= 1.8x), and the wall time of `cfma preprocess` (reads,
# features, collective HDF5 writes, manifest) at 1 and 2 ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
data=${2:-data/demo}
passes=${3:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
mpi() { local np=$1; shift; mpirun --oversubscribe --bind-to none -np "$np" "$@"; }

if [[ ! -f $data/examples.json ]]; then
  echo "rendering the default dataset into $data"
  "$build/cfma" render --out "$data"
fi
notes=$(/usr/bin/python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$data/examples.json")
echo "data: $data ($notes notes), $passes passes; $(nproc --all) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# Wall-clock figures are only meaningful on otherwise idle cores: the load average is printed
# before each run (other processes' share shows up as a lower speed-up).
declare -A per_core wall cpu
for np in 1 2; do
  echo "load average before $np rank(s): $(cut -d' ' -f1-3 /proc/loadavg)"
  out=$(mpi $np "$build/bench/bench_preprocess" "$data" "$passes")
  echo "$out"
  line=$(grep '^ranks=' <<< "$out")
  per_core[$np]=$(sed -E 's/.*ms_per_example_per_core=([0-9.]+).*/\1/' <<< "$line")
  wall[$np]=$(sed -E 's/.*wall_s=([0-9.]+).*/\1/' <<< "$line")
  cpu[$np]=$(sed -E 's/.*cpu_ms_per_example=([0-9.]+).*/\1/' <<< "$line")
done
speedup=$(/usr/bin/python3 -c "print(f'{${wall[1]} / ${wall[2]}:.2f}')")
cpu_bound=$(/usr/bin/python3 -c "print(f'{2 * ${cpu[1]} / ${cpu[2]}:.2f}')")
echo "features: 1 rank ${per_core[1]} ms/example/core, 2 ranks ${per_core[2]} ms/example/core," \
     "speed-up ${speedup}x (goals: <= 2.6 ms, >= 1.8x)"
echo "CPU time per example: 1 rank ${cpu[1]} ms, 2 ranks ${cpu[2]} ms per rank; speed-up with a" \
     "core per rank (2 x cpu1 / cpu2): ${cpu_bound}x"

# The whole job, every note of the folder (all sources and families), forced recompute.
work=$(mktemp -d /tmp/cfma-bench-preprocess.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/config.toml" <<TOML
[run]
workdir = "$work/np1"
[data]
root = "$(realpath "$data")"
sources = ["acoustic", "electronic", "synthetic"]
exclude_families = []
TOML
declare -A job
for np in 1 2; do
  start=$(date +%s.%N)
  mpi $np "$build/cfma" preprocess "$work/config.toml" --force --set run.workdir="$work/np$np" \
    > "$work/np$np.log" 2>&1 || { cat "$work/np$np.log"; exit 1; }
  job[$np]=$(/usr/bin/python3 -c "import sys; print(f'{$(date +%s.%N) - $start:.2f}')")
  rows=$(grep -o '"examples": [0-9]*' "$work/np$np/features.h5.manifest.json" | grep -o '[0-9]*$')
  echo "cfma preprocess, $np rank(s): ${job[$np]} s for $rows notes (incl. process start, HDF5 writes)"
done
h5diff -q "$work/np1/features.h5" "$work/np2/features.h5" && echo "features.h5 identical at 1 and 2 ranks"
echo "job: 1 rank ${job[1]} s, 2 ranks ${job[2]} s, speed-up" \
     "$(/usr/bin/python3 -c "print(f'{${job[1]} / ${job[2]}:.2f}')")x"
