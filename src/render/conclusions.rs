//! Conclusions & Future Considerations, derived from findings by stated rules.
//!
//! Each rule is a small function: a condition on the findings (written out in [`Conclusion::rule`]
//! so a reader can check it) and, when it holds, a sentence built from the numbers. Nothing here
//! is typed by hand about *this* data: on another table other rules fire. Rules are evaluated in a
//! fixed order and grouped by [`Kind`].

use serde::Serialize;

use serde_json::Value;

use super::format::{num, pct};
use super::scorecard::{self, Scorecard};
use crate::findings::Findings;

/// Share of duplicate rows from which duplicates are called out.
pub const DUPLICATE_SHARE: f64 = 0.10;
/// Fewer distinct rows than this makes every estimate fragile.
pub const SMALL_SAMPLE: usize = 100;
/// A category level with a smaller share of rows is too sparse to conclude about.
pub const SPARSE_SHARE: f64 = 0.05;

/// What kind of statement a conclusion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// What the data supports.
    Supported,
    /// What the data cannot support.
    NotSupported,
    /// Which model or segmentation to use, and why.
    Recommendation,
    /// What a reader must keep in mind when reading the numbers.
    Caveat,
    /// What to do next.
    Future,
}

/// One derived conclusion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conclusion {
    /// Stable rule id, for example `duplicates`.
    pub id: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// The rule's condition in words, with its threshold.
    pub rule: String,
    /// The conclusion, with the numbers that triggered it.
    pub text: String,
}

/// A VIF at or above this makes individual linear coefficients uninterpretable.
pub const HIGH_VIF: f64 = 10.0;

/// Applies every rule, in order, and returns the conclusions whose condition holds.
///
/// Rules about the analyses read the serialised findings by field path (as the scorecard does),
/// so a rule whose analysis has not produced its numbers simply does not fire.
pub fn derive(f: &Findings) -> Vec<Conclusion> {
    let v = serde_json::to_value(f).expect("findings always serialise");
    let card = scorecard::build(f);
    let mut out = Vec::new();
    duplicates(f, &mut out);
    small_sample(f, &mut out);
    sparse_levels(f, &mut out);
    targets(&card, &mut out);
    multicollinearity(&v, &mut out);
    model_choice(&v, &mut out);
    out.sort_by_key(|c| c.kind);
    out
}

/// One conclusion per measured success target: supported when met honestly, not supported
/// otherwise; a naive score that meets a target the honest one misses is called out.
fn targets(card: &Scorecard, out: &mut Vec<Conclusion>) {
    for t in &card.targets {
        let Some(h) = &t.honest else { continue };
        let naive_only = t.naive.as_ref().is_some_and(|n| n.met) && !h.met;
        let text = if h.met {
            format!(
                "{} — yes, within the target ({}): {} reaches {} {} ({}).",
                t.question,
                t.goal,
                h.subject,
                t.metric,
                num(h.value, Some(3)),
                h.scheme
            )
        } else {
            format!(
                "{} — not to the standard asked ({}): the best honest result is {} {} ({}, {}).{}",
                t.question,
                t.goal,
                t.metric,
                num(h.value, Some(3)),
                h.subject,
                h.scheme,
                if naive_only {
                    " The naive score would claim the target: that claim rests on copies of test rows in training and must not be reported."
                } else {
                    ""
                }
            )
        };
        out.push(Conclusion {
            id: t.area,
            kind: if h.met {
                Kind::Supported
            } else {
                Kind::NotSupported
            },
            rule: format!(
                "{} target {} on the honest measurement",
                t.area,
                if h.met { "met" } else { "missed" }
            ),
            text,
        });
    }
}

