//! The Results scorecard: each success target of the mission against the measured value,
//! honest (group-aware validation, honest features, distinct rows) and naive (shuffled k-fold,
//! all rows), met or not. The targets are constants here, stated once:
//!
//! - **Spend regression**: R² > [`REG_R2`] *and* RMSE "well below" the target's standard
//!   deviation, taken as RMSE < [`REG_RMSE_RATIO`] × sd (R² > 0.80 alone allows RMSE up to
//!   0.45 sd; the ratio is reported beside it so a reader sees both).
//! - **Growth-potential classification**: F1 > [`CLS_F1`] with precision > [`CLS_PRECISION`].
//! - **Segmentation**: silhouette > [`SEG_SILHOUETTE`]; the honest value is on distinct rows
//!   (copies of a row sit at distance 0 from each other and inflate the silhouette).

use serde::Serialize;
use serde_json::Value;

use crate::findings::Findings;

/// Regression target: R² must exceed this.
pub const REG_R2: f64 = 0.80;
/// Regression target: RMSE must be at most this multiple of the target's standard deviation.
pub const REG_RMSE_RATIO: f64 = 0.5;
/// Classification target: F1 must exceed this.
pub const CLS_F1: f64 = 0.80;
/// Classification target: precision must exceed this.
pub const CLS_PRECISION: f64 = 0.75;
/// Segmentation target: silhouette must exceed this.
pub const SEG_SILHOUETTE: f64 = 0.55;

/// One measured value against a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// What was measured (model and feature set, or k).
    pub subject: String,
    /// How it was measured (CV scheme, folds × repeats, rows).
    pub scheme: String,
    /// The headline metric (R², F1, silhouette).
    pub value: f64,
    /// Its spread across folds, when there is one.
    pub spread: Option<f64>,
    /// The second condition's metric (RMSE / sd, precision), when the target has one.
    pub second: Option<f64>,
    /// Whether every condition of the target holds.
    pub met: bool,
}

/// One success target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// `regression`, `classification` or `segmentation`.
    pub area: &'static str,
    /// The business question in a few words.
    pub question: &'static str,
    /// The target as stated, for example `R² > 0.80 and RMSE < 0.5 × sd`.
    pub goal: String,
    /// Name of the headline metric.
    pub metric: &'static str,
    /// Name of the second condition's metric, if any.
    pub second_metric: Option<&'static str>,
    /// Honest measurement (`None` until the analysis has run).
    pub honest: Option<Measure>,
    /// Naive measurement, shown to make the gap visible.
    pub naive: Option<Measure>,
}

/// All targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// The targets, in section order.
    pub targets: Vec<Target>,
    /// How many targets have an honest measurement.
    pub measured: usize,
    /// How many targets are met by the honest measurement.
    pub met: usize,
}

/// Builds the scorecard from findings.
///
/// The measured values are read from the *serialised* findings (the same JSON as
/// `report/findings.json`), by field path: the scorecard therefore reports exactly what the
/// analyses wrote, and a target whose analysis has not produced a value shows as not measured
/// instead of failing the build. Thresholds come from the analyses' settings where they define
/// them (`regression.success_r2`, …), else from the constants above.
pub fn build(f: &Findings) -> Scorecard {
    from_value(&serde_json::to_value(f).expect("findings always serialise"))
}

/// Builds the scorecard from serialised findings (the content of `findings.json`).
pub fn from_value(v: &Value) -> Scorecard {
    let targets = vec![regression(v), classification(v), segmentation(v)];
    let measured = targets.iter().filter(|t| t.honest.is_some()).count();
    let met = targets
        .iter()
        .filter(|t| t.honest.as_ref().is_some_and(|m| m.met))
        .count();
    Scorecard {
        targets,
        measured,
        met,
    }
}

/// The value at a dotted path (`regression.best.r2.mean`); array elements by index.
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(v, |cur, key| match key.parse::<usize>() {
            Ok(i) if cur.is_array() => cur.get(i),
            _ => cur.get(key),
        })
}

fn num(v: &Value, path: &str) -> Option<f64> {
    at(v, path).and_then(Value::as_f64)
}

