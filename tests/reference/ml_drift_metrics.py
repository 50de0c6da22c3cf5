"""Reference values of the unit tests in src/ml/drift_metrics.rs: the two-sample KS statistic
(scipy) and the population stability index by a numpy recipe, on fixed samples defined here."""

import numpy as np
import scipy.stats

from _common import write

REF = [25., 34., 45., 22., 29., 41., 36., 28., 52., 31., 39., 44., 27., 33., 48., 26., 37., 42.,
       30., 35., 25., 34., 45., 50., 29., 38., 40., 31., 47., 33.]
CUR = [30., 38., 49., 26., 33., 45., 40., 32., 56., 35., 43., 48., 31., 37., 52., 30., 41., 46.,
       22., 22., 23., 21., 20., 60.]
TIES_A, TIES_B = [1., 1., 2., 2., 3.], [2., 2., 2., 3., 3.]
FLOOR = 1e-4


def edges(ref, bins):
    """Distinct type-7 percentiles at 100·i/bins, i = 1..bins-1."""
    return np.unique(np.percentile(ref, [100 * i / bins for i in range(1, bins)]))


def psi(ref, cur, bins):
    e = edges(ref, bins)

    def shares(x):
        c = np.bincount(np.searchsorted(e, x, side="left"), minlength=len(e) + 1) / len(x)
        return np.maximum(c, FLOOR)

    r, c = shares(ref), shares(cur)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_categorical(ref, cur, levels):
    r = np.maximum([ref.count(l) / len(ref) for l in levels], FLOOR)
    c = np.maximum([cur.count(l) / len(cur) for l in levels], FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


LEVELS = ["N", "S", "E", "W"]
CAT_REF = ["N", "N", "S", "S", "E", "E", "W", "W"]
CAT_CUR = ["N", "S", "E", "E", "E", "E", "W", "W"]

write("ml_drift_metrics", "src/ml/drift_metrics.rs", {
    "ref": REF,
    "cur": CUR,
    "ks": scipy.stats.ks_2samp(REF, CUR).statistic,
    "ks_ties": {"a": TIES_A, "b": TIES_B, "statistic": scipy.stats.ks_2samp(TIES_A, TIES_B).statistic},
    "edges_10": edges(REF, 10),
    "edges_4": edges(REF, 4),
    "psi_10": psi(REF, CUR, 10),
    "psi_4": psi(REF, CUR, 4),
    "categorical": {"levels": LEVELS, "ref": CAT_REF, "cur": CAT_CUR,
                    "psi": psi_categorical(CAT_REF, CAT_CUR, LEVELS)},
})
