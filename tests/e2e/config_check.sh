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
