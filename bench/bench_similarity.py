"""numpy's pair-by-pair feature-space linear CKA on the file bench_similarity writes.
Usage: /usr/bin/python3 bench/bench_similarity.py DATA.bin [n] [dims...] [--dtype float64|float32]
(see bench/README.md). float64 (the default) is cfma's arithmetic; float32 is the original code's."""
import argparse, time
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("path")
parser.add_argument("n", nargs="?", type=int, default=35000)
parser.add_argument("dims", nargs="*", type=int, default=[128, 480, 768, 1152, 2420])
parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
parser.add_argument("--off-diagonal", action="store_true",
                    help="skip the pairs (a, a), whose CKA is 1 (the original code set them to 1)")
args = parser.parse_args()
path, n, dims = args.path, args.n, args.dims
data = np.fromfile(path, dtype=np.float32).reshape(n, sum(dims)).astype(args.dtype)
offsets = np.cumsum([0] + dims)
sets = [data[:, offsets[k]:offsets[k + 1]] for k in range(len(dims))]
sets = [x - x.mean(0, keepdims=True) for x in sets]


def feature_space_linear_cka(x, y):  # Kornblith et al.'s formula, one pair at a time
    return np.linalg.norm(x.T @ y) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


t0 = time.perf_counter()
table = np.ones((len(sets), len(sets)))
for a in range(len(sets)):
    for b in range(a + 1 if args.off_diagonal else a, len(sets)):
        table[a, b] = table[b, a] = feature_space_linear_cka(sets[a], sets[b])
t = time.perf_counter() - t0
try:
    from threadpoolctl import threadpool_info
    blas = ", ".join(f"{i['internal_api']} {i['version']}, kernels {i['architecture']}, {i['num_threads']} threads"
                     for i in threadpool_info() if i["user_api"] == "blas")
except ImportError:
    blas = "BLAS unknown (no threadpoolctl)"
pairs = "pairs a < b" if args.off_diagonal else "pairs a <= b"
print(f"numpy pair-by-pair linear CKA ({np.__version__}, {args.dtype}, {pairs}; {blas}): {t:.3f} s")
print("  cka[0,1..]: " + " ".join(f"{v:.10f}" for v in table[0]))
