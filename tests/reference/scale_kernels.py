"""Reference values of tests/scale_kernels.rs: the silhouette of several labellings at once on
more points than one parallel block holds (scikit-learn's silhouette_samples), and SMOTE's k
nearest distinct same-class neighbours on a table with copies (numpy: z-scores with the mean and
sample sd of all rows, Euclidean distances, a stable sort so ties go to the earlier point)."""

import numpy as np
from sklearn.metrics import silhouette_samples

from _common import write

rng = np.random.default_rng(20261201)

# Silhouette: 700 points in 5-D around four centres (three parallel blocks of 256 rows).
centres = rng.normal(0.0, 3.0, size=(4, 5))
which = rng.integers(0, 4, size=700)
points = np.round(centres[which] + rng.normal(0.0, 1.0, size=(700, 5)), 6)
by_centre = which
random_labels = rng.integers(0, 6, size=700)

# SMOTE neighbours: 300 rows in 6-D with unequal scales, 60 of them copies of earlier rows.
base = np.round(rng.normal(0.0, 1.0, size=(240, 6)) * np.array([1.0, 10.0, 0.1, 5.0, 1.0, 100.0]), 4)
copies = base[rng.integers(0, 240, size=60)]
x = np.vstack([base, copies])
order = rng.permutation(300)
x = x[order]
y = rng.random(300) < 0.3
k = 5

minority = bool(y.sum() <= (~y).sum())
members = [i for i in range(300) if y[i] == minority]
firsts, seen = [], {}
for r in members:
    key = tuple(x[r].tolist())
    if key not in seen:
        seen[key] = len(firsts)
        firsts.append(r)
mean = x.mean(axis=0)
sd = x.std(axis=0, ddof=1)
z = (x[firsts] - mean) / sd
neighbours = []
for a in range(len(firsts)):
    d = ((z - z[a]) ** 2).sum(axis=1)
    cand = [b for b in np.argsort(d, kind="stable") if b != a][:k]
    neighbours.append([firsts[b] for b in cand])

write("scale_kernels", "tests/scale_kernels.rs", {
    "silhouette": {
        "points": points,
        "by_centre": by_centre,
        "random": random_labels,
        "by_centre_samples": silhouette_samples(points, by_centre),
        "random_samples": silhouette_samples(points, random_labels),
    },
    "smote": {
        "x": x,
        "y": y,
        "k": k,
        "firsts": firsts,
        "neighbours": neighbours,
    },
})
