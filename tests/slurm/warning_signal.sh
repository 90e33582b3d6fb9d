#!/usr/bin/env bash
# Slurm 4: Slurm's warning signal (USR1 to the batch script, `scancel --signal=USR1 --batch`)
# during preprocess, during probe (after train ran in the same job) and during similarity:
# each time the stage saves its completed units and exits with code 3, the job requeues itself,
# the next attempt resumes from those units, and the outputs equal an uninterrupted run.
source "$(dirname "$0")/lib.sh"
# ~100 rendered notes: preprocess writes them in 2 rounds of 32 notes per rank.
cat > "$scratch/render.toml" <<TOML
[render]
out = "$scratch/data"
programs = [0, 24, 40, 73]
pitch_step = 2
velocities = [50, 100]
TOML
"$cfma" render --config "$scratch/render.toml" > "$scratch/render.log" 2>&1 || { cat "$scratch/render.log"; exit 1; }
write_config "$scratch/config.toml" "$scratch/ref"
sed -i "s|^root = .*|root = \"$scratch/data\"|" "$scratch/config.toml"
mpi 2 "$cfma" run "$scratch/config.toml" > "$scratch/ref.log" 2>&1 || { cat "$scratch/ref.log"; exit 1; }
export CFMA_TEST_UNIT_DELAY_MS=400  # every unit of work takes >= 0.4 s: the signal lands mid-stage
for stage in preprocess probe similarity; do
  work=$scratch/work-$stage
  out=$scratch/job-$stage.out
  id=$(sbatch --parsable --ntasks=2 --output="$out" "$source/slurm/cfma.sbatch" -v run "$scratch/config.toml" \
         --set run.workdir=\""$work"\")
  # Signal once a unit is complete; the stage then stops at its next unit boundary.
  case $stage in
    preprocess) wait_for_line "$out" "preprocess: round 1 of 2 written" ;;
    probe) wait_for_line "$out" "probe 2/" ;;
    similarity) wait_for_line "$out" "similarity: train pass done" ;;
  esac
  scancel --signal=USR1 --batch "$id"
  wait_for_line "$out" "requeueing job $id" 120
  wait_gone "$id" 300
  [[ $(job_state "$id") == COMPLETED ]] || { echo "$stage: job $id $(job_state "$id")"; cat "$out"; exit 1; }
  grep -q "attempt 1, on" "$out" && grep -q "attempt 2, on" "$out"
  grep -q "ended with status 3" "$out"
  case $stage in
    preprocess) grep -q "preprocess: resuming .* from round [1-9]" "$out" ;;
    probe) grep -q "probe: resuming, [1-9][0-9]* sets done" "$out" ;;
    similarity) grep -q "similarity: train pass restored" "$out" ;;
  esac || { echo "$stage: no resume line"; cat "$out"; exit 1; }
  same_outputs "$scratch/ref" "$work" || { cat "$out"; exit 1; }
  echo "  $stage: requeued and resumed ($((SECONDS - started)) s)"
done
echo "slurm warning_signal: ok ($((SECONDS - started)) s)"
