//! CSV loading and validation. A quote-aware pre-scan finds where each record starts (so errors
//! can name editor line numbers) and rejects ragged records; polars then parses the text with
//! every column as a string, and each cell is checked against the roles' rules.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use polars::prelude::{
    CsvReadOptions, DataFrame, DataType, Field, Float64Chunked, InitHashMaps, Int64Chunked,
    PlHashMap, PlHashSet, Schema, SerReader, StringChunked,
};

use super::error::{DataError, MAX_VIOLATIONS, Position, Violation};
use super::missing::MissingSettings;
use super::schema::{ColumnRange, Roles};
use super::{Dataset, Provenance, sha256_hex};

/// The largest magnitude a numeric cell may have. Larger values (an income of 1e300) are
/// finite but overflow the sums of squares behind every spread, distance and fit, so they are
/// refused at load with this rule instead of breaking an analysis later.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// The magnitude rule in words.
pub(crate) fn magnitude_rule(col: &str) -> String {
    format!("{col} is at most 1e15 in magnitude (larger values overflow sums of squares)")
}

/// Loads and validates a CSV file with the bundled schema's roles.
///
/// ```
/// let ds = customer_intel::data::load(std::path::Path::new("data/customer_purchasing_behaviors.csv")).unwrap();
/// assert_eq!(ds.n_rows(), 238);
/// assert_eq!(ds.n_groups, 60);
/// ```
pub fn load(path: &Path) -> Result<Dataset, DataError> {
    load_with_roles(path, &Roles::default())
}

/// Loads and validates a CSV or Parquet file against the given column roles, refusing every
/// gap (see [`load_with`] for the other missing-value policies).
pub fn load_with_roles(path: &Path, roles: &Roles) -> Result<Dataset, DataError> {
    load_with(path, roles, &MissingSettings::reject())
}

/// Loads and validates a CSV or Parquet file against the given column roles, recognising and
/// accepting gaps as `missing` says (a gap is `NaN` in a numeric column, `""` in the category;
/// see [`super::missing`]).
///
/// A file is read as Parquet when its name ends in `.parquet` or it starts with Parquet's
/// `PAR1` magic bytes; its cells pass the same rules, and errors name the 1-based data row
/// instead of a line.
///
/// ```
/// use customer_intel::data::{self, MissingSettings, schema::Roles};
/// let ds = data::load_with(
///     std::path::Path::new("data/customer_purchasing_behaviors.csv"),
///     &Roles::default(),
///     &MissingSettings::default(),
/// )
/// .unwrap();
/// assert!(!ds.has_gaps());
/// ```
pub fn load_with(
    path: &Path,
    roles: &Roles,
    missing: &MissingSettings,
) -> Result<Dataset, DataError> {
    check_file(path)?;
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if super::parquet::is_parquet(path, &bytes) {
        return super::parquet::parse_parquet_bytes(bytes, path, roles, missing);
    }
    parse_impl(
        &bytes,
        path,
        roles,
        missing,
        0,
        sha256_hex(&bytes),
        ReadPath::Auto,
    )
}

