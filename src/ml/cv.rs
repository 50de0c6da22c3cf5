//! Cross-validation splitters. Group-aware splitting is the default everywhere in this crate:
//! rows that are copies of each other (one duplicate group) always land in the same fold, so a
//! model is never scored on a row it trained on. The plain shuffled k-fold exists to measure how
//! much that leakage inflates scores.

use rand::seq::SliceRandom;
use serde::Serialize;
use thiserror::Error;

use crate::rng;

/// One train/test split: row indices, each list sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fold {
    /// Rows to fit on.
    pub train: Vec<usize>,
    /// Rows to score on.
    pub test: Vec<usize>,
}

/// How rows are split into folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Rows shuffled and dealt into k folds, ignoring duplicates (naive; leaks copies).
    KFold,
    /// Whole duplicate groups dealt into k folds, balancing fold sizes.
    GroupKFold,
    /// Whole duplicate groups dealt into k folds, balancing sizes and the positive-class share.
    StratifiedGroupKFold,
}

impl Scheme {
    /// A human-readable name for reports, e.g. "group 5-fold".
    pub fn describe(self, k: usize) -> String {
        match self {
            Scheme::KFold => format!("shuffled {k}-fold (naive: copies can straddle folds)"),
            Scheme::GroupKFold => format!("group {k}-fold (duplicate groups kept whole)"),
            Scheme::StratifiedGroupKFold => {
                format!(
                    "stratified group {k}-fold (duplicate groups kept whole, class share balanced)"
                )
            }
        }
    }

    /// Whether the scheme keeps duplicate groups whole.
    pub fn is_group_aware(self) -> bool {
        !matches!(self, Scheme::KFold)
    }
}

/// Why folds could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CvError {
    /// Fewer than two folds were asked for.
    #[error("cross-validation needs at least 2 folds, got {0}")]
    TooFewFolds(usize),
    /// Fewer units (rows or groups) than folds.
    #[error("cannot make {folds} folds from {units} {what}")]
    TooFewUnits {
        /// Folds asked for.
        folds: usize,
        /// Rows or groups available.
        units: usize,
        /// "rows" or "duplicate groups".
        what: &'static str,
    },
}

/// Splits `groups.len()` rows by `scheme` into `k` folds, seeded. `labels` is used only by the
/// stratified scheme (and required by it).
pub fn split(
    scheme: Scheme,
    groups: &[usize],
    labels: Option<&[bool]>,
    k: usize,
    seed: u64,
) -> Result<Vec<Fold>, CvError> {
    match scheme {
        Scheme::KFold => kfold(groups.len(), k, seed),
        Scheme::GroupKFold => group_kfold(groups, k, seed),
        Scheme::StratifiedGroupKFold => {
            let labels = labels.expect("stratified group k-fold needs labels");
            stratified_group_kfold(groups, labels, k, seed)
        }
    }
}

/// Shuffled k-fold over `n` rows: rows dealt round-robin after a seeded shuffle.
pub fn kfold(n: usize, k: usize, seed: u64) -> Result<Vec<Fold>, CvError> {
    check(k, n, "rows")?;
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng::stream(seed, "kfold"));
    let mut assign = vec![0usize; n];
    for (pos, &row) in order.iter().enumerate() {
        assign[row] = pos % k;
    }
    Ok(folds_from_assignment(&assign, k))
}

/// Group k-fold: groups shuffled (seeded), then taken largest first and each given to the fold
/// with the fewest rows so far (lowest index on ties). No group is ever split.
pub fn group_kfold(groups: &[usize], k: usize, seed: u64) -> Result<Vec<Fold>, CvError> {
    let members = group_members(groups);
    check(k, members.len(), "duplicate groups")?;
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.shuffle(&mut rng::stream(seed, "group_kfold"));
    order.sort_by_key(|&g| std::cmp::Reverse(members[g].len()));
    let mut sizes = vec![0usize; k];
    let mut fold_of_group = vec![0usize; members.len()];
    for g in order {
        let f = (0..k).min_by_key(|&f| (sizes[f], f)).expect("k >= 2");
        sizes[f] += members[g].len();
        fold_of_group[g] = f;
    }
    let assign: Vec<usize> = dense_groups(&members, groups.len())
        .iter()
        .map(|&g| fold_of_group[g])
        .collect();
    Ok(folds_from_assignment(&assign, k))
}

