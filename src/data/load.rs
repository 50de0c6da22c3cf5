//! CSV loading and validation. A quote-aware pre-scan finds where each record starts (so errors
//! can name editor line numbers) and rejects ragged records; polars then parses the text with
//! every column as a string, and each cell is checked against the roles' rules.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use polars::prelude::{CsvReadOptions, DataFrame, SerReader};

use super::error::{DataError, MAX_VIOLATIONS, Violation};
use super::{Dataset, Provenance, sha256_hex};
use crate::settings::Roles;

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

/// Loads and validates a CSV file against the given column roles.
pub fn load_with_roles(path: &Path, roles: &Roles) -> Result<Dataset, DataError> {
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
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_csv_bytes(&bytes, path, roles)
}

/// Validates CSV bytes as if read from `path` (the path is only used in messages and provenance).
pub fn parse_csv_bytes(bytes: &[u8], path: &Path, roles: &Roles) -> Result<Dataset, DataError> {
    let p = || path.to_path_buf();
    let sha256 = sha256_hex(bytes);
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::Empty { path: p() });
    }
    if let Some(pos) = body.iter().position(|&b| b == 0) {
        return Err(DataError::NotText {
            path: p(),
            detail: format!("a NUL byte at line {} (binary data?)", line_of(body, pos)),
        });
    }
    let text = std::str::from_utf8(body).map_err(|e| DataError::NotText {
        path: p(),
        detail: format!(
            "invalid UTF-8 at line {} (byte offset {}); save the file as UTF-8",
            line_of(body, e.valid_up_to()),
            e.valid_up_to()
        ),
    })?;
    let records = scan_records(text).map_err(|(line, detail)| DataError::NotCsv {
        path: p(),
        detail: format!("line {line}: {detail}"),
    })?;
    let header_fields = records[0].fields;
    let header = parse_header(text, path)?;
    debug_assert_eq!(header.len(), header_fields);

    // Resolve the id column (or one of its aliases) and check required columns.
    let id_col = std::iter::once(&roles.id)
        .chain(roles.id_aliases.iter())
        .find(|c| header.contains(c))
        .cloned();
    let mut required = roles.required_columns();
    let target_absent = roles.target_optional && !header.contains(&roles.target);
    let mut missing: Vec<String> = required
        .iter()
        .skip(1)
        .filter(|c| !header.contains(c) && !(target_absent && **c == roles.target))
        .cloned()
        .collect();
    if id_col.is_none() {
        missing.insert(0, roles.id.clone());
    }
    if !missing.is_empty() {
        if header.len() < 2 && !text.contains(',') {
            return Err(DataError::NotCsv {
                path: p(),
                detail: format!(
                    "line 1 has no comma-separated header (found {:?}); expected columns {:?}",
                    truncate(&header.join(","), 60),
                    required
                ),
            });
        }
        return Err(DataError::MissingColumns {
            path: p(),
            missing,
            found: header,
            required,
        });
    }
    let id_col = id_col.expect("checked above");
    required[0] = id_col.clone();

    // Structural check: every record has as many fields as the header.
    let mut violations = Vec::new();
    for r in &records[1..] {
        if r.fields != header_fields {
            violations.push(Violation {
                line: r.line,
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
    let frame = read_strings(parse_text, path)?;
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
    let cell = |col: &str| -> Result<Vec<Option<String>>, DataError> {
        let c = frame.column(col).map_err(|e| DataError::NotCsv {
            path: p(),
            detail: e.to_string(),
        })?;
        let s = c.str().map_err(|e| DataError::NotCsv {
            path: p(),
            detail: e.to_string(),
        })?;
        Ok(s.iter().map(|v| v.map(str::to_string)).collect())
    };

    let mut violations: Vec<(usize, usize, Violation)> = Vec::new(); // (row, column order, v)
    let mut push = |row: usize, col_order: usize, column: &str, value: &str, rule: String| {
        violations.push((
            row,
            col_order,
            Violation {
                line: lines[row],
                column: column.to_string(),
                value: value.to_string(),
                rule,
            },
        ));
    };
    let missing_rule = || "required columns have no missing values".to_string();

    // Ids: present and unique.
    let raw_ids = cell(&id_col)?;
    let mut ids = Vec::with_capacity(raw_ids.len());
    let mut first_seen: HashMap<String, usize> = HashMap::with_capacity(raw_ids.len());
    for (row, v) in raw_ids.iter().enumerate() {
        let v = v.as_deref().unwrap_or("").trim().to_string();
        if v.is_empty() {
            push(row, 0, &id_col, "", missing_rule());
        } else if let Some(&first) = first_seen.get(&v) {
            push(
                row,
                0,
                &id_col,
                &v,
                format!(
                    "ids are unique; '{v}' already appears on line {}",
                    lines[first]
                ),
            );
        } else {
            first_seen.insert(v.clone(), row);
        }
        ids.push(v);
    }

    // Numeric columns: finite numbers, whole where required, within range.
    let mut numeric = BTreeMap::new();
    for (k, col) in roles.numeric_columns().iter().enumerate() {
        if target_absent && *col == roles.target {
            continue;
        }
        let range = roles.range(col);
        let mut values = Vec::with_capacity(lines.len());
        for (row, v) in cell(col)?.iter().enumerate() {
            let raw = v.as_deref().unwrap_or("");
            let t = raw.trim();
            if t.is_empty() {
                push(row, k + 1, col, raw, missing_rule());
                values.push(f64::NAN);
                continue;
            }
            match t.parse::<f64>() {
                Ok(x) if x.is_finite() => {
                    if range.integer && x.fract() != 0.0 {
                        push(
                            row,
                            k + 1,
                            col,
                            raw,
                            format!("{col} is a whole number (45 or 45.0)"),
                        );
                    } else if range.min.is_some_and(|m| x < m) || range.max.is_some_and(|m| x > m) {
                        push(row, k + 1, col, raw, range_rule(col, range.min, range.max));
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

    // Category: one of the allowed levels, trimmed and case-insensitive.
    let cat_order = roles.numeric_columns().len() + 1;
    let mut category = Vec::with_capacity(lines.len());
    for (row, v) in cell(&roles.category)?.iter().enumerate() {
        let raw = v.as_deref().unwrap_or("");
        let t = raw.trim();
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

    let extras: Vec<(String, Vec<String>)> = header
        .iter()
        .filter(|h| !required.contains(h))
        .map(|h| {
            Ok((
                h.clone(),
                cell(h)?
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect(),
            ))
        })
        .collect::<Result<_, DataError>>()?;
    let mut roles = roles.clone();
    roles.id = id_col;
    let provenance = Provenance {
        source: path.display().to_string(),
        rows: lines.len(),
        sha256,
    };
    Ok(Dataset::from_columns(
        roles, ids, numeric, category, extras, lines, provenance,
    ))
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
fn scan_records(text: &str) -> Result<Vec<Record>, (usize, String)> {
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
        let mut quoted = false;
        while i < b.len() {
            let c = b[i];
            i += 1;
            if quoted {
                match c {
                    b'"' if b.get(i) == Some(&b'"') => i += 1,
                    b'"' => quoted = false,
                    b'\n' => line += 1,
                    _ => {}
                }
            } else {
                match c {
                    b'"' => quoted = true,
                    b',' => fields += 1,
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
            ));
        }
        out.push(Record {
            line: start,
            fields,
            span: (first_byte, i),
        });
    }
    if out.is_empty() {
        return Err((1, "no records".into()));
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
