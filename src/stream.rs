//! Streamed builds: `report build` (and `check`) on a table too large to load whole.
//!
//! A build switches to this path when the input holds more than
//! [`BuildOptions::stream_above_rows`] rows, judged by a cheap look at the file
//! ([`estimate_rows`]: a Parquet file's footer, or a CSV file's size divided by the mean length of
//! its first data lines). The file is then read twice, a chunk of
//! [`BuildOptions::stream_chunk_rows`] rows at a time, and never held whole:
//!
//! 1. **Pass 1** validates every chunk with the loader's rules and messages (file, line or row,
//!    column, value, rule), hashes the file, sums every numeric column (overall and per category
//!    level), and draws the analyses' shared sample of whole duplicate groups in bounded memory:
//!    each group is ranked by a seeded hash of its content and the groups with the smallest
//!    ranks are kept until the next would pass `sample_cap` rows (a bottom-k sketch; the same
//!    rule as [`Dataset::sample_rows`], so both paths pick the same rows). Each row also writes a
//!    64-bit hash of its id and the exact content of its role cells to temporary bucket files
//!    (under the system's temporary folder, removed afterwards); sorting each bucket then gives
//!    the exact number of distinct rows and group sizes, and ids whose hashes collide are re-read
//!    from the file so a repeated id is reported with both of its exact lines.
//! 2. The analyses run on the sample (as they do above `sample_cap` in a whole-table build),
//!    and the production models are fitted on it.
//! 3. **Pass 2** reads the file again for what needs pass 1's results: centred moments (standard
//!    deviation, skewness, kurtosis), the Pearson correlation matrix (and from it the VIFs and the
//!    condition number), outlier counts against the fences, and every row's segment, spend
//!    prediction and growth flag from the production models.
//!
//! The findings then carry exact whole-file figures where one or two passes can give them, and
//! [`StreamedBuild`] says which figures come from the sample instead (quantiles, distinct counts,
//! Spearman correlations, per-level medians, distributions, and every model-based analysis).
//! `report validate` on such a file runs pass 1 alone ([`validate`]) and reports the same profile
//! as a whole load would.
//!
//! Limits: a table with gaps is refused (the missing-value views need every row), and when cells
//! break a rule the error lists those violations only (repeated ids are checked once the cells
//! are valid).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis;
use crate::data::{
    self, ANALYSIS_SAMPLE, DataError, Dataset, DatasetProfile, MAX_VIOLATIONS, MissingProfile,
    Position, Provenance, SampleInfo, Violation,
};
use crate::findings::Findings;
use crate::models::{self, ProductionModels};
use crate::output::Outputs;
use crate::pipeline::{self, BuildOptions, PipelineError};
use crate::settings::Settings;

/// Default of [`BuildOptions::stream_above_rows`]: a whole-table build of two million rows peaks
/// near 1.5 GiB on the bundled schema, so larger tables are streamed.
pub const DEFAULT_STREAM_ABOVE_ROWS: usize = 2_000_000;

/// Default of [`BuildOptions::stream_chunk_rows`].
pub const DEFAULT_CHUNK_ROWS: usize = 250_000;

/// How a streamed build was done, recorded in the findings (`dataset.streamed`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamedBuild {
    /// Why the build was streamed (the estimate and the threshold).
    pub rule: String,
    /// Rows per chunk.
    pub chunk_rows: usize,
    /// Complete reads of the file (two; three when id hashes collided and ids were re-read).
    pub file_reads: usize,
    /// The figures that are exact over every row.
    pub exact: Vec<String>,
    /// The figures computed on the shared sample (`sample`) instead of every row.
    pub on_sample: Vec<String>,
    /// The shared sample the analyses ran on.
    pub sample: SampleInfo,
    /// Every row scored by the production models in pass 2 (absent when they could not be fitted).
    pub scored: Option<ScoredRows>,
}

/// What the second pass found when it scored every row with the production models.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredRows {
    /// Rows scored.
    pub rows: usize,
    /// Rows per segment, by persona, in label order.
    pub segment_rows: Vec<(String, usize)>,
    /// Rows flagged as growth potential at the saved threshold.
    pub growth_flagged: usize,
    /// Mean predicted spend over every row.
    pub mean_predicted_spend: f64,
}

/// Rows in a table, estimated without reading it: a Parquet file's footer (exact), or a CSV
/// file's size divided by the mean length of the data lines in its first MiB (exact when the
/// file is shorter). `None` when the file cannot be read (the loader then reports why).
pub fn estimate_rows(path: &Path) -> Option<(usize, &'static str)> {
    let mut f = File::open(path).ok()?;
    let size = f.metadata().ok()?.len();
    let mut head = Vec::with_capacity(1 << 20);
    (&mut f).take(1 << 20).read_to_end(&mut head).ok()?;
    if data::is_parquet_file(path, &head) {
        let rows = data::parquet_rows(File::open(path).ok()?, path).ok()?;
        return Some((rows, "counted in its Parquet footer"));
    }
    let header_end = head.iter().position(|&b| b == b'\n')? + 1;
    let body = &head[header_end..];
    let lines = body.iter().filter(|&&b| b == b'\n').count();
    if head.len() as u64 == size {
        let last = usize::from(!body.is_empty() && !body.ends_with(b"\n"));
        return Some((lines + last, "counted"));
    }
    let last_newline = body.iter().rposition(|&b| b == b'\n')? + 1;
    let per_line = last_newline as f64 / lines.max(1) as f64;
    let rows = ((size - header_end as u64) as f64 / per_line).round() as usize;
    Some((
        rows,
        "estimated from the file size and the mean length of its first lines",
    ))
}

