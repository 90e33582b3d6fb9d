#!/usr/bin/python3
"""Logistic probe: cfma (bench_probe) vs scikit-learn LogisticRegression(lbfgs) on the same rows.

Run from the repository root:
  /usr/bin/python3 bench/bench_probe.py BUILD/bench_probe [--np 1] [--tol 1e-5] [--C 1.0]
Writes the synthetic features (35,000 train + 15,000 test rows x 480, 8 classes, float32, seed 0)
to /tmp/cfma_bench_probe.h5, times StandardScaler + LogisticRegression(solver='lbfgs', C,
max_iter=1000, default tol) here, runs the C++ probe (standardise + L-BFGS fit) on the same file,
and prints both times, both test accuracies and the speed ratio.
"""
import argparse, json, os, subprocess, time
import numpy as np, h5py
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

ap = argparse.ArgumentParser()
ap.add_argument("binary"); ap.add_argument("--np", type=int, default=1)
ap.add_argument("--tol", type=float, default=1e-5); ap.add_argument("--C", type=float, default=1.0)
ap.add_argument("--file", default="/tmp/cfma_bench_probe.h5")
a = ap.parse_args()

rng = np.random.default_rng(0)
n, d, k, n_train = 50000, 480, 8, 35000
y = rng.integers(0, k, n).astype(np.int32)
X = (rng.normal(size=(k, d))[y] * 0.12 + rng.normal(size=(n, d))).astype(np.float32)
train, test = np.arange(n_train, dtype=np.int64), np.arange(n_train, n, dtype=np.int64)
with h5py.File(a.file, "w") as f:
    f["X"] = X; f["labels/family"] = y
    f["labels/pitch"] = np.zeros(n, np.int32); f["labels/velocity"] = np.zeros(n, np.int32)
    f["split/train"] = train; f["split/test"] = test

Xtr, Xte = X[train].astype(np.float64), X[test].astype(np.float64)
t = time.perf_counter()
sc = StandardScaler().fit(Xtr); A = sc.transform(Xtr)
m = LogisticRegression(solver="lbfgs", C=a.C, max_iter=1000).fit(A, y[train])
sk_seconds = time.perf_counter() - t
sk_acc = float((m.predict(sc.transform(Xte)) == y[test]).mean())

env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
cmd = [a.binary, a.file, str(a.C), str(a.tol)]
if a.np > 1:
    cmd = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(a.np)] + cmd
out = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
print(f"scikit-learn {m.n_iter_[0]} iterations: {sk_seconds:.3f} s, test accuracy {100*sk_acc:.2f} %")
print(f"cfma ({out['ranks']} rank(s), tol {a.tol:g}) {out['iterations']} iterations / {out['evaluations']} evaluations: "
      f"{out['seconds']:.3f} s, test accuracy {100*out['test_accuracy']:.2f} %")
print(f"speed-up {sk_seconds/out['seconds']:.2f}x, accuracy difference {100*(out['test_accuracy']-sk_acc):+.2f} pp")
