"""numpy's pair-by-pair feature-space linear CKA on the file bench_similarity writes.
Usage: /usr/bin/python3 bench/bench_similarity.py DATA.bin [n] [dims...]   (see bench/README.md)"""
import sys, time
import numpy as np

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 35000
dims = [int(d) for d in sys.argv[3:]] or [128, 480, 768, 1152, 2420]
data = np.fromfile(path, dtype=np.float32).reshape(n, sum(dims)).astype(np.float64)
offsets = np.cumsum([0] + dims)
sets = [data[:, offsets[k]:offsets[k + 1]] for k in range(len(dims))]
sets = [x - x.mean(0, keepdims=True) for x in sets]


def feature_space_linear_cka(x, y):  # Kornblith et al.'s formula, one pair at a time
    return np.linalg.norm(x.T @ y) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


t0 = time.perf_counter()
table = np.ones((len(sets), len(sets)))
for a in range(len(sets)):
    for b in range(a, len(sets)):
        table[a, b] = table[b, a] = feature_space_linear_cka(sets[a], sets[b])
t = time.perf_counter() - t0
print(f"numpy pair-by-pair linear CKA ({np.__version__}): {t:.3f} s")
print("  cka[0,1..]: " + " ".join(f"{v:.10f}" for v in table[0]))
