//! Conclusions & Future Considerations, derived from findings by stated rules.
//!
//! Each rule is a small function: a condition on the findings (written out in [`Conclusion::rule`]
//! so a reader can check it) and, when it holds, a sentence built from the numbers. Nothing here
//! is typed by hand about *this* data: on another table other rules fire. Rules are evaluated in a
//! fixed order and grouped by [`Kind`].

use serde::Serialize;

use super::format::{num, pct};
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

/// Applies every rule, in order, and returns the conclusions whose condition holds.
pub fn derive(f: &Findings) -> Vec<Conclusion> {
    let mut out = Vec::new();
    duplicates(f, &mut out);
    small_sample(f, &mut out);
    sparse_levels(f, &mut out);
    out.sort_by_key(|c| c.kind);
    out
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
