//! Parquet input: a file is read with polars' Parquet reader, every cell is turned into the text
//! a CSV would hold (integers as written, floats in Rust's shortest round-trip form, nulls as
//! gaps), and the cells pass the CSV loader's rules ([`super::load`]), so a Parquet copy of a
//! table loads to the same dataset. Parquet has no lines: errors name the 1-based data row.
//! Large files are read a slice of rows at a time by the chunked reader ([`super::chunks`]).

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader};

use super::error::{DataError, Position};
use super::load::{CellTable, plan_columns, validate_cells};
use super::missing::MissingSettings;
use super::schema::Roles;
use super::{Dataset, sha256_hex};

/// Parquet's magic bytes, at the start and the end of every file.
const MAGIC: &[u8; 4] = b"PAR1";

/// Whether a file is read as Parquet: its name ends in `.parquet` (any case) or its bytes
/// start with `PAR1`.
pub(crate) fn is_parquet(path: &Path, head: &[u8]) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        || head.starts_with(MAGIC)
}

fn not_parquet(path: &Path, detail: impl ToString) -> DataError {
    DataError::NotParquet {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

/// Reads rows `slice` (offset, length; `None`: every row) of a Parquet source. A damaged file
/// is an error, never a crash (polars' decoder is guarded against panics).
pub(crate) fn read_frame<R>(
    reader: R,
    path: &Path,
    slice: Option<(usize, usize)>,
) -> Result<DataFrame, DataError>
where
    R: polars::io::mmap::MmapBytesReader,
{
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetReader::new(reader).with_slice(slice).finish()
    }))
    .map_err(|_| not_parquet(path, "the reader failed on damaged data"))?
    .map_err(|e| not_parquet(path, e))
}

/// Rows in a Parquet source (from its footer).
pub(crate) fn count_rows<R>(reader: R, path: &Path) -> Result<usize, DataError>
where
    R: polars::io::mmap::MmapBytesReader,
{
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetReader::new(reader).num_rows()
    }))
    .map_err(|_| not_parquet(path, "the reader failed on damaged data"))?
    .map_err(|e| not_parquet(path, e))
}

/// Loads and validates a whole Parquet file's bytes (the path is only used in messages and
/// provenance).
pub(crate) fn parse_parquet_bytes(
    bytes: &[u8],
    path: &Path,
    roles: &Roles,
    missing: &MissingSettings,
) -> Result<Dataset, DataError> {
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let frame = read_frame(Cursor::new(bytes), path, None)?;
    validate_frame(&frame, path, roles, missing, 0, sha256_hex(bytes))
}

/// The text a CSV would hold for every cell of a column (`None`: a null).
fn column_text(
    frame: &DataFrame,
    name: &str,
    path: &Path,
) -> Result<Vec<Option<String>>, DataError> {
    let c = frame.column(name).map_err(|e| not_parquet(path, e))?;
    let dtype = c.dtype().clone();
    if dtype.is_float() {
        let f = c
            .cast(&DataType::Float64)
            .map_err(|e| not_parquet(path, e))?;
        let f = f.f64().map_err(|e| not_parquet(path, e))?;
        // `{:?}` is the shortest text that parses back to the same f64 (4.5, 45000.0, 1e300).
        return Ok(f.iter().map(|v| v.map(|x| format!("{x:?}"))).collect());
    }
    let s = if dtype == DataType::String {
        c.clone()
    } else {
        c.cast(&DataType::String).map_err(|e| {
            not_parquet(
                path,
                format!("column '{name}' of type {dtype} cannot be read as text: {e}"),
            )
        })?
    };
    let s = s.str().map_err(|e| not_parquet(path, e))?;
    Ok(s.iter().map(|v| v.map(str::to_string)).collect())
}

/// Validates a frame read from Parquet. `row_offset` is the number of data rows before it in
/// the file (the chunked reader's slices); rows are numbered from 1.
pub(crate) fn validate_frame(
    frame: &DataFrame,
    path: &Path,
    roles: &Roles,
    missing: &MissingSettings,
    row_offset: usize,
    sha256: String,
) -> Result<Dataset, DataError> {
    // Column names are matched trimmed, as a CSV header's are.
    let mut by_name: HashMap<String, String> = HashMap::new();
    let mut header = Vec::new();
    for (i, raw) in frame.get_column_names().iter().enumerate() {
        let name = raw.trim().to_string();
        if name.is_empty() {
            return Err(not_parquet(path, format!("column {} has no name", i + 1)));
        }
        if by_name.insert(name.clone(), raw.to_string()).is_some() {
            return Err(not_parquet(
                path,
                format!("column name '{name}' appears twice"),
            ));
        }
        header.push(name);
    }
    let plan = plan_columns(&header, roles, path)?;
    if frame.height() == 0 {
        return Err(DataError::NoRows {
            path: path.to_path_buf(),
        });
    }
    let cell = |col: &str| -> Result<Vec<Option<String>>, DataError> {
        let raw = by_name
            .get(col)
            .ok_or_else(|| not_parquet(path, format!("no column '{col}'")))?;
        column_text(frame, raw, path)
    };
    validate_cells(CellTable {
        path,
        roles,
        missing,
        header: &header,
        id_col: plan.id_col,
        target_absent: plan.target_absent,
        lines: (row_offset + 1..=row_offset + frame.height()).collect(),
        at: Position::Row,
        sha256,
        cell: &cell,
    })
}

/// The dataset as the polars frame its Parquet file holds (gaps as nulls).
pub(crate) fn parquet_frame(ds: &Dataset) -> Result<DataFrame, DataError> {
    use polars::prelude::{Column, NamedFrom, Series};
    let roles = &ds.roles;
    let mut cols: Vec<Column> = vec![Series::new(roles.id.as_str().into(), &ds.ids).into()];
    for c in roles.numeric_columns() {
        if let Some(v) = ds.numeric.get(&c) {
            let v: Vec<Option<f64>> = v.iter().map(|x| (!x.is_nan()).then_some(*x)).collect();
            cols.push(Series::new(c.as_str().into(), v).into());
        }
    }
    let cat: Vec<Option<&str>> = ds
        .category
        .iter()
        .map(|c| (!c.is_empty()).then_some(c.as_str()))
        .collect();
    cols.push(Series::new(roles.category.as_str().into(), cat).into());
    for (name, values) in &ds.extras {
        cols.push(Series::new(name.as_str().into(), values).into());
    }
    let err = |e: polars::prelude::PolarsError| DataError::NotParquet {
        path: ds.provenance.source.clone().into(),
        detail: e.to_string(),
    };
    DataFrame::new(ds.n_rows(), cols).map_err(err)
}

/// The dataset as a Parquet file's bytes: the id and category as text, numeric role columns as
/// 64-bit floats, extra columns as text; gaps (`NaN`, an empty category) as nulls.
pub fn parquet_bytes(ds: &Dataset) -> Result<Vec<u8>, DataError> {
    use polars::prelude::ParquetWriter;
    let err = |e: polars::prelude::PolarsError| DataError::NotParquet {
        path: ds.provenance.source.clone().into(),
        detail: e.to_string(),
    };
    let mut frame = parquet_frame(ds)?;
    let mut out = Vec::new();
    ParquetWriter::new(&mut out)
        .finish(&mut frame)
        .map_err(err)?;
    Ok(out)
}

/// Writes the dataset as a Parquet file (see [`parquet_bytes`]) atomically.
pub fn write_parquet(ds: &Dataset, path: &Path) -> std::io::Result<()> {
    let bytes = parquet_bytes(ds).map_err(std::io::Error::other)?;
    crate::output::write_atomic(path, &bytes)
}
