"""Reference values of src/analysis/classification/tests.rs: the growth label of the bundled
table, from pandas (average ranks) and numpy (type-7 quantile)."""

import numpy as np
import pandas as pd

from _common import DATA, path, write

LABEL_INPUTS = ["loyalty_score", "purchase_frequency", "purchase_amount"]  # Roles default
GROWTH_QUANTILE = 1.0 / 3.0  # FeatureSettings default

df = pd.read_csv(path(DATA))
n = len(df)
composite = sum(df[c].rank(method="average") / n for c in LABEL_INPUTS) / len(LABEL_INPUTS)
cutoff = np.quantile(composite, GROWTH_QUANTILE)

write("analysis_classification_tests", "src/analysis/classification/tests.rs", {
    "rows": n,
    "positives": int((composite <= cutoff).sum()),
    "cutoff": cutoff,
}, inputs=[DATA])
