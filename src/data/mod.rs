//! The data layer: a validated [`Dataset`] read from CSV or Parquet ([`load`], [`load_with`]) or
//! generated ([`synth`]), with its gaps handled by a stated policy ([`missing`]),
//! with duplicate groups and provenance, and the typed errors that name file, line, column,
//! value and rule. Big files can be read a chunk at a time ([`for_each_chunk`], [`chunks`]) with
//! the same rules and whole-file line numbers, and costly analyses draw one seeded sample of
//! whole duplicate groups above `sample_cap` ([`Dataset::capped`]).

mod chunks;
mod error;
mod load;
pub mod missing;
mod parquet;
pub(crate) use parquet::{count_rows as parquet_rows, is_parquet as is_parquet_file};
pub use parquet::{parquet_bytes, write_parquet};
mod planted;
mod sample;
pub mod schema;
mod synth;
mod synth_stream;
pub use synth_stream::{SYNTH_BLOCK_ROWS, write_synth_streamed};

pub use chunks::{ChunkSummary, Chunks, chunks, chunks_with, for_each_chunk};
pub use error::{DataError, MAX_VIOLATIONS, Position, Violation};
pub use load::{load, load_with, load_with_roles, parse_csv_bytes, parse_csv_bytes_precise};
pub use missing::{MissingPolicy, MissingProfile, MissingSettings, Views};
pub use planted::{PlantedSegment, planted};
pub use sample::{ANALYSIS_SAMPLE, Capped, SampleInfo};
pub(crate) use sample::{group_rank, rank_key, sample_method};
pub use synth::{SynthSpec, csv_text, synth, synth_with_roles, write_csv};
pub(crate) use synth::{synth_columns, synth_with_roles_unhashed};

use std::collections::{BTreeMap, HashMap};

use polars::prelude::{Column, DataFrame, NamedFrom, PlHashMap, PlRandomState, Series};
use serde::Serialize;
use sha2::{Digest, Sha256};

use schema::Roles;

/// Where a dataset came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// The file it was read from, as given, or `synthetic(rows=…, seed=…)`.
    pub source: String,
    /// Number of data rows.
    pub rows: usize,
    /// SHA-256 of the file's bytes (of the generated CSV text for synthetic data), lowercase hex.
    pub sha256: String,
}

/// A validated customer table.
///
/// Columns are addressed by the names given in [`Roles`]. Numeric columns are stored as `f64`
/// ([`Dataset::frame`] builds a polars frame of the same data for frame-level work), the
/// category column as its canonical level names (for example `East`, whatever case or padding
/// the file used).
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The column roles the table was validated against.
    pub roles: Roles,
    /// The customer ids, as text.
    pub ids: Vec<String>,
    /// Every numeric role column (features and target), by column name.
    pub numeric: BTreeMap<String, Vec<f64>>,
    /// The category column's canonical level per row.
    pub category: Vec<String>,
    /// Columns present in the file that have no role (kept in `frame`, reported, not analysed).
    pub extra_columns: Vec<String>,
    /// 1-based line number (as an editor shows it) where each row's record starts.
    pub lines: Vec<usize>,
    /// Duplicate group per row: rows identical on every role column except the id share a group.
    /// Groups are numbered 0.. in order of first appearance.
    pub groups: Vec<usize>,
    /// Number of duplicate groups (= number of distinct rows ignoring the id).
    pub n_groups: usize,
    /// Where the data came from.
    pub provenance: Provenance,
    /// The values of the columns without a role, by name, in file order (empty cells as "").
    pub extras: Vec<(String, Vec<String>)>,
    /// Set when this table is the shared sample of a larger file drawn by a streamed build
    /// ([`crate::stream`]): [`Dataset::capped`] then hands it over as that sample.
    pub sample_of: Option<SampleInfo>,
}

/// A compact, serialisable description of a dataset for `findings.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetProfile {
    /// Provenance of the data.
    pub provenance: Provenance,
    /// Number of rows.
    pub rows: usize,
    /// Role columns, in order: id, numeric features, target, category.
    pub columns: Vec<String>,
    /// Columns in the file without a role.
    pub extra_columns: Vec<String>,
    /// Number of distinct rows ignoring the id (= duplicate groups).
    pub distinct_rows: usize,
    /// Rows that repeat an earlier row (rows − distinct rows).
    pub duplicate_rows: usize,
    /// Size of the largest duplicate group.
    pub largest_group: usize,
    /// Rows per category level, in the roles' level order.
    pub category_counts: Vec<(String, usize)>,
    /// Set when the build streamed the file instead of loading it whole: which figures are
    /// exact over every row and which come from the shared sample ([`crate::stream`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streamed: Option<crate::stream::StreamedBuild>,
    /// Gaps per column and what the run's missing-value policy did with them (filled in by
    /// the pipeline; [`Dataset::profile`] leaves it empty).
    pub missing: MissingProfile,
}

