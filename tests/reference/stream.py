"""Reference values of tests/stream.rs: the whole-table aggregates a streamed build must get exact
(rows, distinct rows, group sizes, level counts and means, mean, sd, min, max, skewness, kurtosis,
Pearson correlations, VIFs), computed with pandas, numpy and statsmodels on the bundled table and
on a 1,200-row table with duplicate rows defined here (stored in the JSON as the test's input)."""

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from _common import DATA, path, write

ID = "user_id"
NUMERIC = ["age", "annual_income", "loyalty_score", "purchase_frequency", "purchase_amount"]
PREDICTORS = NUMERIC[:4]
TARGET = "purchase_amount"
REGIONS = ["North", "South", "East", "West"]
# group_stats' column order: the target, then the predictors.
LEVEL_COLUMNS = [TARGET] + PREDICTORS


def generated():
    """900 distinct customers and 300 copies of them under new ids, shuffled."""
    rng = np.random.default_rng(19)
    n0 = 900
    z = rng.standard_normal(n0)
    e = rng.standard_normal((n0, 5))
    base = pd.DataFrame(
        {
            "age": np.clip(np.round(40 + 9 * (0.8 * z + 0.6 * e[:, 0])), 18, 90),
            "annual_income": np.clip(np.round(57000 + 11000 * (0.8 * z + 0.6 * e[:, 1])), 1000, None),
            "loyalty_score": np.clip(np.round(6.5 + 1.8 * (0.8 * z + 0.6 * e[:, 2]), 1), 0.0, 10.0),
            "purchase_frequency": np.clip(np.round(20 + 4.5 * (0.8 * z + 0.6 * e[:, 3])), 1, None),
            "purchase_amount": np.clip(np.round(420 + 140 * (0.8 * z + 0.6 * e[:, 4])), 0, None),
            "region": rng.choice(REGIONS, size=n0, p=[0.3, 0.3, 0.1, 0.3]),
        }
    )
    copies = base.iloc[rng.integers(0, n0, size=300)]
    table = pd.concat([base, copies]).sample(frac=1.0, random_state=7).reset_index(drop=True)
    table.insert(0, ID, np.arange(1, len(table) + 1))
    return table


def aggregates(df):
    content = df[NUMERIC + ["region"]]
    sizes = content.groupby(NUMERIC + ["region"], sort=False).size()
    size_counts = sizes.value_counts().sort_index()
    corr = df[NUMERIC].corr(method="pearson").to_numpy()
    x = sm.add_constant(df[PREDICTORS].to_numpy(dtype=float))
    vif = [variance_inflation_factor(x, j + 1) for j in range(len(PREDICTORS))]
    return {
        "rows": len(df),
        "distinct_rows": int(len(sizes)),
        "largest_group": int(sizes.max()),
        "group_size_counts": [[int(s), int(c)] for s, c in size_counts.items()],
        "level_rows": [int((df["region"] == r).sum()) for r in REGIONS],
        "level_means": [
            [float(df.loc[df["region"] == r, c].mean()) for c in LEVEL_COLUMNS] for r in REGIONS
        ],
        "mean": [float(df[c].mean()) for c in NUMERIC],
        "sd": [float(df[c].std(ddof=1)) for c in NUMERIC],
        "min": [float(df[c].min()) for c in NUMERIC],
        "max": [float(df[c].max()) for c in NUMERIC],
        "skewness": [float(df[c].skew()) for c in NUMERIC],
        "kurtosis": [float(df[c].kurt()) for c in NUMERIC],
        "pearson": corr,
        "vif": vif,
    }


bundled = pd.read_csv(path(DATA))
table = generated()
write(
    "stream",
    "tests/stream.rs",
    {
        "columns": NUMERIC,
        "bundled": aggregates(bundled),
        "generated": aggregates(table),
        "generated_table": {
            "header": list(table.columns),
            "rows": [
                [str(v) if not isinstance(v, float) or not v.is_integer() or c == "loyalty_score" else str(int(v))
                 for c, v in zip(table.columns, row)]
                for row in table.itertuples(index=False)
            ],
        },
    },
    inputs=[DATA],
)
