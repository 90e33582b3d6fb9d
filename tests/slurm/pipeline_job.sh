#!/usr/bin/env bash
# Slurm 1: one sbatch job of the whole pipeline (slurm/cfma.sbatch run CONFIG, 2 tasks, srun
# --mpi=pmix): the job completes, its log says which attempt it is, and its outputs equal an
# mpirun run of the same config.
source "$(dirname "$0")/lib.sh"
write_config "$scratch/config.toml" "$scratch/work"
mpi 2 "$cfma" run "$scratch/config.toml" --set run.workdir=\""$scratch/ref"\" > "$scratch/ref.log" 2>&1 \
  || { cat "$scratch/ref.log"; exit 1; }
id=$(sbatch --parsable --ntasks=2 --output="$scratch/job-%j.out" "$source/slurm/cfma.sbatch" run "$scratch/config.toml")
wait_gone "$id" 300
log=$scratch/job-$id.out
[[ $(job_state "$id") == COMPLETED ]] || { echo "job $id: $(job_state "$id")"; cat "$log"; exit 1; }
grep -q "attempt 1, on" "$log"
grep -q "ended with status 0" "$log"
same_outputs "$scratch/ref" "$scratch/work"
test -f "$scratch/work/report/index.html"
echo "slurm pipeline_job: ok ($((SECONDS - started)) s)"
