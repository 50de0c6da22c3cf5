"""Reference values of the unit tests in src/ml/logistic.rs: scikit-learn's L2-penalised logistic
regression (C = 1/alpha, unpenalised intercept, its exact newton-cholesky solver run to tol 1e-12) on 40 fixed rows of three
nearly collinear columns (like the customer table's) and one noise column, at three penalties."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from _common import write

# Rows built by closed formulas (no random generator, so no library version can move them).
ROWS, LABELS = [], []
for i in range(40):
    t = (i - 19.5) / 10.0
    wobble = np.sin(1.7 * i)
    ROWS.append([t, 0.98 * t + 0.05 * wobble, 1.02 * t - 0.04 * np.cos(2.3 * i), np.sin(0.9 * i)])
    LABELS.append(bool(t + 0.8 * np.sin(3.1 * i) > 0.1))

x = np.array(ROWS)
fits = []
for alpha in [1.0, 0.1, 10.0]:
    m = LogisticRegression(C=1.0 / alpha, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(x, LABELS)
    fits.append({"alpha": alpha, "coef": m.coef_[0], "intercept": m.intercept_[0]})

write("ml_logistic", "src/ml/logistic.rs", {"rows": ROWS, "labels": LABELS, "fits": fits})