/// The errors every reader gives before reading: missing path, directory, unreadable metadata.
pub(super) fn check_file(path: &Path) -> Result<(), DataError> {
    let meta = std::fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            DataError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    if meta.is_dir() {
        return Err(DataError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Validates CSV bytes as if read from `path` (the path is only used in messages and provenance).
///
/// A fast typed read comes first: polars parses the numeric role columns straight to `f64`
/// (multi-threaded) and the columns are checked whole. Only when that read fails or a rule is
/// broken does the precise path ([`parse_csv_bytes_precise`]) re-read the cells one by one to
/// name every violation with its line, column, value and rule. Both give the same [`Dataset`].
pub fn parse_csv_bytes(bytes: &[u8], path: &Path, roles: &Roles) -> Result<Dataset, DataError> {
    parse_impl(
        bytes,
        path,
        roles,
        &MissingSettings::reject(),
        0,
        sha256_hex(bytes),
        ReadPath::Auto,
    )
}

/// The precise reference path of [`parse_csv_bytes`]: every cell is read as text and checked on
/// its own. Same result and errors, several times slower on big files; the fast path falls back
/// to it to produce exact errors, and tests compare the two.
pub fn parse_csv_bytes_precise(
    bytes: &[u8],
    path: &Path,
    roles: &Roles,
) -> Result<Dataset, DataError> {
    parse_impl(
        bytes,
        path,
        roles,
        &MissingSettings::reject(),
        0,
        sha256_hex(bytes),
        ReadPath::Precise,
    )
}

/// Which reading path [`parse_impl`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadPath {
    /// Fast typed read, precise path only when it fails or a rule is broken.
    Auto,
    /// Precise cell-by-cell path only.
    Precise,
}

/// Parses and validates CSV bytes. `line_offset` is added to every data line number (the chunked
/// reader passes the lines that precede its chunk; the header keeps line 1); `sha256` becomes
/// the provenance hash.
pub(super) fn parse_impl(
    bytes: &[u8],
    path: &Path,
    roles: &Roles,
    missing: &MissingSettings,
    line_offset: usize,
    sha256: String,
    mode: ReadPath,
) -> Result<Dataset, DataError> {
    let p = || path.to_path_buf();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::Empty { path: p() });
    }
    if let Some(pos) = body.iter().position(|&b| b == 0) {
        return Err(DataError::NotText {
            path: p(),
            detail: format!(
                "a NUL byte at line {} (binary data?)",
                data_line(line_of(body, pos), line_offset)
            ),
        });
    }
    let text = std::str::from_utf8(body).map_err(|e| DataError::NotText {
        path: p(),
        detail: format!(
            "invalid UTF-8 at line {} (byte offset {}); save the file as UTF-8",
            data_line(line_of(body, e.valid_up_to()), line_offset),
            e.valid_up_to()
        ),
    })?;
    let mut records = scan_records(text).map_err(|(line, detail, field)| {
        let line = data_line(line, line_offset);
        let column = field.as_ref().and_then(|(k, _)| {
            parse_header(text, path)
                .ok()
                .and_then(|h| h.get(*k).cloned())
        });
        match (field, column) {
            (Some((_, value)), Some(column)) if line > 1 => DataError::Invalid {
                path: p(),
                violations: vec![Violation {
                    line,
                    at: Position::Line,
                    rule: format!(
                        "{column} as a quoted value ends at its closing quote (only a comma or the line end may follow it)"
                    ),
                    column,
                    value,
                }],
                total: 1,
            },
            _ => DataError::NotCsv {
                path: p(),
                detail: format!("line {line}: {detail}"),
            },
        }
    })?;
    for r in records.iter_mut().skip(1) {
        r.line += line_offset;
    }
    let header_fields = records[0].fields;
    let header = parse_header(text, path)?;
    debug_assert_eq!(header.len(), header_fields);

    let ColumnPlan {
        id_col,
        target_absent,
    } = match plan_columns(&header, roles, path) {
        Err(DataError::MissingColumns { required, .. })
            if header.len() < 2 && !text.contains(',') =>
        {
            return Err(DataError::NotCsv {
                path: p(),
                detail: format!(
                    "line 1 has no comma-separated header (found {:?}); expected columns {:?}",
                    truncate(&header.join(","), 60),
                    required
                ),
            });
        }
        other => other?,
    };

    // Structural check: every record has as many fields as the header.
    let mut violations = Vec::new();
    for r in &records[1..] {
        if r.fields != header_fields {
            violations.push(Violation {
                line: r.line,
                at: Position::Line,
                column: "(record)".into(),
                value: format!("{} fields", r.fields),
                rule: format!(
                    "every record has {header_fields} comma-separated fields, like the header"
                ),
            });
        }
    }
    if !violations.is_empty() {
        return Err(invalid(path, violations));
    }
    let lines: Vec<usize> = records[1..].iter().map(|r| r.line).collect();
    if lines.is_empty() {
        return Err(DataError::NoRows { path: p() });
    }

    // Blank lines are skipped by the scan; give the parser the same records.
    let covered: usize = records.iter().map(|r| r.span.1 - r.span.0).sum();
    let cleaned;
    let parse_text = if covered == text.len() {
        text
    } else {
        cleaned = records.iter().map(|r| &text[r.span.0..r.span.1]).fold(
            String::new(),
            |mut acc, piece| {
                acc.push_str(piece);
                if !acc.ends_with('\n') {
                    acc.push('\n');
                }
                acc
            },
        );
        cleaned.as_str()
    };
    if mode == ReadPath::Auto
        && let Some(c) = fast_columns(parse_text, &header, &id_col, roles, lines.len())
    {
        // The fast path accepts no gap, so its result never depends on `missing`.
        return Ok(finish(c, path, roles, id_col, lines, sha256));
    }
    let mut frame = read_strings(parse_text, path)?;
    // Cells are looked up by the header's trimmed names ("purchase_amount " with a stray space
    // is purchase_amount), as the header check saw them.
    if frame.width() == header.len() {
        frame
            .set_column_names(&header)
            .map_err(|e| DataError::NotCsv {
                path: p(),
                detail: format!("line 1: {e}"),
            })?;
    }
    if frame.height() != lines.len() {
        return Err(DataError::NotCsv {
            path: p(),
            detail: format!(
                "the CSV parser found {} data rows where the record scan found {}; check quoting",
                frame.height(),
                lines.len()
            ),
        });
    }
    let cell = |col: &str| -> Result<CellColumn, DataError> {
        let c = frame.column(col).map_err(|e| DataError::NotCsv {
            path: p(),
            detail: e.to_string(),
        })?;
        let s = c.str().map_err(|e| DataError::NotCsv {
            path: p(),
            detail: e.to_string(),
        })?;
        Ok(CellColumn::Text(s.clone()))
    };
    validate_cells(CellTable {
        path,
        roles,
        missing,
        header: &header,
        id_col,
        target_absent,
        lines,
        at: Position::Line,
        sha256,
        cell: &cell,
    })
}

