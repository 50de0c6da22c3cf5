"""Reference values of src/analysis/segmentation/tests.rs: k-means on the bundled table from
scikit-learn (KMeans on StandardScaler features) and the internal scores of its partitions, on
all rows and on the first row of each duplicate group."""

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from _common import DATA, path, write

FEATURES = ["age", "annual_income", "loyalty_score", "purchase_frequency", "purchase_amount"]

df = pd.read_csv(path(DATA))
x = StandardScaler().fit_transform(df[FEATURES].to_numpy(dtype=float))
first = ~df.drop(columns=["user_id"]).duplicated().to_numpy()

per_k = []
for k in [2, 4]:  # the values of k the test compares
    labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(x)
    per_k.append({
        "k": k,
        "sizes": sorted(np.bincount(labels).tolist()),
        "silhouette_all": silhouette_score(x, labels),
        "silhouette_distinct": silhouette_score(x[first], labels[first]),
        "davies_bouldin": davies_bouldin_score(x, labels),
        "calinski_harabasz": calinski_harabasz_score(x, labels),
    })

write("analysis_segmentation_tests", "src/analysis/segmentation/tests.rs", {
    "rows": len(df),
    "distinct_rows": int(first.sum()),
    "per_k": per_k,
}, inputs=[DATA])
