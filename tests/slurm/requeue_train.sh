#!/usr/bin/env bash
# Slurm 3: `scontrol requeue` of a training job mid-run: the job is requeued, the next attempt
# resumes from the checkpoint, and the run ends with the parameter hash of an uninterrupted run.
source "$(dirname "$0")/lib.sh"
write_config "$scratch/config.toml" "$scratch/work"
sets=(--set train.epochs=40 --set 'run.stages=["preprocess","train"]')
mpi 2 "$cfma" run "$scratch/config.toml" "${sets[@]}" --set run.workdir=\""$scratch/ref"\" > "$scratch/ref.log" 2>&1 \
  || { cat "$scratch/ref.log"; exit 1; }
id=$(sbatch --parsable --ntasks=2 --output="$scratch/job.out" "$source/slurm/cfma.sbatch" run "$scratch/config.toml" "${sets[@]}")
history=$scratch/work/runs/regular-family-s1/history.csv
wait_for_line "$history" '^3,' 120
scontrol requeue "$id"
wait_gone "$id" 300
[[ $(job_state "$id") == COMPLETED ]] || { echo "job $id: $(job_state "$id")"; cat "$scratch/job.out"; exit 1; }
[[ $(restarts "$id") -ge 1 ]]
grep -q "attempt 2, on" "$scratch/job.out"
grep -q "resuming from epoch" "$scratch/job.out"
ref=$(grep -o '"parameter_hash": *"[0-9a-f]*"' "$scratch/ref/runs/regular-family-s1/model.json")
got=$(grep -o '"parameter_hash": *"[0-9a-f]*"' "$scratch/work/runs/regular-family-s1/model.json")
[[ -n $ref && $ref == "$got" ]] || { echo "parameter hash $got != $ref"; exit 1; }
echo "slurm requeue_train: ok ($((SECONDS - started)) s)"
