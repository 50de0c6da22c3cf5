"""Reference values of the unit tests in src/ml/regressors.rs: OLS and ridge on a fixed 8x3
problem (defined here), from numpy's least squares and the ridge closed form, cross-checked with
scikit-learn's Ridge."""

import numpy as np
from sklearn.linear_model import Ridge

from _common import write

X = np.array([
    [1.0, 2.0, 0.5],
    [2.0, 1.0, 1.5],
    [3.0, 4.0, -1.0],
    [4.0, 3.0, 2.0],
    [5.0, 6.5, 0.0],
    [6.0, 5.0, 1.0],
    [7.0, 8.0, 3.0],
    [8.0, 7.5, -2.0],
])
Y = np.array([4.0, 5.5, 7.0, 10.0, 11.5, 12.0, 17.0, 13.5])
n = len(Y)

ols = np.linalg.lstsq(np.hstack([X, np.ones((n, 1))]), Y, rcond=None)[0]


def ridge(penalty):
    """Standardise X and y (ddof=1), solve (ZᵀZ + n·λ·I) w = Zᵀt, rescale to raw units."""
    mx, sx = X.mean(axis=0), X.std(axis=0, ddof=1)
    my, sy = Y.mean(), Y.std(ddof=1)
    z, t = (X - mx) / sx, (Y - my) / sy
    w = np.linalg.solve(z.T @ z + n * penalty * np.eye(3), z.T @ t)
    sk = Ridge(alpha=n * penalty, fit_intercept=False, solver="cholesky").fit(z, t).coef_
    assert np.allclose(w, sk, rtol=1e-12, atol=1e-14)
    coef = w * sy / sx
    return {"penalty": penalty, "coef": coef, "intercept": my - coef @ mx}


write("ml_regressors", "src/ml/regressors.rs", {
    "x": X,
    "y": Y,
    "ols": {"coef": ols[:3], "intercept": ols[3]},
    "ridge": [ridge(0.1), ridge(1.0)],
})
