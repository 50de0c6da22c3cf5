"""Reference values for tests/serve.rs: PSI and KS of a shifted batch against the bundled table.

The batch is the bundled table with age + 10 on every even data row (0-based) and every odd row
moved to region 'East', and annual_income + 5000 on every third data row
(0, 3, 6, ...). PSI: bins cut at numpy's linear (type-7) percentiles 10..90 of the
training column, repeated edges dropped, x in bin searchsorted(edges, x, side='left'), shares
floored at 1e-4, PSI = sum((c - r) * ln(c / r)). KS: scipy.stats.ks_2samp(...).statistic.
Regenerate: bash tests/reference/regenerate.sh serve
"""
import numpy as np
import pandas as pd
from scipy import stats

from _common import DATA, path, write

train = pd.read_csv(path(DATA))
batch = train.copy()
even = np.arange(len(batch)) % 2 == 0
batch.loc[even, "age"] = batch.loc[even, "age"] + 10
batch.loc[~even, "region"] = "East"
third = np.arange(len(batch)) % 3 == 0
batch.loc[third, "annual_income"] = batch.loc[third, "annual_income"] + 5000


def shares(x, edges):
    idx = np.searchsorted(edges, x, side="left")
    return np.bincount(idx, minlength=len(edges) + 1) / len(x)


def psi(r, c):
    r = np.maximum(r, 1e-4)
    c = np.maximum(c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


out = {"rows": len(batch), "features": {}}
for col in ["age", "annual_income", "purchase_amount", "loyalty_score", "purchase_frequency"]:
    ref = train[col].to_numpy(float)
    cur = batch[col].to_numpy(float)
    edges = np.unique(np.percentile(ref, np.arange(10, 100, 10)))
    out["features"][col] = {
        "psi": psi(shares(ref, edges), shares(cur, edges)),
        "ks": float(stats.ks_2samp(ref, cur).statistic),
    }
levels = ["North", "South", "East", "West"]
r = np.array([(train["region"] == l).mean() for l in levels])
c = np.array([(batch["region"] == l).mean() for l in levels])
out["region_psi"] = psi(r, c)
write("serve", "tests/serve.rs", out, inputs=[DATA])
