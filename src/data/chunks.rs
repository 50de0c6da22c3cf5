//! Chunked reading: a CSV or Parquet file validated and handed over a bounded number of rows at
//! a time, so a caller (for example scoring a million customers) never holds the whole table.
//! A Parquet file is read a slice of rows at a time through polars' lazy scan (which reads only
//! the row groups a slice touches); its errors name 1-based data rows instead of lines.
//!
//! Every chunk is validated with the same rules and messages as [`super::load`], and every line
//! number (in [`Dataset::lines`] and in errors) is the line of the whole file. Differences from a
//! whole-file load, by design:
//! - duplicate groups ([`Dataset::groups`]) are computed within a chunk;
//! - ids must be unique across the whole file: a repeat of an id from an earlier chunk is a
//!   violation naming the earlier line, checked once the chunk's own cells are valid (this keeps
//!   one id and one line number per row seen so far);
//! - once a chunk breaks a cell rule no further chunk is handed over, but the rest of the file is
//!   still validated, so the one error (yielded last) lists the violations of every chunk, up to
//!   the same [`super::MAX_VIOLATIONS`] as a whole-file load, with their total; a structural
//!   error (unreadable file, broken quoting) still stops reading at once;
//! - a chunk's [`Provenance::sha256`] is empty: the file's hash is known once it is read to the
//!   end ([`Chunks::sha256`], [`ChunkSummary::sha256`]).

use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use polars::prelude::PlRandomState;
use sha2::{Digest, Sha256};

use super::error::{DataError, MAX_VIOLATIONS, Position, Violation};
use super::load::{ReadPath, check_file, parse_impl};
use super::missing::MissingSettings;
use super::schema::Roles;
use super::{Dataset, Provenance};

/// What [`for_each_chunk`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkSummary {
    /// Data rows in the file.
    pub rows: usize,
    /// Chunks handed to the callback.
    pub chunks: usize,
    /// SHA-256 of the file's bytes, lowercase hex (equal to a whole-file load's provenance hash).
    pub sha256: String,
}

/// Reads `path` in chunks of at most `rows_per_chunk` data rows (at least 1), validating each
/// with the same rules as [`super::load_with_roles`], and calls `f` on every chunk in file order.
///
/// Returns the first error (file errors, or the first chunk that breaks a rule, with absolute
/// line numbers); chunks before it have already been handed to `f`. See the module notes for how
/// chunks differ from a whole-file load (groups are per chunk, ids unique across the file).
///
/// ```
/// use customer_intel::data::{self, schema::Roles};
/// let path = std::path::Path::new("data/customer_purchasing_behaviors.csv");
/// let mut rows = 0;
/// let summary = data::for_each_chunk(path, &Roles::default(), 100, |chunk| rows += chunk.n_rows()).unwrap();
/// assert_eq!((rows, summary.rows, summary.chunks), (238, 238, 3));
/// ```
pub fn for_each_chunk(
    path: &Path,
    roles: &Roles,
    rows_per_chunk: usize,
    mut f: impl FnMut(&Dataset),
) -> Result<ChunkSummary, DataError> {
    let mut chunks = chunks(path, roles, rows_per_chunk)?;
    let mut n = 0;
    for chunk in chunks.by_ref() {
        f(&chunk?);
        n += 1;
    }
    Ok(ChunkSummary {
        rows: chunks.rows_read(),
        chunks: n,
        sha256: chunks.sha256().unwrap_or_default(),
    })
}

/// An iterator over the validated chunks of a CSV file (see [`for_each_chunk`]); it yields at
/// most one error, then ends.
///
/// ```
/// use customer_intel::data::{self, schema::Roles};
/// let path = std::path::Path::new("data/customer_purchasing_behaviors.csv");
/// let first = data::chunks(path, &Roles::default(), 50).unwrap().next().unwrap().unwrap();
/// assert_eq!(first.n_rows(), 50);
/// assert_eq!(first.lines[0], 2);
/// ```
pub fn chunks(path: &Path, roles: &Roles, rows_per_chunk: usize) -> Result<Chunks, DataError> {
    chunks_with(path, roles, &MissingSettings::reject(), rows_per_chunk)
}

