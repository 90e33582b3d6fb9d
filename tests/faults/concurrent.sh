#!/usr/bin/env bash
# Two cfma jobs on one workdir, real processes: the second refuses at once with one error line
# naming the holder (host, pid), and the first completes as if alone.
# 1. Two `cfma run` of the whole study (the first slowed with CFMA_TEST_UNIT_DELAY_MS so that
#    the second starts while it runs).
# 2. A job array's tasks: `train --run-index 0` twice at once (the second refuses: it would
#    write the same run directory); `train --run-index 0` and `--run-index 1` at once (both
#    run: they share the workdir); preprocess while a task trains (refused).
source "$(dirname "$0")/lib.sh"
rm -rf "$scratch" && mkdir -p "$scratch"

wait_for_lock() {  # lock file: until a holder has written it
  local deadline=$((SECONDS + 60))
  until [[ -s $1 ]]; do
    (( SECONDS < deadline )) || fail "no job took $1"
    sleep 0.2
  done
}
holder_pid() { sed -n 's/.*pid \([0-9]*\),.*/\1/p' "$1"; }
# The holder's rank 0 is one of the job's processes.
expect_refused() {  # log, holder pattern, command...
  local log=$1 pattern=$2 rc=0 start=$SECONDS
  shift 2
  "$@" > "$log" 2>&1 || rc=$?
  [[ $rc -eq 1 ]] || { cat "$log"; fail "$* exited $rc while another job held the workdir"; }
  (( SECONDS - start < 20 )) || fail "$* took $((SECONDS - start)) s to refuse"
  [[ $(grep -c '^cfma: error:' "$log") -eq 1 ]] || { cat "$log"; fail "$*: not exactly one error line"; }
  grep -q "^cfma: error: .*in use by another cfma job (host $(hostname), $pattern" "$log" \
    || { cat "$log"; fail "$*: the error does not name the holder"; }
  echo "  $(grep '^cfma: error:' "$log")"
}

echo "1. two cfma run on one workdir"
dir=$scratch/run
prepare "$dir" preprocess
CFMA_TEST_UNIT_DELAY_MS=300 mpirun --oversubscribe --bind-to none -np 2 -x CFMA_TEST_UNIT_DELAY_MS \
  "$cfma" run "$dir/config.toml" > "$dir/first.log" 2>&1 &
first=$!
wait_for_lock "$dir/work/.cfma.lock"
holder=$(holder_pid "$dir/work/.cfma.lock")
expect_refused "$dir/second.log" "pid $holder, cfma run" mpi "$cfma" run "$dir/config.toml"
expect_refused "$dir/stage.log" "pid $holder, cfma run" mpi "$cfma" probe "$dir/config.toml"
wait "$first" || { cat "$dir/first.log"; fail "the first run failed"; }
for s in "${stages[@]}"; do [[ $s == report ]] || same_as_reference "$dir/work" "$s"; done

echo "2. the tasks of a training job array"
dir=$scratch/array
prepare "$dir" train
sed -i 's/^seeds = \[1\]/seeds = [1, 2]/; s/^epochs = 2/epochs = 6/' "$dir/config.toml"
CFMA_TEST_UNIT_DELAY_MS=400 mpirun --oversubscribe --bind-to none -np 2 -x CFMA_TEST_UNIT_DELAY_MS \
  "$cfma" train "$dir/config.toml" --run-index 0 > "$dir/task0.log" 2>&1 &
task0=$!
wait_for_lock "$dir/work/runs/regular-family-s1/.cfma.lock"
holder=$(holder_pid "$dir/work/runs/regular-family-s1/.cfma.lock")
expect_refused "$dir/task0-again.log" "pid $holder, cfma train" mpi "$cfma" train "$dir/config.toml" --run-index 0
# The refused task must not have replaced the workdir's record of its holder.
expect_refused "$dir/preprocess.log" "pid $holder, cfma train" mpi "$cfma" preprocess "$dir/config.toml"
mpi "$cfma" train "$dir/config.toml" --run-index 1 > "$dir/task1.log" 2>&1 || { cat "$dir/task1.log"; fail "task 1 beside task 0"; }
wait "$task0" || { cat "$dir/task0.log"; fail "task 0 failed"; }
for run in regular-family-s1 regular-family-s2; do
  [[ -f $dir/work/runs/$run/model.pt.manifest.json ]] || fail "$run did not finish"
done
echo "  tasks 0 and 1 both finished side by side"
