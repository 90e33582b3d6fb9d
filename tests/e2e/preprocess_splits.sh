#!/usr/bin/env bash
# End to end, real processes: `cfma preprocess` with data.split = "official" and "instrument" on
# 2 ranks. The 24 reference notes are copied into NSynth's official layout (per family: the
# first note in nsynth-train, the second in nsynth-valid, the third in nsynth-test). Checks:
# features.h5's /split/train and /split/test rows are exactly the nsynth-train and nsynth-test
# notes and no nsynth-valid note is selected; a rerun skips (the stage key covers both
# examples.json); a changed nsynth-test/examples.json recomputes. split = "instrument" keeps
# instruments disjoint; a missing folder, and split = "instrument" with a family of one
# instrument, fail with their one-line messages.
set -euo pipefail
build=$1 shared=$2
cfma=$build/cfma
scratch=$build/test-scratch/e2e-preprocess-splits
rm -rf "$scratch" && mkdir -p "$scratch"
mini=$shared/reference/nsynth-mini
official=$scratch/nsynth
/usr/bin/python3 - "$mini" "$official" <<'PY'
import json, os, shutil, sys
mini, out = sys.argv[1], sys.argv[2]
index = json.load(open(f"{mini}/examples.json"))
parts = {"nsynth-train": {}, "nsynth-valid": {}, "nsynth-test": {}}
seen = {}
for note in sorted(index):
    family = index[note]["instrument_family_str"]
    k = seen.get(family, 0); seen[family] = k + 1
    parts[["nsynth-train", "nsynth-valid", "nsynth-test"][k % 3]][note] = index[note]
for part, entries in parts.items():
    os.makedirs(f"{out}/{part}/audio")
    for note in entries: shutil.copy(f"{mini}/audio/{note}.wav", f"{out}/{part}/audio/{note}.wav")
    json.dump(entries, open(f"{out}/{part}/examples.json", "w"), indent=1, sort_keys=True)
PY
config=$scratch/config.toml
cat > "$config" <<TOML
[run]
workdir = "$scratch/official"
[data]
root = "$official"
exclude_families = []
split = "official"
TOML
mpi() { mpirun --bind-to none -np 2 "$@"; }

mpi "$cfma" preprocess "$config" > "$scratch/official.log" 2>&1 || { cat "$scratch/official.log"; exit 1; }
grep -q 'nsynth-valid: not used' "$scratch/official.log"
grep -q '"train": 8' "$scratch/official/features.h5.manifest.json"
grep -q '"test": 8' "$scratch/official/features.h5.manifest.json"
check_split() {  # features.h5, the test notes expected (one a line)
  /usr/bin/python3 - "$@" <<'PY'
import json, sys, h5py
features, official = sys.argv[1], sys.argv[2]
f = h5py.File(features, "r")
names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["labels/note_str"][:]]
part = lambda p: sorted(json.load(open(f"{official}/{p}/examples.json")))
train, test = [names[i] for i in f["split/train"][:]], [names[i] for i in f["split/test"][:]]
assert train == part("nsynth-train"), (train, part("nsynth-train"))
assert test == part("nsynth-test"), (test, part("nsynth-test"))
assert not set(names) & set(part("nsynth-valid")), "nsynth-valid notes selected"
assert len(names) == len(train) + len(test)
PY
}
check_split "$scratch/official/features.h5" "$official"

# Same inputs: skipped. nsynth-test/examples.json changed (one note dropped): recomputed.
mpi "$cfma" preprocess "$config" > "$scratch/rerun.log" 2>&1 || { cat "$scratch/rerun.log"; exit 1; }
grep -q 'up to date' "$scratch/rerun.log"
/usr/bin/python3 - "$official/nsynth-test" <<'PY'
import json, os, sys
d = sys.argv[1]; index = json.load(open(f"{d}/examples.json"))
dropped = sorted(index)[0]; del index[dropped]; os.remove(f"{d}/audio/{dropped}.wav")
json.dump(index, open(f"{d}/examples.json", "w"), indent=1, sort_keys=True)
PY
mpi "$cfma" preprocess "$config" > "$scratch/changed.log" 2>&1 || { cat "$scratch/changed.log"; exit 1; }
grep -q 'wrote' "$scratch/changed.log"
grep -q '"test": 7' "$scratch/official/features.h5.manifest.json"
check_split "$scratch/official/features.h5" "$official"

# split = "instrument" on the reference notes without guitar (its one instrument): the train
# and test instruments are disjoint and every family is in both.
mpi "$cfma" preprocess "$config" --set data.root="$mini" --set 'data.split="instrument"' \
  --set 'data.exclude_families=["guitar"]' --set run.workdir="$scratch/instrument" \
  > "$scratch/instrument.log" 2>&1 || { cat "$scratch/instrument.log"; exit 1; }
/usr/bin/python3 - "$scratch/instrument/features.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
instrument, family = f["labels/instrument"][:], f["labels/family"][:]
train, test = f["split/train"][:], f["split/test"][:]
assert len(train) + len(test) == len(instrument) == 21
assert not set(instrument[train]) & set(instrument[test]), "an instrument in both splits"
assert set(family[train]) == set(family[test]) == set(range(7)), "a family missing from a split"
PY

# A missing folder, and split = "instrument" with a family of one instrument: one-line errors.
expect_failure() {  # log name, expected text, cfma arguments...
  local name=$1 text=$2; shift 2
  if mpi "$cfma" preprocess "$@" > "$scratch/$name.log" 2>&1; then
    echo "$name: cfma preprocess succeeded"; cat "$scratch/$name.log"; exit 1
  fi
  grep -qF "$text" "$scratch/$name.log" || { echo "$name: '$text' not in the log"; cat "$scratch/$name.log"; exit 1; }
}
mv "$official/nsynth-test" "$scratch/nsynth-test.away"
expect_failure missing "data.root = $official: no nsynth-test folder" "$config"
expect_failure one-instrument 'data.split = "instrument": family "guitar" has 1 instrument in the selection' \
  "$config" --set data.root="$mini" --set 'data.split="instrument"' --set run.workdir="$scratch/one-instrument"
echo "preprocess_splits: ok"
