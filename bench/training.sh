#!/usr/bin/env bash
# Data-parallel training throughput, 1 rank x 1 thread vs 2 ranks x 1 thread on the same global
# batch (goal >= 1.85x): one 2-rank job alternating the layouts round by round (see
# bench_training.cpp), medians over the rounds.
#   bench/training.sh [BUILD_DIR] [ROUNDS] [STEPS] [ARCH] [GLOBAL_BATCH] [MICRO_BATCH]
# MICRO_BATCH (default 8, train.micro_batch's default): the deterministic micro-batch step, with
# the all-reduce step timed beside it; 0: the all-reduce step alone.
# MPI_ARGS adds mpirun options; BIND (default core: one thread per rank) is mpirun's --bind-to.
set -euo pipefail
build=${1:-build} rounds=${2:-21} steps=${3:-3} arch=${4:-regular} batch=${5:-64} micro=${6:-8}
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec mpirun --bind-to "${BIND:-core}" ${MPI_ARGS:-} -np 2 "$build/bench/bench_training" "$rounds" "$steps" "$arch" "$batch" "$micro"