/// The columns a table must have, resolved against its header.
pub(super) struct ColumnPlan {
    /// The id column's name in this file (the id or one of its aliases).
    pub id_col: String,
    /// The roles allow the target to be absent and the header lacks it.
    pub target_absent: bool,
}

/// Resolves the id column (or one of its aliases) and checks that every required column is in
/// the header.
pub(super) fn plan_columns(
    header: &[String],
    roles: &Roles,
    path: &Path,
) -> Result<ColumnPlan, DataError> {
    let id_col = std::iter::once(&roles.id)
        .chain(roles.id_aliases.iter())
        .find(|c| header.contains(c))
        .cloned();
    let required = roles.required_columns();
    let target_absent = roles.target_optional && !header.contains(&roles.target);
    let mut missing: Vec<String> = required
        .iter()
        .skip(1)
        .filter(|c| !header.contains(c) && !(target_absent && **c == roles.target))
        .cloned()
        .collect();
    let Some(id_col) = id_col else {
        missing.insert(0, roles.id.clone());
        return Err(DataError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            found: header.to_vec(),
            required,
        });
    };
    if !missing.is_empty() {
        return Err(DataError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            found: header.to_vec(),
            required,
        });
    }
    Ok(ColumnPlan {
        id_col,
        target_absent,
    })
}

/// A column's cells as [`validate_cells`] reads them: text (every CSV cell, a Parquet text or
/// other column), or the numbers a Parquet file stores typed. A typed number is judged from its
/// value; its text, the one a CSV copy of the file would hold, is made only for a message, for a
/// non-finite value, or when a missing-value text is itself a number.
pub(super) enum CellColumn {
    /// Cells as text (`None`: a null).
    Text(StringChunked),
    /// Floating-point cells (float32 widened exactly); as text, Rust's shortest round-trip form
    /// (`4.5`, `45000.0`, `1e300`), which parses back to the same value.
    Floats(Float64Chunked),
    /// Integer cells; as text, the integer as written.
    Ints(Int64Chunked),
}

/// One cell of a [`CellColumn`] (`None`: a null).
#[derive(Clone, Copy)]
enum Cell<'a> {
    Text(Option<&'a str>),
    Float(Option<f64>),
    Int(Option<i64>),
}

impl<'a> Cell<'a> {
    /// The cell's text as a CSV copy would hold it.
    fn text(self) -> Option<Cow<'a, str>> {
        match self {
            Cell::Text(v) => v.map(Cow::Borrowed),
            Cell::Float(v) => v.map(|x| Cow::Owned(format!("{x:?}"))),
            Cell::Int(v) => v.map(|i| Cow::Owned(i.to_string())),
        }
    }

    /// A typed cell's value: exactly what its text parses to (an integer is rounded to the
    /// nearest `f64`, as the text parser rounds it).
    fn number(self) -> Option<f64> {
        match self {
            Cell::Text(_) => None,
            Cell::Float(v) => v,
            Cell::Int(v) => v.map(|i| i as f64),
        }
    }
}

impl CellColumn {
    fn cells(&self) -> Box<dyn Iterator<Item = Cell<'_>> + '_> {
        match self {
            CellColumn::Text(s) => Box::new(s.iter().map(Cell::Text)),
            CellColumn::Floats(s) => Box::new(s.iter().map(Cell::Float)),
            CellColumn::Ints(s) => Box::new(s.iter().map(Cell::Int)),
        }
    }
}

/// A trimmed cell text, without copying it again when it is already owned and trimmed.
fn trimmed(t: Cow<'_, str>) -> String {
    match t {
        Cow::Owned(s) if s.trim().len() == s.len() => s,
        t => t.trim().to_string(),
    }
}

/// The rule a finite number breaks in column `col`, if any: magnitude, whole number, range.
fn number_rule(col: &str, range: &ColumnRange, x: f64) -> Option<String> {
    if x.abs() > MAX_MAGNITUDE {
        Some(magnitude_rule(col))
    } else if range.integer && x.fract() != 0.0 {
        Some(format!("{col} is a whole number (45 or 45.0)"))
    } else if range.min.is_some_and(|m| x < m) || range.max.is_some_and(|m| x > m) {
        Some(range_rule(col, range.min, range.max))
    } else {
        None
    }
}

/// A table's cells, whatever file they came from, ready for [`validate_cells`].
pub(super) struct CellTable<'a> {
    pub path: &'a Path,
    pub roles: &'a Roles,
    pub missing: &'a MissingSettings,
    /// Column names, trimmed.
    pub header: &'a [String],
    pub id_col: String,
    pub target_absent: bool,
    /// Line (or row) number of each data row.
    pub lines: Vec<usize>,
    pub at: Position,
    pub sha256: String,
    /// The cells of a column by name (a null is a gap).
    pub cell: &'a dyn Fn(&str) -> Result<CellColumn, DataError>,
}

