#!/usr/bin/env bash
# End to end, real processes: the study manifest and `cfma verify` on the demo's study
# (configs/demo.toml: regular and deformable nets, their untrained twins, every stage) at the
# scale of the 24-note reference set.
# 1. The study on 1, 2 and 4 ranks: verify reports features, weights, activations and probe
#    results bit-equal, similarity bit-equal or within tolerance, and exits 0; study.json names
#    the build, the libraries, the inputs and each stage's outputs, ranks and hosts.
# 2. 2 threads per rank: downstream of the same weights every output is bit-equal or within
#    tolerance (exit 0); trained with 2 threads, the weights may differ and verify reports it.
# 3. A study against itself: all bit-equal; `cfma verify STUDY` re-hashes it: all unchanged.
# 4. A changed value in a results file, a missing output, a changed input wav: each makes
#    verify exit 1 naming the file, both against another study and alone.
set -euo pipefail
build=$1 shared=$2 source=$3
cfma=$build/cfma
scratch=$build/test-scratch/e2e-study-verify
rm -rf "$scratch" && mkdir -p "$scratch"
export OMP_NUM_THREADS=1
fail() { echo "FAILED: $*"; exit 1; }

# The demo's config as shipped (configs/demo.toml), at the reference set's scale: its data root,
# 3 epochs, batches of 16 (two micro-batches of 8), smaller extraction chunks and similarity
# minibatches.
scale=(--set 'data.exclude_families=[]' --set train.epochs=3 --set train.batch_size=16
       --set extract.chunk_rows=8 --set similarity.minibatch_size=8)
study() {  # workdir name, ranks, threads
  mpirun --oversubscribe --bind-to none -np "$2" "$cfma" run "$source/configs/demo.toml" "${scale[@]}" \
    --set data.root="$shared/reference/nsynth-mini" --set run.workdir="$scratch/$1" --set run.threads="$3" \
    > "$scratch/$1.log" 2>&1 \
    || { tail -30 "$scratch/$1.log"; fail "study $1 on $2 ranks"; }
}
verdict() {  # verify output file, output path -> its verdict column
  awk -v out="$2" '$0 ~ "  " out "  " || $0 ~ "  " out "$" { sub(/  .*/, ""); print; exit }' "$1"
}
verify() {  # log name, arguments; prints the exit code
  local rc=0 name=$1
  shift
  "$cfma" verify "$@" > "$scratch/$name.txt" 2>&1 || rc=$?
  echo $rc
}

# 1. The same study on 1, 2 and 4 ranks.
study np1 1 1
study np2 2 1
study np4 4 1
python=/usr/bin/python3
$python - "$scratch/np2/study.json" <<'PY' || fail "study.json lacks a field"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["cfma"]["version"] and s["cfma"]["source_commit"], s["cfma"]
for k in ("compiler", "libtorch", "hdf5", "mpi", "boost", "blas", "cpu"):
    assert s["environment"][k], k
assert s["inputs"]["audio_files"] == 24 and len(s["inputs"]["audio"]) == 24, s["inputs"]["audio_files"]
assert list(s["inputs"]["index_files"]) == ["examples.json"], s["inputs"]["index_files"]
for stage in ("preprocess", "train", "extract", "probe", "similarity", "report"):
    st = s["stages"][stage]
    assert st["outputs"], stage
    last = st["invocations"][-1]
    assert last["ranks"] == 2 and last["threads"] == 1 and sum(last["hosts"].values()) == 2, (stage, last)
    assert last["wall_s"] >= 0 and not last["up_to_date"], (stage, last)
assert "runs/regular-family-s1/model.pt" in s["stages"]["train"]["outputs"]
assert len(s["stages"]["preprocess"]["outputs"]["features.h5"]["datasets"]) > 10
PY
grep -q '^\[train\]' "$scratch/np2/study.toml" || fail "study.toml is not the effective config"
grep -q 'epochs = 3' "$scratch/np2/study.toml" || fail "study.toml lacks the --set overrides"
for other in np2 np4; do
  rc=$(verify "np1-$other" "$scratch/np1" "$scratch/$other")
  [[ $rc -eq 0 ]] || { cat "$scratch/np1-$other.txt"; fail "verify np1 $other exited $rc"; }
  for out in features.h5 runs/regular-family-s1/model.pt runs/deformable-family-s1/model.pt \
             activations/regular-family-s1.h5 activations/deformable-family-s1.h5 activations/regular-untrained-s1.h5 \
             results/probes.csv results/transfer.csv results/concat.csv; do
    [[ $(verdict "$scratch/np1-$other.txt" "$out") == "bit-equal" ]] \
      || { cat "$scratch/np1-$other.txt"; fail "$out is not bit-equal between 1 and ${other#np} ranks"; }
  done
  for out in results/similarity.h5 results/similarity.csv; do
    v=$(verdict "$scratch/np1-$other.txt" "$out")
    [[ $v == "bit-equal" || $v == "within tolerance" ]] || { cat "$scratch/np1-$other.txt"; fail "$out: $v"; }
  done
  grep -q "inputs: 24 wav files" "$scratch/np1-$other.txt" || fail "inputs not compared"
done
echo "1 vs 2 ranks:"; sed 's/^/  /' "$scratch/np1-np2.txt"