impl Dataset {
    /// Builds a dataset from columns that are already valid, computing duplicate groups and the frame.
    ///
    /// `numeric` must hold every column of `roles.numeric_columns()`, each as long as `ids`.
    /// Used by the loader and the synthetic generator; analyses that resample rows use [`Dataset::subset`].
    pub fn from_columns(
        roles: Roles,
        ids: Vec<String>,
        numeric: BTreeMap<String, Vec<f64>>,
        category: Vec<String>,
        extras: Vec<(String, Vec<String>)>,
        lines: Vec<usize>,
        provenance: Provenance,
    ) -> Dataset {
        let n = ids.len();
        // Only a target the roles declare optional may be missing.
        let order: Vec<String> = roles
            .numeric_columns()
            .into_iter()
            .filter(|c| !(roles.target_optional && *c == roles.target && !numeric.contains_key(c)))
            .collect();
        for c in &order {
            assert_eq!(
                numeric.get(c).map(Vec::len),
                Some(n),
                "column {c} missing or of wrong length"
            );
        }
        assert_eq!(category.len(), n);
        let (groups, n_groups) = duplicate_groups(&order, &numeric, &category, n);
        let extra_columns = extras.iter().map(|(name, _)| name.clone()).collect();
        Dataset {
            roles,
            ids,
            numeric,
            category,
            extra_columns,
            lines,
            groups,
            n_groups,
            provenance,
            extras,
            sample_of: None,
        }
    }

    /// The table as a polars frame: id (string), numeric role columns (f64), category (string),
    /// then the extra columns (string). Built on demand (it copies every column), so a loaded
    /// table does not hold its data twice.
    pub fn frame(&self) -> DataFrame {
        let order = self.roles.numeric_columns();
        let mut cols: Vec<Column> = Vec::with_capacity(order.len() + 2 + self.extras.len());
        cols.push(Series::new(self.roles.id.as_str().into(), &self.ids).into());
        for c in &order {
            cols.push(Series::new(c.as_str().into(), self.col(c)).into());
        }
        cols.push(Series::new(self.roles.category.as_str().into(), &self.category).into());
        for (name, values) in &self.extras {
            cols.push(Series::new(name.as_str().into(), values).into());
        }
        DataFrame::new(self.n_rows(), cols).expect("columns have equal length and distinct names")
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.ids.len()
    }

    /// A numeric column by name; panics if the roles do not name it (a programming error).
    pub fn col(&self, name: &str) -> &[f64] {
        self.numeric
            .get(name)
            .unwrap_or_else(|| panic!("column '{name}' is not a numeric role column"))
    }

    /// The spend target column (panics if the table has none; see [`Dataset::has_target`]).
    pub fn target(&self) -> &[f64] {
        self.col(&self.roles.target)
    }

    /// Whether the table has its target column: always, unless the roles declare it optional
    /// ([`Roles::target_optional`]) and the file lacked it.
    pub fn has_target(&self) -> bool {
        self.numeric.contains_key(&self.roles.target)
    }

    /// Indices of rows by category level, in the roles' level order.
    pub fn category_counts(&self) -> Vec<(String, usize)> {
        self.roles
            .category_levels
            .iter()
            .map(|l| (l.clone(), self.category.iter().filter(|c| *c == l).count()))
            .collect()
    }

    /// Sizes of the duplicate groups, indexed by group id.
    pub fn group_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.n_groups];
        for &g in &self.groups {
            sizes[g] += 1;
        }
        sizes
    }

    /// One representative row per duplicate group (its first appearance), in group order.
    pub fn distinct_row_indices(&self) -> Vec<usize> {
        let mut first = vec![usize::MAX; self.n_groups];
        for (i, &g) in self.groups.iter().enumerate() {
            if first[g] == usize::MAX {
                first[g] = i;
            }
        }
        first
    }

    /// A new dataset made of the given rows (repeats allowed), with groups recomputed.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        let pick_s = |v: &[String]| rows.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
        let numeric = self
            .numeric
            .iter()
            .map(|(k, v)| (k.clone(), rows.iter().map(|&i| v[i]).collect()))
            .collect();
        let lines = rows
            .iter()
            .map(|&i| self.lines.get(i).copied().unwrap_or(0))
            .collect();
        let provenance = Provenance {
            source: format!("{} (subset of {} rows)", self.provenance.source, rows.len()),
            rows: rows.len(),
            sha256: self.provenance.sha256.clone(),
        };
        Dataset::from_columns(
            self.roles.clone(),
            pick_s(&self.ids),
            numeric,
            pick_s(&self.category),
            Vec::new(),
            lines,
            provenance,
        )
    }

    /// The serialisable profile for `findings.json`.
    pub fn profile(&self) -> DatasetProfile {
        DatasetProfile {
            provenance: self.provenance.clone(),
            rows: self.n_rows(),
            columns: self.roles.required_columns(),
            extra_columns: self.extra_columns.clone(),
            distinct_rows: self.n_groups,
            duplicate_rows: self.n_rows() - self.n_groups,
            largest_group: self.group_sizes().into_iter().max().unwrap_or(0),
            category_counts: self.category_counts(),
            streamed: None,
            missing: MissingProfile::default(),
        }
    }
}