/// Stratified group k-fold: like [`group_kfold`], but each group goes to the fold where adding it
/// keeps every fold's share of each class closest to 1/k (squared deviation), then the smallest fold.
pub fn stratified_group_kfold(
    groups: &[usize],
    labels: &[bool],
    k: usize,
    seed: u64,
) -> Result<Vec<Fold>, CvError> {
    assert_eq!(groups.len(), labels.len(), "one label per row");
    let members = group_members(groups);
    check(k, members.len(), "duplicate groups")?;
    let total = [
        labels.iter().filter(|&&l| !l).count() as f64,
        labels.iter().filter(|&&l| l).count() as f64,
    ];
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.shuffle(&mut rng::stream(seed, "stratified_group_kfold"));
    order.sort_by_key(|&g| std::cmp::Reverse(members[g].len()));
    let mut counts = vec![[0.0f64; 2]; k];
    let mut fold_of_group = vec![0usize; members.len()];
    for g in order {
        let mut add = [0.0; 2];
        for &i in &members[g] {
            add[labels[i] as usize] += 1.0;
        }
        let cost = |f: usize| -> f64 {
            (0..k)
                .map(|h| {
                    (0..2)
                        .filter(|&c| total[c] > 0.0)
                        .map(|c| {
                            let v = counts[h][c] + if h == f { add[c] } else { 0.0 };
                            (v / total[c] - 1.0 / k as f64).powi(2)
                        })
                        .sum::<f64>()
                })
                .sum()
        };
        let f = (0..k)
            .min_by(|&a, &b| {
                cost(a)
                    .total_cmp(&cost(b))
                    .then((counts[a][0] + counts[a][1]).total_cmp(&(counts[b][0] + counts[b][1])))
                    .then(a.cmp(&b))
            })
            .expect("k >= 2");
        counts[f][0] += add[0];
        counts[f][1] += add[1];
        fold_of_group[g] = f;
    }
    let assign: Vec<usize> = dense_groups(&members, groups.len())
        .iter()
        .map(|&g| fold_of_group[g])
        .collect();
    Ok(folds_from_assignment(&assign, k))
}

fn check(k: usize, units: usize, what: &'static str) -> Result<(), CvError> {
    if k < 2 {
        return Err(CvError::TooFewFolds(k));
    }
    if units < k {
        return Err(CvError::TooFewUnits {
            folds: k,
            units,
            what,
        });
    }
    Ok(())
}

/// Row indices per group. Group ids need not be contiguous (a training fold's rows carry the
/// ids of a subset of groups); groups are numbered densely in ascending id order, which is the
/// identity for ids 0..n_groups.
fn group_members(groups: &[usize]) -> Vec<Vec<usize>> {
    let n_groups = groups.iter().max().map_or(0, |m| m + 1);
    let mut members = vec![Vec::new(); n_groups];
    for (i, &g) in groups.iter().enumerate() {
        members[g].push(i);
    }
    members.retain(|m| !m.is_empty());
    members
}

/// The dense group number of every row, matching [`group_members`]' positions.
fn dense_groups(members: &[Vec<usize>], n: usize) -> Vec<usize> {
    let mut dense = vec![0; n];
    for (g, m) in members.iter().enumerate() {
        for &i in m {
            dense[i] = g;
        }
    }
    dense
}

