"""Reference values of the unit tests in src/features.rs: engineered features of the bundled
table and the merge of its sparse region, from pandas and numpy."""

import numpy as np
import pandas as pd

from _common import DATA, path, write

# FeatureSettings defaults: age and income cuts, intervals [lower, upper).
AGE_CUTS = [30.0, 40.0, 50.0]
INCOME_CUTS = [45000.0, 60000.0]
DEMOGRAPHIC = ["age", "annual_income"]
SPARSE = "East"

df = pd.read_csv(path(DATA))
inc, spend, freq = df["annual_income"], df["purchase_amount"], df["purchase_frequency"]
pct = inc.rank(pct=True)
spend_to_income = spend / inc


def binned(s, cuts):
    return pd.cut(s, [-np.inf] + cuts + [np.inf], right=False).value_counts(sort=False).to_numpy()


# Distance of the sparse level's standardised demographic means (column sds with ddof=1) to
# each other level's.
z = (df.groupby("region")[DEMOGRAPHIC].mean() - df[DEMOGRAPHIC].mean()) / df[DEMOGRAPHIC].std()
others = [r for r in ["North", "South", "West"]]
dist = [[r, float(np.linalg.norm(z.loc[SPARSE] - z.loc[r]))] for r in others]
nearest = min(dist, key=lambda d: d[1])[0]
counts = df["region"].replace({SPARSE: nearest}).value_counts()

write("features", "src/features.rs", {
    "income_percentile": {"rows": [0, 3], "value": [pct[0], pct[3]]},
    "log_income_row0": np.log1p(inc[0]),
    "spend_to_income_row1": spend_to_income[1],
    "spend_per_purchase_mean": (spend / freq).mean(),
    "spend_to_income_sd": spend_to_income.std(),
    "age_group_counts": binned(df["age"], AGE_CUTS),
    "income_bracket_counts": binned(inc, INCOME_CUTS),
    "merge": {"level": SPARSE, "rows": int((df["region"] == SPARSE).sum()),
              "distances": dist, "merged_into": nearest},
    "grouped_rows": [[r, int(counts[r])] for r in others],
}, inputs=[DATA])