fn text(v: &Value, path: &str) -> Option<String> {
    at(v, path).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

/// `random_forest` → `random forest`.
fn words(s: &str) -> String {
    s.replace('_', " ")
}

fn regression(v: &Value) -> Target {
    let r2_t = num(v, "provenance.settings.regression.success_r2").unwrap_or(REG_R2);
    let ratio_t =
        num(v, "provenance.settings.regression.success_rmse_over_sd").unwrap_or(REG_RMSE_RATIO);
    let mut t = Target {
        area: "regression",
        question: "How much will a customer spend?",
        goal: format!("R² > {r2_t:.2} and RMSE < {ratio_t} × sd(spend)"),
        metric: "R²",
        second_metric: Some("RMSE / sd"),
        honest: None,
        naive: None,
    };
    let (Some(model), Some(set)) = (
        text(v, "regression.best.model"),
        text(v, "regression.best.feature_set"),
    ) else {
        return t;
    };
    let subject = format!("{} on {} features", words(&model), words(&set));
    if let (Some(r2), Some(ratio)) = (
        num(v, "regression.best.r2.mean"),
        num(v, "regression.best.rmse_over_sd.mean"),
    ) {
        t.honest = Some(Measure {
            subject: subject.clone(),
            scheme: text(v, "regression.best.scheme").unwrap_or_default(),
            value: r2,
            spread: num(v, "regression.best.r2.sd"),
            second: Some(ratio),
            met: r2 > r2_t && ratio < ratio_t,
        });
    }
    // The naive scheme's scores of the same model and feature set.
    let naive = at(v, "regression.scores")
        .and_then(Value::as_array)
        .and_then(|scores| {
            scores.iter().find(|s| {
                text(s, "model").as_deref() == Some(&model)
                    && text(s, "feature_set").as_deref() == Some(&set)
                    && text(s, "scheme").as_deref() == Some("k_fold")
            })
        });
    if let Some(s) = naive {
        if let (Some(r2), Some(ratio)) = (num(s, "r2.mean"), num(s, "rmse_over_sd.mean")) {
            t.naive = Some(Measure {
                subject,
                scheme: text(s, "scheme_description").unwrap_or_else(|| "shuffled k-fold".into()),
                value: r2,
                spread: num(s, "r2.sd"),
                second: Some(ratio),
                met: r2 > r2_t && ratio < ratio_t,
            });
        }
    }
    t
}

fn classification(v: &Value) -> Target {
    let f1_t = num(v, "provenance.settings.classification.target_f1").unwrap_or(CLS_F1);
    let p_t =
        num(v, "provenance.settings.classification.target_precision").unwrap_or(CLS_PRECISION);
    let mut t = Target {
        area: "classification",
        question: "Which customers have growth potential?",
        goal: format!("F1 > {f1_t:.2} with precision > {p_t:.2}"),
        metric: "F1",
        second_metric: Some("precision"),
        honest: None,
        naive: None,
    };
    let (Some(model), Some(smote)) = (
        text(v, "classification.best.model"),
        at(v, "classification.best.smote").and_then(Value::as_bool),
    ) else {
        return t;
    };
    let features = at(v, "classification.honest_features")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let subject = format!(
        "{}{} on {}",
        words(&model),
        if smote { " + SMOTE" } else { "" },
        features
    );
    let best_index = num(v, "classification.best.result_index").map(|i| i as usize);
    let best = best_index.and_then(|i| at(v, "classification.results").and_then(|r| r.get(i)));
    if let (Some(f1), Some(p)) = (
        num(v, "classification.targets.f1"),
        num(v, "classification.targets.precision"),
    ) {
        t.honest = Some(Measure {
            subject: subject.clone(),
            scheme: text(v, "classification.protocol.default_scheme_description")
                .unwrap_or_default(),
            value: f1,
            spread: best.and_then(|b| num(b, "at_chosen.f1.sd")),
            second: Some(p),
            met: f1 > f1_t && p > p_t,
        });
    }
    // The naive scheme's result of the same configuration.
    let naive = at(v, "classification.results")
        .and_then(Value::as_array)
        .and_then(|rs| {
            rs.iter().find(|r| {
                text(r, "model").as_deref() == Some(&model)
                    && at(r, "smote").and_then(Value::as_bool) == Some(smote)
                    && best.is_some_and(|b| at(r, "features") == at(b, "features"))
                    && text(r, "scheme") != best.and_then(|b| text(b, "scheme"))
            })
        });
    if let Some(r) = naive {
        if let (Some(f1), Some(p)) = (
            num(r, "at_chosen.f1.mean"),
            num(r, "at_chosen.precision.mean"),
        ) {
            t.naive = Some(Measure {
                subject,
                scheme: text(r, "scheme_description").unwrap_or_default(),
                value: f1,
                spread: num(r, "at_chosen.f1.sd"),
                second: Some(p),
                met: f1 > f1_t && p > p_t,
            });
        }
    }
    t
}

fn segmentation(v: &Value) -> Target {
    let s_t = num(v, "segmentation.silhouette_target")
        .filter(|x| *x > 0.0)
        .unwrap_or(SEG_SILHOUETTE);
    let mut t = Target {
        area: "segmentation",
        question: "Which customers behave alike?",
        goal: format!("silhouette > {s_t:.2}"),
        metric: "silhouette",
        second_metric: None,
        honest: None,
        naive: None,
    };
    let k = num(v, "segmentation.chosen_k").filter(|k| *k >= 2.0);
    let Some(k) = k else { return t };
    let subject = format!("k-means, k = {k}");
    if let Some(s) = num(v, "segmentation.chosen_silhouette_distinct") {
        t.honest = Some(Measure {
            subject: subject.clone(),
            scheme: text(v, "segmentation.silhouette_distinct_rows")
                .unwrap_or_else(|| "distinct rows".into()),
            value: s,
            spread: None,
            second: None,
            met: s > s_t,
        });
    }
    if let Some(s) = num(v, "segmentation.chosen_silhouette_all") {
        t.naive = Some(Measure {
            subject,
            scheme: text(v, "segmentation.silhouette_rows").unwrap_or_else(|| "all rows".into()),
            value: s,
            spread: None,
            second: None,
            met: s > s_t,
        });
    }
    t
}
