"""Reference values of tests/eda.rs: the exploratory analysis of the bundled table, computed with
pandas, numpy, scipy and statsmodels, plus a fixed 8x3 matrix and a small table built to trigger
the outlier and skew rules (both defined here)."""

from fractions import Fraction
from math import comb

import numpy as np
import pandas as pd
import scipy.special
import scipy.stats
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from _common import DATA, path, write

NUMERIC = ["age", "annual_income", "loyalty_score", "purchase_frequency", "purchase_amount"]
TARGET = "purchase_amount"
PREDICTORS = NUMERIC[:4]
REGIONS = ["North", "South", "East", "West"]
# Defaults of EdaSettings: |r| and VIF alert thresholds, sparse share, test share of the split.
HIGH_CORRELATION, HIGH_VIF, SPARSE_SHARE, TEST_SHARE = 0.9, 10.0, 0.05, 0.2

df = pd.read_csv(path(DATA))
n = len(df)


def fences(s):
    q1, q3 = s.quantile(0.25), s.quantile(0.75)
    return q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)


def vifs(x):
    """statsmodels VIF of each column of x, regressed on the others with a constant."""
    xc = sm.add_constant(x)
    return [variance_inflation_factor(xc, i) for i in range(1, xc.shape[1])]


def eig_desc(x):
    return sorted(np.linalg.eigvalsh(np.corrcoef(x.T)), reverse=True)


profiles = []
for c in NUMERIC:
    s = df[c]
    lo, hi = fences(s)
    profiles.append({
        "column": c,
        "count": int(s.count()),
        "missing": int(s.isna().sum()),
        "distinct": int(s.nunique()),
        "mean": s.mean(), "sd": s.std(), "min": s.min(), "q1": s.quantile(0.25),
        "median": s.median(), "q3": s.quantile(0.75), "max": s.max(),
        "skew": s.skew(), "kurt": s.kurt(),
        "outliers": int(((s < lo) | (s > hi)).sum()),
    })

counts = df["region"].value_counts()
region_rows = [[r, int(counts[r])] for r in REGIONS]

pearson = df[NUMERIC].corr().to_numpy()
spearman = df[NUMERIC].corr(method="spearman").to_numpy()
pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
bi, bj = max(pairs, key=lambda p: abs(pearson[p]))

x = df[PREDICTORS].to_numpy(dtype=float)
vif = vifs(x)
eig = eig_desc(x)

# The fixed 8x3 matrix of vif_on_a_small_fixed_matrix.
small = {
    "a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
    "b": [2.0, 1.0, 5.0, 3.0, 7.0, 4.0, 8.0, 9.0],
    "c": [3.0, 5.0, 4.0, 8.0, 6.0, 11.0, 9.0, 13.0],
}
sx = np.column_stack([small["a"], small["b"], small["c"]])
small_eig = eig_desc(sx)

# Duplicates, ignoring the id.
rows = df.drop(columns=["user_id"])
group = rows.groupby(list(rows.columns), sort=False, dropna=False).ngroup().to_numpy()
sizes = np.bincount(group)
size_counts = pd.Series(sizes).value_counts().sort_index()
test = [i for i in range(n) if i % 5 == 0]
train_groups = {group[i] for i in range(n) if i % 5 != 0}
m = int(round(n * TEST_SHARE))
# Exact expectation: a test row of group size s has no twin in training iff its s - 1 copies are
# all among the other m - 1 test rows: C(n - s, m - s) / C(n - 1, m - 1).
total = sum(1 - Fraction(comb(n - s, m - s), comb(n - 1, m - 1)) for s in sizes[group])
expected = float(total / n)
expected_scipy = np.mean([1 - scipy.special.comb(n - s, m - s, exact=True) / scipy.special.comb(n - 1, m - 1, exact=True) for s in sizes[group]])
assert abs(expected - expected_scipy) < 1e-14

group_cols = [TARGET] + PREDICTORS
by = df.groupby("region")[group_cols]
means, medians = by.mean(), by.median()
groups = [{"level": r, "rows": int(counts[r]), "mean": means.loc[r].to_numpy(),
           "median": medians.loc[r].to_numpy()} for r in REGIONS]

west = df.loc[df["region"] == "West", TARGET]
wlo, whi = fences(west)
inside = west[(west >= wlo) & (west <= whi)]
west_box = {"q1": west.quantile(0.25), "median": west.median(), "q3": west.quantile(0.75),
            "whisker_low": inside.min(), "whisker_high": inside.max(),
            "outliers": int(len(west) - len(inside))}

counts16, edges16 = np.histogram(df["age"], bins=16)
income = df["annual_income"].to_numpy(dtype=float)
kde = scipy.stats.gaussian_kde(income)
at = [57000.0, 40000.0]

# The table of the_other_alert_rules_fire_on_a_table_built_to_trigger_them: income skewed by one
# far value.
trigger_income = pd.Series([40000.0 + 100.0 * i for i in range(20)])
trigger_income[7] = 400000.0
tlo, thi = fences(trigger_income)

write("eda", "tests/eda.rs", {
    "rows": n,
    "profiles": profiles,
    "region_rows": region_rows,
    "sparse_levels": [r for r, c in region_rows if c / n < SPARSE_SHARE],
    "columns": NUMERIC,
    "pearson": pearson,
    "spearman": spearman,
    "max_predictor_pair": {"a": PREDICTORS[bi], "b": PREDICTORS[bj], "pearson": pearson[bi, bj]},
    "high_correlation_pairs": sum(abs(pearson[p]) >= HIGH_CORRELATION for p in pairs),
    "predictors": PREDICTORS,
    "vif": vif,
    "high_vif_columns": sum(v >= HIGH_VIF for v in vif),
    "eigenvalues": eig,
    "condition_number": np.sqrt(eig[0] / eig[-1]),
    "small_matrix": {"columns": small, "vif": vifs(sx), "eigenvalues": small_eig,
                     "condition_number": np.sqrt(small_eig[0] / small_eig[-1])},
    "duplicates": {
        "rows": n,
        "duplicate_rows": int(rows.duplicated().sum()),
        "distinct_rows": int(len(sizes)),
        "largest_group": int(sizes.max()),
        "group_size_counts": [[int(k), int(v)] for k, v in size_counts.items()],
        "groups_with_copies": int((sizes > 1).sum()),
        "fixed_split_twinned_test_rows": sum(group[i] in train_groups for i in test),
        "test_rows": m,
        "expected_twin_share": expected,
    },
    "group_columns": group_cols,
    "groups": groups,
    "west_target_box": west_box,
    "age_histogram": {"counts": counts16, "first_edge": edges16[0], "last_edge": edges16[-1]},
    "income_kde": {"bandwidth": np.sqrt(kde.covariance[0, 0]), "at": at, "density": kde(at)},
    "trigger_income": {"values": trigger_income.to_numpy(), "skew": trigger_income.skew(),
                       "outliers_low": int((trigger_income < tlo).sum()),
                       "outliers_high": int((trigger_income > thi).sum())},
}, inputs=[DATA])