# 2a. Two threads per rank downstream of the same weights: a copy of the 1-rank study after
#     training, its extract, probe and similarity rerun with 2 threads: every output bit-equal
#     or within tolerance, verify exits 0.
mkdir -p "$scratch/threads2"
cp -a "$scratch/np1/." "$scratch/threads2/"
rm -rf "$scratch/threads2/activations" "$scratch/threads2/results" "$scratch/threads2/report"
study threads2 1 2
grep -q "regular-family-s1: up to date, skipped" "$scratch/threads2.log" || fail "the copied runs were retrained"
rc=$(verify np1-threads2 "$scratch/np1" "$scratch/threads2")
[[ $rc -eq 0 ]] || { cat "$scratch/np1-threads2.txt"; fail "verify with 2 threads downstream exited $rc"; }
categories() { awk 'NR > 1 && !/^verify:/ { sub(/  .*/, ""); print }' "$1" | sort | uniq -c | tr -s ' ' | tr '\n' ';'; }
echo "1 vs 2 threads, same weights: $(categories "$scratch/np1-threads2.txt")"
# 2b. Two threads per rank from the start: LibTorch's convolution kernels split their sums by
#     thread, so the weights may differ; verify puts every output in its category and exits 1
#     exactly when one is DIFFERENT or MISSING. The inputs and features stay bit-equal.
study threads2-all 1 2
rc=$(verify np1-threads2-all "$scratch/np1" "$scratch/threads2-all")
[[ $(verdict "$scratch/np1-threads2-all.txt" features.h5) == "bit-equal" ]] || { cat "$scratch/np1-threads2-all.txt"; fail "features with 2 threads"; }
if grep -q "^DIFFERENT\|^MISSING" "$scratch/np1-threads2-all.txt"; then want=1; else want=0; fi
[[ $rc -eq $want ]] || { cat "$scratch/np1-threads2-all.txt"; fail "verify exited $rc, its table says $want"; }
echo "1 vs 2 threads, trained apart: $(categories "$scratch/np1-threads2-all.txt")"

# 3. A study against itself, and re-hashed alone.
rc=$(verify self "$scratch/np2" "$scratch/np2")
[[ $rc -eq 0 ]] && ! grep -v "^bit-equal\|^verdict\|^verify:\|^not compared" "$scratch/self.txt" \
  || { cat "$scratch/self.txt"; fail "a study against itself is not all bit-equal"; }
rc=$(verify alone "$scratch/np2")
[[ $rc -eq 0 ]] && ! grep -v "^bit-equal\|^verdict\|^verify:" "$scratch/alone.txt" \
  || { cat "$scratch/alone.txt"; fail "a study re-hashed alone is not unchanged"; }

# 4a. A changed value in probes.csv (its last field on the third line).
cp -a "$scratch/np2" "$scratch/edited"
sed -i '3s/,[^,]*$/,0.123456/' "$scratch/edited/results/probes.csv"
rc=$(verify edited "$scratch/np1" "$scratch/edited")
[[ $rc -eq 1 && $(verdict "$scratch/edited.txt" results/probes.csv) == DIFFERENT ]] \
  || { cat "$scratch/edited.txt"; fail "a changed probe value: exit $rc"; }
rc=$(verify edited-alone "$scratch/edited")
[[ $rc -eq 1 ]] && grep -q "^DIFFERENT .*results/probes.csv .*changed since it was written" "$scratch/edited-alone.txt" \
  || { cat "$scratch/edited-alone.txt"; fail "re-hash missed the changed probes.csv"; }
# 4b. A missing output.
rm "$scratch/edited/activations/regular-untrained-s1.h5"
rc=$(verify missing "$scratch/np1" "$scratch/edited")
[[ $rc -eq 1 && $(verdict "$scratch/missing.txt" activations/regular-untrained-s1.h5) == MISSING ]] \
  || { cat "$scratch/missing.txt"; fail "a missing activation file: exit $rc"; }
rc=$(verify missing-alone "$scratch/edited")
[[ $rc -eq 1 && $(verdict "$scratch/missing-alone.txt" activations/regular-untrained-s1.h5) == MISSING ]] \
  || { cat "$scratch/missing-alone.txt"; fail "re-hash missed the missing activation file"; }
# 4c. A changed input wav: a copy of the data with one sample changed, preprocessed.
cp -a "$shared/reference/nsynth-mini" "$scratch/data"
wav=$(cd "$scratch/data/audio" && ls | sed -n 5p)
printf '\x11' | dd of="$scratch/data/audio/$wav" bs=1 seek=20000 conv=notrunc status=none
mpirun --oversubscribe --bind-to none -np 2 "$cfma" preprocess "$source/configs/demo.toml" "${scale[@]}" \
  --set data.root="$scratch/data" --set run.workdir="$scratch/changed" > "$scratch/changed.log" 2>&1 || { cat "$scratch/changed.log"; fail "preprocess of the copy"; }
rc=$(verify changed "$scratch/np1" "$scratch/changed")
[[ $rc -eq 1 && $(verdict "$scratch/changed.txt" "inputs/audio/$wav") == DIFFERENT ]] \
  || { cat "$scratch/changed.txt"; fail "a changed wav: exit $rc"; }
[[ $(verdict "$scratch/changed.txt" features.h5) == DIFFERENT ]] || { cat "$scratch/changed.txt"; fail "features.h5 of a changed wav"; }
printf '\x22' | dd of="$scratch/data/audio/$wav" bs=1 seek=20002 conv=notrunc status=none
rc=$(verify changed-alone "$scratch/changed")
[[ $rc -eq 1 ]] && grep -q "^DIFFERENT .*inputs/audio/$wav .*changed since the study read it" "$scratch/changed-alone.txt" \
  || { cat "$scratch/changed-alone.txt"; fail "re-hash missed the changed wav"; }
echo "study_verify: ok"
