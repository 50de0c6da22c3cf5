"""Reference values for tests/degenerate.rs, computed independently with pandas/numpy.

The bundled table without its East rows: rows, distinct rows (identical on every column but
user_id), region counts, and the mean and sample sd (ddof=1) of every numeric column.
Regenerate with `bash tests/reference/regenerate.sh degenerate`.
"""

import pandas as pd

from _common import DATA, path, write

df = pd.read_csv(path(DATA))
no_east = df[df["region"] != "East"]
cols = ["age", "annual_income", "purchase_amount", "loyalty_score", "purchase_frequency"]
out = {
    "no_east": {
        "rows": int(len(no_east)),
        "distinct_rows": int(len(no_east.drop(columns=["user_id"]).drop_duplicates())),
        "region_counts": {k: int(v) for k, v in no_east["region"].value_counts().sort_index().items()},
        "mean": {c: float(no_east[c].mean()) for c in cols},
        "sd": {c: float(no_east[c].std(ddof=1)) for c in cols},
    }
}
write("degenerate", "tests/degenerate.rs", out, inputs=[DATA])
