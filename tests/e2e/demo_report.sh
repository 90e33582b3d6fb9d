#!/usr/bin/env bash
# End to end, real processes: the demo's report (configs/demo.toml as shipped, on the 24-note
# reference set instead of the rendered demo data, 2 epochs, on 2 ranks), opened in headless
# Chromium by tests/report/check_page.py (well-formed HTML and SVG, every image and link
# resolving, no console message, a screenshot that is not blank), then each section the
# report promises: the run summary from study.json, the dataset's families x split table and
# histograms, one spectrogram per family, training per architecture and task, probe curves
# and compact transfer and concatenation tables, similarity views with colour scales, every
# figure's data as CSV, hover titles.
set -euo pipefail
build=$1 shared=$2 source=$3
cfma=$build/cfma
scratch=$build/test-scratch/e2e-demo-report
rm -rf "$scratch" && mkdir -p "$scratch"
export OMP_NUM_THREADS=1
fail() { echo "FAILED: $*"; exit 1; }
work=$scratch/work
mpirun --oversubscribe --bind-to none -np 2 "$cfma" run "$source/configs/demo.toml" \
  --set run.workdir="$work" --set data.root="$shared/reference/nsynth-mini" --set 'data.exclude_families=[]' \
  --set train.epochs=2 --set train.batch_size=8 --set extract.chunk_rows=8 --set similarity.minibatch_size=8 \
  > "$scratch/run.log" 2>&1 || { tail -30 "$scratch/run.log"; fail "the demo pipeline"; }
page=$work/report/index.html
/usr/bin/python3 "$source/tests/report/check_page.py" "$page" || fail "the page check"
has() { grep -q -- "$1" "$page" || fail "the page lacks: $1"; }
# Run summary.
has '<h2>Run summary</h2>'
has '<a href="../study.toml">study.toml</a>'
has '<a href="../study.json">study.json</a>'
for stage in preprocess train extract probe similarity; do has "<tr><td>$stage</td>"; done
has '<td>libtorch</td>'
has '<td>blas</td>'
# Dataset: families x split, histograms, one spectrogram per family present.
has '<tr><th>family</th><th>train</th><th>test</th><th>all</th></tr>'
for f in histogram_pitch.svg histogram_pitch.csv histogram_velocity.svg dataset_families.csv; do
  test -f "$work/report/$f" || fail "report lacks $f"
done
families=$(/usr/bin/python3 -c "import json,sys; print(len({e['instrument_family'] for e in json.load(open(sys.argv[1])).values()}))" \
  "$shared/reference/nsynth-mini/examples.json")
[[ $(ls "$work/report"/mel_*.svg | wc -l) -eq $families ]] || fail "not one spectrogram per family ($families)"
grep -q '>time (s)</text>' "$(ls "$work/report"/mel_*.svg | head -1)" || fail "spectrogram without a time axis"
# Training: the final table per architecture and task, curves with their data, confusion.
has '<h3>Final epoch per architecture and task</h3>'
has '<td>deformable</td><td>family</td><td>1</td><td>2</td>'
test -f "$work/report/training_runs.csv" || fail "no training_runs.csv"
ls "$work/report"/confusion_regular_family.svg > /dev/null || fail "no confusion matrix"
# Probes: curves per target with reference lines, compact tables, concatenation.
for t in family_accuracy pitch_rmse velocity_rmse; do
  test -f "$work/report/probe_curve_$t.svg" && test -f "$work/report/probe_curve_$t.csv" || fail "no probe curve $t"
done
grep -q "class='reference'" "$work/report/probe_curve_family_accuracy.svg" || fail "probe curve without reference lines"
has '<h3>Transfer matrix</h3>'
has '<h3>Concatenation</h3>'
# Similarity: the views, each with a colour scale.
for f in similarity_train_linear_cka similarity_hand_train_linear_cka similarity_top5_train_linear_cka \
         similarity_trained_untrained_train_linear_cka; do
  test -f "$work/report/$f.svg" || fail "no $f.svg"
  grep -q "class='scale'" "$work/report/$f.svg" || fail "$f.svg has no colour scale"
done
grep -q "<title>regular-family-s1/conv3 / " "$work/report/similarity_train_linear_cka.svg" || fail "cells without hover titles"
# The long tables stay files.
has '<a href="../results/probes.csv">'
[[ $(grep -c '<tr>' "$page") -lt 400 ]] || fail "the page inlines $(grep -c '<tr>' "$page") table rows"
# The demo command ends with the report's path.
tail -1 "$source/scripts/demo.sh" | grep -q 'report at work/demo/report/index.html' || fail "demo.sh does not print the report's path"
echo "demo_report: ok ($(ls "$work/report" | wc -l) files, $(grep -c '<img' "$page") figures)"