fn folds_from_assignment(assign: &[usize], k: usize) -> Vec<Fold> {
    (0..k)
        .map(|f| Fold {
            train: (0..assign.len()).filter(|&i| assign[i] != f).collect(),
            test: (0..assign.len()).filter(|&i| assign[i] == f).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups_of(sizes: &[usize]) -> Vec<usize> {
        sizes
            .iter()
            .enumerate()
            .flat_map(|(g, &s)| std::iter::repeat_n(g, s))
            .collect()
    }

    fn assert_partition(folds: &[Fold], n: usize) {
        let mut seen = vec![0; n];
        for f in folds {
            for &i in &f.test {
                seen[i] += 1;
            }
            assert_eq!(f.train.len() + f.test.len(), n);
            assert!(f.train.iter().all(|i| !f.test.contains(i)));
        }
        assert!(
            seen.iter().all(|&c| c == 1),
            "every row is tested exactly once"
        );
    }

    #[test]
    fn kfold_partitions_and_is_seeded() {
        let a = kfold(23, 5, 1).unwrap();
        assert_partition(&a, 23);
        let sizes: Vec<_> = a.iter().map(|f| f.test.len()).collect();
        assert_eq!(sizes, vec![5, 5, 5, 4, 4]);
        assert_eq!(a, kfold(23, 5, 1).unwrap());
        assert_ne!(a, kfold(23, 5, 2).unwrap());
    }

    #[test]
    fn group_kfold_never_splits_a_group() {
        let groups = groups_of(&[14, 13, 8, 8, 7, 5, 3, 3, 2, 1, 1, 1, 1]);
        let folds = group_kfold(&groups, 5, 9).unwrap();
        assert_partition(&folds, groups.len());
        for f in &folds {
            for &i in &f.test {
                for &j in &f.train {
                    assert_ne!(
                        groups[i], groups[j],
                        "group {} straddles train and test",
                        groups[i]
                    );
                }
            }
        }
        // Greedy balancing: no fold is more than the largest group bigger than the smallest.
        let sizes: Vec<_> = folds.iter().map(|f| f.test.len()).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 14,
            "{sizes:?}"
        );
    }

    #[test]
    fn stratified_group_kfold_balances_classes_and_keeps_groups() {
        // 40 groups of 3; every fourth group positive: 30 positives of 120 rows.
        let groups = groups_of(&[3; 40]);
        let labels: Vec<bool> = groups.iter().map(|g| g % 4 == 0).collect();
        let folds = stratified_group_kfold(&groups, &labels, 5, 3).unwrap();
        assert_partition(&folds, groups.len());
        for f in &folds {
            let pos = f.test.iter().filter(|&&i| labels[i]).count();
            assert_eq!(pos, 6, "each fold holds a fifth of the 30 positives");
            assert_eq!(f.test.len(), 24);
            let test_groups: std::collections::BTreeSet<_> =
                f.test.iter().map(|&i| groups[i]).collect();
            assert!(f.train.iter().all(|i| !test_groups.contains(&groups[*i])));
        }
    }

    #[test]
    fn sparse_group_ids_are_accepted() {
        // The groups of a training fold: ids with gaps, as inner CV sees them.
        let groups = vec![7, 7, 2, 9, 9, 9, 4, 2, 11, 4];
        let labels: Vec<bool> = groups.iter().map(|g| g % 2 == 0).collect();
        for folds in [
            group_kfold(&groups, 3, 1).unwrap(),
            stratified_group_kfold(&groups, &labels, 3, 1).unwrap(),
        ] {
            assert_partition(&folds, groups.len());
            for f in &folds {
                assert!(
                    f.test
                        .iter()
                        .all(|&i| f.train.iter().all(|&j| groups[i] != groups[j]))
                );
            }
        }
    }

    #[test]
    fn too_few_units_is_an_error() {
        assert_eq!(
            group_kfold(&[0, 0, 1, 1], 3, 0),
            Err(CvError::TooFewUnits {
                folds: 3,
                units: 2,
                what: "duplicate groups"
            })
        );
        assert_eq!(kfold(10, 1, 0), Err(CvError::TooFewFolds(1)));
    }
}
