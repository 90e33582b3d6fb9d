#!/usr/bin/env bash
# End to end, real processes: `cfma train` on 2 ranks over the 24-note reference set.
# 1. Uninterrupted run of `regular` (family, 60 epochs) -> reference parameter_hash; the same
#    run on 1 and on 4 ranks ends with the same hash (micro-batches: train.micro_batch).
# 2. Same config, fresh workdir: once a checkpoint of epoch >= 2 exists and the run is in a later
#    epoch, kill -9 one rank; mpirun dies; the re-run, on 4 ranks, resumes from the checkpoint
#    and ends with the reference hash, bit for bit.
# 3. SIGUSR1, then SIGTERM sent to the ranks: each time exit code 3 (cfma::Interrupted) with a
#    mid-epoch checkpoint; the final re-run ends with the reference hash.
# 4. Bad input through the CLI: a run directory from another config, an unknown architecture,
#    a workdir without features.h5: one error each, nothing overwritten.
set -euo pipefail
build=$1 shared=$2
cfma=$build/cfma
scratch=$build/test-scratch/e2e-train-resume
rm -rf "$scratch" && mkdir -p "$scratch"
# Enough epochs (a few seconds on an idle machine) that the script always catches the run
# mid-way: with 6, an idle machine finished before the first poll.
epochs=60
config=$scratch/config.toml
cat > "$config" <<TOML
[run]
workdir = "$scratch/ref"
threads = 1
[data]
root = "$shared/reference/nsynth-mini"
exclude_families = []
[train]
architectures = ["regular"]
tasks = ["family"]
seeds = [1]
epochs = $epochs
batch_size = 4
micro_batch = 2
checkpoint_every = 1
TOML
export OMP_NUM_THREADS=1
mpi() { mpirun --oversubscribe --bind-to none -np "${NP:-2}" "$@"; }
run_dir() { echo "$scratch/$1/runs/regular-family-s1"; }
epochs_logged() { local h; h=$(run_dir "$1")/history.csv; [ -f "$h" ] && echo $(($(wc -l < "$h") - 1)) || echo 0; }
param_hash() { sed -n 's/.*"parameter_hash": *"\([0-9a-f]*\)".*/\1/p' "$(run_dir "$1")/model.json"; }
# Rank processes of the run in workdir $1 (their command line starts with the cfma binary;
# mpirun's starts with mpirun).
rank_pids() { pgrep -f "^$cfma train $config --set run.workdir=$scratch/$1\$" || true; }
# Waits until the run just started in $1 has logged at least $2 epochs, and at least one of its
# own (so its signal handlers are installed; history.csv carries a resumed run's earlier
# epochs), and has written that epoch's checkpoint; waits $3 seconds more (the next epoch gets
# under way), then freezes the ranks (SIGSTOP) and prints their pids: an idle machine
# trains an epoch of this set in a fraction of a second, so what is done next to them must not
# race with the end of the run.
freeze_after_epochs() {
  local deadline=$((SECONDS + 90)) want=$2 before pids
  before=$(epochs_logged "$1")
  [ "$want" -gt "$before" ] || want=$((before + 1))
  # checkpoint.pt newer than history.csv: the last logged epoch's checkpoint is written.
  until [ "$(epochs_logged "$1")" -ge "$want" ] && [ "$(run_dir "$1")/checkpoint.pt" -nt "$(run_dir "$1")/history.csv" ]; do
    [ $SECONDS -lt $deadline ] || { echo "timed out waiting for epoch $want in $1" >&2; exit 1; }
    sleep 0.05
  done
  sleep "$3"
  pids=$(rank_pids "$1")
  [ -n "$pids" ] || { echo "no rank process found in $1" >&2; exit 1; }
  kill -STOP $pids
  echo $pids
}
train() {  # workdir, log name[, ranks]; returns cfma's exit code
  local rc=0
  NP=${3:-2} mpi "$cfma" train "$config" --set run.workdir="$scratch/$1" > "$scratch/$2.log" 2>&1 || rc=$?
  return $rc
}

mpi "$cfma" preprocess "$config" > "$scratch/preprocess.log" 2>&1 || { cat "$scratch/preprocess.log"; exit 1; }
for w in kill signal np1 np4; do
  mkdir -p "$scratch/$w"
  cp "$scratch/ref/features.h5" "$scratch/ref/features.h5.manifest.json" "$scratch/$w/"
