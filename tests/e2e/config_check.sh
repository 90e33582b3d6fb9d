#!/usr/bin/env bash
# End to end: the CLI's config errors. `cfma config check` accepts the shipped configs; a typo'd
# key, a wrong type given by --set and a missing data root each fail with exit status 1 and
# exactly one line on stderr naming where the problem is.
set -euo pipefail
build=$1 shared=$2 source=$3
cfma=$build/cfma
scratch=$build/test-scratch/e2e-config-check
rm -rf "$scratch" && mkdir -p "$scratch"

# Runs cfma, expects exit status 1 and a single stderr line matching the regular expression $1.
expect_one_line_error() {
  local pattern=$1; shift
  local status=0
  "$cfma" "$@" > "$scratch/out.log" 2> "$scratch/err.log" || status=$?
  if [[ $status -ne 1 ]]; then
    echo "expected exit status 1, got $status: cfma $*"; cat "$scratch/err.log"; exit 1
  fi
  if [[ $(wc -l < "$scratch/err.log") -ne 1 ]] || ! grep -Eq -- "$pattern" "$scratch/err.log"; then
    echo "expected one line matching '$pattern' on stderr, got:"; cat "$scratch/err.log"; exit 1
  fi
  echo "  ok ($status): $(cat "$scratch/err.log")"
}

for config in demo paper; do
  "$cfma" config check "$source/configs/$config.toml" | tee "$scratch/$config.log"
  grep -q "configs/$config.toml: ok" "$scratch/$config.log"
done

# A typo'd key on line 6, in a section that is otherwise valid.
typo=$scratch/typo.toml
cat > "$typo" <<'TOML'
[run]
workdir = "work"

[train]
epochs = 2
learning_rat = 0.01
TOML
expect_one_line_error "^cfma: error: $typo:6: unknown key 'train\.learning_rat'\$" config check "$typo"
# The same typo in a long shipped config, appended as its last line.
cp "$source/configs/demo.toml" "$scratch/demo-typo.toml"
echo 'probe_targets = ["family"]' >> "$scratch/demo-typo.toml"
line=$(wc -l < "$scratch/demo-typo.toml")
expect_one_line_error "^cfma: error: .*demo-typo\.toml:$line: unknown key '.*probe_targets'\$" \
  config check "$scratch/demo-typo.toml"

# A wrong type and an unknown key given on the command line name "(--set)".
expect_one_line_error "\(--set\): train\.epochs: expected integer, got string" \
  config check "$source/configs/demo.toml" --set train.epochs=many
expect_one_line_error "\(--set\): unknown key 'train\.epochz'" \
  config check "$source/configs/demo.toml" --set train.epochz=3
# An out-of-range value names the key and its line.
cat > "$scratch/range.toml" <<'TOML'
[probe]
C = -1.0
TOML
expect_one_line_error "range\.toml:2: probe\.C: value -1 out of range" config check "$scratch/range.toml"

# Cross-checks: an architecture paired with a layer it lacks, a probe layer that is never
# extracted, a concat layer no architecture has, a similarity selector that matches nothing, an
# unknown stage: each names its file:line and the key (list elements by index), at check time.
cat > "$scratch/cross.toml" <<'TOML'
[run]
workdir = "work"
[train]
architectures = ["feedforward"]
tasks = [
  "family",
  "pitch",
]
[extract]
layers = ["fc1"]
[probe]
layers = ["fc1", "conv3"]
concat_top_k = 0
TOML
expect_one_line_error "cross\.toml:12: probe\.layers\[1\]: no architecture of train\.architectures \(feedforward\) has layer 'conv3'\$" \
  config check "$scratch/cross.toml"
expect_one_line_error "\(--set\): extract\.layers\[1\]: no architecture .* has layer 'conv3'" \
  config check "$scratch/cross.toml" --set 'extract.layers=["fc1","conv3"]'
expect_one_line_error "\(--set\): probe\.layers\[0\]: layer 'pool2' is not extracted" \
  config check "$source/configs/paper.toml" --set 'probe.layers=["pool2"]' --set 'extract.layers=["conv3"]'
expect_one_line_error "paper\.toml: probe\.concat_layer \(default\): no architecture .* has layer 'conv3'" \
  config check "$source/configs/paper.toml" --set 'train.architectures=["feedforward"]' --set 'extract.layers=["fc1"]'
expect_one_line_error "\(--set\): similarity\.sets\[1\]: 'regular-family-s3/\*' matches no feature set" \
  config check "$source/configs/demo.toml" --set 'similarity.sets=["hand","regular-family-s3/*"]'
expect_one_line_error "\(--set\): extract\.reduce\.conv3: avgpool8 is larger than regular conv3 \(4 x 4\)" \
  config check "$source/configs/demo.toml" --set 'extract.reduce.conv3="avgpool8"'
sed 's/"pitch"/"pitchh"/' "$scratch/cross.toml" > "$scratch/tasks.toml"
expect_one_line_error "tasks\.toml:7: train\.tasks\[1\]: unknown task 'pitchh'" config check "$scratch/tasks.toml"
expect_one_line_error "\(--set\): run\.stages\[1\]: unknown stage 'trian'" \
  config check "$source/configs/demo.toml" --set 'run.stages=["preprocess","trian"]'
# [slurm] (cfma submit) is validated like every section.
expect_one_line_error "\(--set\): slurm\.train\.ntasks: value 0 out of range" \
  config check "$source/configs/demo.toml" --set slurm.train.ntasks=0
expect_one_line_error "\(--set\): slurm\.extra\[0\]: 'qos=long' is not an sbatch option" \
  submit "$source/configs/demo.toml" --dry-run --set 'slurm.extra=["qos=long"]'
# `cfma run` runs the same checks before its first stage: nothing is written.
expect_one_line_error "probe\.layers\[1\]" run "$scratch/cross.toml" --set "run.workdir=\"$scratch/cross-work\""
test ! -e "$scratch/cross-work"

# The run matrix with its indices; an index outside it (or negative) is an error.
"$cfma" train "$source/configs/paper.toml" --list > "$scratch/list.log"
grep -q $'^0\tregular-family-s1\tregular\tfamily\t1$' "$scratch/list.log"
grep -q $'^89\tfeedforward-velocity-s177\tfeedforward\tvelocity\t177$' "$scratch/list.log"
[[ $(grep -c $'^[0-9]' "$scratch/list.log") -eq 90 ]]
expect_one_line_error "--run-index 90 out of range: .* has 90 runs \(0\.\.89" train "$source/configs/paper.toml" --run-index 90
expect_one_line_error "--run-index -1 out of range" train "$source/configs/paper.toml" --run-index=-1

# A data root that does not exist: one line naming it.
cat > "$scratch/noroot.toml" <<TOML
[run]
workdir = "$scratch/work"
[data]
root = "$scratch/no-such-nsynth"
TOML
expect_one_line_error "no-such-nsynth" preprocess "$scratch/noroot.toml"
test ! -e "$scratch/work/features.h5"
echo "config_check: ok"
