"""Reference values of the unit tests in src/ml/classifiers.rs: logistic regression probabilities
and a depth-1 tree's leaf shares from scikit-learn, on fixed rows defined here."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from _common import write

TRAIN = [[1.0, 20.0], [2.0, 18.0], [3.0, 25.0], [4.0, 22.0], [5.0, 30.0], [6.0, 27.0],
         [7.0, 35.0], [8.0, 31.0], [9.0, 40.0], [10.0, 38.0], [11.0, 45.0], [12.0, 41.0]]
LABELS = [False, False, True, False, False, True, False, True, True, False, True, True]
TEST = [[0.0, 10.0], [6.5, 30.0], [13.0, 50.0], [4.0, 40.0]]

x, t = np.array(TRAIN), np.array(TEST)
mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
logit = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit((x - mean) / sd, LABELS)

TREE_TRAIN = [[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]]
TREE_LABELS = [False, True, False, True, True, True]
TREE_TEST = [[0.0], [3.4], [3.6], [9.0]]
tree = DecisionTreeClassifier(max_depth=1, random_state=0).fit(TREE_TRAIN, TREE_LABELS)

write("ml_classifiers", "src/ml/classifiers.rs", {
    "logistic": {"train": TRAIN, "labels": LABELS, "test": TEST,
                 "probability": logit.predict_proba((t - mean) / sd)[:, 1]},
    "tree": {"train": TREE_TRAIN, "labels": TREE_LABELS, "test": TREE_TEST,
             "threshold": tree.tree_.threshold[0],
             "probability": tree.predict_proba(TREE_TEST)[:, 1]},
})
