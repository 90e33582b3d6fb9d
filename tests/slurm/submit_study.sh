#!/usr/bin/env bash
# Slurm 2: `cfma submit` of a small study (2 architectures x 2 seeds): the preprocess job, the
# 4-element training array (throttled to 2 at once) and the analysis job run in dependency
# order, the report exists, and every array element trained exactly its own run.
source "$(dirname "$0")/lib.sh"
write_config "$scratch/config.toml" "$scratch/work"
sets=(--set 'train.architectures=["regular","cnn1"]' --set 'train.seeds=[1,2]' --set slurm.array_throttle=2)
"$cfma" submit "$scratch/config.toml" "${sets[@]}" --dry-run > "$scratch/dry.txt"
grep -q -- "--array=0-3%2" "$scratch/dry.txt"
[[ $(grep -c -- "--dependency=afterok:@previous@" "$scratch/dry.txt") -eq 2 ]]
cd "$scratch"  # outputs and logs relative to the submit directory
"$cfma" submit "$scratch/config.toml" "${sets[@]}" > "$scratch/submit.txt"
cat "$scratch/submit.txt"
pre=$(awk '$1 == "preprocess" {print $2}' submit.txt)
array=$(awk '$1 == "train" {print $2}' submit.txt)
analysis=$(awk '$1 == "analysis" {print $2}' submit.txt)
[[ -n $pre && -n $array && -n $analysis ]]
scontrol show job "$analysis" | grep -q "Dependency=afterok:${array}"
wait_gone "$analysis" 400
for id in "$pre" "$analysis"; do [[ $(job_state "$id") == COMPLETED ]] || { echo "job $id: $(job_state "$id")"; cat work/logs/*; exit 1; }; done
test -f work/report/index.html
# Each element's log names its own run, and no run was trained twice.
for index in 0 1 2 3; do
  run=$("$cfma" train config.toml "${sets[@]}" --list | awk -F'\t' -v i=$index '$1 == i {print $2}')
  elog=$(ls work/logs/slurmtest-train-"${array}"_"$index".out)
  grep -q "$run: done" "$elog" || { echo "element $index did not train $run"; cat "$elog"; exit 1; }
  [[ $(grep -c ": done, train" "$elog") -eq 1 ]]
  test -f "work/runs/$run/model.pt.manifest.json"
done
[[ $(ls work/runs | wc -l) -eq 4 ]]
grep -q "extract: wrote" work/logs/slurmtest-analysis-"$analysis".out
echo "slurm submit_study: ok ($((SECONDS - started)) s)"
