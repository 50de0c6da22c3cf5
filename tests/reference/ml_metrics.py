"""Reference values of the unit tests in src/ml/metrics.rs: regression metrics from scikit-learn
on fixed arrays defined here."""

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from _common import write

Y = [3.0, -0.5, 2.0, 7.0, 4.25, 10.5, 0.0, 5.5]
P = [2.5, 0.0, 2.1, 7.8, 3.9, 9.0, 1.25, 6.0]

write("ml_metrics", "src/ml/metrics.rs", {
    "y": Y,
    "p": P,
    "r2": r2_score(Y, P),
    "rmse": np.sqrt(mean_squared_error(Y, P)),
    "mae": mean_absolute_error(Y, P),
    "r2_constant_truth_perfect": r2_score([2.0] * 3, [2.0] * 3),
    "r2_constant_truth_imperfect": r2_score([2.0] * 3, [1.0, 2.0, 3.0]),
})
