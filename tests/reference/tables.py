"""Reference values of tests/tables.rs (missing values and Parquet input), computed with
pandas and scikit-learn.

Planted gaps: in a copy of the bundled table, 12 of the 238 cells (5%) of every numeric feature
column are emptied, plus 3 target cells and 2 region cells, at rows drawn by a seeded numpy
generator; the gap texts cycle through "", "NA", "null" and "NaN" (the default missing values).
The test writes that copy from the planted cells listed here.

Values:
- per-column missing counts, rows with any gap, pairs of columns missing together;
- under "impute": the rows the regression keeps (target and region present), the feature values
  it imputes, the medians of each feature over those rows (what the saved models carry);
- a scikit-learn pipeline (SimpleImputer(strategy="median") then LinearRegression) on the
  demographic features (age, annual_income, region one-hot without North): its predictions on a
  fixed split (every 5th kept row held out), and its group 5-fold x 3 cross-validated R^2
  (GroupKFold with shuffling, groups = rows identical on every column but user_id, gaps equal);
- the bundled table's column sums as pandas reads it (checked against the Parquet copy).
"""

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline

from _common import DATA, path, write

FEATURES = ["age", "annual_income", "loyalty_score", "purchase_frequency"]
TARGET = "purchase_amount"
NUMERIC = FEATURES + [TARGET]
TOKENS = ["", "NA", "null", "NaN"]

df = pd.read_csv(path(DATA))
n = len(df)
rng = np.random.default_rng(20)
planted = []  # (0-based data row, column, text)
k = 0
for col, count in [(c, 12) for c in FEATURES] + [(TARGET, 3), ("region", 2)]:
    for row in sorted(rng.choice(n, size=count, replace=False).tolist()):
        planted.append((row, col, TOKENS[k % len(TOKENS)]))
        k += 1

gappy = df.copy()
gappy[NUMERIC] = gappy[NUMERIC].astype(float)
gappy["region"] = gappy["region"].astype(object)
for row, col, _ in planted:
    gappy.loc[row, col] = np.nan
role_cols = NUMERIC + ["region"]
isna = gappy[role_cols].isna()
together = []
for i, a in enumerate(role_cols):
    for b in role_cols[i + 1:]:
        both = int((isna[a] & isna[b]).sum())
        if both > 0:
            together.append({"a": a, "b": b, "both": both})

kept = gappy[gappy[TARGET].notna() & gappy["region"].notna()].reset_index(drop=True)
imputed = int(kept[FEATURES].isna().sum().sum())


def demographic(frame):
    x = frame[["age", "annual_income"]].copy()
    for level in ["South", "East", "West"]:
        x[f"region={level}"] = (frame["region"] == level).astype(float)
    return x.to_numpy()


x = demographic(kept)
y = kept[TARGET].to_numpy()
test = np.arange(len(kept)) % 5 == 0
pipe = make_pipeline(SimpleImputer(strategy="median"), LinearRegression())
pipe.fit(x[~test], y[~test])
split_pred = pipe.predict(x[test])

# Duplicate groups: rows equal on every role column but the id, gaps equal to gaps.
key = kept[role_cols].apply(lambda r: "|".join(repr(v) for v in r), axis=1)
groups = pd.factorize(key)[0]
scores = []
for repeat in range(3):
    cv = GroupKFold(n_splits=5, shuffle=True, random_state=repeat)
    for tr, te in cv.split(x, y, groups):
        model = make_pipeline(SimpleImputer(strategy="median"), LinearRegression())
        model.fit(x[tr], y[tr])
        scores.append(r2_score(y[te], model.predict(x[te])))
scores = np.array(scores)

write("tables", "tests/tables.rs", {
    "planted": [{"row": r, "column": c, "text": t} for r, c, t in planted],
    "missing": {c: int(isna[c].sum()) for c in role_cols},
    "cells": int(isna.to_numpy().sum()),
    "rows_with_gaps": int(isna.any(axis=1).sum()),
    "together": together,
    "impute": {
        "kept_rows": int(len(kept)),
        "values_imputed": imputed,
        "medians": {c: float(kept[c].median()) for c in FEATURES},
        "category_mode": str(kept["region"].value_counts().idxmax()),
        "distinct_rows": int(groups.max() + 1),
    },
    "split": {
        "test_rows": np.flatnonzero(test),
        "predictions": split_pred,
    },
    "group_cv_r2": {"mean": scores.mean(), "sd": scores.std(ddof=1), "n": len(scores)},
    "bundled_sums": {c: float(df[c].sum()) for c in NUMERIC},
    "bundled_rows": n,
}, inputs=[DATA])
