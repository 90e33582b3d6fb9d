#!/usr/bin/env bash
# All-pairs linear CKA, cfma vs numpy, same matrices, same BLAS kernels on both sides: REPS
# alternating runs of each, then the median ratio (goal >= 3x) and cfma / GEMM floor (<= 1.5x).
#   bench/similarity.sh [BUILD_DIR] [REPS] [DATA.bin]
# cfma runs the OpenBLAS kernels it chooses for this CPU (core/blas_runtime.hpp: OpenBLAS 0.3.21
# falls back to Prescott kernels on CPUs newer than itself); numpy gets the same ones through
# OPENBLAS_CORETYPE. When OpenBLAS's own choice differs, numpy is also timed once with it, and
# once in float32 (the dtype of the original torch code), both for information.
set -euo pipefail
build=${1:-build} reps=${2:-3} data=${3:-/tmp/bench_sim_35000.bin}
cd "$(dirname "$0")/.."
[[ -f "$data" ]] || "$build/bench/bench_similarity" table "$data" >/dev/null  # writes the data
version=$("$build/cfma" --version)
kernels=$(echo "$version" | sed -n 's/^BLAS: .*kernels \([A-Za-z0-9]*\),.*/\1/p')
detected=$(env -u OPENBLAS_CORETYPE /usr/bin/python3 -c \
  'import numpy, threadpoolctl; print(next(i["architecture"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"))')
echo "== cfma: ${version//$'\n'/; }"
echo "== OpenBLAS's own choice on this CPU: $detected; both sides run: ${kernels:-as detected}"
export OPENBLAS_CORETYPE=${kernels:-$detected}
cfma_t=() numpy_t=() floor_t=()
for ((r = 0; r < reps; ++r)); do
  out=$("$build/bench/bench_similarity" table "$data")
  echo "$out" | sed -n '1,3p'
  cfma_t+=("$(echo "$out" | sed -n 's/.*cfma table: \([0-9.]*\) s.*/\1/p')")
  floor_t+=("$(echo "$out" | sed -n 's/.*GEMM floor: \([0-9.]*\) s.*/\1/p')")
  out=$(/usr/bin/python3 bench/bench_similarity.py "$data")
  echo "$out" | sed -n '1,2p'
  numpy_t+=("$(echo "$out" | sed -n '1s/.*: \([0-9.]*\) s$/\1/p')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratios=() floor_ratios=()
for ((r = 0; r < reps; ++r)); do  # each run against its neighbour: robust to a drifting machine
  ratios+=("$(awk -v p="${numpy_t[r]}" -v c="${cfma_t[r]}" 'BEGIN {print p / c}')")
  floor_ratios+=("$(awk -v f="${floor_t[r]}" -v c="${cfma_t[r]}" 'BEGIN {print c / f}')")
done
c=$(median "${cfma_t[@]}") f=$(median "${floor_t[@]}") p=$(median "${numpy_t[@]}")
x=$(median "${ratios[@]}") y=$(median "${floor_ratios[@]}")
echo "numpy/cfma per run: ${ratios[*]}"
awk -v c="$c" -v f="$f" -v p="$p" -v x="$x" -v y="$y" -v k="$OPENBLAS_CORETYPE" 'BEGIN {
  printf "median of %d (kernels %s): cfma %.2f s, numpy %.2f s, GEMM floor %.2f s; per-run medians: %.2fx faster than numpy (goal >= 3x), cfma/floor %.2f (goal <= 1.5)\n", '"$reps"', k, c, p, f, x, y }'
/usr/bin/python3 bench/bench_similarity.py "$data" --dtype float32 | sed -n '1p' | sed 's/^/for information: /'
if [[ -n "$kernels" && "$detected" != "$kernels" ]]; then
  env -u OPENBLAS_CORETYPE /usr/bin/python3 bench/bench_similarity.py "$data" | sed -n '1p' | sed 's/^/for information, OpenBLAS as detected: /'
fi