done

# 1. Reference.
train ref ref || { cat "$scratch/ref.log"; exit 1; }
ref_hash=$(param_hash ref)
[ -n "$ref_hash" ]
[ "$(epochs_logged ref)" -eq $epochs ]
for np in 1 4; do
  train np$np np$np $np || { cat "$scratch/np$np.log"; exit 1; }
  [ "$(param_hash np$np)" = "$ref_hash" ] || { echo "$np ranks: $(param_hash np$np) != 2 ranks' $ref_hash"; exit 1; }
done

# 2. kill -9 one rank mid-run.
train kill kill1 &
runner=$!
pids=$(freeze_after_epochs kill 2 0.05)
[ "$(epochs_logged kill)" -lt $epochs ]
victim=${pids##* }
kill -9 "$victim"
kill -CONT $pids 2> /dev/null || true
rc=0; wait $runner || rc=$?
[ $rc -ne 0 ] || { echo "mpirun exited 0 after kill -9"; exit 1; }
[ ! -f "$(run_dir kill)/model.pt" ]
[ -f "$(run_dir kill)/checkpoint.pt" ]
killed_at=$(epochs_logged kill)
[ "$killed_at" -ge 2 ] && [ "$killed_at" -lt $epochs ]
train kill kill2 4 || { cat "$scratch/kill2.log"; exit 1; }
grep -q "resuming from epoch [0-9]* batch 0" "$scratch/kill2.log"
[ "$(param_hash kill)" = "$ref_hash" ] || { echo "resumed after kill -9: $(param_hash kill) != $ref_hash"; exit 1; }

# 3. SIGUSR1 after epoch 1, SIGTERM after epoch 3: exit code 3 with a checkpoint each time.
for step in "USR1 1 signal1" "TERM 3 signal2"; do
  set -- $step
  train signal "$3" &
  runner=$!
  pids=$(freeze_after_epochs signal "$2" 0)
  kill -"$1" $pids
  kill -CONT $pids
  rc=0; wait $runner || rc=$?
  [ $rc -eq 3 ] || { echo "SIG$1: exit code $rc, expected 3"; cat "$scratch/$3.log"; exit 1; }
  grep -q "stopped by signal" "$scratch/$3.log"
  [ ! -f "$(run_dir signal)/model.pt" ]
  [ -f "$(run_dir signal)/checkpoint.pt" ]
done
train signal signal3 || { cat "$scratch/signal3.log"; exit 1; }
grep -q "resuming from epoch" "$scratch/signal3.log"
[ "$(param_hash signal)" = "$ref_hash" ] || { echo "resumed after signals: $(param_hash signal) != $ref_hash"; exit 1; }

# 4. Bad input: each fails with one clear message and leaves the finished run alone.
model=$(run_dir ref)/model.pt
sum_before=$(sha256sum "$model" "$(run_dir ref)/checkpoint.pt" "$(run_dir ref)/model.json")
expect_failure() {  # log name, expected text, cfma arguments...
  local name=$1 text=$2; shift 2
  if mpi "$cfma" "$@" > "$scratch/$name.log" 2>&1; then echo "$name: succeeded"; exit 1; fi
  grep -q -- "$text" "$scratch/$name.log" || { echo "$name: expected '$text'"; cat "$scratch/$name.log"; exit 1; }
  # One error: every rank that prints one prints the same message.
  [ "$(grep '^cfma: error:' "$scratch/$name.log" | sed 's/\[rank [0-9]*\] //' | sort -u | wc -l)" -eq 1 ]
}
expect_failure other_config "different config" train "$config" --set train.learning_rate=0.01
expect_failure unknown_arch "unknown architecture 'resnet'" train "$config" --set 'train.architectures=["resnet"]'
expect_failure no_features "$scratch/empty/features.h5" train "$config" --set run.workdir="$scratch/empty"
[ "$sum_before" = "$(sha256sum "$model" "$(run_dir ref)/checkpoint.pt" "$(run_dir ref)/model.json")" ]
[ ! -e "$scratch/empty/runs" ]
echo "train_resume: ok (hash $ref_hash on 1, 2 and 4 ranks; kill -9 after epoch $killed_at, resumed on 4 ranks)"
