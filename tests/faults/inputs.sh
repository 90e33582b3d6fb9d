#!/usr/bin/env bash
# Damaged and mismatched inputs, real files, 2 ranks. Each case: a clear one-line error naming
# the file, exit status 1, and the damaged file is never taken for a finished output.
# 1. features.h5 truncated to half: its manifest no longer matches, so `cfma run` redoes
#    preprocess (the study then completes and equals the reference); a later stage run alone
#    refuses the file.
# 2. features.h5 with its HDF5 superblock overwritten (same size): every reader refuses it.
# 3. An activations file truncated, and one overwritten: probe and similarity refuse it.
# 4. Activations extracted from another features.h5 (another split: other row order and
#    features_key): probe and similarity refuse them.
# 5. An extract that did not finish (no activations/index.json): probe and similarity refuse.
source "$(dirname "$0")/lib.sh"
rm -rf "$scratch" && mkdir -p "$scratch"

expect_error() {  # log, pattern, command...: exit status 1 and one error line matching pattern
  local log=$1 pattern=$2 rc=0
  shift 2
  "$@" > "$log" 2>&1 || rc=$?
  [[ $rc -eq 1 ]] || { cat "$log"; fail "$* exited $rc, expected 1"; }
  [[ $(grep -c '^cfma: error:' "$log") -eq 1 ]] || { cat "$log"; fail "$*: not exactly one error line"; }
  grep -Eq "^cfma: error: .*$pattern" "$log" || { cat "$log"; fail "$*: the error does not match '$pattern'"; }
  echo "  $(grep '^cfma: error:' "$log")"
}

echo "1. truncated features.h5"
dir=$scratch/truncated-features
prepare "$dir" probe   # the study up to extract
truncate -s "$(( $(stat -c %s "$dir/work/features.h5") / 2 ))" "$dir/work/features.h5"
expect_error "$dir/train.log" "features.h5.*(missing or incomplete|no manifest)" mpi "$cfma" extract "$dir/config.toml"
mpi "$cfma" run "$dir/config.toml" > "$dir/run.log" 2>&1 || { cat "$dir/run.log"; fail "run after truncation"; }
grep -q "preprocess: wrote" "$dir/run.log" || fail "run did not redo preprocess after the truncation"
for s in "${stages[@]}"; do [[ $s == report ]] || same_as_reference "$dir/work" "$s"; done

echo "2. features.h5 with a damaged superblock"
dir=$scratch/corrupt-features
prepare "$dir" probe
dd if=/dev/urandom of="$dir/work/features.h5" bs=512 count=4 conv=notrunc status=none
expect_error "$dir/probe.log" "features.h5.*(damaged|not an HDF5)" mpi "$cfma" probe "$dir/config.toml"
expect_error "$dir/similarity.log" "features.h5.*(damaged|not an HDF5)" mpi "$cfma" similarity "$dir/config.toml"
expect_error "$dir/train.log" "features.h5.*(damaged|not an HDF5)" mpi "$cfma" train "$dir/config.toml" --force

echo "3. damaged activations"
dir=$scratch/truncated-activations
prepare "$dir" probe
act=$dir/work/activations/regular-family-s1.h5
truncate -s "$(( $(stat -c %s "$act") / 2 ))" "$act"
expect_error "$dir/probe.log" "regular-family-s1.h5.*(missing or without its manifest)" mpi "$cfma" probe "$dir/config.toml"
dir=$scratch/corrupt-activations
prepare "$dir" probe
act=$dir/work/activations/regular-untrained-s1.h5
dd if=/dev/urandom of="$act" bs=512 count=4 conv=notrunc status=none
expect_error "$dir/probe.log" "regular-untrained-s1.h5.*(damaged|not an HDF5)" mpi "$cfma" probe "$dir/config.toml"
expect_error "$dir/similarity.log" "regular-untrained-s1.h5.*(damaged|not an HDF5)" mpi "$cfma" similarity "$dir/config.toml"

echo "4. activations of another features.h5"
other=$scratch/other-split
prepare "$other" preprocess
mpi "$cfma" run "$other/config.toml" --set data.split_seed=99 --set 'run.stages=["preprocess","train","extract"]' \
  > "$other/run.log" 2>&1 || { cat "$other/run.log"; fail "study with another split"; }
dir=$scratch/mismatched-activations
prepare "$dir" probe
cp "$other/work/activations/"*.h5 "$other/work/activations/"*.manifest.json "$dir/work/activations/"
expect_error "$dir/probe.log" "regular-.*\.h5.*features_key differs" mpi "$cfma" probe "$dir/config.toml"
expect_error "$dir/similarity.log" "regular-.*\.h5.*(features_key|another features)" mpi "$cfma" similarity "$dir/config.toml"

echo "5. an extract that did not finish"
dir=$scratch/unfinished-extract
prepare "$dir" probe
rm "$dir/work/activations/index.json"
expect_error "$dir/probe.log" "index.json.*extract stage has not finished" mpi "$cfma" probe "$dir/config.toml"
expect_error "$dir/similarity.log" "index.json.*extract stage has not finished" mpi "$cfma" similarity "$dir/config.toml"