/// [`chunks`] with gaps recognised and accepted as `missing` says (see [`super::load_with`]).
pub fn chunks_with(
    path: &Path,
    roles: &Roles,
    missing: &MissingSettings,
    rows_per_chunk: usize,
) -> Result<Chunks, DataError> {
    check_file(path)?;
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut head = [0u8; 4];
    let got = std::io::Read::read(&mut file, &mut head).map_err(io)?;
    let parquet = if super::parquet::is_parquet(path, &head[..got]) {
        let file = File::open(path).map_err(io)?;
        Some(ParquetSource {
            rows: super::parquet::count_rows(file, path)?,
            next: 0,
        })
    } else {
        None
    };
    let file = File::open(path).map_err(io)?;
    Ok(Chunks {
        reader: BufReader::with_capacity(1 << 20, file),
        parquet,
        missing: missing.clone(),
        started: false,
        path: path.to_path_buf(),
        roles: roles.clone(),
        rows_per_chunk: rows_per_chunk.max(1),
        header: None,
        next_line: 1,
        seen_ids: IdIndex::default(),
        index_ids: true,
        hasher: Some(Sha256::new()),
        sha256: None,
        rows: 0,
        done: false,
        failed: None,
    })
}

/// Where the next slice of a Parquet file starts.
struct ParquetSource {
    /// Data rows in the file.
    rows: usize,
    /// The next row to read (0-based).
    next: usize,
}

/// The chunk iterator made by [`chunks`].
pub struct Chunks {
    reader: BufReader<File>,
    /// Set when the file is Parquet (then `reader` only hashes the file).
    parquet: Option<ParquetSource>,
    missing: MissingSettings,
    /// Whether a chunk has been read.
    started: bool,
    path: PathBuf,
    roles: Roles,
    rows_per_chunk: usize,
    /// The header line (BOM removed, ending in a newline), once read.
    header: Option<Vec<u8>>,
    /// 1-based number of the next line to be read.
    next_line: usize,
    /// Every id seen so far, with the line it appeared on.
    seen_ids: IdIndex,
    /// Whether ids are checked across chunks (with `seen_ids`).
    index_ids: bool,
    hasher: Option<Sha256>,
    sha256: Option<String>,
    rows: usize,
    done: bool,
    /// Cell violations of the chunks read so far (the first [`MAX_VIOLATIONS`]) and their total,
    /// once a chunk has broken a rule.
    failed: Option<(Vec<Violation>, usize)>,
}

impl Chunks {
    /// Leaves out the check that ids are unique across chunks, which keeps every id seen so far
    /// in memory: for a caller that checks ids itself in bounded memory (a streamed build,
    /// [`crate::stream`]). Ids are still checked within each chunk.
    pub fn without_id_index(mut self) -> Chunks {
        self.index_ids = false;
        self
    }

    /// Whether this reader reads a Parquet file (its positions are data rows, not lines).
    pub fn is_parquet(&self) -> bool {
        self.parquet.is_some()
    }

    /// Data rows handed out so far.
    pub fn rows_read(&self) -> usize {
        self.rows
    }

    /// SHA-256 of the file's bytes once the iterator has read it to the end (`None` before).
    pub fn sha256(&self) -> Option<String> {
        self.sha256.clone()
    }

