"""Reference values of the unit tests in src/stats.rs: moments, quantiles, ranks and correlations
of small fixed samples (defined here), from pandas, numpy and scipy."""

import numpy as np
import pandas as pd
import scipy.stats

from _common import write

X = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
Y = [1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0]
SMALL = [1.0, 2.0, 3.0, 4.0]
TIES = [10.0, 20.0, 10.0, 30.0]
s = pd.Series(X)

write("stats", "src/stats.rs", {
    "x": X,
    "y": Y,
    "mean": s.mean(),
    "variance": s.var(),
    "skewness": s.skew(),
    "kurtosis": s.kurt(),
    "quantiles": {"q": [0.25, 0.5, 0.75], "value": np.percentile(X, [25, 50, 75])},
    "small": {"x": SMALL, "q": 0.1, "value": np.percentile(SMALL, 10)},
    "ties": {"x": TIES, "ranks": scipy.stats.rankdata(TIES)},
    "pearson": np.corrcoef(X, Y)[0, 1],
    "spearman": scipy.stats.spearmanr(X, Y).statistic,
})
