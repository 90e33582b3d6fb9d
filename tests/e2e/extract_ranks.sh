#!/usr/bin/env bash
# End to end, real processes: `cfma extract` at 1, 2 and 4 ranks on the same trained run.
# preprocess (24 reference notes) and a 1-epoch training of `regular` run once on 2 ranks; each
# rank count then extracts into its own copy of the workdir. Checks: every activations file (the
# trained run and its untrained twin, whose BatchNorm uses batch statistics: batches follow the
# split, not the ranks) is identical across rank counts (h5diff, bit for bit); dataset widths for
# the reduce options (channel_mean, avgpool2, none); the attributes (run, task, trained,
# features_key = features.h5's config_key).
set -euo pipefail
build=$1 shared=$2
cfma=$build/cfma
scratch=$build/test-scratch/e2e-extract-ranks
rm -rf "$scratch" && mkdir -p "$scratch"
mpi() { local np=$1; shift; mpirun --oversubscribe --bind-to none -np "$np" "$@"; }
run_logged() {  # name, command...: runs quietly, prints the log on failure
  local name=$1; shift
  "$@" > "$scratch/$name.log" 2>&1 || { echo "failed: $*"; cat "$scratch/$name.log"; exit 1; }
}
config=$scratch/config.toml
cat > "$config" <<TOML
[run]
workdir = "$scratch/base"
threads = 1
[data]
root = "$shared/reference/nsynth-mini"
exclude_families = []
[train]
architectures = ["regular"]
tasks = ["family"]
seeds = [1]
epochs = 1
batch_size = 8
[extract]
chunk_rows = 4          # 24 rows -> 7 batches (5 train, 2 test): uneven over 2 and 4 ranks
untrained = true
untrained_bn = "train"
TOML

start=$SECONDS
run_logged preprocess mpi 2 "$cfma" preprocess "$config"
run_logged train mpi 2 "$cfma" train "$config"
test -f "$scratch/base/runs/regular-family-s1/model.pt.manifest.json"

# A copy of the workdir's inputs (features.h5, runs/ and their manifests) per extraction.
copy_inputs() {
  mkdir -p "$1"
  cp -p "$scratch/base/features.h5" "$scratch/base/features.h5.manifest.json" "$1/"
  cp -rp "$scratch/base/runs" "$1/"
}
for np in 1 2 4; do
  copy_inputs "$scratch/np$np"
  run_logged extract-np$np mpi $np "$cfma" extract "$config" --set run.workdir="$scratch/np$np"
done
runs="regular-family-s1 regular-untrained-s1"
for run in $runs; do
  for np in 2 4; do
    h5diff -c "$scratch/np1/activations/$run.h5" "$scratch/np$np/activations/$run.h5" \
      || { echo "$run: np1 and np$np differ"; exit 1; }
  done
  test -f "$scratch/np1/activations/$run.h5.manifest.json"
done
ls "$scratch/np1/activations" | grep -c '\.h5$' | grep -qx 2

# Widths: conv1 channel_mean (default) -> 124 x 124; conv2 "avgpool2" -> 20 x 11 x 11; none -> full.
copy_inputs "$scratch/reduce"
run_logged extract-reduce mpi 2 "$cfma" extract "$config" --set run.workdir="$scratch/reduce" \
  --set 'extract.reduce.conv2="avgpool2"' --set 'extract.reduce.pool1="none"'
/usr/bin/python3 - "$scratch" <<'PY'
import sys, h5py, numpy as np
scratch = sys.argv[1]
features_key = h5py.File(f"{scratch}/base/features.h5", "r").attrs["config_key"]
features_key = features_key.decode() if isinstance(features_key, bytes) else features_key
def text(v): return v.decode() if isinstance(v, bytes) else str(v)
all_layers = ["conv1", "conv2", "conv3", "fc1", "pool1", "pool2"]
def shape_of(ds): return [int(x) for x in text(ds.attrs["shape"]).split(",")]
for run, task, trained in [("regular-family-s1", "family", 1), ("regular-untrained-s1", "untrained", 0)]:
    for where in ("np1", "reduce"):
        f = h5py.File(f"{scratch}/{where}/activations/{run}.h5", "r")
        a = f.attrs
        assert text(a["run"]) == run, (where, run, a["run"])
        assert text(a["task"]) == task, (where, run, a["task"])
        assert int(a["trained"]) == trained, (where, run, a["trained"])
        assert text(a["features_key"]) == features_key, (where, run, a["features_key"], features_key)
        layers = f["layers"]
        assert sorted(layers) == all_layers, list(layers)
        for name, ds in layers.items():
            assert ds.shape[0] == 24 and ds.dtype == np.float32, (name, ds.shape, ds.dtype)
            assert np.isfinite(ds[...]).all(), (where, run, name)
        assert layers["conv1"].shape == (24, 15376), layers["conv1"].shape
        assert text(layers["conv1"].attrs["reduce"]) == "channel_mean"
        assert text(layers["conv1"].attrs["shape"]) == "10,124,124", layers["conv1"].attrs["shape"]
        if where == "np1":
            assert shape_of(layers["conv2"]) == [20, 22, 22], shape_of(layers["conv2"])
            assert layers["conv2"].shape == (24, 20 * 22 * 22), layers["conv2"].shape
            c, h, w = shape_of(layers["pool1"])
            assert layers["pool1"].shape == (24, h * w), layers["pool1"].shape
        else:
            assert layers["conv2"].shape == (24, 2420), layers["conv2"].shape
            assert text(layers["conv2"].attrs["reduce"]) == "avgpool2"
            full = shape_of(layers["pool1"])
            assert layers["pool1"].shape == (24, int(np.prod(full))), (layers["pool1"].shape, full)
            assert text(layers["pool1"].attrs["reduce"]) == "none"
        # Layers with the same reduce option agree between the two extractions.
        if where == "reduce":
            ref = h5py.File(f"{scratch}/np1/activations/{run}.h5", "r")["layers"]
            for name in ("conv1", "pool2", "conv3", "fc1"):
                assert np.array_equal(ref[name][...], layers[name][...]), (run, name)
print("extract_ranks: attributes and widths ok, features_key", features_key)
PY
echo "extract_ranks: ok ($((SECONDS - start)) s)"
