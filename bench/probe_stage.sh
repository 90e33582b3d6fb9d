#!/usr/bin/env bash
# The probe stage against the code before issue 13 (primal path, Armijo L-BFGS without
# preconditioner: --set probe.row_space=false probe.logistic_solver=lbfgs probe.line_search=armijo
# probe.precondition=false),
# both on the config's targets without control tasks, on one workdir (default: the demo's, after
# scripts/demo.sh; bench/probe_stage.toml for the 2,078-note study): rounds alternate the two in
# this one script, so the ratio is not skewed by the host's load; then the two probes.csv are
# compared (family accuracies exactly, RMSE and R^2 relative). A last run times today's full
# default (the control tasks too), for information.
#   bench/probe_stage.sh [CONFIG] [ROUNDS]     (2 ranks, Release build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/demo.toml}
rounds=${2:-2}
source scripts/mpi-env.sh
out=$(mktemp -d)
workdir=$(build/cfma config check "$config" --print | sed -n "s/^workdir = [\"']\(.*\)[\"']$/\1/p" | head -1)
[[ -f $workdir/activations/index.json ]] || { echo "run the pipeline up to extract first ($workdir/activations/index.json missing)"; exit 1; }
run() {  # variant (before|now|full), round
  local sets=(--set probe.control_tasks=false)
  case $1 in
    before) sets+=(--set probe.row_space=false --set probe.logistic_solver=lbfgs --set probe.line_search=armijo
                   --set probe.precondition=false) ;;
    full) sets=(--set probe.control_tasks=true) ;;
  esac
  local t0 t1
  t0=$(date +%s.%N)
  mpirun -np 2 --bind-to none build/cfma probe "$config" --force "${sets[@]}" > "$out/$1-$2.log" 2>&1
  t1=$(date +%s.%N)
  cp "$workdir/results/probes.csv" "$out/$1.csv"
  echo "$t1 - $t0" | bc
}
printf "round  before_s  now_s  ratio\n"
for r in $(seq 1 "$rounds"); do
  p=$(run before "$r")
  s=$(run now "$r")
  printf "%5d  %8.1f  %5.1f  %5.1fx\n" "$r" "$p" "$s" "$(echo "$p / $s" | bc -l)"
done
printf "full default (with the control tasks): %.1f s\n" "$(run full 1)"
/usr/bin/python3 - "$out/before.csv" "$out/now.csv" <<'PY'
import csv, sys
a = {(r['set'], r['target'], r['split'], r['metric']): float(r['value']) for r in csv.DictReader(open(sys.argv[1]))}
b = {(r['set'], r['target'], r['split'], r['metric']): float(r['value']) for r in csv.DictReader(open(sys.argv[2]))}
assert a.keys() == b.keys(), "different rows"
acc = [k for k in a if k[3] == 'accuracy']
diff_acc = [k for k in acc if a[k] != b[k]]
reg = [k for k in a if k[3] in ('rmse', 'r2')]
worst = max(reg, key=lambda k: abs(a[k] - b[k]) / max(1.0, abs(a[k])))
print(f"accuracies: {len(acc) - len(diff_acc)} of {len(acc)} identical", *[f"\n  {k}: {a[k]} vs {b[k]}" for k in diff_acc[:10]])
print(f"rmse/r2: worst relative difference {abs(a[worst]-b[worst])/max(1.0,abs(a[worst])):.2e} ({worst})")
PY
rm -rf "$out"
