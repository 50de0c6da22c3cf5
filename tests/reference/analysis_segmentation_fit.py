"""Reference values of the unit tests in src/analysis/segmentation/fit.rs: a Gaussian mixture's
log-likelihood from scipy and the free-parameter count of scikit-learn's GaussianMixture, on
fixed inputs defined here."""

import numpy as np
import scipy.special
import scipy.stats
from sklearn.mixture import GaussianMixture

from _common import write

X = [[0.0, 0.0], [1.0, 2.0], [-1.5, 0.5]]
WEIGHTS = [0.3, 0.7]
MEANS = [[0.0, 0.5], [1.0, 1.0]]
COVS = [[[1.0, 0.3], [0.3, 2.0]], [[0.5, 0.0], [0.0, 0.8]]]

per = np.array([[np.log(w) + scipy.stats.multivariate_normal(m, c).logpdf(x)
                 for w, m, c in zip(WEIGHTS, MEANS, COVS)] for x in X])
ll = float(np.sum(scipy.special.logsumexp(per, axis=1)))

# The parameter count does not depend on the data; any 5-column sample fits.
K, D = 3, 5
gm = GaussianMixture(n_components=K, covariance_type="full", random_state=0)
gm.fit(np.random.default_rng(0).normal(size=(40, D)))

write("analysis_segmentation_fit", "src/analysis/segmentation/fit.rs", {
    "x": X,
    "weights": WEIGHTS,
    "means": MEANS,
    "covariances": COVS,
    "log_likelihood": ll,
    "parameters": {"k": K, "d": D, "count": gm._n_parameters()},
})