/// Checks every cell against the roles' rules and the missing-value settings, naming each
/// violation with its line (or row), column, value and rule; builds the dataset when none.
pub(super) fn validate_cells(t: CellTable<'_>) -> Result<Dataset, DataError> {
    let CellTable {
        path,
        roles,
        missing,
        header,
        id_col,
        target_absent,
        lines,
        at,
        sha256,
        cell,
    } = t;
    let mut violations: Vec<(usize, usize, Violation)> = Vec::new(); // (row, column order, v)
    let mut push = |row: usize, col_order: usize, column: &str, value: &str, rule: String| {
        violations.push((
            row,
            col_order,
            Violation {
                line: lines[row],
                at,
                column: column.to_string(),
                value: value.to_string(),
                rule,
            },
        ));
    };
    let missing_rule = || {
        "required columns have no missing values (data.missing = \"reject\"; \"drop_rows\" or \"impute\" accept gaps)".to_string()
    };
    // A text that is neither a number nor a missing value is an error under every policy.
    let gap = |t: &str| missing.is_gap(t);

    // Ids: present and unique.
    let ids: Vec<String> = cell(&id_col)?
        .cells()
        .map(|c| c.text().map(trimmed).unwrap_or_default())
        .collect();
    let mut first_seen: PlHashMap<&str, usize> = PlHashMap::with_capacity(ids.len());
    for (row, v) in ids.iter().enumerate() {
        if v.is_empty() {
            let rule = if missing.accepts_gaps() {
                format!("{id_col} is never missing, whatever data.missing says")
            } else {
                missing_rule()
            };
            push(row, 0, &id_col, "", rule);
            continue;
        }
        let first = *first_seen.entry(v.as_str()).or_insert(row);
        if first != row {
            push(
                row,
                0,
                &id_col,
                v,
                format!(
                    "ids are unique; '{v}' already appears on {} {}",
                    at.word(),
                    lines[first]
                ),
            );
        }
    }
    drop(first_seen);

    // Numeric columns: finite numbers no larger than MAX_MAGNITUDE, whole where required, within
    // range; a missing value is a gap (NaN) when the policy accepts gaps. A finite typed number
    // skips the text: its text is never empty or a gap (unless a missing-value text is itself a
    // number) and parses back to the same value, so the text path would reach `number_rule` too.
    let typed = !(missing.accepts_gaps()
        && missing
            .missing_values
            .iter()
            .any(|m| m.trim().parse::<f64>().is_ok()));
    let mut numeric = BTreeMap::new();
    for (k, col) in roles.numeric_columns().iter().enumerate() {
        if target_absent && *col == roles.target {
            continue;
        }
        let range = roles.range(col);
        let mut values = Vec::with_capacity(lines.len());
        for (row, c) in cell(col)?.cells().enumerate() {
            if let Some(x) = c.number().filter(|x| typed && x.is_finite()) {
                if let Some(rule) = number_rule(col, &range, x) {
                    push(row, k + 1, col, &c.text().unwrap_or_default(), rule);
                }
                values.push(x);
                continue;
            }
            let v = c.text();
            let raw = v.as_deref().unwrap_or("");
            let t = raw.trim();
            if (v.is_none() && missing.accepts_gaps()) || gap(t) {
                values.push(f64::NAN);
                continue;
            }
            if t.is_empty() {
                push(row, k + 1, col, raw, missing_rule());
                values.push(f64::NAN);
                continue;
            }
            match t.parse::<f64>() {
                Ok(x) if x.is_finite() => {
                    if let Some(rule) = number_rule(col, &range, x) {
                        push(row, k + 1, col, raw, rule);
                    }
                    values.push(x);
                }
                Ok(_) => {
                    push(
                        row,
                        k + 1,
                        col,
                        raw,
                        format!("{col} is a finite number (not NaN or infinity)"),
                    );
                    values.push(f64::NAN);
                }
                Err(_) => {
                    push(row, k + 1, col, raw, format!("{col} is a number"));
                    values.push(f64::NAN);
                }
            }
        }
        numeric.insert(col.clone(), values);
    }

    // Category: one of the allowed levels, trimmed and case-insensitive; a gap is held as "".
    let cat_order = roles.numeric_columns().len() + 1;
    let mut category = Vec::with_capacity(lines.len());
    for (row, c) in cell(&roles.category)?.cells().enumerate() {
        let v = c.text();
        let raw = v.as_deref().unwrap_or("");
        let t = raw.trim();
        if (v.is_none() && missing.accepts_gaps()) || gap(t) {
            category.push(String::new());
            continue;
        }
        match roles
            .category_levels
            .iter()
            .find(|l| l.eq_ignore_ascii_case(t))
        {
            Some(level) => category.push(level.clone()),
            None => {
                let rule = if t.is_empty() {
                    missing_rule()
                } else {
                    format!(
                        "{} is one of {}",
                        roles.category,
                        roles.category_levels.join(", ")
                    )
                };
                push(row, cat_order, &roles.category, raw, rule);
                category.push(String::new());
            }
        }
    }

    if !violations.is_empty() {
        violations.sort_by_key(|(row, order, _)| (*row, *order));
        return Err(invalid(
            path,
            violations.into_iter().map(|(_, _, v)| v).collect(),
        ));
    }

    let required = roles.required_columns();
    let extras: Vec<(String, Vec<String>)> = header
        .iter()
        .filter(|h| **h != id_col && !required.contains(h))
        .map(|h| {
            Ok((
                h.clone(),
                cell(h)?
                    .cells()
                    .map(|c| c.text().map(Cow::into_owned).unwrap_or_default())
                    .collect(),
            ))
        })
        .collect::<Result<_, DataError>>()?;
    let columns = Columns {
        ids,
        numeric,
        category,
        extras,
    };
    Ok(finish(columns, path, roles, id_col, lines, sha256))
}

