#!/usr/bin/env bash
# End to end, real processes: configs/paper.toml's whole study at tiny scale, so the paper's
# config cannot silently break. Rendered notes (8 families, a few dozen notes), then
# `cfma run configs/paper.toml` on 2 ranks with only scale overrides: the data root, no
# subsample, 1 epoch, smaller probe iteration caps and a feature-space width that fits the
# stacked Gram of ~600 sets. Everything else is paper.toml as shipped: 6 architectures x 3
# tasks x 5 seeds, untrained twins, every layer each architecture has, all probes and the
# concatenation experiment, linear CKA / CCA R^2 / LR R^2 on train and test, the report.
set -euo pipefail
build=$1 shared=$2 source=$3
cfma=$build/cfma
scratch=$build/test-scratch/e2e-paper-study
rm -rf "$scratch" && mkdir -p "$scratch"
paper=$source/configs/paper.toml

cat > "$scratch/render.toml" <<TOML
[render]
out = "$scratch/data"
# One acoustic instrument per family of the paper (keyboard mallet guitar string brass reed flute vocal).
programs = [0, 12, 24, 40, 56, 65, 73, 52]
pitch_step = 9
velocities = [25, 75, 127]
TOML
"$cfma" render --config "$scratch/render.toml" > "$scratch/render.log" 2>&1 \
  || { cat "$scratch/render.log"; exit 1; }
notes=$(grep -o '"note_str"' "$scratch/data/examples.json" | wc -l)
echo "rendered $notes notes"

overrides=(
  --set "data.root=\"$scratch/data\"" --set "run.workdir=\"$scratch/work\"" --set run.threads=1
  --set data.subsample=0 --set train.epochs=1
  --set probe.max_iter=200 --set probe.cg_max_iter=200
  --set similarity.max_feature_space_dim=130
)
"$cfma" config check "$paper" "${overrides[@]}"
start=$SECONDS
mpirun --oversubscribe --bind-to none -np 2 "$cfma" run "$paper" "${overrides[@]}" > "$scratch/run.log" 2>&1 \
  || { tail -40 "$scratch/run.log"; exit 1; }
echo "paper study: $((SECONDS - start)) s on 2 ranks"
grep -E "=== stage|pipeline" "$scratch/run.log" | sed 's/^/  /'

work=$scratch/work
# Train: the whole matrix, 6 x 3 x 5 = 90 finished runs.
"$cfma" train "$paper" "${overrides[@]}" --list > "$scratch/list.log"
[[ $(grep -c $'^[0-9]' "$scratch/list.log") -eq 90 ]]
for run in $(awk -F'\t' '/^[0-9]/ {print $2}' "$scratch/list.log"); do
  test -f "$work/runs/$run/model.pt.manifest.json" || { echo "run $run not trained"; exit 1; }
done
# Extract: 90 trained runs + 30 untrained twins, each with the layers its architecture has.
[[ $(ls "$work"/activations/*.h5 | wc -l) -eq 120 ]]
layers_of() { h5ls "$work/activations/$1.h5/layers" | awk '{print $1}' | sort | tr '\n' ' '; }
[[ "$(layers_of feedforward-velocity-s177)" == "fc1 " ]] || { echo "feedforward: $(layers_of feedforward-velocity-s177)"; exit 1; }
[[ "$(layers_of feedforward-untrained-s1)" == "fc1 " ]]
for run in regular-family-s1 deformable-pitch-s10 dilated-velocity-s17 freq1d-untrained-s25 time1d-family-s177; do
  [[ "$(layers_of $run)" == "conv1 conv2 conv3 fc1 pool1 pool2 " ]] || { echo "$run: $(layers_of $run)"; exit 1; }
done
grep -q "extract: wrote" "$scratch/run.log"
# Probe: every layer of every run for all three targets, in probes.csv and the transfer matrix.
probes=$work/results/probes.csv
for pattern in "^feedforward-pitch-s25/fc1,feedforward-pitch-s25,feedforward,pitch,25,fc1,family,test,accuracy," \
               "^time1d-untrained-s177/conv1,time1d-untrained-s177,time1d,untrained,177,conv1,velocity,test,rmse," \
               "^hand/wavelet_mean_25,.*,pitch,train,rmse," "^noise,.*,family,test,accuracy,"; do
  grep -Eq "$pattern" "$probes" || { echo "probes.csv lacks $pattern"; exit 1; }
done
[[ $(grep -c ',family,test,accuracy,' "$probes") -eq $(((75 + 25) * 6 + (15 + 5) + 23)) ]] \
  || { echo "family test probes: $(grep -c ',family,test,accuracy,' "$probes")"; exit 1; }
grep -q "^feedforward,untrained,fc1,family,test,accuracy," "$work/results/transfer.csv"
grep -q "^dilated,velocity,pool2,pitch,test,rmse,.*,5$" "$work/results/transfer.csv"
# Concatenation: conv3 of every network run (not feedforward) with the top 5 hand-crafted sets.
[[ $(grep -c ',family,test,accuracy,' "$work/results/concat.csv") -eq $(((75 + 25) * 5)) ]] \
  || { echo "concat family rows: $(grep -c ',family,test,accuracy,' "$work/results/concat.csv")"; exit 1; }
# Similarity: every set against every set, for the three measures on both splits.
test -f "$work/results/similarity.h5.manifest.json"
for measure in linear_cka cca_r2 lr_r2; do
  grep -q "^train,$measure,feedforward-family-s1/fc1,hand/rms," "$work/results/similarity.csv" \
    || grep -q "^train,$measure,hand/rms,feedforward-family-s1/fc1," "$work/results/similarity.csv" \
    || { echo "similarity.csv lacks $measure feedforward fc1 x hand/rms"; exit 1; }
done
# Report: the page exists and names the feedforward runs.
test -f "$work/report/index.html"
grep -q "feedforward" "$work/report/index.html"
report_mb=$(du -sm "$work/report" | cut -f1)
[[ $report_mb -le 40 ]] || { echo "report/ is $report_mb MB"; exit 1; }
grep -q 'more than report.max_heatmap_cells' "$work/report/index.html"
# The probe curves and their data; then the page in headless Chromium: well-formed HTML and
# SVG, every image and link resolves, no console message, a screenshot that is not blank.
for f in probe_curve_family_accuracy.svg probe_curve_family_accuracy.csv probe_curve_pitch_rmse.svg; do
  test -f "$work/report/$f" || { echo "report lacks $f"; exit 1; }
done
grep -q '<a href="../results/transfer.csv">' "$work/report/index.html"
/usr/bin/python3 "$source/tests/report/check_page.py" "$work/report/index.html"
echo "paper_study: ok"
