"""Reference values of the unit tests in src/ml/class_metrics.rs: threshold metrics, ROC-AUC,
average precision and the curves from scikit-learn, on fixed labels and scores (with ties)
defined here, and the threshold choice by its stated rule evaluated with scikit-learn."""

import numpy as np
from sklearn.metrics import (average_precision_score, confusion_matrix, f1_score,
                             precision_recall_curve, precision_score, recall_score,
                             roc_auc_score, roc_curve)

from _common import write

Y = [True, False, True, True, False, False, True, False, True, False, False, True, False, True,
     False, False]
S = [0.9, 0.8, 0.8, 0.7, 0.65, 0.6, 0.55, 0.5, 0.4, 0.35, 0.35, 0.3, 0.2, 0.1, 0.1, 0.05]
y, s = np.array(Y), np.array(S)


def at(t):
    p = s >= t
    tn, fp, fn, tp = confusion_matrix(y, p).ravel()
    return {"threshold": t,
            "precision": precision_score(y, p, zero_division=0),
            "recall": recall_score(y, p, zero_division=0),
            "f1": f1_score(y, p, zero_division=0),
            "tp": tp, "fp": fp, "tn": tn, "fn": fn}


def choose(floor):
    """The rule of choose_threshold: among the distinct scores t (predict positive when s >= t),
    the highest F1 with precision >= floor (else the highest F1 overall); reported as the
    midpoint between t and the next lower distinct score. Ties in F1 go to the higher t."""
    distinct = sorted(set(S), reverse=True)
    rows = [at(t) for t in distinct]
    ok = [i for i, r in enumerate(rows) if r["precision"] >= floor]
    pool = ok if ok else range(len(rows))
    best = max(pool, key=lambda i: (rows[i]["f1"], -i))
    t = distinct[best]
    nxt = distinct[best + 1] if best + 1 < len(distinct) else t
    return {"floor": floor, "constraint_met": bool(ok), "threshold": (t + nxt) / 2,
            "precision": rows[best]["precision"], "f1": rows[best]["f1"]}


fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
precision, _, _ = precision_recall_curve(y, s)

write("ml_class_metrics", "src/ml/class_metrics.rs", {
    "y": Y,
    "s": S,
    "at": [at(0.5), at(0.3)],
    "roc_auc": roc_auc_score(y, s),
    "average_precision": average_precision_score(y, s),
    "roc": {"fpr": fpr, "tpr": tpr},
    # scikit-learn lists precision by increasing threshold, ending with the (recall 0,
    # precision 1) start; reversed, it reads from the highest threshold down.
    "pr_precision": precision[::-1],
    "choose": [choose(0.75), choose(1.01)],
})
