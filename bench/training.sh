#!/usr/bin/env bash
# Data-parallel training throughput: bench_training at 1 rank x 1 thread and 2 ranks x 1 thread
# on the same global batch, then the speed-up (goal >= 1.85x).
#   bench/training.sh [BUILD_DIR] [STEPS] [ARCH] [GLOBAL_BATCH]
# MPI_ARGS adds mpirun options, e.g. MPI_ARGS="--mca mpi_yield_when_idle 1" on a shared machine.
set -euo pipefail
build=${1:-build} steps=${2:-10} arch=${3:-regular} batch=${4:-64}
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
declare -A rate cpu
for np in 1 2; do
  out=$(mpirun --oversubscribe --bind-to none ${MPI_ARGS:-} -np $np "$build/bench/bench_training" "$steps" "$arch" "$batch")
  echo "$out"
  rate[$np]=$(echo "$out" | sed -n 's/.*examples_per_s \([0-9.]*\).*/\1/p')
  cpu[$np]=$(echo "$out" | sed -n 's/.*cpu_ms_per_step \([0-9.]*\).*/\1/p')
done
# Compute ceiling: one rank on half the batch, the work of each rank in the 2-rank run without
# any communication or waiting.
half=$(mpirun --oversubscribe --bind-to none ${MPI_ARGS:-} -np 1 "$build/bench/bench_training" "$steps" "$arch" $((batch / 2)))
echo "$half"
half_cpu=$(echo "$half" | sed -n 's/.*cpu_ms_per_step \([0-9.]*\).*/\1/p')
awk -v a="${rate[1]}" -v b="${rate[2]}" -v ca="${cpu[1]}" -v cb="${cpu[2]}" -v ch="$half_cpu" 'BEGIN {
  printf "speed-up, 2 ranks vs 1: %.3fx wall clock (goal >= 1.85x)\n", b / a
  printf "CPU time per step, 1 rank / busiest of 2 ranks: %.3fx (MPI busy-waiting counted as work)\n", ca / cb
  printf "compute ceiling, CPU per step of batch %d / batch %d on 1 rank: %.3fx\n", '"$batch"', '"$((batch / 2))"', ca / ch
}'
