# Shared by the fault-injection tests (sourced). tests/faults/reference.sh runs the tiny study
# below once, stage by stage, on 2 ranks, and snapshots the workdir after each stage
# ($reference/after-<stage>); every other script copies the snapshot a stage starts from,
# injects a fault into that stage, checks what the job leaves, reruns the stage and compares
# its outputs with the uninterrupted reference.
set -euo pipefail
build=$(realpath "$1") shared=$(realpath "$2")
cfma=$build/cfma
reference=$build/test-scratch/faults-reference
scratch=$build/test-scratch/faults-$(basename "$0" .sh)
export OMP_NUM_THREADS=1
stages=(preprocess train extract probe similarity report)
mpi() { mpirun --oversubscribe --bind-to none -np 2 "$@"; }
fail() { echo "FAILED: $*"; exit 1; }

# The study: 24 reference notes, regular net (family, 2 epochs) and its untrained twin, every
# stage with small settings.
write_config() {  # path, workdir
  cat > "$1" <<TOML
[run]
name = "faults"
workdir = "$2"
threads = 1
[data]
root = "$shared/reference/nsynth-mini"
exclude_families = []
[train]
architectures = ["regular"]
tasks = ["family"]
seeds = [1]
epochs = 2
batch_size = 4
checkpoint_every = 1
[extract]
layers = ["conv2", "conv3", "fc1"]
chunk_rows = 4
untrained = true
[probe]
ridge = 1.0
include_input = false
concat_top_k = 2
max_iter = 100
[similarity]
measures = ["linear_cka", "cca_r2"]
max_feature_space_dim = 600
minibatch_size = 8
TOML
}

# The file whose presence tells a later stage that `stage` finished (its manifest, or for
# extract the index that lists every run).
done_marker() {  # stage
  case $1 in
    preprocess) echo features.h5.manifest.json ;;
    train) echo runs/regular-family-s1/model.pt.manifest.json ;;
    extract) echo activations/index.json ;;
    probe) echo results/probes.csv.manifest.json ;;
    similarity) echo results/similarity.h5.manifest.json ;;
    report) echo report/index.html.manifest.json ;;
  esac
}

# The snapshot a stage starts from.
before() {  # stage
  local previous=empty s
  for s in "${stages[@]}"; do
    [[ $s == "$1" ]] && break
    previous=after-$s
  done
  echo "$reference/$previous"
}

# Fresh copy of the workdir a stage starts from, with a config pointing at it.
prepare() {  # dir, stage
  rm -rf "$1" && mkdir -p "$1"
  cp -a "$(before "$2")/." "$1/work/"
  find "$1/work" -name .cfma.lock -delete  # the reference's: a test waits for its own job's
  write_config "$1/config.toml" "$1/work"
}

# Checksums of every file of a workdir but the lock files: what a stage starts from, which a
# failed stage must leave untouched (check with `inputs_untouched`).
inputs_checksum() {  # workdir
  (cd "$1" && find . -type f ! -name .cfma.lock -print0 | sort -z | xargs -0 -r md5sum)
}
inputs_untouched() {  # workdir, checksums from inputs_checksum
  [[ -n $2 ]] || return 0  # the stage started from an empty workdir
  (cd "$1" && md5sum --quiet -c <(echo "$2")) || fail "a fault changed or removed completed outputs in $1"
}

# The stage's outputs equal the reference's (bit for bit where the format allows).
same_as_reference() {  # workdir, stage
  local w=$1 r=$reference/after-$2 f
  case $2 in
    preprocess) h5diff "$r/features.h5" "$w/features.h5" || fail "features.h5 differs from the reference" ;;
    train)
      local want got
      want=$(sed -n 's/.*"parameter_hash": *"\([0-9a-f]*\)".*/\1/p' "$r/runs/regular-family-s1/model.json")
      got=$(sed -n 's/.*"parameter_hash": *"\([0-9a-f]*\)".*/\1/p' "$w/runs/regular-family-s1/model.json")
      [[ -n $want && $want == "$got" ]] || fail "trained parameters $got differ from the reference's $want" ;;
    extract)
      for f in regular-family-s1 regular-untrained-s1; do
        h5diff "$r/activations/$f.h5" "$w/activations/$f.h5" || fail "activations/$f.h5 differs from the reference"
      done
      cmp "$r/activations/index.json" "$w/activations/index.json" || fail "activations/index.json differs" ;;
    probe)
      for f in probes.csv transfer.csv; do
        [[ -f $r/results/$f ]] || continue
        cmp "$r/results/$f" "$w/results/$f" || fail "results/$f differs from the reference"
      done ;;
    similarity)
      h5diff "$r/results/similarity.h5" "$w/results/similarity.h5" || fail "similarity.h5 differs from the reference"
      cmp "$r/results/similarity.csv" "$w/results/similarity.csv" || fail "similarity.csv differs" ;;
    report)  # the page names its workdir: compared with the path replaced
      diff <(cd "$r/report" && ls) <(cd "$w/report" && ls) || fail "report/ holds other files than the reference"
      for f in $(cd "$r/report" && ls); do
        [[ $f == *.manifest.json ]] && continue
        cmp <(sed "s|$reference/work|WORKDIR|g" "$r/report/$f") <(sed "s|$w|WORKDIR|g" "$w/report/$f") \
          || fail "report/$f differs from the reference"
      done ;;
  esac
}

# Runs a stage with CFMA_TEST_FAULT set; checks it fails within 30 s and leaves no finished
# output. Prints the milliseconds it took.
run_faulted() {  # dir, stage, fault spec, log
  local dir=$1 stage=$2 spec=$3 log=$4 start rc=0
  start=$(date +%s%N)
  CFMA_TEST_FAULT=$spec timeout 120 mpirun --oversubscribe --bind-to none -np 2 -x CFMA_TEST_FAULT \
    "$cfma" "$stage" "$dir/config.toml" > "$log" 2>&1 || rc=$?
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [[ $rc -ne 0 ]] || { cat "$log"; fail "$stage with fault $spec exited 0"; }
  [[ $rc -ne 124 ]] || { cat "$log"; fail "$stage with fault $spec hung (killed after 120 s)"; }
  (( ms < 30000 )) || { cat "$log"; fail "$stage with fault $spec took $ms ms to end"; }
  if grep -q "Segmentation fault\|Process received signal" "$log"; then cat "$log"; fail "$stage crashed"; fi
  [[ ! -e $dir/work/$(done_marker "$stage") ]] || fail "$stage with fault $spec left $(done_marker "$stage")"
  echo "$ms"
}

rerun_and_compare() {  # dir, stage, log
  mpi "$cfma" "$2" "$1/config.toml" > "$3" 2>&1 || { cat "$3"; fail "rerun of $2 after the fault failed"; }
  same_as_reference "$1/work" "$2"
}
