#!/usr/bin/env bash
# The similarity job on a paper-shaped set list (bench_similarity_study.cpp) at 1 and 2 ranks,
# interleaved in one script: the stage's default measures, then linear + debiased CKA only (the
# accumulation alone), then linear CKA alone and with linear_cka_calibrated (the cost of the
# exact permutation null: two more sums per set). Each run prints wall time, bytes read, peak RSS per rank, the GEMM floor,
# the cost model's prediction and its projection of the paper's full study to 64 and 256 ranks.
#   bench/similarity_study.sh [BUILD_DIR] [RUNS] [ROW_FRACTION] [MAX_GIB] [DIR]
set -euo pipefail
build=${1:-build} runs=${2:-2} fraction=${3:-0.02} gib=${4:-1} dir=${5:-/tmp/cfma_sim_study}
cd "$(dirname "$0")/.."
source scripts/mpi-env.sh
for measures in "" linear_cka,debiased_cka linear_cka linear_cka,linear_cka_calibrated; do
  for ranks in 1 2; do
    echo "== $ranks rank(s), measures: ${measures:-stage defaults}"
    mpirun --oversubscribe -np "$ranks" "$build/bench/bench_similarity_study" "$dir" "$runs" "$fraction" "$gib" $measures \
      2>&1 | grep -v '\] similarity: '
  done
done