/// Assigns each row a group id shared by rows equal on every numeric role column and the category;
/// ids are numbered in the order of each group's first row.
fn duplicate_groups(
    order: &[String],
    numeric: &BTreeMap<String, Vec<f64>>,
    category: &[String],
    n: usize,
) -> (Vec<usize>, usize) {
    use std::hash::{BuildHasher, Hash, Hasher};
    let cols: Vec<&[f64]> = order.iter().map(|c| numeric[c].as_slice()).collect();
    let state = PlRandomState::default();
    group_rows(n, &cols, category, |i| {
        let mut h = state.build_hasher();
        for c in &cols {
            row_bits(c, i).hash(&mut h);
        }
        category[i].hash(&mut h);
        h.finish()
    })
}

/// A value's bits for row equality: -0.0 and 0.0 compare equal, so they are made one.
fn row_bits(c: &[f64], i: usize) -> u64 {
    (c[i] + 0.0).to_bits()
}

/// Rows per bucket that [`group_rows`] aims for: a bucket's hash map then fits the processor's
/// caches, whatever the table's size.
const GROUP_BUCKET_ROWS: usize = 16_384;

/// [`duplicate_groups`] with the row hash given (any function of the row's values: equal rows
/// must hash equal; unequal rows may collide). Rows are partitioned by the top bits of their
/// hash into buckets of about [`GROUP_BUCKET_ROWS`], in row order within each, so every group
/// lies in one bucket and each bucket is resolved with a small hash map that stays in cache (one
/// map over all rows misses the cache on nearly every row once the table is large, which made
/// this pass grow about ×30 from 1 to 10 million rows). Within a bucket a row takes the first
/// row with its hash as its representative if the two are really equal, and the rare hash
/// collision of unequal rows falls back to an exact map, so the result is exact.
fn group_rows(
    n: usize,
    cols: &[&[f64]],
    category: &[String],
    hash: impl Fn(usize) -> u64,
) -> (Vec<usize>, usize) {
    let same = |i: usize, j: usize| {
        category[i] == category[j] && cols.iter().all(|c| row_bits(c, i) == row_bits(c, j))
    };
    let buckets = (n / GROUP_BUCKET_ROWS)
        .next_power_of_two()
        .clamp(1, 1 << 12);
    let shift = buckets.trailing_zeros();
    let bucket_of = |h: u64| {
        if shift == 0 {
            0
        } else {
            (h >> (64 - shift)) as usize
        }
    };
    let hashes: Vec<u64> = (0..n).map(&hash).collect();
    let mut starts = vec![0usize; buckets + 1];
    for &h in &hashes {
        starts[bucket_of(h) + 1] += 1;
    }
    for b in 0..buckets {
        starts[b + 1] += starts[b];
    }
    let mut next = starts.clone();
    let mut parted = vec![(0u64, 0usize); n];
    for (i, &h) in hashes.iter().enumerate() {
        let b = bucket_of(h);
        parted[next[b]] = (h, i);
        next[b] += 1;
    }
    drop(hashes);
    // The representative of each row: the first row with the same values.
    let mut rep = vec![0usize; n];
    let largest = starts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    let mut first: PlHashMap<u64, usize> =
        PlHashMap::with_capacity_and_hasher(largest, PlRandomState::default());
    let mut collided: HashMap<(Vec<u64>, &str), usize> = HashMap::new();
    for w in starts.windows(2) {
        first.clear();
        for &(h, i) in &parted[w[0]..w[1]] {
            let f = *first.entry(h).or_insert(i);
            rep[i] = if f == i || same(i, f) {
                f
            } else {
                let key = (
                    cols.iter().map(|c| row_bits(c, i)).collect(),
                    category[i].as_str(),
                );
                *collided.entry(key).or_insert(i)
            };
        }
    }
    // Number the groups in the order of their first rows (a row's representative comes no later
    // than the row itself, so its id is already known; the ids overwrite `rep` in place).
    let mut groups = rep;
    let mut count = 0;
    for i in 0..n {
        let r = groups[i];
        groups[i] = if r == i {
            count += 1;
            count - 1
        } else {
            groups[r]
        };
    }
    (groups, count)
}

