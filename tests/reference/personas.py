"""Reference values for tests/personas.rs: the bundled table's k = 2 personas, computed
independently with pandas + scikit-learn + numpy.

k-means: sklearn KMeans(n_clusters=2, n_init=10, random_state=0) on StandardScaler features
[age, annual_income, loyalty_score, purchase_frequency, purchase_amount]; clusters numbered by
ascending mean purchase_amount. Per cluster: size, mean of each feature in original units, the
standardised difference (cluster mean - table mean) / table sd (ddof=1), the value score (mean of
the differences of purchase_amount and annual_income), the engagement score (loyalty_score and
purchase_frequency), the region counts. PCA (sklearn, on the ddof=1 z-scores): PC1's share of the
total variance and, per centroid, the share of its squared length on PC1.

Regenerate with `bash tests/reference/regenerate.sh personas`.
"""

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from _common import DATA, path, write

FEATURES = ["age", "annual_income", "loyalty_score", "purchase_frequency", "purchase_amount"]
df = pd.read_csv(path(DATA))
x = df[FEATURES].to_numpy(dtype=float)
labels = KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(StandardScaler().fit_transform(x))
order = np.argsort([df.purchase_amount[labels == c].mean() for c in range(2)])
labels = np.array([int(np.where(order == c)[0][0]) for c in labels])

mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
z_all = (x - mean) / sd
pca = PCA(n_components=len(FEATURES)).fit(z_all)
pc1 = pca.components_[0]
out = {"pc1_share": float(pca.explained_variance_ratio_[0]), "clusters": []}
for c in range(2):
    rows = labels == c
    means = x[rows].mean(axis=0)
    z = (means - mean) / sd
    zc = dict(zip(FEATURES, z))
    out["clusters"].append({
        "size": int(rows.sum()),
        "means": dict(zip(FEATURES, means.tolist())),
        "z": {k: float(v) for k, v in zc.items()},
        "value_score": float((zc["purchase_amount"] + zc["annual_income"]) / 2),
        "engagement_score": float((zc["loyalty_score"] + zc["purchase_frequency"]) / 2),
        "share_on_pc1": float((z @ pc1) ** 2 / (z @ z)),
        "regions": {r: int(n) for r, n in df.region[rows].value_counts().items()},
    })
write("personas", "tests/personas.rs", out, inputs=[DATA])
