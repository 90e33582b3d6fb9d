#!/usr/bin/python3
"""Family probe: cfma (bench_probe) vs scikit-learn LogisticRegression(lbfgs) on the same rows.

Run from the repository root:
  /usr/bin/python3 bench/bench_probe.py BUILD/bench/bench_probe [--shape conv1|tall] [--np 2]
      [--reps 3] [--C 1.0] [--tol 1e-5] [--cfma 'row_space=false line_search="armijo"' ...]
Shapes (float32, 8 classes, numpy default_rng(0), written to /tmp/cfma_bench_probe_SHAPE.h5):
  conv1  1,500 train + 643 test rows x 15,376 columns (the paper's conv1 width, fewer rows
         than columns: cfma probes in the row space); class means plus 40 shared smooth
         factors plus noise, so that neighbouring columns correlate as in a feature map
  tall   35,000 train + 15,000 test rows x 480 columns (conv3-like; cfma's primal path)
scikit-learn side: StandardScaler + LogisticRegression(solver="lbfgs", C, max_iter=1000, its
default tol) on float64 arrays already in memory, with the OpenBLAS kernels cfma runs (the
script passes cfma's OPENBLAS_CORETYPE on). cfma side: probe_feature_set with targets =
["family"] (read, standardise, row-space reduction where n < D, L-BFGS), under mpirun -np N
with one thread per rank. Each --cfma variant (key=value [probe] overrides) is timed too.
Runs alternate (sklearn, cfma variants) --reps times; prints each time, the test accuracies
and the median ratios.
"""
import argparse, json, os, re, statistics, subprocess, sys, time

# The OpenBLAS kernels cfma runs (core/blas_runtime.hpp), given to numpy too: OPENBLAS_CORETYPE
# must be set before numpy loads OpenBLAS, so the script re-executes itself once with it.
binary = next((x for x in sys.argv[1:] if not x.startswith("-")), None)
if binary and "OPENBLAS_CORETYPE" not in os.environ:
    version = subprocess.run([os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(binary))), "cfma"),
                              "--version"], capture_output=True, text=True).stdout
    m = re.search(r"kernels (\w+),", version)
    if m:
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, OPENBLAS_CORETYPE=m.group(1)))
import numpy as np, h5py
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

ap = argparse.ArgumentParser()
ap.add_argument("binary"); ap.add_argument("--np", type=int, default=2)
ap.add_argument("--shape", choices=["conv1", "tall"], default="conv1")
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--tol", type=float, default=1e-5); ap.add_argument("--C", type=float, default=1.0)
ap.add_argument("--cfma", action="append", default=[], help="extra cfma variant: [probe] overrides")
a = ap.parse_args()

path = f"/tmp/cfma_bench_probe_{a.shape}.h5"
rng = np.random.default_rng(0)
k = 8
if a.shape == "conv1":
    n_train, n_test, d = 1500, 643, 15376
    n = n_train + n_test
    y = rng.integers(0, k, n).astype(np.int32)
    grid = np.linspace(0, 1, d)
    factors = np.stack([np.sin(np.pi * (j + 1) * grid + rng.uniform(0, 2 * np.pi)) for j in range(40)])
    X = (rng.normal(size=(k, 40))[y] * 0.35 + rng.normal(size=(n, 40))) @ factors
    X = (X + rng.normal(size=(k, d))[y] * 0.05 + rng.normal(size=(n, d))).astype(np.float32)
else:
    n_train, n_test, d = 35000, 15000, 480
    n = n_train + n_test
    y = rng.integers(0, k, n).astype(np.int32)
    X = (rng.normal(size=(k, d))[y] * 0.12 + rng.normal(size=(n, d))).astype(np.float32)
train, test = np.arange(n_train, dtype=np.int64), np.arange(n_train, n, dtype=np.int64)
with h5py.File(path, "w") as f:
    f["X"] = X; f["labels/family"] = y
    f["labels/pitch"] = np.zeros(n, np.int32); f["labels/velocity"] = np.zeros(n, np.int32)
    f["split/train"] = train; f["split/test"] = test
Xtr, Xte = X[train].astype(np.float64), X[test].astype(np.float64)

kernels = os.environ.get("OPENBLAS_CORETYPE")
env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
           OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
print(f"shape {a.shape}: {n_train} train + {n_test} test x {d}, {k} classes; cfma at -np {a.np}, "
      f"BLAS kernels {kernels or 'as detected'} on both sides")

def sklearn_run():
    t = time.perf_counter()
    sc = StandardScaler().fit(Xtr); A = sc.transform(Xtr)
    model = LogisticRegression(solver="lbfgs", C=a.C, max_iter=1000).fit(A, y[train])
    seconds = time.perf_counter() - t
    return seconds, float((model.predict(sc.transform(Xte)) == y[test]).mean()), int(model.n_iter_[0])

def cfma_run(overrides):
    cmd = [a.binary, path, f"C={a.C}", f"tol={a.tol}", 'targets=["family"]'] + overrides
    if a.np > 1:
        cmd = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(a.np)] + cmd
    out = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    acc = next(m["value"] for m in out["metrics"] if m["split"] == "test" and m["metric"] == "accuracy")
    return out["seconds"], acc, out["solver"]["family"]

variants = [("cfma", [])] + [(f"cfma {v}", v.split()) for v in a.cfma]
times = {name: [] for name, _ in variants}; sk_times = []
for r in range(a.reps):
    s, sk_acc, sk_iter = sklearn_run(); sk_times.append(s)
    print(f"[{r}] scikit-learn: {s:.3f} s, {sk_iter} iterations, test accuracy {100 * sk_acc:.2f} %")
    for name, overrides in variants:
        t, acc, solver = cfma_run(overrides); times[name].append(t)
        print(f"[{r}] {name}: {t:.3f} s, {solver['iterations']} iterations / {solver['evaluations']} evaluations "
              f"(stop {solver['stop']}), test accuracy {100 * acc:.2f} % ({100 * (acc - sk_acc):+.2f} pp)")
for name, _ in variants:
    ratios = [s / t for s, t in zip(sk_times, times[name])]
    print(f"{name}: median {statistics.median(times[name]):.3f} s; scikit-learn / cfma per round "
          + ", ".join(f"{x:.1f}x" for x in ratios) + f"; median {statistics.median(ratios):.1f}x")
