#!/usr/bin/env bash
# Fault injection into one stage (argument 3), real processes on 2 ranks, from the workdir the
# stage starts from (reference.sh). Two faults, each mid-stage on one rank only:
#   kill       the rank dies of SIGKILL (CFMA_TEST_FAULT=<stage>:<rank>:<n>:kill);
#   exception  the rank throws (CFMA_TEST_FAULT=<stage>:<rank>:<n>);
# and for train a third, alone: the rank throws where no agreement catches it.
# Each time: the job ends within 30 s (never hangs, never crashes), leaves no output a later
# stage accepts, leaves every completed input untouched, an exception is reported in exactly
# one line naming the fault; a rerun then completes with outputs identical to the
# uninterrupted reference.
source "$(dirname "$0")/lib.sh"
stage=$3
scratch=$build/test-scratch/faults-$stage
rm -rf "$scratch" && mkdir -p "$scratch"
# The report is written by rank 0 alone; every other stage works on each rank. The n-th unit:
# preprocess has a single round per rank on 24 notes, the others several units.
rank=1 call=2
[[ $stage == report ]] && rank=0
[[ $stage == preprocess ]] && call=1
modes="kill exception"
# A throw that no agreement catches (inside a training step, while the other rank waits in the
# step's BatchNorm all-reduce): the failing rank prints its line and aborts the job.
[[ $stage == train ]] && modes="$modes alone"
for mode in $modes; do
  dir=$scratch/$mode
  prepare "$dir" "$stage"
  sums=$(inputs_checksum "$dir/work")
  spec=$stage:$rank:$call
  [[ $mode == kill ]] && spec=$spec:kill
  [[ $mode == alone ]] && spec=train_step:$rank:$call
  ms=$(run_faulted "$dir" "$stage" "$spec" "$dir/fault.log")
  if [[ $mode == exception || $mode == alone ]]; then
    [[ $(grep -c '^cfma: error:' "$dir/fault.log") -eq 1 ]] || { cat "$dir/fault.log"; fail "not exactly one error line"; }
    grep -q "^cfma: error: \[rank $rank\] .*test fault in ${spec%%:*}" "$dir/fault.log" \
      || { cat "$dir/fault.log"; fail "the error line does not name the rank and the fault"; }
  else
    grep -q "signal 9" "$dir/fault.log" || { cat "$dir/fault.log"; fail "mpirun did not report the killed rank"; }
  fi
  inputs_untouched "$dir/work" "$sums"
  rerun_and_compare "$dir" "$stage" "$dir/rerun.log"
  echo "$stage, $mode of rank $rank: the job ended after $ms ms; the rerun equals the reference"
done
