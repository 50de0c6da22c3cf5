//! The one row sample every costly analysis uses on big tables: above a cap (`Settings::sample_cap`),
//! a seeded draw of whole duplicate groups, so group-aware cross-validation still keeps copies of
//! a customer together and the same seed always gives the same rows. [`SampleInfo`] records what
//! was drawn, for the findings and the report.

use std::borrow::Cow;

use serde::Serialize;

use super::Dataset;
use crate::rng;

/// The seed-stream label of the sample shared by the regression, classification and robustness
/// analyses: with the same seed and cap they all analyse the same rows.
pub const ANALYSIS_SAMPLE: &str = "analysis-sample";

/// How an analysis sampled its rows (present in findings only when a sample was used).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleInfo {
    /// Rows in the sample.
    pub rows: usize,
    /// Rows in the whole table.
    pub table_rows: usize,
    /// Duplicate groups in the sample (each kept whole).
    pub groups: usize,
    /// Duplicate groups in the whole table.
    pub table_groups: usize,
    /// The cap the sample was drawn under (`sample_cap`).
    pub cap: usize,
    /// How the sample was drawn, in words (names the seed stream).
    pub method: String,
}

/// A dataset an analysis works on: the table itself (at most `cap` rows), or a sample of it.
#[derive(Debug, Clone)]
pub struct Capped<'a> {
    /// The rows to analyse.
    pub data: Cow<'a, Dataset>,
    /// `Some` when `data` is a sample.
    pub sample: Option<SampleInfo>,
}

/// The seeded 64-bit key every group rank of one sample is drawn with (from the seed stream
/// `label`), so ranks differ between seeds and labels but never between runs or platforms.
pub(crate) fn rank_key(seed: u64, label: &str) -> u64 {
    use rand::RngCore;
    rng::stream(seed, label).next_u64()
}

/// SplitMix64's finaliser: a fixed, platform-independent 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The rank of a duplicate group: a seeded hash of its content (the bits of its numeric role
/// values, `-0.0` read as `0.0`, then its category). Every copy of a row has the same rank, and the
/// rank does not depend on where in the file the row is, so a streamed reader and a whole-table
/// load rank groups alike.
pub(crate) fn group_rank(key: u64, bits: &[u64], category: &str) -> u64 {
    let mut h = mix(key);
    for &b in bits {
        h = mix(h ^ b);
    }
    for part in category.as_bytes().chunks(8) {
        let mut w = [0u8; 8];
        w[..part.len()].copy_from_slice(part);
        h = mix(h ^ u64::from_le_bytes(w));
    }
    mix(h ^ category.len() as u64)
}

/// How the shared sample is drawn, in words (the same text for a whole-table load and a streamed
/// build, whose samples are the same rows).
pub(crate) fn sample_method(label: &str, cap: usize) -> String {
    format!(
        "whole duplicate groups taken in the order of a seeded hash of their content (seed stream '{label}') until the next group would pass {cap} rows; rows keep file order"
    )
}

impl Dataset {
    /// The numeric role columns a row's content is made of (the target only if present), in
    /// roles order: the columns that define duplicate groups.
    pub(crate) fn content_columns(&self) -> Vec<&[f64]> {
        self.roles
            .numeric_columns()
            .iter()
            .filter_map(|c| self.numeric.get(c).map(Vec::as_slice))
            .collect()
    }

