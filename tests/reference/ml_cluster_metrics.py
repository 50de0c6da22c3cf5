"""Reference values of the unit tests in src/ml/cluster_metrics.rs: silhouette, Davies-Bouldin,
Calinski-Harabasz and adjusted Rand from scikit-learn, on fixed points and labellings defined
here."""

from sklearn.metrics import (adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score,
                             silhouette_samples, silhouette_score)

from _common import write

POINTS = [[0.0, 0.0], [0.5, 0.2], [0.1, 0.9], [4.0, 4.2], [4.5, 3.9], [3.8, 5.0], [9.0, 0.5],
          [8.7, 1.1], [9.4, 0.0], [5.0, 1.0]]
LABELS = [0, 0, 0, 1, 1, 1, 2, 2, 2, 1]
OTHER = [0, 0, 1, 1, 1, 1, 2, 2, 0, 2]
ARI_A, ARI_B = [0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1]

write("ml_cluster_metrics", "src/ml/cluster_metrics.rs", {
    "points": POINTS,
    "labels": LABELS,
    "other": OTHER,
    "silhouette": silhouette_score(POINTS, LABELS),
    "silhouette_other": silhouette_score(POINTS, OTHER),
    "silhouette_samples": silhouette_samples(POINTS, LABELS),
    "davies_bouldin": davies_bouldin_score(POINTS, LABELS),
    "calinski_harabasz": calinski_harabasz_score(POINTS, LABELS),
    "ari": adjusted_rand_score(LABELS, OTHER),
    "ari_2": {"a": ARI_A, "b": ARI_B, "value": adjusted_rand_score(ARI_A, ARI_B)},
})