/// Validated columns, from either reading path.
struct Columns {
    ids: Vec<String>,
    numeric: BTreeMap<String, Vec<f64>>,
    category: Vec<String>,
    extras: Vec<(String, Vec<String>)>,
}

fn finish(
    c: Columns,
    path: &Path,
    roles: &Roles,
    id_col: String,
    lines: Vec<usize>,
    sha256: String,
) -> Dataset {
    let mut roles = roles.clone();
    roles.id = id_col;
    let provenance = Provenance {
        source: path.display().to_string(),
        rows: lines.len(),
        sha256,
    };
    Dataset::from_columns(
        roles, c.ids, c.numeric, c.category, c.extras, lines, provenance,
    )
}

/// The fast typed path: polars parses numeric role columns as `f64`, strings stay strings, and
/// every rule is checked on whole columns. `None` whenever anything is off (a cell polars cannot
/// parse, a missing value, a broken rule, an unusual header): the caller then takes the precise
/// path, which names each violation. On valid files both paths give identical columns: string
/// cells come from the same CSV parser, and numbers are correctly rounded by both parsers.
fn fast_columns(
    text: &str,
    header: &[String],
    id_col: &str,
    roles: &Roles,
    n: usize,
) -> Option<Columns> {
    // Header names the precise path would trim or unquote: leave such files to it.
    let raw_header = text
        .lines()
        .find(|l| !l.trim_end_matches('\r').is_empty())?;
    if raw_header
        .trim_end_matches('\r')
        .split(',')
        .ne(header.iter().map(String::as_str))
    {
        return None;
    }
    let numeric_cols = roles.numeric_columns();
    let schema: Schema = header
        .iter()
        .map(|h| {
            let dtype = if numeric_cols.contains(h) {
                DataType::Float64
            } else {
                DataType::String
            };
            Field::new(h.as_str().into(), dtype)
        })
        .collect();
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .with_raise_if_empty(false)
        .into_reader_with_file_handle(Cursor::new(text.as_bytes()))
        .finish()
        .ok()?;
    if frame.height() != n {
        return None;
    }
    let strings = |c: &str| -> Option<&StringChunked> {
        let s = frame.column(c).ok()?.str().ok()?;
        (s.null_count() == 0).then_some(s)
    };

    let id_series = strings(id_col)?;
    let mut seen: PlHashSet<&str> = PlHashSet::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    for v in id_series.iter().flatten() {
        let t = v.trim();
        if t.is_empty() || !seen.insert(t) {
            return None;
        }
        ids.push(t.to_string());
    }
    drop(seen);

    let mut numeric = BTreeMap::new();
    for col in &numeric_cols {
        let range = roles.range(col);
        let s = frame.column(col).ok()?.f64().ok()?;
        if s.null_count() != 0 {
            return None;
        }
        let values: Vec<f64> = s.into_no_null_iter().collect();
        let ok = values.iter().all(|&x| {
            x.is_finite()
                && x.abs() <= MAX_MAGNITUDE
                && !(range.integer && x.fract() != 0.0)
                && !range.min.is_some_and(|m| x < m)
                && !range.max.is_some_and(|m| x > m)
        });
        if !ok {
            return None;
        }
        numeric.insert(col.clone(), values);
    }

    let levels = &roles.category_levels;
    let mut category = Vec::with_capacity(n);
    for v in strings(&roles.category)?.iter().flatten() {
        let t = v.trim();
        category.push(levels.iter().find(|l| l.eq_ignore_ascii_case(t))?.clone());
    }

    let required = roles.required_columns();
    let mut extras = Vec::new();
    for h in header {
        if h == id_col || required.contains(h) {
            continue;
        }
        let s = frame.column(h).ok()?.str().ok()?;
        extras.push((
            h.clone(),
            s.iter()
                .map(|v| v.unwrap_or_default().to_string())
                .collect(),
        ));
    }
    Some(Columns {
        ids,
        numeric,
        category,
        extras,
    })
}

/// A line number of the chunk's text as a line of the whole file (the header stays line 1).
fn data_line(line: usize, line_offset: usize) -> usize {
    if line > 1 { line + line_offset } else { line }
}

