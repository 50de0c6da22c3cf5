"""Reference values of tests/score.rs: the spend interval's offsets, numpy type-7 quantiles of the
regression's out-of-fold residuals. The residuals are read from report/findings.json and stored
in the output; the test checks that the committed findings still hold exactly these residuals
(findings.json is not hashed: it changes with every analysis, the residuals rarely)."""

import json

import numpy as np

from _common import path, write

QUANTILES = [0.05, 0.95]
findings = json.loads(path("report/findings.json").read_text(encoding="utf-8"))
residuals = findings["regression"]["out_of_fold"]["residual"]

write("score", "tests/score.rs", {
    "residuals": residuals,
    "quantiles": QUANTILES,
    "offsets": np.quantile(residuals, QUANTILES),
})
