//! Typed data errors. Every message names the file; cell-level problems also name the 1-based
//! line (as an editor shows it), the column, the offending value and the rule it breaks.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// At most this many violations are listed in one error; the rest are counted.
pub const MAX_VIOLATIONS: usize = 50;

/// What a violation's number counts: text lines (CSV) or data rows (Parquet has no lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Position {
    /// 1-based line of a text file, as an editor shows it (the header is line 1).
    #[default]
    Line,
    /// 1-based data row of a Parquet file (the first data row is row 1).
    Row,
}

impl Position {
    /// The word used in messages: `line` or `row`.
    pub fn word(self) -> &'static str {
        match self {
            Position::Line => "line",
            Position::Row => "row",
        }
    }
}

/// One broken rule in one cell (or one record, for structural problems).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 1-based line number where the record starts (a 1-based data row for Parquet; see `at`).
    pub line: usize,
    /// Whether `line` is a text line or a data row.
    pub at: Position,
    /// Column name (or `(record)` for a whole-record problem).
    pub column: String,
    /// The offending value as written in the file.
    pub value: String,
    /// The rule, in words.
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}, column '{}', value '{}': {}",
            self.at.word(),
            self.line,
            self.column,
            self.value,
            self.rule
        )
    }
}

/// Why a table could not be loaded.
#[derive(Debug, Error)]
pub enum DataError {
    /// The path does not exist. The message names only the path: which option gave it (and so
    /// what to pass instead) is for the caller to add.
    #[error("data file '{path}' does not exist")]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The path is a directory.
    #[error("data path '{path}' is a directory, not a CSV or Parquet file")]
    IsDirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read data file '{path}': {source}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file has no bytes (or only a byte-order mark and white space).
    #[error("data file '{path}' is empty: expected a header line and at least one data row")]
    Empty {
        /// The path given.
        path: PathBuf,
    },
    /// The file looks like Parquet (by its `.parquet` extension or `PAR1` magic bytes) but
    /// polars cannot read it.
    #[error("data file '{path}' is not a readable Parquet file: {detail}")]
    NotParquet {
        /// The path given.
        path: PathBuf,
        /// What the reader reported.
        detail: String,
    },
    /// The file is not UTF-8 text (binary data, or another encoding).
    #[error("data file '{path}' is not a UTF-8 text CSV file: {detail}")]
    NotText {
        /// The path given.
        path: PathBuf,
        /// Where the problem was found.
        detail: String,
    },
    /// The text is not parseable as a CSV table.
    #[error("data file '{path}' is not a valid CSV table: {detail}")]
    NotCsv {
        /// The path given.
        path: PathBuf,
        /// What the parser reported.
        detail: String,
    },
    /// Required columns are missing from the header (line 1).
    #[error(
        "{path}:1: the header lacks required column(s) {missing:?}; found {found:?} (rule: the table needs columns {required:?}, in any order)"
    )]
    MissingColumns {
        /// The path given.
        path: PathBuf,
        /// Required columns not found.
        missing: Vec<String>,
        /// Columns found in the header.
        found: Vec<String>,
        /// All required columns.
        required: Vec<String>,
    },
    /// The header is there but no data row follows.
    #[error("data file '{path}' has a header but no data rows (rule: at least one data row)")]
    NoRows {
        /// The path given.
        path: PathBuf,
    },
    /// One or more cells break the validation rules.
    #[error("{}", format_invalid(path, violations, *total))]
    Invalid {
        /// The path given.
        path: PathBuf,
        /// The first [`MAX_VIOLATIONS`] violations, in file order.
        violations: Vec<Violation>,
        /// How many violations there were in all.
        total: usize,
    },
}

fn format_invalid(path: &std::path::Path, violations: &[Violation], total: usize) -> String {
    let mut s = format!(
        "data file '{}' breaks {} validation rule{}:",
        path.display(),
        total,
        if total == 1 { "" } else { "s" }
    );
    for v in violations {
        s.push_str(&format!("\n  {}:{}", path.display(), v));
    }
    if total > violations.len() {
        s.push_str(&format!("\n  … and {} more", total - violations.len()));
    }
    s
}

impl DataError {
    /// The violations of an [`DataError::Invalid`] error (empty for other kinds).
    pub fn violations(&self) -> &[Violation] {
        match self {
            DataError::Invalid { violations, .. } => violations,
            _ => &[],
        }
    }
}