fn multicollinearity(v: &Value, out: &mut Vec<Conclusion>) {
    let Some(vifs) = v.pointer("/eda/collinearity/vif").and_then(Value::as_array) else {
        return;
    };
    let worst = vifs
        .iter()
        .filter_map(|x| Some((x.get("column")?.as_str()?, x.get("vif")?.as_f64()?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let Some((col, vif)) = worst else { return };
    if vif < HIGH_VIF {
        return;
    }
    // The bootstrap's most unstable OLS coefficient, when the regression reported one.
    let flip = v
        .pointer("/regression/bootstrap/coefficients")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .filter_map(|c| {
                    Some((
                        c.get("column")?.as_str()?,
                        c.pointer("/ols/sign_flip_share")?.as_f64()?,
                    ))
                })
                .max_by(|a, b| a.1.total_cmp(&b.1))
        });
    let mut text = format!(
        "The predictors are nearly collinear (largest VIF {} for `{col}`): a linear model can predict well while its \
         individual coefficients are not interpretable, and importance is shared among correlated features.",
        num(vif, Some(1))
    );
    if let Some((c, share)) = flip {
        if share > 0.0 {
            text.push_str(&format!(
                " In the bootstrap, the OLS coefficient of `{c}` changes sign in {} of resamples; read the penalised (ridge) coefficients, or none.",
                pct(share, 0)
            ));
        }
    }
    out.push(Conclusion {
        id: "multicollinearity",
        kind: Kind::Caveat,
        rule: format!("largest VIF ≥ {}", num(HIGH_VIF, Some(0))),
        text,
    });
}

/// Parsimony: among group-aware regression scores, the simplest model (in the analysis' own
/// order, simplest first) whose mean R² is within one fold standard deviation of the best.
fn model_choice(v: &Value, out: &mut Vec<Conclusion>) {
    let Some(scores) = v.pointer("/regression/scores").and_then(Value::as_array) else {
        return;
    };
    let best_set = v
        .pointer("/regression/best/feature_set")
        .and_then(Value::as_str);
    let (Some(best_model), Some(set)) = (
        v.pointer("/regression/best/model").and_then(Value::as_str),
        best_set,
    ) else {
        return;
    };
    let grouped: Vec<(&str, f64, f64)> = scores
        .iter()
        .filter(|s| {
            s.get("scheme").and_then(Value::as_str) != Some("k_fold")
                && s.get("feature_set").and_then(Value::as_str) == Some(set)
        })
        .filter_map(|s| {
            Some((
                s.get("model")?.as_str()?,
                s.pointer("/r2/mean")?.as_f64()?,
                s.pointer("/r2/sd")?.as_f64()?,
            ))
        })
        .collect();
    let Some(&(_, best_r2, best_sd)) = grouped.iter().find(|g| g.0 == best_model) else {
        return;
    };
    let Some(&(simple, r2, _)) = grouped.iter().find(|g| g.1 >= best_r2 - best_sd) else {
        return;
    };
    let text = if simple == best_model {
        format!(
            "Use {} on the {} features for spend: it has the best group-aware R² ({}), and no simpler model comes within one fold standard deviation ({}).",
            simple.replace('_', " "),
            set,
            num(best_r2, Some(3)),
            num(best_sd, Some(3))
        )
    } else {
        format!(
            "Use {} on the {} features for spend: its group-aware R² ({}) is within one fold standard deviation ({}) of the best model, {} ({}), and it is simpler to explain and to maintain.",
            simple.replace('_', " "),
            set,
            num(r2, Some(3)),
            num(best_sd, Some(3)),
            best_model.replace('_', " "),
            num(best_r2, Some(3))
        )
    };
    out.push(Conclusion {
        id: "model_choice",
        kind: Kind::Recommendation,
        rule: "simplest model within one fold sd of the best group-aware R²".into(),
        text,
    });
}

fn duplicates(f: &Findings, out: &mut Vec<Conclusion>) {
    let d = &f.dataset;
    if d.rows == 0 {
        return;
    }
    let share = d.duplicate_rows as f64 / d.rows as f64;
    if share >= DUPLICATE_SHARE {
        out.push(Conclusion {
            id: "duplicates",
            kind: Kind::Caveat,
            rule: format!("duplicate rows ≥ {} of all rows", pct(DUPLICATE_SHARE, 0)),
            text: format!(
                "{} of {} rows ({}) repeat another row except for the id, so the table holds only {} distinct customers \
                 (the largest group has {} copies). A model validated with folds that put copies on both sides is \
                 graded on rows it has memorised; every score here therefore uses group-aware folds, and the naive \
                 figures are shown only to measure how much the copies would flatter the result.",
                num(d.duplicate_rows as f64, None),
                num(d.rows as f64, None),
                pct(share, 1),
                num(d.distinct_rows as f64, None),
                d.largest_group
            ),
        });
    }
}

fn small_sample(f: &Findings, out: &mut Vec<Conclusion>) {
    let d = &f.dataset;
    if d.distinct_rows < SMALL_SAMPLE {
        out.push(Conclusion {
            id: "small_sample",
            kind: Kind::Future,
            rule: format!("fewer than {SMALL_SAMPLE} distinct customers"),
            text: format!(
                "With {} distinct customers, differences between models smaller than their fold-to-fold spread are \
                 noise. Collecting more (distinct) customers is worth more than a more elaborate model.",
                d.distinct_rows
            ),
        });
    }
}

fn sparse_levels(f: &Findings, out: &mut Vec<Conclusion>) {
    let d = &f.dataset;
    if d.rows == 0 {
        return;
    }
    for (level, n) in &d.category_counts {
        let share = *n as f64 / d.rows as f64;
        if share < SPARSE_SHARE {
            out.push(Conclusion {
                id: "sparse_level",
                kind: Kind::NotSupported,
                rule: format!("a {} level holds < {} of rows", f.provenance.settings.roles.category, pct(SPARSE_SHARE, 0)),
                text: format!(
                    "{level} has only {n} customers ({}): no statement specific to {level} is supported by this data; \
                     models that use the {} column learn little more than its mean.",
                    pct(share, 1),
                    f.provenance.settings.roles.category
                ),
            });
        }
    }
}
