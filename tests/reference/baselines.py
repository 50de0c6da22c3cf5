"""Reference values for tests/baselines.rs, computed independently with pandas, numpy and
scikit-learn from the bundled table. Regenerate with `bash tests/reference/regenerate.sh baselines`.

- One-column OLS: R² of LinearRegression on each numeric feature alone, GroupKFold(5, shuffled)
  over duplicate groups (rows identical except user_id), 3 seeded repeats: mean and sd over the
  15 folds (the folds differ from the Rust ones, so the test compares within fold noise).
- The growth label: mean percentile rank (average ties, rank / n) of loyalty_score,
  purchase_frequency and purchase_amount; positive at or below its 1/3 quantile (numpy's
  default, type 7). Then: does it equal age <= 33 and annual_income <= 53000 on every row, and
  how many rows does scikit-learn's depth-1 tree on each column misclassify (its threshold too).
- The PC1 share of the standardised distinct rows of the five numeric columns.
"""

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold
from sklearn.tree import DecisionTreeClassifier

from _common import DATA, path, write

df = pd.read_csv(path(DATA))
cols = ["age", "annual_income", "purchase_amount", "loyalty_score", "region", "purchase_frequency"]
groups = df.groupby(cols, sort=False).ngroup().to_numpy()
y = df["purchase_amount"].to_numpy(float)

one_column = {}
for c in ["age", "annual_income", "loyalty_score", "purchase_frequency"]:
    x = df[[c]].to_numpy(float)
    scores = []
    for rep in range(3):
        for tr, te in GroupKFold(n_splits=5, shuffle=True, random_state=rep).split(x, y, groups):
            m = LinearRegression().fit(x[tr], y[tr])
            scores.append(r2_score(y[te], m.predict(x[te])))
    one_column[c] = {"mean": float(np.mean(scores)), "sd": float(np.std(scores, ddof=1)), "n": len(scores)}

n = len(df)
inputs = ["loyalty_score", "purchase_frequency", "purchase_amount"]
composite = sum(df[c].rank(method="average") / n for c in inputs) / len(inputs)
label = composite <= np.quantile(composite, 1 / 3)

stumps = {}
for c in ["age", "annual_income"]:
    tree = DecisionTreeClassifier(max_depth=1, random_state=0).fit(df[[c]], label)
    stumps[c] = {
        "threshold": float(tree.tree_.threshold[0]),
        "misclassified": int((tree.predict(df[[c]]) != label).sum()),
    }

distinct = df[cols].drop_duplicates()
z = distinct[["age", "annual_income", "loyalty_score", "purchase_frequency", "purchase_amount"]]
z = (z - df[z.columns].mean()) / df[z.columns].std(ddof=1)
ev = np.linalg.eigvalsh(np.cov(z.to_numpy(float), rowvar=False))

out = {
    "one_column_ols_group_5fold_x3_r2": one_column,
    "label_positives": int(label.sum()),
    "label_equals_age_le_33": bool((label == (df["age"] <= 33)).all()),
    "label_equals_income_le_53000": bool((label == (df["annual_income"] <= 53000)).all()),
    "depth1_tree": stumps,
    "distinct_rows": int(len(distinct)),
    "pc1_share_distinct_standardised": float(ev.max() / ev.sum()),
}
write("baselines", "tests/baselines.rs", out, inputs=[DATA])