    fn io_error(&self, source: std::io::Error) -> DataError {
        DataError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads the text of the next chunk: (bytes to parse, line offset, data records in it).
    /// The first chunk is the file's beginning (blank lines, header, rows); later chunks are the
    /// header followed by their own lines.
    fn read_chunk(&mut self) -> Result<(Vec<u8>, usize, usize), DataError> {
        let first = self.header.is_none();
        let mut text = match &self.header {
            Some(h) => h.clone(),
            None => Vec::new(),
        };
        let offset = if first { 0 } else { self.next_line - 2 };
        let (mut records, mut quoted) = (0usize, false);
        let mut line = Vec::new();
        loop {
            line.clear();
            let got = self
                .reader
                .read_until(b'\n', &mut line)
                .map_err(|e| self.io_error(e))?;
            if got == 0 {
                break;
            }
            if let Some(h) = self.hasher.as_mut() {
                h.update(&line);
            }
            self.next_line += 1;
            let blank = matches!(line.as_slice(), b"\n" | b"\r\n" | b"\r");
            if !quoted && !blank {
                if self.header.is_none() {
                    let h = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line);
                    let mut h = h.to_vec();
                    if !h.ends_with(b"\n") {
                        h.push(b'\n');
                    }
                    self.header = Some(h);
                } else {
                    records += 1;
                }
            }
            if line.iter().filter(|&&b| b == b'"').count() % 2 == 1 {
                quoted = !quoted;
            }
            text.extend_from_slice(&line);
            if !quoted && records == self.rows_per_chunk {
                break;
            }
        }
        Ok((text, offset, records))
    }
}

impl Iterator for Chunks {
    type Item = Result<Dataset, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let result = self.next_dataset().and_then(|ds| match ds {
                Some(ds) => {
                    self.check_ids(&ds)?;
                    Ok(Some(ds))
                }
                None => Ok(None),
            });
            match result {
                Ok(Some(mut ds)) => {
                    self.rows += ds.n_rows();
                    if self.failed.is_some() {
                        // Still validating the rest of a file that already broke a rule.
                        continue;
                    }
                    ds.provenance = Provenance {
                        source: self.path.display().to_string(),
                        rows: ds.n_rows(),
                        sha256: String::new(),
                    };
                    return Some(Ok(ds));
                }
                Ok(None) => {
                    self.done = true;
                    if self.parquet.is_some() {
                        // The slices were read by polars: hash the file's bytes now.
                        if let Err(e) = self.hash_rest() {
                            return Some(Err(e));
                        }
                    }
                    self.sha256 = self
                        .hasher
                        .take()
                        .map(|h| h.finalize().iter().map(|b| format!("{b:02x}")).collect());
                    return self.failed.take().map(|f| Err(self.invalid(f)));
                }
                Err(DataError::Invalid {
                    violations, total, ..
                }) => {
                    let (kept, sum) = self.failed.get_or_insert_with(|| (Vec::new(), 0));
                    let room = MAX_VIOLATIONS.saturating_sub(kept.len());
                    kept.extend(violations.into_iter().take(room));
                    *sum += total;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(match self.failed.take() {
                        Some(f) => self.invalid(f),
                        None => e,
                    }));
                }
            }
        }
    }
}

impl Chunks {
    /// Whether violation numbers are lines (CSV) or rows (Parquet).
    fn numbering(&self) -> Position {
        if self.parquet.is_some() {
            Position::Row
        } else {
            Position::Line
        }
    }

