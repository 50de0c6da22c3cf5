//! Conclusions & Future Considerations, derived from findings by stated rules.
//!
//! Each rule is a small function: a condition on the findings (written out in [`Conclusion::rule`]
//! so a reader can check it) and, when it holds, a sentence built from the numbers. Nothing here
//! is typed by hand about *this* data: on another table other rules fire. Rules are evaluated in a
//! fixed order and grouped by [`Kind`].

use serde::Serialize;

use super::format::{num, pct};
use super::scorecard::{self, Scorecard};
use crate::analysis::segmentation::null::NULL_PERCENTILE_TAIL;
use crate::findings::Findings;
use crate::ml::cv::Scheme;
use crate::targets::{BaselineKind, Verdict, serde_name};

/// Share of duplicate rows from which duplicates are called out.
pub const DUPLICATE_SHARE: f64 = 0.10;
/// Fewer distinct rows than this makes every estimate fragile.
pub const SMALL_SAMPLE: usize = 100;
/// Share of variance on the first principal axis from which the clustered table is called
/// essentially one-dimensional.
pub const ONE_DIMENSIONAL_SHARE: f64 = 0.90;

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

/// Applies every rule, in order, and returns the conclusions whose condition holds. Rules read
/// the typed findings; a rule whose analysis produced no numbers does not fire. Thresholds
/// that a setting defines (VIF, sparse share) are read from the run's settings.
pub fn derive(f: &Findings) -> Vec<Conclusion> {
    let card = scorecard::build(f);
    let mut out = Vec::new();
    duplicates(f, &mut out);
    small_sample(f, &mut out);
    sparse_levels(f, &mut out);
    targets(&card, &mut out);
    spend_one_column(f, &mut out);
    label_is_a_threshold(f, &mut out);
    segments_vs_null(f, &mut out);
    multicollinearity(f, &mut out);
    model_choice(f, &mut out);
    out.sort_by_key(|c| c.kind);
    out
}

/// One conclusion per measured success target, judged in two steps: supported when met honestly
/// *and* its baseline misses (informative), not supported when missed; a target met only as well
/// as its baseline is a caveat, not a finding. A naive score that meets a target the honest one
/// misses is called out.
fn targets(card: &Scorecard, out: &mut Vec<Conclusion>) {
    for t in &card.targets {
        let Some(h) = &t.honest else { continue };
        let naive_only = t.naive.as_ref().is_some_and(|n| n.met) && !h.met;
        let baseline = t.baseline.as_ref().map(|b| {
            format!(
                "{} ({}{} {}, {})",
                b.subject,
                if b.kind == BaselineKind::NullTables {
                    "mean "
                } else {
                    ""
                },
                t.metric,
                num(b.value, Some(3)),
                b.scheme
            )
        });
        let text = match t.verdict {
            Verdict::MetInformative => format!(
                "{} — yes, within the target ({}): {} reaches {} {} ({}), and the simplest competitor misses it: {}.",
                t.question,
                t.goal,
                h.subject,
                t.metric,
                num(h.value, Some(3)),
                h.scheme,
                baseline.unwrap_or_default()
            ),
            Verdict::MetUninformative => format!(
                "{} — the target ({}) is met, {} reaching {} {} ({}), but {}: {}. The number is true; it does not show that the model found more than that.",
                t.question,
                t.goal,
                h.subject,
                t.metric,
                num(h.value, Some(3)),
                h.scheme,
                t.verdict_text.trim_start_matches("met, but "),
                baseline.unwrap_or_default()
            ),
            Verdict::MetUnjudged => format!(
                "{} — yes, within the target ({}): {} reaches {} {} ({}); no baseline could be measured, so whether a trivial rule does as well is unknown.",
                t.question,
                t.goal,
                h.subject,
                t.metric,
                num(h.value, Some(3)),
                h.scheme
            ),
            _ => format!(
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
            ),
        };
        out.push(Conclusion {
            id: t.area,
            kind: match t.verdict {
                Verdict::MetInformative | Verdict::MetUnjudged => Kind::Supported,
                Verdict::MetUninformative => Kind::Caveat,
                _ => Kind::NotSupported,
            },
            rule: format!(
                "{} target on the honest measurement: {}",
                t.area, t.verdict_text
            ),
            text,
        });
    }
}