fn range_rule(col: &str, min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{col} is between {a} and {b}"),
        (Some(a), None) => format!("{col} is at least {a}"),
        (None, Some(b)) => format!("{col} is at most {b}"),
        (None, None) => unreachable!("no range, no violation"),
    }
}

fn invalid(path: &Path, all: Vec<Violation>) -> DataError {
    let total = all.len();
    let violations = all.into_iter().take(MAX_VIOLATIONS).collect();
    DataError::Invalid {
        path: path.to_path_buf(),
        violations,
        total,
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect::<String>() + "…"
    }
}

/// 1-based line number of a byte offset.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Where a record starts and how many fields it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    line: usize,
    fields: usize,
    /// Byte range of the record in the text, line end included.
    span: (usize, usize),
}

/// Quote-aware scan of CSV text: the start line and field count of each non-blank record.
/// Blank lines are skipped (as the parser does). An unclosed quote is an error naming its line.
/// Text after a quoted field's closing quote (`"300" ,`) is an error naming the record's line,
/// the field's 0-based index and its raw text.
fn scan_records(text: &str) -> Result<Vec<Record>, (usize, String, Option<(usize, String)>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0usize, 1usize);
    while i < b.len() {
        if b[i] == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
        if b[i] == b'\r' && (i + 1 == b.len() || b[i + 1] == b'\n') {
            i += 1;
            continue;
        }
        let start = line;
        let first_byte = i;
        let mut fields = 1;
        let mut field_start = i;
        let mut quoted = false;
        while i < b.len() {
            let c = b[i];
            i += 1;
            if quoted {
                match c {
                    b'"' if b.get(i) == Some(&b'"') => i += 1,
                    b'"' => {
                        quoted = false;
                        if b.get(i).is_some_and(|n| !matches!(n, b',' | b'\n' | b'\r')) {
                            let end = b[i..]
                                .iter()
                                .position(|&x| matches!(x, b',' | b'\n' | b'\r'))
                                .map_or(b.len(), |k| i + k);
                            let raw = String::from_utf8_lossy(&b[field_start..end]).into_owned();
                            return Err((
                                start,
                                format!("field {fields} has text after its closing quote"),
                                Some((fields - 1, raw)),
                            ));
                        }
                    }
                    b'\n' => line += 1,
                    _ => {}
                }
            } else {
                match c {
                    b'"' => quoted = true,
                    b',' => {
                        fields += 1;
                        field_start = i;
                    }
                    b'\n' => {
                        line += 1;
                        break;
                    }
                    _ => {}
                }
            }
        }
        if quoted {
            return Err((
                start,
                "a quoted field opened in this record is never closed".into(),
                None,
            ));
        }
        out.push(Record {
            line: start,
            fields,
            span: (first_byte, i),
        });
    }
    if out.is_empty() {
        return Err((1, "no records".into(), None));
    }
    Ok(out)
}

/// The header's column names, trimmed and unquoted; duplicates are an error.
fn parse_header(text: &str, path: &Path) -> Result<Vec<String>, DataError> {
    let first = text
        .lines()
        .find(|l| !l.trim_end_matches('\r').is_empty())
        .unwrap_or("");
    let names: Vec<String> = first
        .trim_end_matches('\r')
        .split(',')
        .map(|h| h.trim().trim_matches('"').trim().to_string())
        .collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(DataError::NotCsv {
                path: path.to_path_buf(),
                detail: format!("line 1: column name '{n}' appears twice in the header"),
            });
        }
        if n.is_empty() {
            return Err(DataError::NotCsv {
                path: path.to_path_buf(),
                detail: format!("line 1: column {} of the header has no name", i + 1),
            });
        }
    }
    Ok(names)
}