/// SHA-256 of bytes as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bucketed grouping equals a plain map from each row's values to the first row that has
    /// them, with the real hash, with hashes that collide for unequal rows (constant, category
    /// only, first column only), on tables that span one and several buckets, with -0.0 and 0.0,
    /// NaN, and many copies.
    #[test]
    fn bucketed_groups_equal_a_plain_first_occurrence_map() {
        use rand::Rng as _;
        let mut r = crate::rng::stream(17, "duplicate-groups");
        for n in [0, 1, 7, 1_000, 70_000] {
            let pick = [0.0, -0.0, 1.5, f64::NAN, -2.25, 3.0];
            let cols: Vec<Vec<f64>> = (0..3)
                .map(|_| (0..n).map(|_| pick[r.gen_range(0..pick.len())]).collect())
                .collect();
            let levels = ["East", "West", "North"];
            let category: Vec<String> = (0..n)
                .map(|_| levels[r.gen_range(0..3)].to_string())
                .collect();
            let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
            let key = |i: usize| -> (Vec<u64>, String) {
                (
                    refs.iter().map(|c| row_bits(c, i)).collect(),
                    category[i].clone(),
                )
            };
            let mut seen: BTreeMap<(Vec<u64>, String), usize> = BTreeMap::new();
            let want: Vec<usize> = (0..n)
                .map(|i| {
                    let next = seen.len();
                    *seen.entry(key(i)).or_insert(next)
                })
                .collect();
            let names: Vec<String> = (0..3).map(|t| format!("c{t}")).collect();
            let numeric: BTreeMap<String, Vec<f64>> =
                names.iter().cloned().zip(cols.iter().cloned()).collect();
            assert_eq!(
                duplicate_groups(&names, &numeric, &category, n),
                (want.clone(), seen.len()),
                "real hash, {n} rows"
            );
            let hashes: [&dyn Fn(usize) -> u64; 3] = [
                &|_| 0,
                &|i| category[i].len() as u64 * 0x9E37_79B9_7F4A_7C15,
                &|i| row_bits(refs[0], i).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ];
            for (k, h) in hashes.iter().enumerate() {
                assert_eq!(
                    group_rows(n, &refs, &category, h),
                    (want.clone(), seen.len()),
                    "colliding hash {k}, {n} rows"
                );
            }
        }
    }

    fn tiny() -> Dataset {
        let roles = Roles::default();
        let mut numeric = BTreeMap::new();
        numeric.insert("age".into(), vec![30.0, 30.0, 40.0, 30.0]);
        numeric.insert("annual_income".into(), vec![1.0, 1.0, 2.0, 1.0]);
        numeric.insert("loyalty_score".into(), vec![5.0, 5.0, 6.0, 5.0]);
        numeric.insert("purchase_frequency".into(), vec![3.0, 3.0, 4.0, 3.0]);
        numeric.insert("purchase_amount".into(), vec![10.0, 10.0, 20.0, 10.0]);
        let category = vec![
            "North".into(),
            "North".into(),
            "East".into(),
            "South".into(),
        ];
        let ids = (1..=4).map(|i| i.to_string()).collect();
        Dataset::from_columns(
            roles,
            ids,
            numeric,
            category,
            vec![],
            vec![2, 3, 4, 5],
            Provenance {
                source: "t".into(),
                rows: 4,
                sha256: String::new(),
            },
        )
    }

    #[test]
    fn groups_ignore_id_but_not_category() {
        let ds = tiny();
        // rows 0 and 1 are copies; row 3 equals them numerically but has another region.
        assert_eq!(ds.groups, vec![0, 0, 1, 2]);
        assert_eq!(ds.n_groups, 3);
        assert_eq!(ds.group_sizes(), vec![2, 1, 1]);
        assert_eq!(ds.distinct_row_indices(), vec![0, 2, 3]);
        let p = ds.profile();
        assert_eq!(
            (p.distinct_rows, p.duplicate_rows, p.largest_group),
            (3, 1, 2)
        );
        assert_eq!(ds.frame().shape(), (4, 7));
    }

    #[test]
    fn subset_recomputes_groups() {
        let ds = tiny().subset(&[2, 2, 0]);
        assert_eq!(ds.groups, vec![0, 0, 1]);
        assert_eq!(ds.col("age"), &[40.0, 40.0, 30.0]);
    }

    #[test]
    fn sha256_matches_published_vector() {
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