/// Spend: names the best single column and how close it comes to the headline.
fn spend_one_column(f: &Findings, out: &mut Vec<Conclusion>) {
    let b = &f.regression.baselines;
    let (Some(h), Some(i)) = (&b.headline, b.best_single_any) else {
        return;
    };
    let c = &b.single_column[i];
    if !c.meets {
        return;
    }
    let behavioural = f
        .regression
        .success
        .iter()
        .find(|s| s.feature_set != h.feature_set);
    out.push(Conclusion {
        id: "spend_one_column",
        kind: Kind::Caveat,
        rule: "one numeric column alone meets the spend target under group-aware CV".into(),
        text: format!(
            "Spend on this table is essentially one column away: OLS on `{}` alone reaches R² {} ± {} (n = {} folds), against {} on the {} set (the headline, R² {}){}. \
             The multi-column models add {} of R² at most; what they add is the spread between columns that are all near-copies of one factor.",
            c.column,
            num(c.r2.mean, Some(3)),
            num(c.r2.sd, Some(3)),
            c.r2.n,
            h.model.label(),
            serde_name(&h.feature_set),
            num(h.r2.mean, Some(3)),
            behavioural
                .map(|s| format!(
                    " and {} on the {} set (R² {})",
                    s.model.label(),
                    serde_name(&s.feature_set),
                    num(s.r2, Some(3))
                ))
                .unwrap_or_default(),
            num(
                behavioural.map_or(h.r2.mean, |s| s.r2.max(h.r2.mean)) - c.r2.mean,
                Some(3)
            )
        ),
    });
}