/// Parses the text with polars, every column as a string (so validation sees raw values).
fn read_strings(text: &str, path: &Path) -> Result<DataFrame, DataError> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .into_reader_with_file_handle(Cursor::new(text.as_bytes()))
        .finish()
        .map_err(|e| DataError::NotCsv {
            path: PathBuf::from(path),
            detail: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Dataset, DataError> {
        parse_csv_bytes(text.as_bytes(), Path::new("t.csv"), &Roles::default())
    }

    const HEADER: &str =
        "user_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency";

    #[test]
    fn scan_counts_fields_and_lines_with_quotes_and_crlf() {
        let recs = scan_records("a,b\r\n\"x,\ny\",2\r\n\r\n3,4").unwrap();
        let got: Vec<(usize, usize)> = recs.iter().map(|r| (r.line, r.fields)).collect();
        assert_eq!(got, vec![(1, 2), (2, 2), (5, 2)]);
        assert_eq!(scan_records("a,b\n\"open,1\n").unwrap_err().0, 2);
    }

    #[test]
    fn accepts_bom_crlf_quotes_floats_alias_and_no_trailing_newline() {
        let text = "\u{feff}customer_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency,note\r\n\
                    1,25.0,45000,200,4.5,\" north \",12,\"a, b\"\r\n2,30,50000,300,5,SOUTH,14,";
        let ds = parse(text).unwrap();
        assert_eq!(ds.n_rows(), 2);
        assert_eq!(ds.roles.id, "customer_id");
        assert_eq!(ds.category, vec!["North", "South"]);
        assert_eq!(ds.col("age"), &[25.0, 30.0]);
        assert_eq!(ds.extra_columns, vec!["note"]);
        assert_eq!(ds.lines, vec![2, 3]);
    }

    #[test]
    fn collects_every_violation_with_line_column_value_rule() {
        let text = format!(
            "{HEADER}\n1,abc,45000,200,4.5,North,12\n2,30,-5,200,11,Mars,12\n2,30,5,200,1,East,1.5\n"
        );
        let err = parse(&text).unwrap_err();
        let v = err.violations();
        let got: Vec<(usize, &str, &str)> = v
            .iter()
            .map(|v| (v.line, v.column.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "age", "abc"),
                (3, "annual_income", "-5"),
                (3, "loyalty_score", "11"),
                (3, "region", "Mars"),
                (4, "user_id", "2"),
                (4, "purchase_frequency", "1.5"),
            ]
        );
        let msg = err.to_string();
        assert!(msg.contains("t.csv:line 3, column 'loyalty_score', value '11': loyalty_score is between 0 and 10"), "{msg}");
        assert!(msg.contains("already appears on line 3"), "{msg}");
    }

    #[test]
    fn caps_the_list_and_counts_the_rest() {
        let mut text = HEADER.to_string();
        for i in 0..60 {
            text.push_str(&format!("\n{i},-1,1,1,1,North,1"));
        }
        let err = parse(&text).unwrap_err();
        assert_eq!(err.violations().len(), MAX_VIOLATIONS);
        assert!(err.to_string().contains("… and 10 more"));
    }

    #[test]
    fn structural_errors_have_their_own_kinds() {
        assert!(matches!(parse(""), Err(DataError::Empty { .. })));
        assert!(matches!(
            parse("\u{feff}\n  \n"),
            Err(DataError::Empty { .. })
        ));
        assert!(matches!(parse(HEADER), Err(DataError::NoRows { .. })));
        assert!(matches!(
            parse("hello world"),
            Err(DataError::NotCsv { .. })
        ));
        assert!(matches!(parse("a\0b"), Err(DataError::NotText { .. })));
        assert!(matches!(
            parse_csv_bytes(b"a,\xff\xfe", Path::new("t"), &Roles::default()),
            Err(DataError::NotText { .. })
        ));
        let missing = parse("user_id,age\n1,2").unwrap_err();
        assert!(matches!(missing, DataError::MissingColumns { .. }));
        assert!(missing.to_string().contains("annual_income"));
        let ragged = parse(&format!("{HEADER}\n1,2,3\n")).unwrap_err();
        assert_eq!(ragged.violations()[0].line, 2);
        assert_eq!(ragged.violations()[0].column, "(record)");
    }

    #[test]
    fn blank_lines_are_skipped_and_line_numbers_stay_true() {
        let text = format!(
            "{HEADER}\n\n1,25,45000,200,4.5,North,12\r\n\r\n2,30,50000,300,5,South,14\n\n\n3,30,50000,300,5,Pluto,14\n\n"
        );
        let err = parse(&text).unwrap_err();
        assert_eq!(err.violations()[0].line, 8);
        let ok = parse(&text.replace("Pluto", "West")).unwrap();
        assert_eq!(ok.lines, vec![3, 5, 8]);
    }

    #[test]
    fn missing_values_and_nan_are_rejected() {
        let text = format!("{HEADER}\n1,,45000,200,4.5,North,12\n2,30,NaN,200,4.5,,12");
        let err = parse(&text).unwrap_err();
        let cols: Vec<_> = err
            .violations()
            .iter()
            .map(|v| (v.line, v.column.clone()))
            .collect();
        assert_eq!(
            cols,
            vec![
                (2, "age".into()),
                (3, "annual_income".into()),
                (3, "region".into())
            ]
        );
        assert!(err.violations()[0].rule.contains("missing"));
        assert!(err.violations()[1].rule.contains("finite"));
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use crate::data::{SynthSpec, csv_text, synth};

    /// Every field of two datasets (the fast and precise paths must agree exactly).
    fn assert_same(a: &Dataset, b: &Dataset) {
        assert_eq!(a.roles, b.roles);
        assert_eq!(a.ids, b.ids);
        assert_eq!(a.numeric, b.numeric);
        assert_eq!(a.category, b.category);
        assert_eq!(a.extra_columns, b.extra_columns);
        assert_eq!(a.extras, b.extras);
        assert_eq!(a.lines, b.lines);
        assert_eq!(a.groups, b.groups);
        assert_eq!(a.n_groups, b.n_groups);
        assert_eq!(a.provenance, b.provenance);
        assert!(a.frame().equals(&b.frame()));
    }

    fn both(bytes: &[u8]) -> (Dataset, Dataset) {
        let (p, r) = (Path::new("t.csv"), Roles::default());
        (
            parse_csv_bytes(bytes, p, &r).unwrap(),
            parse_csv_bytes_precise(bytes, p, &r).unwrap(),
        )
    }

    #[test]
    fn fast_path_equals_precise_path_on_bundled_data() {
        let bytes = std::fs::read(crate::test_fixtures::bundled_csv()).unwrap();
        let (fast, precise) = both(&bytes);
        assert_eq!(fast.n_rows(), 238);
        assert_same(&fast, &precise);
        // And the fast path really is the one taken on a clean file.
        let text = std::str::from_utf8(&bytes).unwrap();
        let header = parse_header(text, Path::new("t.csv")).unwrap();
        let roles = Roles::default();
        assert!(fast_columns(text, &header, &roles.id, &roles, 238).is_some());
        let bad = text.replacen(",North", ",Mars", 1);
        assert!(fast_columns(&bad, &header, &roles.id, &roles, 238).is_none());
    }

    #[test]
    fn fast_path_equals_precise_path_on_synthetic_tables() {
        for (rows, seed, dup) in [(500, 1, 0.0), (3000, 2, 0.25), (20_000, 3, 0.4)] {
            let spec = SynthSpec {
                duplicate_rate: dup,
                ..SynthSpec::default()
            };
            let text = csv_text(&synth(rows, seed, &spec));
            let (fast, precise) = both(text.as_bytes());
            assert_eq!(fast.n_rows(), rows);
            assert_same(&fast, &precise);
        }
        // Forms both parsers must read alike: exponents, signs, leading/trailing dots, quotes,
        // lower-case levels, padded categories, an alias id column and an extra column.
        let text = "customer_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency,note\n\
                    1,4.5e1,45000.0,+200,.5,\"north\",12,\n\
                    2,30.,5E4,3e2,9.99,  West ,1.4e1,\"a, b\"\n\
                    3,30.,5E4,3e2,9.99,west,1.4e1,c\n";
        let (fast, precise) = both(text.as_bytes());
        assert_same(&fast, &precise);
        assert_eq!(fast.col("age"), &[45.0, 30.0, 30.0]);
        assert_eq!(fast.groups, vec![0, 1, 1]);
    }

    #[test]
    fn a_broken_rule_falls_back_to_the_precise_messages() {
        let text = "user_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency\n\
                    1,45,45000,200,5,North,12\n2, 45 ,45000,200,5,North,12\n3,45,45000,200,12,North,12\n";
        let err =
            parse_csv_bytes(text.as_bytes(), Path::new("t.csv"), &Roles::default()).unwrap_err();
        assert_eq!(err.violations().len(), 1);
        assert_eq!(err.violations()[0].line, 4);
        assert_eq!(err.violations()[0].column, "loyalty_score");
    }
}

#[cfg(test)]
mod odd_cells_tests {
    use super::*;

    /// Whatever a cell holds, the fast path must end exactly as the precise path does: the same
    /// dataset, or the same error message.
    #[test]
    fn odd_cells_give_the_precise_paths_result() {
        let odd = [
            "5",
            "+5",
            "-0",
            "0.",
            ".5",
            "+.5",
            "5e0",
            "5E+0",
            "50e-1",
            " 5",
            "5 ",
            "\"5\"",
            "\" 5 \"",
            "0x5",
            "5_0",
            "1,5",
            "5.0.0",
            "e5",
            ".",
            "-",
            "+",
            "inf",
            "-inf",
            "Infinity",
            "NaN",
            "nan",
            "1e400",
            "1e-400",
            "5f",
            "5d",
            "٥",
            "５",
            "",
            "\"\"",
            "NA",
            "null",
            "5\t",
            "0000005",
            "5.00000000000000000000000001",
            "4.999999999999999999999",
        ];
        let header =
            "user_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency";
        for cell in odd {
            for (col, line) in [
                (4, format!("1,30,40000,200,{cell},North,12")),
                (1, format!("1,{cell},40000,200,5,North,12")),
                (5, format!("1,30,40000,200,5,{cell},12")),
            ] {
                let text = format!("{header}\n{line}\n2,31,41000,210,6,South,13\n");
                let (p, r) = (Path::new("t.csv"), Roles::default());
                let fast = parse_csv_bytes(text.as_bytes(), p, &r);
                let precise = parse_csv_bytes_precise(text.as_bytes(), p, &r);
                match (fast, precise) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a.numeric, b.numeric, "cell {cell:?} in column {col}");
                        assert_eq!(a.category, b.category, "cell {cell:?} in column {col}");
                    }
                    (Err(a), Err(b)) => {
                        assert_eq!(
                            a.to_string(),
                            b.to_string(),
                            "cell {cell:?} in column {col}"
                        )
                    }
                    (a, b) => panic!(
                        "cell {cell:?} in column {col}: fast {:?} precise {:?}",
                        a.map(|d| d.numeric),
                        b.map(|d| d.numeric)
                    ),
                }
            }
        }
    }
}