    /// Feeds the rest of the file to the hasher.
    fn hash_rest(&mut self) -> Result<(), DataError> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let got = {
                let mut part = (&mut self.reader).take(1 << 20);
                part.read_to_end(&mut buf)
            };
            let got = got.map_err(|e| self.io_error(e))?;
            if got == 0 {
                return Ok(());
            }
            if let Some(h) = self.hasher.as_mut() {
                h.update(&buf);
            }
        }
    }

    /// The next chunk, validated (`None` at the end of the file).
    fn next_dataset(&mut self) -> Result<Option<Dataset>, DataError> {
        let first = !self.started;
        self.started = true;
        if let Some(src) = &self.parquet {
            let (offset, rows) = (src.next, src.rows);
            if offset >= rows && !first {
                return Ok(None);
            }
            let n = self.rows_per_chunk.min(rows - offset.min(rows));
            let file = File::open(&self.path).map_err(|e| self.io_error(e))?;
            if let Some(src) = self.parquet.as_mut() {
                src.next = offset + n;
            }
            return super::parquet::read_table(
                super::parquet::file_source(file),
                &self.path,
                &self.roles,
                &self.missing,
                Some((offset, n)),
                String::new(),
            )
            .map(Some);
        }
        let first = self.header.is_none();
        let (text, offset, records) = self.read_chunk()?;
        if records == 0 && !first {
            return Ok(None);
        }
        let ds = parse_impl(
            &text,
            &self.path,
            &self.roles,
            &self.missing,
            offset,
            String::new(),
            ReadPath::Auto,
        )?;
        Ok(Some(ds))
    }

    fn invalid(&self, (violations, total): (Vec<Violation>, usize)) -> DataError {
        DataError::Invalid {
            path: self.path.clone(),
            violations,
            total,
        }
    }

    /// Ids must be unique across chunks: repeats of earlier chunks' ids are violations.
    fn check_ids(&mut self, ds: &Dataset) -> Result<(), DataError> {
        if !self.index_ids {
            return Ok(());
        }
        let mut violations = Vec::new();
        for (id, &line) in ds.ids.iter().zip(&ds.lines) {
            if let Some(first) = self.seen_ids.get(id.as_str()) {
                violations.push(Violation {
                    line,
                    at: self.numbering(),
                    column: ds.roles.id.clone(),
                    value: id.clone(),
                    rule: format!(
                        "ids are unique; '{id}' already appears on {} {first}",
                        self.numbering().word()
                    ),
                });
            }
        }
        if !violations.is_empty() {
            let total = violations.len();
            violations.truncate(MAX_VIOLATIONS);
            return Err(DataError::Invalid {
                path: self.path.clone(),
                violations,
                total,
            });
        }
        for (id, &line) in ds.ids.iter().zip(&ds.lines) {
            self.seen_ids.insert(id, line);
        }
        Ok(())
    }
}

/// Every id seen so far and the line it appeared on, kept compactly: the ids' text end to end in
/// one buffer, and a hash table of (hash, index) pairs. (A map of boxed strings made one
/// allocation per id; scoring ten million rows peaked at 1.73 GB with it, 1.50 GB with this.)
#[derive(Default)]
struct IdIndex {
    state: PlRandomState,
    /// Every id's text, end to end.
    text: String,
    /// Where each id's text ends in `text` (it starts where the previous one ends).
    ends: Vec<usize>,
    /// The line (or row) of each id.
    lines: Vec<usize>,
    /// Each id's hash and its index in `ends` and `lines`.
    table: hashbrown::HashTable<(u64, usize)>,
}

impl IdIndex {
    fn id(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.text[start..self.ends[k]]
    }

    /// The line of `id`, if it was inserted.
    fn get(&self, id: &str) -> Option<usize> {
        let h = self.state.hash_one(id);
        self.table
            .find(h, |&(eh, k)| eh == h && self.id(k) == id)
            .map(|&(_, k)| self.lines[k])
    }

    /// Records `id` at `line` (the caller has checked that it is new).
    fn insert(&mut self, id: &str, line: usize) {
        let h = self.state.hash_one(id);
        let k = self.ends.len();
        self.text.push_str(id);
        self.ends.push(self.text.len());
        self.lines.push(line);
        self.table.insert_unique(h, (h, k), |&(eh, _)| eh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{SynthSpec, csv_text, load_with_roles, synth};

    /// The compact id index finds each inserted id with its line and nothing else: ids that are
    /// prefixes of one another ("1", "12", "123") and the empty id share one text buffer.
    #[test]
    fn id_index_finds_exactly_the_inserted_ids() {
        let mut index = IdIndex::default();
        let ids: Vec<String> = (0..20_000)
            .map(|i| (i / 3).to_string() + ["", "x", "é"][i % 3])
            .collect();
        for (i, id) in ids.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
            assert_eq!(index.get(id), None);
            index.insert(id, i + 2);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.get(id), (i % 2 == 0).then_some(i + 2), "{id}");
        }
        assert_eq!(index.get(""), None);
        index.insert("", 7);
        assert_eq!(index.get(""), Some(7));
        assert_eq!(index.get("0"), Some(2));
        assert_eq!(index.get("2"), Some(8));
        assert_eq!(index.get("1é"), None);
    }