    /// Rows of a seeded sample of at most `cap` rows made of whole duplicate groups, ascending,
    /// or `None` when the table has at most `cap` rows.
    ///
    /// Each group is ranked by a seeded hash of its content ([`group_rank`] with the key of
    /// `rng::stream(seed, label)`; ties broken by the content itself), and groups are taken in
    /// rank order until the next one would pass the cap: the groups with the smallest ranks (a
    /// bottom-k sketch). The choice depends only on the rows' content and the seed, not on row
    /// order, so a streamed build ([`crate::stream`]) draws the same rows in bounded memory.
    pub fn sample_rows(&self, cap: usize, seed: u64, label: &str) -> Option<Vec<usize>> {
        if self.n_rows() <= cap {
            return None;
        }
        let sizes = self.group_sizes();
        let cols = self.content_columns();
        let key = rank_key(seed, label);
        let first = self.distinct_row_indices();
        let bits = |i: usize| cols.iter().map(move |c| (c[i] + 0.0).to_bits());
        let mut buf = Vec::with_capacity(cols.len());
        let mut order: Vec<(u64, usize)> = first
            .iter()
            .enumerate()
            .map(|(g, &i)| {
                buf.clear();
                buf.extend(bits(i));
                (group_rank(key, &buf, &self.category[i]), g)
            })
            .collect();
        // Groups differ in content, so this is a strict total order and any sorting algorithm
        // gives the same sequence. Every group has a row, so at most `cap` groups fit and the
        // loop below never looks past the first `cap + 1`: only those are put in order.
        let cmp = |a: &(u64, usize), b: &(u64, usize)| {
            let (i, j) = (first[a.1], first[b.1]);
            a.0.cmp(&b.0)
                .then_with(|| bits(i).cmp(bits(j)))
                .then_with(|| self.category[i].cmp(&self.category[j]))
        };
        let head = cap.saturating_add(1).min(order.len());
        if head < order.len() {
            order.select_nth_unstable_by(head - 1, cmp);
            order.truncate(head);
        }
        order.sort_unstable_by(cmp);
        let mut keep = vec![false; self.n_groups];
        let mut room = cap;
        for (_, g) in order {
            if sizes[g] > room {
                break;
            }
            keep[g] = true;
            room -= sizes[g];
        }
        Some(
            (0..self.n_rows())
                .filter(|&i| keep[self.groups[i]])
                .collect(),
        )
    }