/// Why a build of `opts` is streamed, or `None` when it loads the table whole.
pub fn stream_reason(opts: &BuildOptions) -> Option<String> {
    let (rows, how) = estimate_rows(&opts.data)?;
    (rows > opts.stream_above_rows).then(|| {
        format!(
            "the input holds about {} rows ({how}), more than stream_above_rows = {}",
            crate::render::format::grouped(rows as f64, 0),
            crate::render::format::grouped(opts.stream_above_rows as f64, 0)
        )
    })
}

fn stream_error(path: &Path, detail: impl ToString) -> PipelineError {
    PipelineError::Stream {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

/// A folder under the system's temporary folder, removed with everything in it when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "customer-intel-stream-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fixed-size records spread over bucket files by the top bits of their leading 64-bit hash, so
/// equal hashes share a bucket and each bucket can be sorted in memory on its own.
struct Buckets {
    bits: u32,
    record: usize,
    paths: Vec<PathBuf>,
    writers: Vec<BufWriter<File>>,
}

impl Buckets {
    fn new(dir: &Path, name: &str, bits: u32, record: usize) -> std::io::Result<Buckets> {
        let paths: Vec<PathBuf> = (0..1usize << bits)
            .map(|b| dir.join(format!("{name}-{b:04}")))
            .collect();
        let writers = paths
            .iter()
            .map(|p| File::create(p).map(|f| BufWriter::with_capacity(1 << 16, f)))
            .collect::<std::io::Result<_>>()?;
        Ok(Buckets {
            bits,
            record,
            paths,
            writers,
        })
    }

    fn push(&mut self, hash: u64, rest: &[u8]) -> std::io::Result<()> {
        debug_assert_eq!(8 + rest.len(), self.record);
        let b = if self.bits == 0 {
            0
        } else {
            (hash >> (64 - self.bits)) as usize
        };
        let w = &mut self.writers[b];
        w.write_all(&hash.to_be_bytes())?;
        w.write_all(rest)
    }

    /// Flushes every bucket and returns their paths.
    fn finish(self) -> std::io::Result<Vec<PathBuf>> {
        for mut w in self.writers {
            w.flush()?;
        }
        Ok(self.paths)
    }
}

/// One row kept by the sampler.
struct SampledRow {
    line: usize,
    id: String,
    values: Vec<f64>,
}

/// A group's sort key: rank, then content (numeric bits, category) to break ties.
type GroupKey = (u64, Vec<u64>, String);

/// The bounded-memory sampler: the groups with the smallest keys whose rows fit the cap.
struct Sampler {
    key: u64,
    cap: usize,
    kept: BTreeMap<GroupKey, Vec<SampledRow>>,
    total: usize,
    /// The smallest key ever evicted: no group at or above it can be in the sample.
    cutoff: Option<GroupKey>,
}

impl Sampler {
    fn offer(&mut self, rank: u64, bits: &[u64], category: &str, row: impl FnOnce() -> SampledRow) {
        if let Some((r, b, c)) = &self.cutoff {
            match rank.cmp(r) {
                std::cmp::Ordering::Greater => return,
                std::cmp::Ordering::Equal if (bits, category) >= (b.as_slice(), c.as_str()) => {
                    return;
                }
                _ => {}
            }
        }
        self.kept
            .entry((rank, bits.to_vec(), category.to_string()))
            .or_default()
            .push(row());
        self.total += 1;
        // Groups only grow, so a group evicted once (its rank-prefix passed the cap) never fits.
        while self.total > self.cap {
            let Some((k, rows)) = self.kept.pop_last() else {
                break;
            };
            self.total -= rows.len();
            self.cutoff = Some(k);
        }
    }
}

/// What pass 1 learned.
struct Pass1 {
    rows: usize,
    sha256: String,
    /// The numeric role columns, in roles order.
    cols: Vec<String>,
    sum: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
    level_rows: Vec<usize>,
    level_sum: Vec<Vec<f64>>,
    distinct: usize,
    largest: usize,
    size_counts: BTreeMap<usize, usize>,
    extra_columns: Vec<String>,
    sample: Dataset,
    file_reads: usize,
}

/// Bucket bits for about `rows` rows: about a million records per bucket, at most 256 buckets.
fn bucket_bits(rows: usize) -> u32 {
    let want = rows.div_ceil(1 << 20).clamp(1, 256);
    want.next_power_of_two().trailing_zeros()
}

fn pass1(
    path: &Path,
    settings: &Settings,
    chunk_rows: usize,
    rows_hint: usize,
) -> Result<Pass1, PipelineError> {
    let roles = &settings.roles;
    let scratch = Scratch::new().map_err(|e| stream_error(path, e))?;
    let io = |e: std::io::Error| stream_error(path, format!("temporary files: {e}"));
    let cols = roles.numeric_columns();
    let p = cols.len();
    let bits = bucket_bits(rows_hint);
    let mut id_buckets = Buckets::new(&scratch.0, "ids", bits, 16).map_err(io)?;
    let mut row_buckets = Buckets::new(&scratch.0, "rows", bits, 8 + 8 * p + 4).map_err(io)?;
    let levels = &roles.category_levels;
    let level_of: HashMap<&str, usize> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let id_key = data::rank_key(0, "stream/ids");
    let mut sampler = Sampler {
        key: data::rank_key(settings.seed, ANALYSIS_SAMPLE),
        cap: settings.sample_cap,
        kept: BTreeMap::new(),
        total: 0,
        cutoff: None,
    };
    let (mut sum, mut min, mut max) = (
        vec![0.0; p],
        vec![f64::INFINITY; p],
        vec![f64::NEG_INFINITY; p],
    );
    let mut level_rows = vec![0usize; levels.len()];
    let mut level_sum = vec![vec![0.0; p]; levels.len()];
    let mut extra_columns = Vec::new();
    let mut chunks = data::chunks_with(path, roles, &settings.data, chunk_rows)?.without_id_index();
    let parquet = chunks.is_parquet();
    let mut bitbuf = vec![0u64; p];
    let mut record = Vec::with_capacity(8 * p + 4);
    for chunk in chunks.by_ref() {
        let chunk = chunk?;
        let gap = if settings.data.missing == data::MissingPolicy::Reject {
            None // gaps are violations, reported by the reader
        } else {
            (0..chunk.n_rows()).find(|&i| chunk_row_has_gap(&chunk, &cols, i))
        };
        if let Some(i) = gap {
            return Err(stream_error(
                path,
                format!(
                    "{} {} has a gap; a streamed build needs a table without gaps (data.missing = \"reject\" lists them all; a larger --stream-above-rows loads the table whole)",
                    if parquet { "row" } else { "line" },
                    chunk.lines[i]
                ),
            ));
        }
        if extra_columns.is_empty() {
            extra_columns = chunk.extra_columns.clone();
        }
        let data: Vec<&[f64]> = cols.iter().map(|c| chunk.col(c)).collect();
        for i in 0..chunk.n_rows() {
            let cat = chunk.category[i].as_str();
            let level = level_of.get(cat).copied();
            for j in 0..p {
                let x = data[j][i];
                sum[j] += x;
                min[j] = min[j].min(x);
                max[j] = max[j].max(x);
                bitbuf[j] = (x + 0.0).to_bits();
                if let Some(l) = level {
                    level_sum[l][j] += x;
                }
            }
            if let Some(l) = level {
                level_rows[l] += 1;
            }
            let rank = data::group_rank(sampler.key, &bitbuf, cat);
            sampler.offer(rank, &bitbuf, cat, || SampledRow {
                line: chunk.lines[i],
                id: chunk.ids[i].clone(),
                values: data.iter().map(|c| c[i]).collect(),
            });
            let id_hash = data::group_rank(id_key, &[], &chunk.ids[i]);
            id_buckets
                .push(id_hash, &(chunk.lines[i] as u64).to_be_bytes())
                .map_err(io)?;
            record.clear();
            for b in &bitbuf {
                record.extend_from_slice(&b.to_be_bytes());
            }
            record.extend_from_slice(&(level.map_or(u32::MAX, |l| l as u32)).to_be_bytes());
            row_buckets.push(rank, &record).map_err(io)?;
        }
    }
    let rows = chunks.rows_read();
    let sha256 = chunks.sha256().unwrap_or_default();
    drop(chunks);
    let id_paths = id_buckets.finish().map_err(io)?;
    let row_paths = row_buckets.finish().map_err(io)?;
    let mut file_reads = 1;
    // Ids: equal hashes are candidates; the file is re-read for their lines only.
    let mut candidates: HashSet<usize> = HashSet::new();
    for p in &id_paths {
        let bytes = std::fs::read(p).map_err(io)?;
        std::fs::remove_file(p).map_err(io)?;
        let mut recs: Vec<(u64, u64)> = bytes
            .chunks_exact(16)
            .map(|r| {
                (
                    u64::from_be_bytes(r[..8].try_into().expect("8 bytes")),
                    u64::from_be_bytes(r[8..].try_into().expect("8 bytes")),
                )
            })
            .collect();
        recs.sort_unstable();
        for run in recs.chunk_by(|a, b| a.0 == b.0) {
            if run.len() > 1 {
                candidates.extend(run.iter().map(|&(_, line)| line as usize));
            }
        }
    }
    if !candidates.is_empty() {
        file_reads += 1;
        repeated_ids(path, settings, chunk_rows, parquet, &candidates)?;
    }
    // Distinct rows and group sizes: equal records (hash and content) are one group.
    let (mut distinct, mut largest) = (0usize, 0usize);
    let mut size_counts: BTreeMap<usize, usize> = BTreeMap::new();
    let rec = 8 + 8 * p + 4;
    for p in &row_paths {
        let bytes = std::fs::read(p).map_err(io)?;
        std::fs::remove_file(p).map_err(io)?;
        let n = bytes.len() / rec;
        let at = |i: usize| &bytes[i * rec..(i + 1) * rec];
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by(|&a, &b| at(a as usize).cmp(at(b as usize)));
        for run in order.chunk_by(|&a, &b| at(a as usize) == at(b as usize)) {
            distinct += 1;
            largest = largest.max(run.len());
            *size_counts.entry(run.len()).or_insert(0) += 1;
        }
    }
    drop(scratch);
    // The sample, in file order.
    let mut kept: Vec<(String, SampledRow)> = sampler
        .kept
        .into_iter()
        .flat_map(|((_, _, cat), rows)| rows.into_iter().map(move |r| (cat.clone(), r)))
        .collect();
    kept.sort_by_key(|(_, r)| r.line);
    let numeric: BTreeMap<String, Vec<f64>> = cols
        .iter()
        .enumerate()
        .map(|(j, c)| (c.clone(), kept.iter().map(|(_, r)| r.values[j]).collect()))
        .collect();
    let provenance = Provenance {
        source: path.display().to_string(),
        rows,
        sha256: sha256.clone(),
    };
    let mut sample = Dataset::from_columns(
        roles.clone(),
        kept.iter().map(|(_, r)| r.id.clone()).collect(),
        numeric,
        kept.iter().map(|(c, _)| c.clone()).collect(),
        Vec::new(),
        kept.iter().map(|(_, r)| r.line).collect(),
        provenance,
    );
    if rows > settings.sample_cap {
        sample.sample_of = Some(SampleInfo {
            rows: sample.n_rows(),
            table_rows: rows,
            groups: sample.n_groups,
            table_groups: distinct,
            cap: settings.sample_cap,
            method: data::sample_method(ANALYSIS_SAMPLE, settings.sample_cap),
        });
    }
    Ok(Pass1 {
        rows,
        sha256,
        cols,
        sum,
        min,
        max,
        level_rows,
        level_sum,
        distinct,
        largest,
        size_counts,
        extra_columns,
        sample,
        file_reads,
    })
}

fn chunk_row_has_gap(ds: &Dataset, cols: &[String], i: usize) -> bool {
    ds.category[i].is_empty()
        || cols
            .iter()
            .any(|c| ds.numeric.get(c).is_none_or(|v| v[i].is_nan()))
}

/// Re-reads the rows on `candidates` (lines, or Parquet rows) and reports every id that appears
/// again, naming the line of its first appearance, as a whole-table load does.
fn repeated_ids(
    path: &Path,
    settings: &Settings,
    chunk_rows: usize,
    parquet: bool,
    candidates: &HashSet<usize>,
) -> Result<(), PipelineError> {
    let at = if parquet {
        Position::Row
    } else {
        Position::Line
    };
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut violations = Vec::new();
    let chunks =
        data::chunks_with(path, &settings.roles, &settings.data, chunk_rows)?.without_id_index();
    for chunk in chunks {
        let chunk = chunk?;
        for (id, &line) in chunk.ids.iter().zip(&chunk.lines) {
            if !candidates.contains(&line) {
                continue;
            }
            match first.get(id) {
                Some(&f) => violations.push(Violation {
                    line,
                    at,
                    column: settings.roles.id.clone(),
                    value: id.clone(),
                    rule: format!(
                        "ids are unique; '{id}' already appears on {} {f}",
                        at.word()
                    ),
                }),
                None => {
                    first.insert(id.clone(), line);
                }
            }
        }
    }
    if violations.is_empty() {
        return Ok(());
    }
    let total = violations.len();
    violations.truncate(MAX_VIOLATIONS);
    Err(DataError::Invalid {
        path: path.to_path_buf(),
        violations,
        total,
    }
    .into())
}

/// What pass 2 learned.
struct Pass2 {
    /// Sums of (x − mean)^2, ^3, ^4 per column.
    s2: Vec<f64>,
    s3: Vec<f64>,
    s4: Vec<f64>,
    /// Sums of (x − mean)(y − mean) for every pair of columns.
    cross: Vec<Vec<f64>>,
    outliers_low: Vec<usize>,
    outliers_high: Vec<usize>,
    scored: Option<(usize, Vec<usize>, usize, f64)>,
}

fn pass2(
    path: &Path,
    settings: &Settings,
    chunk_rows: usize,
    p1: &Pass1,
    fences: &[(f64, f64)],
    models: Option<(&ProductionModels, &Path)>,
) -> Result<Pass2, PipelineError> {
    let p = p1.cols.len();
    let n = p1.rows as f64;
    let mean: Vec<f64> = p1.sum.iter().map(|s| s / n).collect();
    let mut out = Pass2 {
        s2: vec![0.0; p],
        s3: vec![0.0; p],
        s4: vec![0.0; p],
        cross: vec![vec![0.0; p]; p],
        outliers_low: vec![0; p],
        outliers_high: vec![0; p],
        scored: models.map(|(m, _)| (0, vec![0; m.segments.segments.centroids.len()], 0, 0.0)),
    };
    let mut chunks =
        data::chunks_with(path, &settings.roles, &settings.data, chunk_rows)?.without_id_index();
    let mut d = vec![0.0; p];
    for chunk in chunks.by_ref() {
        let chunk = chunk?;
        let data: Vec<&[f64]> = p1.cols.iter().map(|c| chunk.col(c)).collect();
        #[allow(clippy::needless_range_loop)] // i indexes every column
        for i in 0..chunk.n_rows() {
            for j in 0..p {
                let x = data[j][i];
                d[j] = x - mean[j];
                let d2 = d[j] * d[j];
                out.s2[j] += d2;
                out.s3[j] += d2 * d[j];
                out.s4[j] += d2 * d2;
                out.outliers_low[j] += usize::from(x < fences[j].0);
                out.outliers_high[j] += usize::from(x > fences[j].1);
            }
            for j in 0..p {
                for k in j + 1..p {
                    out.cross[j][k] += d[j] * d[k];
                }
            }
        }
        if let (Some((m, dir)), Some((rows, seg, flagged, spend))) = (models, out.scored.as_mut()) {
            match crate::score::score_dataset(m, dir, &chunk) {
                Ok(s) => {
                    *rows += chunk.n_rows();
                    for &g in &s.segment {
                        if let Some(c) = seg.get_mut(g) {
                            *c += 1;
                        }
                    }
                    *flagged += s.flag.iter().filter(|&&f| f).count();
                    *spend += s.predicted.iter().sum::<f64>();
                }
                Err(e) => return Err(stream_error(path, format!("scoring every row: {e}"))),
            }
        }
    }
    if chunks.sha256().as_deref() != Some(p1.sha256.as_str()) {
        return Err(stream_error(
            path,
            "the file changed between the two reads; build again",
        ));
    }
    for j in 0..p {
        out.cross[j][j] = out.s2[j];
        for k in 0..j {
            out.cross[j][k] = out.cross[k][j];
        }
    }
    Ok(out)
}

/// The table's profile from pass 1's exact counts (the loader's `Dataset::profile` of the whole
/// table, field for field; `streamed` and `missing` left empty for the caller).
fn profile_of(p1: &Pass1, settings: &Settings) -> DatasetProfile {
    let roles = &settings.roles;
    let n = p1.rows;
    DatasetProfile {
        provenance: Provenance {
            source: p1.sample.provenance.source.clone(),
            rows: n,
            sha256: p1.sha256.clone(),
        },
        rows: n,
        columns: roles.required_columns(),
        extra_columns: p1.extra_columns.clone(),
        distinct_rows: p1.distinct,
        duplicate_rows: n - p1.distinct,
        largest_group: p1.largest,
        category_counts: roles
            .category_levels
            .iter()
            .cloned()
            .zip(p1.level_rows.iter().copied())
            .collect(),
        streamed: None,
        missing: MissingProfile::default(),
    }
}

/// `report validate` on a file above [`BuildOptions::stream_above_rows`]: pass 1 alone, so the
/// file is checked chunk by chunk with the loader's rules and messages and never held whole.
/// Returns the profile a whole load gives (exact rows, distinct rows, largest duplicate group,
/// rows per level, the file's hash), or the loader's error. Like a streamed build it refuses a
/// table with gaps unless `data.missing = "reject"` (which reports them as violations).
pub fn validate(opts: &BuildOptions) -> Result<DatasetProfile, PipelineError> {
    opts.settings.check()?;
    let hint = estimate_rows(&opts.data).map_or(0, |(r, _)| r);
    let p1 = pass1(
        &opts.data,
        &opts.settings,
        opts.stream_chunk_rows.max(1),
        hint,
    )?;
    Ok(profile_of(&p1, &opts.settings))
}

/// Pass 1 alone: validates `path` in chunks of `chunk_rows` and returns the analyses' shared
/// sample drawn in bounded memory (the whole table when it has at most `sample_cap` rows), in
/// file order. It holds the same rows as [`Dataset::sample_rows`] on the whole table.
pub fn read_sample(
    path: &Path,
    settings: &Settings,
    chunk_rows: usize,
) -> Result<Dataset, PipelineError> {
    settings.check()?;
    let hint = estimate_rows(path).map_or(0, |(r, _)| r);
    Ok(pass1(path, settings, chunk_rows.max(1), hint)?.sample)
}

/// Renders a streamed build (see the module notes): the findings and every output file.
pub(crate) fn render_all(
    opts: &BuildOptions,
    reason: String,
    progress: &mut dyn FnMut(&str),
) -> Result<(Findings, Outputs), PipelineError> {
    render_all_timed(opts, reason, progress, &mut |_, _| {})
}

/// [`render_all`], reporting each stage's name and duration to `timed` (used by `report bench
/// --stream-build`).
pub fn render_all_timed(
    opts: &BuildOptions,
    reason: String,
    progress: &mut dyn FnMut(&str),
    timed: &mut dyn FnMut(&str, std::time::Duration),
) -> Result<(Findings, Outputs), PipelineError> {
    let settings = &opts.settings;
    let path = &opts.data;
    let chunk_rows = opts.stream_chunk_rows.max(1);
    let hint = estimate_rows(path).map_or(0, |(r, _)| r);
    let mut t = std::time::Instant::now();
    let mut lap = |name: &str, timed: &mut dyn FnMut(&str, std::time::Duration)| {
        timed(name, t.elapsed());
        t = std::time::Instant::now();
    };
    progress("streaming the data (pass 1: validation, sums, duplicates, the sample)");
    let p1 = pass1(path, settings, chunk_rows, hint)?;
    lap("pass 1 (validate, sums, duplicates, sample)", timed);
    progress("running analyses on the sample");
    let mut findings = pipeline::analyze(&p1.sample, settings);
    lap("analyses on the sample", timed);
    progress("fitting the production models");
    let models = models::fit(&p1.sample, settings, &findings);
    lap("production models (the sample)", timed);
    let fences: Vec<(f64, f64)> = p1
        .cols
        .iter()
        .map(|c| {
            findings
                .eda
                .numeric
                .iter()
                .find(|n| &n.column == c)
                .map_or((f64::NEG_INFINITY, f64::INFINITY), |n| {
                    (n.lower_fence, n.upper_fence)
                })
        })
        .collect();
    progress("streaming the data (pass 2: moments, correlations, segments and scores)");
    let models_dir = opts.out_dir.join(models::MODELS_DIR);
    let p2 = pass2(
        path,
        settings,
        chunk_rows,
        &p1,
        &fences,
        models.as_ref().ok().map(|m| (m, models_dir.as_path())),
    )?;
    apply(&mut findings, settings, &p1, &p2, reason, chunk_rows);
    lap("pass 2 (moments, correlations, scores)", timed);
    let mut out = pipeline::outputs(&findings, opts)?;
    pipeline::insert_models(&mut out, &models, &opts.out_dir);
    lap("plots and render", timed);
    Ok((findings, out))
}

/// Skewness (G1) and excess kurtosis (G2) from centred power sums, as [`crate::stats`] defines them.
fn shape(n: f64, s2: f64, s3: f64, s4: f64) -> (f64, f64) {
    let (m2, m3, m4) = (s2 / n, s3 / n, s4 / n);
    let skew = if n < 3.0 {
        f64::NAN
    } else {
        m3 / m2.powf(1.5) * (n * (n - 1.0)).sqrt() / (n - 2.0)
    };
    let kurt = if n < 4.0 {
        f64::NAN
    } else {
        let g2 = m4 / (m2 * m2) - 3.0;
        ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
    };
    (skew, kurt)
}

/// Puts the exact whole-file figures into findings computed on the sample.
fn apply(
    f: &mut Findings,
    settings: &Settings,
    p1: &Pass1,
    p2: &Pass2,
    reason: String,
    chunk_rows: usize,
) {
    let roles = &settings.roles;
    let n = p1.rows;
    let nf = n as f64;
    let idx = |c: &str| p1.cols.iter().position(|x| x == c);
    let pearson = |a: usize, b: usize| {
        if a == b {
            1.0
        } else {
            p2.cross[a][b] / (p2.s2[a] * p2.s2[b]).sqrt()
        }
    };
    // The table's profile (what the sample's run put in `streamed` and `missing` stays).
    let ds = &mut f.dataset;
    *ds = DatasetProfile {
        streamed: ds.streamed.take(),
        missing: std::mem::take(&mut ds.missing),
        ..profile_of(p1, settings)
    };
    f.provenance.data = ds.provenance.clone();
    // EDA: per-column profiles.
    let eda = &mut f.eda;
    eda.rows = n;
    for prof in &mut eda.numeric {
        let Some(j) = idx(&prof.column) else { continue };
        let (skew, kurt) = shape(nf, p2.s2[j], p2.s3[j], p2.s4[j]);
        prof.count = n;
        prof.missing = 0;
        prof.mean = p1.sum[j] / nf;
        prof.sd = if n < 2 {
            f64::NAN
        } else {
            (p2.s2[j] / (nf - 1.0)).sqrt()
        };
        prof.min = p1.min[j];
        prof.max = p1.max[j];
        prof.skewness = skew;
        prof.kurtosis = kurt;
        prof.outliers_low = p2.outliers_low[j];
        prof.outliers_high = p2.outliers_high[j];
    }
    for level in &mut eda.category.levels {
        if let Some(k) = roles.category_levels.iter().position(|l| *l == level.level) {
            level.rows = p1.level_rows[k];
            level.share = level.rows as f64 / nf;
        }
    }
    eda.category.distinct = p1.level_rows.iter().filter(|&&r| r > 0).count();
    eda.category.missing = 0;
    // Pearson correlations over every row (Spearman stays the sample's).
    let cidx: Vec<Option<usize>> = eda.correlation.columns.iter().map(|c| idx(c)).collect();
    for (a, ia) in cidx.iter().enumerate() {
        for (b, ib) in cidx.iter().enumerate() {
            if let (Some(x), Some(y)) = (ia, ib) {
                eda.correlation.pearson[a][b] = pearson(*x, *y);
            }
        }
    }
    let cols = &eda.correlation.columns;
    let k = roles.numeric.len().min(cols.len());
    let pm = &eda.correlation.pearson;
    let mut best: Option<(usize, usize)> = None;
    for i in 0..k {
        for j in i + 1..k {
            let better = match best {
                None => pm[i][j].is_finite(),
                Some((a, b)) => pm[i][j].abs() > pm[a][b].abs(),
            };
            if better {
                best = Some((i, j));
            }
        }
    }
    if let Some((i, j)) = best {
        eda.correlation.max_predictor_pair = analysis::eda::PairCorrelation {
            a: cols[i].clone(),
            b: cols[j].clone(),
            pearson: pm[i][j],
            spearman: eda.correlation.spearman[i][j],
        };
    }
    for pair in &mut eda.correlation.with_target {
        if let (Some(a), Some(b)) = (idx(&pair.a), idx(&pair.b)) {
            pair.pearson = pearson(a, b);
        }
    }
    // Collinearity from the predictors' exact correlation matrix: VIF_j = (R⁻¹)_jj.
    let pred: Vec<usize> = eda
        .collinearity
        .predictors
        .iter()
        .filter_map(|c| idx(c))
        .collect();
    if pred.len() == eda.collinearity.predictors.len() {
        let r: Vec<Vec<f64>> = pred
            .iter()
            .map(|&a| pred.iter().map(|&b| pearson(a, b)).collect())
            .collect();
        let m = ndarray::Array2::from_shape_fn((r.len(), r.len()), |(i, j)| r[i][j]);
        let inv = {
            use linfa_linalg::cholesky::InverseC;
            m.invc().ok()
        };
        for (j, v) in eda.collinearity.vif.iter_mut().enumerate() {
            match &inv {
                Some(inv) if r.len() >= 2 => {
                    v.vif = inv[[j, j]];
                    v.r_squared = 1.0 - 1.0 / v.vif;
                }
                _ => {
                    v.vif = f64::NAN;
                    v.r_squared = f64::NAN;
                }
            }
        }
        let ev = analysis::eda::symmetric_eigenvalues(&r);
        eda.collinearity.condition_number = match (ev.first(), ev.last()) {
            (Some(&hi), Some(&lo)) if lo > 0.0 => (hi / lo).sqrt(),
            (Some(_), Some(_)) => f64::INFINITY,
            _ => f64::NAN,
        };
        eda.collinearity.eigenvalues = ev;
        eda.collinearity.method = "streamed build: from the predictors' Pearson correlation matrix R over every row (two passes); VIF = (R⁻¹)ⱼⱼ, equal to 1/(1 − R²) of each standardised predictor regressed by OLS with intercept on the others; condition number = √(λmax/λmin) of R (linfa-linalg symmetric eigen solver)".into();
    }
    // Duplicates over every row; the twin simulation ran on the sample.
    let dup = &mut eda.duplicates;
    dup.rows = n;
    dup.distinct_rows = p1.distinct;
    dup.duplicate_rows = n - p1.distinct;
    dup.duplicate_share = (n - p1.distinct) as f64 / nf.max(1.0);
    dup.largest_group = p1.largest;
    dup.groups_with_copies = p1
        .size_counts
        .iter()
        .filter(|(s, _)| **s > 1)
        .map(|(_, c)| c)
        .sum();
    dup.group_size_counts = p1.size_counts.iter().map(|(s, c)| (*s, *c)).collect();
    let m_all = ((nf * settings.eda.split_test_share).round() as usize)
        .clamp(usize::from(n > 1), n.saturating_sub(1));
    dup.split.test_rows = m_all;
    dup.split.expected = expected_twin_share(&p1.size_counts, n, m_all);
    if p1.sample.sample_of.is_some() {
        dup.split.method.push_str(&format!(
        ", on the shared sample of {} of the {n} rows made of whole duplicate groups (stream '{ANALYSIS_SAMPLE}', sample_cap = {}); the expected share uses every row",
        p1.sample.n_rows(),
        settings.sample_cap
    ));
    }
    // Per-level rows, shares and means (medians stay the sample's).
    for level in &mut eda.groups.levels {
        let Some(k) = roles.category_levels.iter().position(|l| *l == level.level) else {
            continue;
        };
        level.rows = p1.level_rows[k];
        level.share = level.rows as f64 / nf;
        for (c, m) in eda.groups.columns.iter().zip(level.mean.iter_mut()) {
            if let Some(j) = idx(c) {
                *m = if level.rows == 0 {
                    f64::NAN
                } else {
                    p1.level_sum[k][j] / level.rows as f64
                };
            }
        }
    }
    // The alerts again, now from the exact figures above (duplicates, correlations, VIFs), so their
    // evidence agrees with the table's profile; the leakage checks still read the sample's
    // engineered features.
    let alerts = analysis::eda::alerts(&p1.sample, settings, eda);
    eda.alerts = alerts;
    // Segmentation: fitted on the sample, every row assigned in pass 2.
    let seg = &mut f.segmentation;
    seg.rows = n;
    seg.distinct_rows = p1.distinct;
    let scored = p2.scored.as_ref().map(|(rows, counts, flagged, spend)| {
        for persona in &mut seg.personas {
            if let Some(&c) = counts.get(persona.cluster) {
                persona.size = c;
                persona.share = c as f64 / nf;
            }
        }
        ScoredRows {
            rows: *rows,
            segment_rows: seg
                .personas
                .iter()
                .map(|p| (p.name.clone(), counts.get(p.cluster).copied().unwrap_or(0)))
                .collect(),
            growth_flagged: *flagged,
            mean_predicted_spend: spend / (*rows).max(1) as f64,
        }
    });
    if seg.skipped.is_none() && p1.sample.sample_of.is_some() {
        seg.fit_rows = format!(
            "the shared sample of {} of the {n} rows (a streamed build); every row was then assigned to its nearest centroid in a second pass over the file",
            p1.sample.n_rows()
        );
    }
    let sample = p1.sample.sample_of.clone().unwrap_or(SampleInfo {
        rows: p1.sample.n_rows(),
        table_rows: n,
        groups: p1.sample.n_groups,
        table_groups: p1.distinct,
        cap: settings.sample_cap,
        method: "every row (the table is not larger than sample_cap)".into(),
    });
    f.dataset.streamed = Some(StreamedBuild {
        rule: reason,
        chunk_rows,
        file_reads: p1.file_reads + 1,
        exact: [
            "validation (line or row, column, value, rule), unique ids and the file's SHA-256",
            "rows, distinct rows, duplicate rows, group sizes, the largest group and the expected twin share",
            "rows and share of each category level, and each level's means",
            "count, mean, standard deviation, min, max, skewness and kurtosis of each numeric column",
            "outlier counts (every row against the Tukey fences of the sample's quartiles)",
            "Pearson correlations, VIFs, eigenvalues and the condition number",
            "the EDA alerts on duplicates, correlations and collinearity (from the exact figures above)",
            "segment sizes and shares (every row assigned by the production segmentation model)",
        ]
        .map(String::from)
        .to_vec(),
        on_sample: [
            "quartiles, Tukey fences, distinct values and top-value share of each numeric column",
            "Spearman correlations",
            "each category level's medians and the spend box plots",
            "histograms, density curves and the scatter plot",
            "the random-split twin simulation, the engineered features and the alerts' leakage checks on them",
            "the segmentation's choice of k, fit, silhouettes, stability and persona profiles",
            "the regression, classification, noise sweep, drift simulation and production models",
        ]
        .map(String::from)
        .to_vec(),
        sample,
        scored,
    });
}

/// The expected share of test rows with a twin in training when `m` of `n` rows are drawn as
/// the test set, from the group-size counts ([`analysis::eda::expected_twin_share`]'s formula).
fn expected_twin_share(size_counts: &BTreeMap<usize, usize>, n: usize, m: usize) -> f64 {
    if n < 2 || m == 0 {
        return 0.0;
    }
    let p_all_copies_in_test = |s: usize| -> f64 {
        (0..s.saturating_sub(1))
            .map(|j| (m as f64 - 1.0 - j as f64).max(0.0) / (n as f64 - 1.0 - j as f64))
            .product()
    };
    size_counts
        .iter()
        .map(|(&s, &c)| (c * s) as f64 * (1.0 - p_all_copies_in_test(s)))
        .sum::<f64>()
        / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_twin_share_matches_the_row_formula() {
        let groups = vec![0, 0, 1, 2, 2, 2, 3, 4, 4];
        let mut counts = BTreeMap::new();
        for s in [2usize, 1, 3, 1, 2] {
            *counts.entry(s).or_insert(0) += 1;
        }
        for m in [1, 3, 5] {
            let a = analysis::eda::expected_twin_share(&groups, m);
            let b = expected_twin_share(&counts, groups.len(), m);
            assert!((a - b).abs() < 1e-12, "{m}: {a} vs {b}");
        }
    }

    #[test]
    fn bucket_bits_keep_about_a_million_records_per_bucket() {
        assert_eq!(bucket_bits(0), 0);
        assert_eq!(bucket_bits(1 << 20), 0);
        assert_eq!(bucket_bits(10_000_000), 4);
        assert_eq!(bucket_bits(100_000_000), 7);
        assert_eq!(bucket_bits(usize::MAX / 2), 8);
    }
}
