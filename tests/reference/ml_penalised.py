"""Reference values of the unit tests in src/ml/penalised.rs: Lasso, elastic-net and ridge
solutions along a penalty path, and a Lasso penalty chosen by cross-validation, on a fixed
collinear 40x5 problem defined here, from scikit-learn's `lasso_path`, `enet_path`, `Ridge` and
`LassoCV` run to a tight tolerance.

Parametrisation: linfa's elastic net (and src/ml/penalised.rs) minimises
    1/(2n)·‖y − Xw‖² + λ·(l1·‖w‖₁ + (1 − l1)/2·‖w‖²),
which is scikit-learn's ElasticNet / enet_path with alpha = λ and l1_ratio = l1 (Lasso: alpha = λ).
scikit-learn's Ridge minimises ‖y − Xw‖² + alpha·‖w‖² (no 1/(2n)), so Ridge(alpha = n·λ)."""

import numpy as np
from sklearn.linear_model import LassoCV, Ridge, enet_path, lasso_path

from _common import write

rng = np.random.default_rng(20261201)
n = 40
z = rng.standard_normal((n, 3))
e = rng.standard_normal((n, 2))
X = np.column_stack([
    10.0 + 2.0 * z[:, 0],
    5.0 + 0.98 * 2.0 * z[:, 0] + 0.4 * e[:, 0],  # r ≈ 0.98 with column 0
    -3.0 + z[:, 1],
    0.95 * z[:, 1] + 0.3 * e[:, 1],              # r ≈ 0.95 with column 2
    100.0 + 20.0 * z[:, 2],
])
y = 3.0 * X[:, 0] + 2.0 * X[:, 1] - X[:, 2] + 0.05 * X[:, 4] + rng.standard_normal(n)
# Fixed inputs rounded to 6 decimals, so the JSON holds them exactly.
X = np.round(X, 6)
y = np.round(y, 6)

# Centred problem (the path functions fit no intercept; the Rust solver centres y, and X is
# centred here, as the analysis' standardised columns are).
xc = X - X.mean(axis=0)
yc = y - y.mean()
TIGHT = dict(tol=1e-13, max_iter=1_000_000)

alpha_max = np.max(np.abs(xc.T @ yc)) / n
alphas = np.array([1.5 * alpha_max, alpha_max, 0.3 * alpha_max, 0.1 * alpha_max, 0.03, 0.01, 0.003, 0.001])
_, lasso_coefs, _ = lasso_path(xc, yc, alphas=alphas, **TIGHT)
_, enet_coefs, _ = enet_path(xc, yc, l1_ratio=0.5, alphas=alphas, **TIGHT)

ridge_penalties = [0.001, 0.1, 1.0]
ridge = [Ridge(alpha=n * lam, fit_intercept=False, solver="cholesky").fit(xc, yc).coef_ for lam in ridge_penalties]
for lam, w in zip(ridge_penalties, ridge):
    direct = np.linalg.solve(xc.T @ xc + n * lam * np.eye(5), xc.T @ yc)
    assert np.allclose(w, direct, rtol=1e-10, atol=1e-12)

# LassoCV on the raw (uncentred) inputs with fixed, unequal folds: each training fold is centred
# by LassoCV itself (fit_intercept), the penalty minimising the mean validation MSE is chosen,
# and the final model is refitted on every row with an intercept.
fold_of = np.array([i % 4 if i < 36 else 3 for i in range(n)])
folds = [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(4)]
grid = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
cv = LassoCV(alphas=grid, cv=folds, **TIGHT).fit(X, y)

write("ml_penalised", "src/ml/penalised.rs", {
    "x": X,
    "y": y,
    "path": {
        "alphas": alphas,
        # coefs[k] = coefficients at alphas[k]
        "lasso": lasso_coefs.T,
        "enet_l1_0.5": enet_coefs.T,
    },
    "ridge": {"penalties": ridge_penalties, "coefs": ridge},
    "lasso_cv": {
        "grid": grid,
        "fold_of": fold_of,
        # mse[k][f]: validation MSE of fold f at the k-th alpha of cv.alphas_ (descending)
        "alphas_desc": cv.alphas_,
        "mse": cv.mse_path_,
        "alpha": cv.alpha_,
        "coef": cv.coef_,
        "intercept": cv.intercept_,
    },
})