    /// This dataset when it has at most `cap` rows, else a seeded sample of whole duplicate
    /// groups of at most `cap` rows ([`Dataset::sample_rows`]) with a record of how it was drawn.
    ///
    /// ```
    /// use customer_intel::data;
    /// let spec = data::SynthSpec { duplicate_rate: 0.25, ..data::SynthSpec::default() };
    /// let ds = data::synth(1_000, 7, &spec);
    /// assert!(ds.capped(1_000, 42, "x").sample.is_none());
    /// let c = ds.capped(300, 42, "x");
    /// let s = c.sample.unwrap();
    /// assert!(s.rows <= 300 && s.rows == c.data.n_rows() && s.table_rows == 1_000);
    /// ```
    pub fn capped(&self, cap: usize, seed: u64, label: &str) -> Capped<'_> {
        if let Some(info) = &self.sample_of {
            // A streamed build's sample: the analyses see it as drawn from the whole file.
            if self.n_rows() <= cap && info.cap == cap {
                return Capped {
                    data: Cow::Borrowed(self),
                    sample: Some(info.clone()),
                };
            }
        }
        match self.sample_rows(cap, seed, label) {
            None => Capped {
                data: Cow::Borrowed(self),
                sample: None,
            },
            Some(rows) => {
                let data = self.subset(&rows);
                let sample = SampleInfo {
                    rows: data.n_rows(),
                    table_rows: self.n_rows(),
                    groups: data.n_groups,
                    table_groups: self.n_groups,
                    cap,
                    method: sample_method(label, cap),
                };
                Capped {
                    data: Cow::Owned(data),
                    sample: Some(sample),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::data::{SynthSpec, synth};

    #[test]
    fn sample_keeps_groups_whole_is_seeded_and_fills_the_cap() {
        let spec = SynthSpec {
            duplicate_rate: 0.3,
            ..SynthSpec::default()
        };
        let ds = synth(2_000, 5, &spec);
        let a = ds.sample_rows(500, 42, "t").unwrap();
        assert_eq!(a, ds.sample_rows(500, 42, "t").unwrap());
        assert_ne!(a, ds.sample_rows(500, 43, "t").unwrap());
        assert_ne!(a, ds.sample_rows(500, 42, "u").unwrap());
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        // Groups are small (at most a handful of copies), so the cap is filled exactly or nearly.
        let largest = ds.group_sizes().into_iter().max().unwrap();
        assert!(a.len() <= 500 && a.len() + largest > 500, "{}", a.len());
        // Every group in the sample is there with all its copies.
        let sizes = ds.group_sizes();
        let mut in_sample = vec![0; ds.n_groups];
        for &i in &a {
            in_sample[ds.groups[i]] += 1;
        }
        for (g, &k) in in_sample.iter().enumerate() {
            assert!(k == 0 || k == sizes[g], "group {g}: {k} of {}", sizes[g]);
        }
        assert!(ds.sample_rows(2_000, 42, "t").is_none());
    }

    #[test]
    fn capped_records_the_sample_and_its_groups() {
        let spec = SynthSpec {
            duplicate_rate: 0.3,
            ..SynthSpec::default()
        };
        let ds = synth(1_500, 9, &spec);
        let c = ds.capped(400, 1, "t");
        let s = c.sample.clone().unwrap();
        let rows = ds.sample_rows(400, 1, "t").unwrap();
        assert_eq!(s.rows, rows.len());
        assert_eq!(c.data.n_rows(), rows.len());
        assert_eq!(c.data.ids[0], ds.ids[rows[0]]);
        let distinct: std::collections::BTreeSet<usize> =
            rows.iter().map(|&i| ds.groups[i]).collect();
        assert_eq!(
            (s.groups, c.data.n_groups),
            (distinct.len(), distinct.len())
        );
        assert_eq!(
            (s.table_rows, s.table_groups, s.cap),
            (1_500, ds.n_groups, 400)
        );
    }

    /// The sampler as it was before it ranked (rank, group) pairs and ordered only the head:
    /// every group sorted through an index comparator.
    fn reference_sample_rows(
        ds: &crate::data::Dataset,
        cap: usize,
        seed: u64,
        label: &str,
    ) -> Option<Vec<usize>> {
        use super::{group_rank, rank_key};
        if ds.n_rows() <= cap {
            return None;
        }
        let sizes = ds.group_sizes();
        let cols = ds.content_columns();
        let key = rank_key(seed, label);
        let first = ds.distinct_row_indices();
        let bits = |i: usize| cols.iter().map(move |c| (c[i] + 0.0).to_bits());
        let ranks: Vec<u64> = first
            .iter()
            .map(|&i| group_rank(key, &bits(i).collect::<Vec<_>>(), &ds.category[i]))
            .collect();
        let mut order: Vec<usize> = (0..ds.n_groups).collect();
        order.sort_unstable_by(|&a, &b| {
            let (i, j) = (first[a], first[b]);
            ranks[a]
                .cmp(&ranks[b])
                .then_with(|| bits(i).cmp(bits(j)))
                .then_with(|| ds.category[i].cmp(&ds.category[j]))
        });
        let mut keep = vec![false; ds.n_groups];
        let mut room = cap;
        for g in order {
            if sizes[g] > room {
                break;
            }
            keep[g] = true;
            room -= sizes[g];
        }
        Some((0..ds.n_rows()).filter(|&i| keep[ds.groups[i]]).collect())
    }

    #[test]
    fn sample_equals_the_full_sort_reference() {
        // Tables with many copies (large groups) and none, caps from 0 to just under the size.
        for (n, dup) in [
            (1usize, 0.0),
            (2, 0.9),
            (37, 0.5),
            (600, 0.0),
            (600, 0.6),
            (3_000, 0.3),
        ] {
            let ds = synth(
                n,
                n as u64,
                &SynthSpec {
                    duplicate_rate: dup,
                    ..SynthSpec::default()
                },
            );
            for cap in [0, 1, 2, 5, n / 3, n / 2, n.saturating_sub(1)] {
                for seed in [1, 42] {
                    assert_eq!(
                        ds.sample_rows(cap, seed, "t"),
                        reference_sample_rows(&ds, cap, seed, "t"),
                        "n {n}, duplicates {dup}, cap {cap}, seed {seed}"
                    );
                }
            }
        }
    }
}