    fn write(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ci-chunks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn all_chunks(path: &Path, n: usize) -> Result<Vec<Dataset>, DataError> {
        chunks(path, &Roles::default(), n)?.collect()
    }

    #[test]
    fn concatenated_chunks_equal_the_whole_file() {
        let spec = SynthSpec {
            duplicate_rate: 0.25,
            ..SynthSpec::default()
        };
        // Blank lines, CRLF and a quoted extra column with an embedded newline move line numbers.
        let mut text = csv_text(&synth(1000, 3, &spec)).replace('\n', "\r\n");
        text = text.replacen("\r\n", ",note\r\n", 1);
        let mut out = String::new();
        for (i, l) in text.split_inclusive("\r\n").enumerate() {
            if i == 0 {
                out.push_str(l);
                continue;
            }
            let body = l.trim_end_matches("\r\n");
            if i % 97 == 0 {
                out.push_str(&format!("{body},\"two\nlines\"\r\n\r\n"));
            } else {
                out.push_str(&format!("{body},x{i}\r\n"));
            }
        }
        let path = write("whole.csv", &out);
        let whole = load_with_roles(&path, &Roles::default()).unwrap();
        for n in [1, 7, 128, 999, 1000, 5000] {
            let parts = all_chunks(&path, n).unwrap();
            assert_eq!(parts.len(), 1000usize.div_ceil(n), "chunk size {n}");
            assert!(parts.iter().all(|c| c.n_rows() <= n));
            let cat = |f: &dyn Fn(&Dataset) -> Vec<String>| -> Vec<String> {
                parts.iter().flat_map(f).collect()
            };
            assert_eq!(cat(&|c| c.ids.clone()), whole.ids);
            assert_eq!(cat(&|c| c.category.clone()), whole.category);
            let lines: Vec<usize> = parts.iter().flat_map(|c| c.lines.clone()).collect();
            assert_eq!(lines, whole.lines);
            for col in Roles::default().numeric_columns() {
                let v: Vec<f64> = parts.iter().flat_map(|c| c.col(&col).to_vec()).collect();
                assert_eq!(v, whole.col(&col), "{col}");
            }
            let notes: Vec<String> = parts.iter().flat_map(|c| c.extras[0].1.clone()).collect();
            assert_eq!(notes, whole.extras[0].1);
        }
        let mut got = 0;
        let summary = for_each_chunk(&path, &Roles::default(), 300, |c| got += c.n_rows()).unwrap();
        assert_eq!((got, summary.rows, summary.chunks), (1000, 1000, 4));
        assert_eq!(summary.sha256, whole.provenance.sha256);
    }

    #[test]
    fn errors_carry_absolute_line_numbers() {
        let ds = synth(50, 1, &SynthSpec::default());
        let text = csv_text(&ds);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        // Line 41 (data row 40): a negative age. Line 47 repeats the id of line 3.
        let mut f: Vec<&str> = lines[40].split(',').collect();
        assert_eq!(lines[0].split(',').nth(1), Some("age"));
        f[1] = "-3";
        lines[40] = f.join(",");
        let id3 = lines[2].split(',').next().unwrap().to_string();
        let rest47: Vec<&str> = lines[46].splitn(2, ',').collect();
        lines[46] = format!("{id3},{}", rest47[1]);
        let path = write("bad.csv", &(lines.join("\n") + "\n"));
        let whole = load_with_roles(&path, &Roles::default()).unwrap_err();
        assert_eq!(whole.violations()[0].line, 41);
        assert_eq!(whole.violations()[0].column, "age");

        let mut seen = Vec::new();
        let err = chunks(&path, &Roles::default(), 10)
            .unwrap()
            .map(|c| c.map(|d| d.n_rows()))
            .inspect(|r| seen.push(r.is_ok()))
            .find_map(Result::err)
            .unwrap();
        // Chunks of lines 2-11, 12-21, 22-31, 32-41: the fourth fails at line 41 (the error comes
        // once the rest of the file is validated too).
        assert_eq!(seen, vec![true, true, true, false]);
        assert_eq!(err.violations()[0], whole.violations()[0]);

        // Fix the age: the repeat of line 3's id on line 47 is found across chunks.
        lines[40] = text.lines().nth(40).unwrap().to_string();
        let path = write("dup.csv", &(lines.join("\n") + "\n"));
        let whole = load_with_roles(&path, &Roles::default()).unwrap_err();
        let err = all_chunks(&path, 10).unwrap_err();
        assert_eq!(err.violations(), whole.violations());
        assert_eq!(err.violations()[0].line, 47);
        assert!(
            err.violations()[0]
                .rule
                .contains("already appears on line 3")
        );
        assert_eq!(err.to_string(), whole.to_string());
    }

    /// Issue 20: errors in several chunks are all listed, as a whole-file load lists them.
    #[test]
    fn violations_of_every_chunk_are_listed_like_a_whole_file_load() {
        let ds = synth(80, 2, &SynthSpec::default());
        let text = csv_text(&ds);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for l in [5, 25, 45, 77] {
            let mut f: Vec<String> = lines[l - 1].split(',').map(str::to_string).collect();
            f[1] = "-3".into();
            lines[l - 1] = f.join(",");
        }
        let path = write("several.csv", &(lines.join("\n") + "\n"));
        let whole = load_with_roles(&path, &Roles::default()).unwrap_err();
        let err = all_chunks(&path, 10).unwrap_err();
        let at: Vec<usize> = err.violations().iter().map(|v| v.line).collect();
        assert_eq!(at, vec![5, 25, 45, 77]);
        assert_eq!(err.violations(), whole.violations());
        assert_eq!(err.to_string(), whole.to_string());
        // Past the cap, both list the first MAX_VIOLATIONS and count the rest.
        let mut many = text.lines().map(str::to_string).collect::<Vec<_>>();
        for line in many.iter_mut().skip(1) {
            let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
            f[1] = "-1".into();
            *line = f.join(",");
        }
        let path = write("many.csv", &(many.join("\n") + "\n"));
        let whole = load_with_roles(&path, &Roles::default()).unwrap_err();
        let err = all_chunks(&path, 7).unwrap_err();
        assert_eq!(err.violations().len(), MAX_VIOLATIONS);
        assert_eq!(err.violations(), whole.violations());
        assert_eq!(err.to_string(), whole.to_string());
    }

    #[test]
    fn file_level_errors_match_the_whole_file_reader() {
        for (name, text) in [
            ("empty.csv", "\n \n"),
            (
                "header.csv",
                "user_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency\n\n",
            ),
            ("nocol.csv", "user_id,age\n1,2\n"),
            (
                "quote.csv",
                "user_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency\n1,2,3,4,5,North,6\n\"open,2,3,4,5,North,6\n",
            ),
        ] {
            let path = write(name, text);
            let whole = load_with_roles(&path, &Roles::default())
                .unwrap_err()
                .to_string();
            let chunked = all_chunks(&path, 1).unwrap_err().to_string();
            assert_eq!(chunked, whole, "{name}");
        }
        let missing = Path::new("/nonexistent/x.csv");
        assert!(matches!(
            chunks(missing, &Roles::default(), 5),
            Err(DataError::NotFound { .. })
        ));
    }
}