/// Growth potential: when one column's threshold reproduces the label on (almost) every row, say
/// what the label is on this table.
fn label_is_a_threshold(f: &Findings, out: &mut Vec<Conclusion>) {
    let b = &f.classification.baselines;
    if b.label_is_threshold_of.is_empty() {
        return;
    }
    let rules: Vec<String> = b
        .label_is_threshold_of
        .iter()
        .filter_map(|&i| b.rules.get(i))
        .map(|r| {
            format!(
                "`{} {} {}`{} ({} of {} rows misclassified)",
                r.column,
                if r.whole_table.positive_below {
                    "≤"
                } else {
                    ">"
                },
                num(r.whole_table.below_max, None),
                if r.unit.is_empty() {
                    String::new()
                } else {
                    format!(" {}", r.unit)
                },
                r.misclassified,
                r.rows
            )
        })
        .collect();
    let exact = b
        .label_is_threshold_of
        .iter()
        .all(|&i| b.rules.get(i).is_some_and(|r| r.misclassified == 0));
    out.push(Conclusion {
        id: "label_is_a_threshold",
        kind: Kind::Caveat,
        rule: format!(
            "a one-split rule on one honest column misclassifies at most {} of the rows on the whole table",
            pct(b.almost_share, 0)
        ),
        text: format!(
            "On this table the growth-potential label is {}a threshold of one column: it equals {}. \
             \"Growth potential\" here means {}; a classifier that meets the target may only have found that cut, \
             so its F1 and ROC-AUC measure how well it places one threshold, not how well it reads customers.",
            if exact { "" } else { "almost " },
            rules.join(" and "),
            b.label_is_threshold_of
                .iter()
                .filter_map(|&i| b.rules.get(i))
                .map(|r| format!(
                    "{} {}",
                    if r.whole_table.positive_below { "low" } else { "high" },
                    r.column.replace('_', " ")
                ))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    });
}

/// Segments: the null reference, the effective dimensionality and what the k rules say.
fn segments_vs_null(f: &Findings, out: &mut Vec<Conclusion>) {
    let s = &f.segmentation;
    let Some(nr) = &s.null else { return };
    let Some(at) = &nr.at_chosen else { return };
    if nr.pc1_share >= ONE_DIMENSIONAL_SHARE {
        out.push(Conclusion {
            id: "one_dimensional",
            kind: Kind::Caveat,
            rule: format!(
                "the first principal axis holds ≥ {} of the clustered features' variance",
                pct(ONE_DIMENSIONAL_SHARE, 0)
            ),
            text: format!(
                "The clustered table is essentially one-dimensional: the first principal axis holds {} of the variance of the {} standardised features (distinct rows). \
                 Segments on it are slices of one axis, not groups that differ in kind; the k = {} personas are a cut along that axis.",
                pct(nr.pc1_share, 1),
                s.features.len(),
                s.chosen_k
            ),
        });
    }
    let mixture_k = s.mixture.as_ref().and_then(|m| m.bic_best_k);
    let rules = format!(
        "the k rules: distinct-row silhouette {}, inertia elbow {}, Gaussian-mixture BIC {}, gap statistic {}",
        s.chosen_k,
        s.knee_k.map_or("none".into(), |k| k.to_string()),
        mixture_k.map_or("none".into(), |k| k.to_string()),
        nr.gap_k.map_or("none in range".into(), |k| if k == 1 {
            "1 (no cluster structure)".to_string()
        } else {
            k.to_string()
        })
    );
    let beats = at.observed_percentile >= 1.0 - NULL_PERCENTILE_TAIL;
    out.push(Conclusion {
        id: "segments_vs_null",
        kind: if beats && !nr.null_reaches_target {
            Kind::Supported
        } else {
            Kind::Caveat
        },
        rule: format!(
            "observed silhouette at the chosen k against {} structureless tables: above their {} percentile or not",
            nr.tables,
            pct(1.0 - NULL_PERCENTILE_TAIL, 0)
        ),
        text: format!(
            "{} At k = {} the observed distinct-row silhouette {} sits above {} of {} structureless tables with the same spread (their mean {}, 90% range {}–{}; {} of them exceed the {} target). {}",
            if beats {
                "The segments are more separated than structureless data with the same spread."
            } else {
                "The segments are no more separated than structureless data with the same spread: the silhouette measures the table's shape, not clusters."
            },
            s.chosen_k,
            num(at.observed_silhouette, Some(3)),
            pct(at.observed_percentile, 0),
            nr.tables,
            num(at.null_mean, Some(3)),
            num(at.null_p05, Some(3)),
            num(at.null_p95, Some(3)),
            pct(at.null_share_meeting_target, 0),
            num(s.silhouette_target, Some(2)),
            {
                let ks = [Some(s.chosen_k), s.knee_k, mixture_k, nr.gap_k];
                let agree = ks.iter().all(|k| *k == Some(s.chosen_k));
                if agree {
                    format!("All k rules agree ({rules}).")
                } else {
                    format!("The k rules disagree — {rules} — so the number of segments is not a property of the data.")
                }
            }
        ),
    });
}

fn multicollinearity(f: &Findings, out: &mut Vec<Conclusion>) {
    let high_vif = f.provenance.settings.eda.high_vif;
    let worst = f
        .eda
        .collinearity
        .vif
        .iter()
        .filter(|v| !v.vif.is_nan())
        .max_by(|a, b| a.vif.total_cmp(&b.vif));
    let Some(worst) = worst else { return };
    if worst.vif < high_vif {
        return;
    }
    // The bootstrap's most unstable OLS coefficient, when the regression reported one.
    let flip = f
        .regression
        .bootstrap
        .coefficients
        .iter()
        .filter(|c| !c.ols.sign_flip_share.is_nan())
        .max_by(|a, b| a.ols.sign_flip_share.total_cmp(&b.ols.sign_flip_share));
    let mut text = format!(
        "The predictors are nearly collinear (largest VIF {} for `{}`): a linear model can predict well while its \
         individual coefficients are not interpretable, and importance is shared among correlated features.",
        num(worst.vif, Some(1)),
        worst.column
    );
    if let Some(c) = flip
        && c.ols.sign_flip_share > 0.0
    {
        text.push_str(&format!(
                " In the bootstrap, the OLS coefficient of `{}` changes sign in {} of resamples; read the penalised (ridge) coefficients, or none.",
                c.column,
                pct(c.ols.sign_flip_share, 0)
            ));
    }
    out.push(Conclusion {
        id: "multicollinearity",
        kind: Kind::Caveat,
        rule: format!("largest VIF ≥ {}", num(high_vif, Some(0))),
        text,
    });
}

/// Parsimony: among group-aware regression scores, the simplest model (in the analysis' own
/// order, simplest first) whose mean R² is within one fold standard deviation of the best.
fn model_choice(f: &Findings, out: &mut Vec<Conclusion>) {
    let r = &f.regression;
    let (Some(best_model), Some(set)) = (r.best.model, r.best.feature_set) else {
        return;
    };
    let grouped: Vec<(crate::ml::regressors::ModelKind, f64, f64)> = r
        .scores
        .iter()
        .filter(|s| s.scheme != Scheme::KFold && s.feature_set == set)
        .filter(|s| !(s.r2.mean.is_nan() || s.r2.sd.is_nan()))
        .map(|s| (s.model, s.r2.mean, s.r2.sd))
        .collect();
    let Some((_, best_r2, best_sd)) = grouped.iter().find(|g| g.0 == best_model).cloned() else {
        return;
    };
    let Some((simple, r2, _)) = grouped.iter().find(|g| g.1 >= best_r2 - best_sd).cloned() else {
        return;
    };
    let set = serde_name(&set);
    let text = if simple == best_model {
        format!(
            "Use {} on the {} features for spend: it has the best group-aware R² ({}), and no simpler model comes within one fold standard deviation ({}).",
            simple.label(),
            set,
            num(best_r2, Some(3)),
            num(best_sd, Some(3))
        )
    } else {
        format!(
            "Use {} on the {} features for spend: its group-aware R² ({}) is within one fold standard deviation ({}) of the best model, {} ({}), and it is simpler to explain and to maintain.",
            simple.label(),
            set,
            num(r2, Some(3)),
            num(best_sd, Some(3)),
            best_model.label(),
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
    let sparse_share = f.provenance.settings.eda.sparse_share;
    for (level, n) in &d.category_counts {
        let share = *n as f64 / d.rows as f64;
        if share < sparse_share {
            out.push(Conclusion {
                id: "sparse_level",
                kind: Kind::NotSupported,
                rule: format!("a {} level holds < {} of rows", f.provenance.settings.roles.category, pct(sparse_share, 0)),
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
