"""Peer benchmark: the analyses of `report build` written the usual Python way (pandas,
scikit-learn, imbalanced-learn, matplotlib), so `report bench --peer` can time both whole
processes on the same table. It is a workload for timing, not a second implementation to trust:
it follows the same protocol (group-aware repeated cross-validation, penalties chosen by inner
group CV, SMOTE inside training folds, thresholds chosen on training folds, k-means sweep with
silhouettes and stability, the noise sweep, the drift simulation, figures) with library defaults
where the Rust code has its own details. See benches/peer/README.md.

Usage: python peer.py [--data CSV] [--out DIR]
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from imblearn.over_sampling import SMOTE  # noqa: E402
from imblearn.pipeline import Pipeline as ImbPipeline  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin, clone  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.dummy import DummyRegressor  # noqa: E402
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # noqa: E402
from sklearn.inspection import permutation_importance  # noqa: E402
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    adjusted_rand_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_curve,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    GroupKFold,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

SEED = 42
FOLDS, REPEATS, INNER = 5, 3, 3
GRID = [3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
TARGET = "purchase_amount"
NUMERIC = ["age", "annual_income", "loyalty_score", "purchase_frequency"]
DEMOGRAPHIC = ["age", "annual_income"]
CATEGORY = "region"
LABEL_INPUTS = ["loyalty_score", "purchase_frequency", "purchase_amount"]
SPARSE_SHARE = 0.05
NOISE_LEVELS = [0.0, 0.05, 0.1, 0.2, 0.4]


# ---------------------------------------------------------------------------------------------
# Data and EDA
# ---------------------------------------------------------------------------------------------
def load(path):
    df = pd.read_csv(path)
    for c in NUMERIC + [TARGET]:
        if not pd.api.types.is_numeric_dtype(df[c]) or df[c].isna().any() or (df[c] < 0).any():
            raise SystemExit(f"{path}: column {c} must be non-negative numbers")
    if df["user_id"].duplicated().any():
        raise SystemExit(f"{path}: user_id must be unique")
    df["group"] = df.drop(columns="user_id").apply(tuple, axis=1).factorize()[0]
    return df


def vif(x):
    out = {}
    for c in x.columns:
        others = x.drop(columns=c)
        r2 = LinearRegression().fit(others, x[c]).score(others, x[c])
        out[c] = 1.0 / max(1e-12, 1.0 - r2)
    return out


def eda(df):
    num = df[NUMERIC + [TARGET]]
    sizes = df.groupby("group").size()
    return {
        "rows": len(df),
        "distinct_rows": int(df["group"].nunique()),
        "group_sizes": sizes.value_counts().sort_index().to_dict(),
        "describe": num.describe().to_dict(),
        "skew": num.skew().to_dict(),
        "kurtosis": num.kurt().to_dict(),
        "pearson": num.corr().to_dict(),
        "spearman": num.corr(method="spearman").to_dict(),
        "vif": vif(df[NUMERIC]),
        "by_region": df.groupby(CATEGORY)[NUMERIC + [TARGET]].agg(["mean", "std", "count"]).to_dict(),
        "region_share": df[CATEGORY].value_counts(normalize=True).to_dict(),
    }


def growth_label(df, quantile=1 / 3):
    comp = np.mean([df[c].rank(method="average").to_numpy() / len(df) for c in LABEL_INPUTS], axis=0)
    return comp <= np.quantile(comp, quantile)


# ---------------------------------------------------------------------------------------------
# Sparse-level merge decided inside each training fold
# ---------------------------------------------------------------------------------------------
class MergeSparse(BaseEstimator, TransformerMixin):
    """Levels of `region` under SPARSE_SHARE of the fitting rows join the kept level with the
    nearest standardised demographic means."""

    def fit(self, x, y=None):
        share = x[CATEGORY].value_counts(normalize=True)
        kept = share[share >= SPARSE_SHARE].index
        z = (x[DEMOGRAPHIC] - x[DEMOGRAPHIC].mean()) / x[DEMOGRAPHIC].std()
        means = z.groupby(x[CATEGORY]).mean()
        self.map_ = {}
        for level in share.index.difference(kept):
            d = ((means.loc[kept] - means.loc[level]) ** 2).sum(axis=1)
            self.map_[level] = d.idxmin()
        return self

    def transform(self, x):
        x = x.copy()
        x[CATEGORY] = x[CATEGORY].replace(self.map_)
        return x


def preprocess(numeric, merge):
    steps = [("merge", MergeSparse())] if merge else []
    enc = ColumnTransformer([
        ("num", StandardScaler(), numeric),
        ("cat", OneHotEncoder(drop="first", handle_unknown="ignore", sparse_output=False), [CATEGORY]),
    ])
    return steps + [("encode", enc)]


def regressors(numeric, merge):
    pre = lambda: preprocess(numeric, merge)  # noqa: E731
    inner = GroupKFold(n_splits=INNER)
    return {
        "mean": Pipeline(pre() + [("m", DummyRegressor())]),
        "ols": Pipeline(pre() + [("m", LinearRegression())]),
        # scikit-learn's Ridge alpha is n·λ of the Rust parametrisation; Lasso's alpha is λ.
        "ridge": ("grid", Pipeline(pre() + [("m", Ridge())]), "m__alpha", inner),
        "lasso": ("grid", Pipeline(pre() + [("m", Lasso(max_iter=10_000))]), "m__alpha", inner),
        "random_forest": Pipeline(pre() + [("m", RandomForestRegressor(
            n_estimators=60, max_depth=10, min_samples_leaf=2, max_features=1 / 3, random_state=SEED))]),
    }


def fit_model(spec, x, y, groups):
    if isinstance(spec, tuple):
        _, pipe, key, inner = spec
        n = len(y) * (INNER - 1) / INNER
        alphas = [a * n for a in GRID] if "ridge" in str(pipe.steps[-1][1]).lower() else GRID
        search = GridSearchCV(clone(pipe), {key: alphas}, cv=inner, scoring="neg_mean_squared_error")
        search.fit(x, y, groups=groups)
        return search.best_estimator_
    return clone(spec).fit(x, y)


def outer_splits(scheme, x, y, groups, repeat):
    if scheme == "group":
        return GroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED + repeat).split(x, y, groups)
    return KFold(n_splits=FOLDS, shuffle=True, random_state=SEED + repeat).split(x, y)


def cross_validate(spec, x, y, groups, scheme, repeats=REPEATS):
    scores, oof = [], np.full(len(y), np.nan)
    for r in range(repeats):
        for train, test in outer_splits(scheme, x, y, groups, r):
            m = fit_model(spec, x.iloc[train], y[train], groups[train])
            p = m.predict(x.iloc[test])
            scores.append((r2_score(y[test], p), mean_squared_error(y[test], p) ** 0.5,
                           mean_absolute_error(y[test], p)))
            if r == 0:
                oof[test] = p
    s = np.array(scores)
    return {"r2": s[:, 0], "rmse": s[:, 1], "mae": s[:, 2], "oof": oof}


def regression(df, figs):
    y = df[TARGET].to_numpy(float)
    groups = df["group"].to_numpy()
    sets = {"behavioural": NUMERIC, "demographic": DEMOGRAPHIC}
    results, ablation = {}, {}
    for set_name, numeric in sets.items():
        x = df[numeric + [CATEGORY]]
        for name, spec in regressors(numeric, merge=True).items():
            for scheme in ("group", "naive"):
                results[(name, set_name, scheme)] = cross_validate(spec, x, y, groups, scheme)
            unmerged = regressors(numeric, merge=False)[name]
            ablation[(name, set_name)] = cross_validate(unmerged, x, y, groups, "group")["r2"]
    best = max((k for k in results if k[2] == "group"), key=lambda k: results[k]["r2"].mean())
    numeric = sets[best[1]]
    x = df[numeric + [CATEGORY]]
    # One-column baselines.
    baselines = {c: cross_validate(Pipeline([("m", LinearRegression())]), df[[c]], y, groups, "group")["r2"].mean()
                 for c in NUMERIC}
    # Bootstrap of OLS and Ridge coefficients (resampling whole duplicate groups).
    rng = np.random.default_rng(SEED)
    uniq = np.unique(groups)
    boot = {"ols": [], "ridge": []}
    xb = df[NUMERIC + [CATEGORY]]
    ridge = fit_model(regressors(NUMERIC, True)["ridge"], xb, y, groups)
    alpha = ridge.named_steps["m"].alpha
    for _ in range(200):
        pick = rng.choice(uniq, size=len(uniq), replace=True)
        rows = np.concatenate([np.flatnonzero(groups == g) for g in pick])
        for name, est in (("ols", LinearRegression()), ("ridge", Ridge(alpha=alpha))):
            m = Pipeline(preprocess(NUMERIC, False) + [("m", est)]).fit(xb.iloc[rows], y[rows])
            boot[name].append(m.named_steps["m"].coef_)
    intervals = {k: np.percentile(np.array(v), [2.5, 97.5], axis=0).tolist() for k, v in boot.items()}
    # Permutation importance of the best model on held-out group folds.
    importance = []
    for train, test in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        m = fit_model(regressors(numeric, True)[best[0]], x.iloc[train], y[train], groups[train])
        importance.append(permutation_importance(m, x.iloc[test], y[test], n_repeats=10,
                                                 random_state=SEED).importances_mean)
    importance = np.mean(importance, axis=0)

    # Figures.
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"{m}\n{s}" for (m, s, sc) in results if sc == "group"]
    ax.bar(np.arange(len(labels)) - 0.2, [results[k]["r2"].mean() for k in results if k[2] == "group"], 0.4, label="group")
    ax.bar(np.arange(len(labels)) + 0.2, [results[k]["r2"].mean() for k in results if k[2] == "naive"], 0.4, label="naive")
    ax.set_xticks(range(len(labels)), labels, fontsize=6)
    ax.legend()
    figs.save(fig, "regression_cv_gap")
    oof = results[best]["oof"]
    fig, ax = plt.subplots()
    ax.scatter(y, oof, s=8)
    ax.plot([y.min(), y.max()], [y.min(), y.max()], "k--")
    figs.save(fig, "regression_predicted_vs_actual")
    fig, ax = plt.subplots()
    ax.scatter(oof, y - oof, s=8)
    ax.axhline(0, color="k")
    figs.save(fig, "regression_residuals")
    fig, ax = plt.subplots()
    ax.barh(numeric + [CATEGORY], importance)
    figs.save(fig, "regression_permutation_importance")
    fig, ax = plt.subplots()
    for i, (k, (lo, hi)) in enumerate(intervals.items()):
        ax.errorbar(np.arange(len(lo)) + 0.2 * i, (np.array(lo) + np.array(hi)) / 2,
                    yerr=(np.array(hi) - np.array(lo)) / 2, fmt="o", label=k)
    ax.legend()
    figs.save(fig, "regression_coefficients")
    return {
        "scores": {"|".join(k): {m: float(v[m].mean()) for m in ("r2", "rmse", "mae")} for k, v in results.items()},
        "ablation": {"|".join(k): float(ablation[k].mean() - results[(k[0], k[1], "group")]["r2"].mean()) for k in ablation},
        "best": list(best),
        "baselines": baselines,
        "bootstrap": intervals,
        "importance": importance.tolist(),
    }


# ---------------------------------------------------------------------------------------------
# Growth-potential classification
# ---------------------------------------------------------------------------------------------
def classifiers():
    return {
        "logistic": LogisticRegression(C=1.0, max_iter=100),
        "tree": DecisionTreeClassifier(max_depth=4, random_state=SEED),
        "forest": RandomForestClassifier(n_estimators=10, max_depth=4, max_samples=0.5,
                                         max_features=0.7, random_state=SEED),
    }


def class_pipe(model, smote, numeric):
    steps = preprocess(numeric, True)
    if smote:
        steps.append(("smote", SMOTE(k_neighbors=3, random_state=SEED)))
    steps.append(("m", clone(model)))
    return ImbPipeline(steps)


def choose_threshold(pipe, x, y, groups):
    """The threshold with the best F1 at precision ≥ 0.75 over inner out-of-fold probabilities."""
    prob = np.zeros(len(y))
    for train, test in StratifiedGroupKFold(n_splits=INNER, shuffle=True, random_state=SEED).split(x, y, groups):
        prob[test] = clone(pipe).fit(x.iloc[train], y[train]).predict_proba(x.iloc[test])[:, 1]
    p, r, t = precision_recall_curve(y, prob)
    f1 = 2 * p * r / np.maximum(p + r, 1e-12)
    ok = p[:-1] >= 0.75
    return float(t[np.argmax(np.where(ok, f1[:-1], -1))]) if ok.any() else 0.5


def class_cv(pipe, x, y, groups, scheme, repeats=REPEATS):
    out = []
    for r in range(repeats):
        if scheme == "group":
            split = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED + r).split(x, y, groups)
        else:
            split = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED + r).split(x, y)
        for train, test in split:
            t = choose_threshold(pipe, x.iloc[train], y[train], groups[train])
            prob = clone(pipe).fit(x.iloc[train], y[train]).predict_proba(x.iloc[test])[:, 1]
            pred = prob >= t
            out.append((f1_score(y[test], pred, zero_division=0), precision_score(y[test], pred, zero_division=0),
                        recall_score(y[test], pred, zero_division=0),
                        roc_auc_score(y[test], prob) if len(set(y[test])) > 1 else np.nan, t))
    return np.array(out)


def classification(df, figs, repeats=REPEATS):
    y = growth_label(df)
    groups = df["group"].to_numpy()
    x = df[DEMOGRAPHIC + [CATEGORY]]
    res = {}
    for name, model in classifiers().items():
        for smote in (False, True):
            for scheme in ("group", "naive"):
                res[(name, str(smote), scheme)] = class_cv(class_pipe(model, smote, DEMOGRAPHIC), x, y, groups, scheme, repeats)
    # Leaky ablation: the label's own inputs added.
    leaky_cols = DEMOGRAPHIC + ["loyalty_score", "purchase_frequency"]
    leaky = class_cv(class_pipe(classifiers()["logistic"], False, leaky_cols), df[leaky_cols + [CATEGORY]], y, groups, "group", repeats)
    # One-split baselines.
    stumps = {}
    for c in DEMOGRAPHIC:
        stump = ImbPipeline([("m", DecisionTreeClassifier(max_depth=1))])
        stumps[c] = float(np.nanmean(class_cv(stump, df[[c]], y, groups, "group", 1)[:, 0]))
    best = max((k for k in res if k[2] == "group"), key=lambda k: np.nanmean(res[k][:, 0]))
    fig, ax = plt.subplots()
    ax.bar(["|".join(k) for k in res if k[2] == "group"], [np.nanmean(res[k][:, 0]) for k in res if k[2] == "group"])
    ax.tick_params(axis="x", labelsize=5, rotation=45)
    figs.save(fig, "classification_f1")
    return {"scores": {"|".join(k): np.nanmean(v, axis=0).tolist() for k, v in res.items()},
            "leaky_f1": float(np.nanmean(leaky[:, 0])), "stumps": stumps, "best": list(best)}


# ---------------------------------------------------------------------------------------------
# Segmentation
# ---------------------------------------------------------------------------------------------
def segmentation(df, figs):
    z = StandardScaler().fit_transform(df[NUMERIC + [TARGET]])
    sweep = {}
    for k in range(2, 11):
        km = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit(z)
        labels = km.labels_
        seeds = [KMeans(n_clusters=k, n_init=10, random_state=SEED + s).fit_predict(z) for s in range(1, 11)]
        rng = np.random.default_rng(SEED + k)
        boots = []
        for _ in range(20):
            rows = rng.choice(len(z), size=len(z), replace=True)
            m = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit(z[rows])
            boots.append(adjusted_rand_score(labels, m.predict(z)))
        gmm = GaussianMixture(n_components=k, n_init=3, reg_covar=1e-2, random_state=SEED).fit(z)
        sweep[k] = {
            "inertia": float(km.inertia_),
            "silhouette": float(silhouette_score(z, labels)),
            "seed_ari": float(np.mean([adjusted_rand_score(labels, s) for s in seeds])),
            "bootstrap_ari": float(np.mean(boots)),
            "gmm_bic": float(gmm.bic(z)),
            "min_share": float(np.bincount(labels).min() / len(z)),
        }
    chosen = max(sweep, key=lambda k: sweep[k]["silhouette"])
    # Structureless reference: Gaussian tables with the same spread.
    rng = np.random.default_rng(SEED)
    null = [silhouette_score(t, KMeans(n_clusters=chosen, n_init=10, random_state=SEED).fit_predict(t))
            for t in (rng.standard_normal(z.shape) for _ in range(20))]
    labels = KMeans(n_clusters=chosen, n_init=10, random_state=SEED).fit_predict(z)
    personas = df.assign(segment=labels).groupby("segment")[NUMERIC + [TARGET]].mean().to_dict()
    fig, ax = plt.subplots()
    ax.plot(list(sweep), [v["silhouette"] for v in sweep.values()], "o-")
    figs.save(fig, "segmentation_silhouette")
    fig, ax = plt.subplots()
    ax.plot(list(sweep), [v["inertia"] for v in sweep.values()], "o-")
    figs.save(fig, "segmentation_elbow")
    fig, ax = plt.subplots()
    ax.scatter(df["annual_income"], df[TARGET], c=labels, s=8)
    figs.save(fig, "segmentation_clusters")
    return {"sweep": sweep, "chosen_k": chosen, "null_silhouette": float(np.mean(null)), "personas": personas}


# ---------------------------------------------------------------------------------------------
# Robustness: noise sweep
# ---------------------------------------------------------------------------------------------
def with_noise(df, columns, level, rng):
    out = df.copy()
    for c in columns:
        noise = rng.standard_normal(df["group"].max() + 1) * level * df[c].std()
        out[c] = df[c] + noise[df["group"].to_numpy()]
    return out


def robustness(df, reg, cls, seg, figs):
    best_model, best_set, _ = reg["best"]
    numeric = NUMERIC if best_set == "behavioural" else DEMOGRAPHIC
    cname, smote, _ = cls["best"]

    def scores(d):
        y = d[TARGET].to_numpy(float)
        g = d["group"].to_numpy()
        ols = cross_validate(regressors(NUMERIC, True)["ols"], d[NUMERIC + [CATEGORY]], y, g, "group", 1)["r2"].mean()
        best = cross_validate(regressors(numeric, True)[best_model], d[numeric + [CATEGORY]], y, g, "group", 1)["r2"].mean()
        label = growth_label(d)
        f1 = np.nanmean(class_cv(class_pipe(classifiers()[cname], smote == "True", DEMOGRAPHIC),
                                 d[DEMOGRAPHIC + [CATEGORY]], label, g, "group", 1)[:, 0])
        z = StandardScaler().fit_transform(d[NUMERIC + [TARGET]])
        sil = silhouette_score(z, KMeans(n_clusters=seg["chosen_k"], n_init=10, random_state=SEED).fit_predict(z))
        return [ols, best, f1, sil]

    clean = scores(df)
    curves = {}
    for on, cols in (("features", NUMERIC), ("target", [TARGET])):
        pts = [[clean]]
        for level in NOISE_LEVELS[1:]:
            pts.append([scores(with_noise(df, cols, level, np.random.default_rng(hash((on, level, r)) % 2**32)))
                        for r in range(3)])
        curves[on] = [np.mean(p, axis=0).tolist() for p in pts]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    for ax, (on, c) in zip(axes, curves.items()):
        ax.plot(NOISE_LEVELS, c)
        ax.set_title(on)
    figs.save(fig, "robustness_noise")
    return curves


# ---------------------------------------------------------------------------------------------
# Drift and retraining simulation
# ---------------------------------------------------------------------------------------------
def synth(n, rng, means, sds, corr, mix, income_scale=1.0, slope=0.0, young=0.0):
    regions = np.array(sorted(mix))
    cov = np.array([[1, corr], [corr, 1]])
    z = rng.multivariate_normal([0, 0], cov, size=n)
    age = means["age"] + sds["age"] * z[:, 0]
    young_rows = rng.random(n) < young
    age[young_rows] = 22
    income = (means["annual_income"] + sds["annual_income"] * z[:, 1]) * income_scale
    spend = means[TARGET] + (sds[TARGET] / sds["annual_income"]) * (1 + slope) * (income - means["annual_income"])
    spend = spend + rng.normal(0, 0.1 * sds[TARGET], n) - 100 * young_rows
    p = np.array([mix[r] for r in regions])
    return pd.DataFrame({"age": age, "annual_income": income, TARGET: spend,
                         CATEGORY: rng.choice(regions, size=n, p=p / p.sum())})


def psi(ref, cur, bins=10):
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    r = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1) / len(cur)
    r, c = np.maximum(r, 1e-4), np.maximum(c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def drift(df, figs, seeds=30, batches=12):
    means = df[["age", "annual_income", TARGET]].mean()
    sds = df[["age", "annual_income", TARGET]].std()
    corr = df["age"].corr(df["annual_income"])
    mix = df[CATEGORY].value_counts(normalize=True).to_dict()
    feats = ["age", "annual_income"]

    def fit(d):
        return Pipeline([("enc", ColumnTransformer([("n", "passthrough", feats),
                                                    ("c", OneHotEncoder(drop="first", handle_unknown="ignore"), [CATEGORY])])),
                         ("m", LinearRegression())]).fit(d[feats + [CATEGORY]], d[TARGET])

    def rmse(m, d):
        return mean_squared_error(d[TARGET], m.predict(d[feats + [CATEGORY]])) ** 0.5

    pooled = []
    for s in range(seeds):
        rng = np.random.default_rng(SEED * 1000 + s)
        ref = synth(600, rng, means, sds, corr, mix)
        bs = [synth(200, rng, means, sds, corr, mix, 1 + 0.02 * t, 0.03 * t, 0.01 * t) for t in range(batches)]
        nulls = [synth(200, rng, means, sds, corr, mix) for _ in range(batches)]
        null_psi = [max(psi(ref[c], b[c]) for c in feats) for b in nulls]
        oof = np.zeros(len(ref))
        for train, test in KFold(FOLDS, shuffle=True, random_state=s).split(ref):
            oof[test] = fit(ref.iloc[train]).predict(ref.iloc[test][feats + [CATEGORY]])
        ref_rmse = mean_squared_error(ref[TARGET], oof) ** 0.5
        out = []
        for policy in ("never", "always", "alarm"):
            model, trained, errs = fit(ref), ref, []
            for t, b in enumerate(bs):
                errs.append(rmse(model, b))
                if t == 0:
                    continue
                alarm = max(psi(trained[c], b[c]) for c in feats) > 0.2 or errs[t - 1] > 1.5 * ref_rmse
                if policy == "always" or (policy == "alarm" and alarm):
                    trained = pd.concat(bs[max(0, t - 2):t])
                    model = fit(trained)
            out.append(float(np.sqrt(np.mean(np.square(errs)))))
        out.append(float(np.quantile(null_psi, 0.95)))
        pooled.append(out)
    pooled = np.array(pooled)
    fig, ax = plt.subplots()
    ax.boxplot(pooled[:, :3])
    figs.save(fig, "drift_policies")
    return {"pooled_rmse_mean": pooled[:, :3].mean(axis=0).tolist(), "null_psi_p95": float(pooled[:, 3].mean())}


# ---------------------------------------------------------------------------------------------
class Figures:
    def __init__(self, out):
        self.dir = out / "figures"
        self.dir.mkdir(parents=True, exist_ok=True)

    def save(self, fig, name):
        fig.tight_layout()
        fig.savefig(self.dir / f"{name}.png", dpi=100)
        plt.close(fig)


def eda_figures(df, e, figs):
    fig, axes = plt.subplots(1, 5, figsize=(14, 3))
    for ax, c in zip(axes, NUMERIC + [TARGET]):
        ax.hist(df[c], bins=15)
        ax.set_title(c, fontsize=8)
    figs.save(fig, "eda_histograms")
    fig, ax = plt.subplots()
    im = ax.imshow(pd.DataFrame(e["pearson"]).to_numpy(), vmin=-1, vmax=1, cmap="RdBu")
    fig.colorbar(im)
    figs.save(fig, "eda_correlation")
    fig, ax = plt.subplots()
    ax.bar(list(e["vif"]), list(e["vif"].values()))
    figs.save(fig, "eda_vif")
    fig, axes = plt.subplots(1, 4, figsize=(12, 3))
    for ax, c in zip(axes, NUMERIC):
        ax.scatter(df[c], df[TARGET], s=6)
    figs.save(fig, "eda_scatter")
    fig, ax = plt.subplots()
    df.boxplot(column=TARGET, by=CATEGORY, ax=ax)
    figs.save(fig, "eda_target_by_category")


def main():
    # Unknown levels in a test fold (the sparse region) are expected; keep stderr quiet.
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "data/customer_purchasing_behaviors.csv"))
    ap.add_argument("--out", default=os.environ.get("PEER_OUT", "target/peer-out"))
    args = ap.parse_args()
    out = Path(args.out)
    figs = Figures(out)
    t = {}
    start = time.perf_counter()
    df = load(args.data)
    e = eda(df)
    eda_figures(df, e, figs)
    t["eda"] = time.perf_counter() - start
    reg = regression(df, figs)
    t["regression"] = time.perf_counter() - start - sum(t.values())
    cls = classification(df, figs)
    t["classification"] = time.perf_counter() - start - sum(t.values())
    seg = segmentation(df, figs)
    t["segmentation"] = time.perf_counter() - start - sum(t.values())
    rob = robustness(df, reg, cls, seg, figs)
    t["robustness"] = time.perf_counter() - start - sum(t.values())
    dr = drift(df, figs)
    t["drift"] = time.perf_counter() - start - sum(t.values())
    findings = {"eda": e, "regression": reg, "classification": cls, "segmentation": seg,
                "robustness": rob, "drift": dr, "stage_seconds": t}
    (out / "findings.json").write_text(json.dumps(jsonable(findings), indent=1, default=str))


def jsonable(x):
    """Tuple keys (pandas' multi-level aggregates) as "a|b" strings, recursively."""
    if isinstance(x, dict):
        return {"|".join(map(str, k)) if isinstance(k, tuple) else k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x


if __name__ == "__main__":
    main()
