//! Parquet input, read through polars' lazy scan ([`LazyFrame::scan_parquet_sources`]): a whole
//! file, or a slice of its rows for the chunked reader ([`super::chunks`]), which polars reads
//! from the row groups the slice touches. Cells pass the CSV loader's rules ([`super::load`]) with
//! the same messages, so a Parquet copy of a table loads to the same dataset: float and integer
//! columns are judged from their values, and a message shows the text a CSV copy would hold
//! (integers as written, floats in Rust's shortest round-trip form); other columns are read as
//! that text (nulls are gaps). Parquet has no lines: errors name the 1-based data row.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::{
    DataFrame, DataType, HiveOptions, IdxSize, LazyFrame, ParquetReader, PolarsResult,
    ScanArgsParquet, ScanSources, SerReader,
};

use super::error::{DataError, Position};
use super::load::{CellColumn, CellTable, plan_columns, validate_cells};
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

/// Runs a polars call on the file: its errors, and its panics (polars' decoder can panic on
/// damaged data), become [`DataError::NotParquet`], never a crash.
fn guarded<T>(path: &Path, f: impl FnOnce() -> PolarsResult<T>) -> Result<T, DataError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| not_parquet(path, "the reader failed on damaged data"))?
        .map_err(|e| not_parquet(path, e))
}

/// An open Parquet file as a source of the lazy scan.
pub(crate) fn file_source(file: File) -> ScanSources {
    ScanSources::Files(Arc::from([file]))
}

/// Rows in a Parquet source (from its footer).
pub(crate) fn count_rows<R>(reader: R, path: &Path) -> Result<usize, DataError>
where
    R: polars::io::mmap::MmapBytesReader,
{
    guarded(path, || ParquetReader::new(reader).num_rows())
}

/// Loads and validates a whole Parquet file's bytes (the path is only used in messages and
/// provenance).
pub(crate) fn parse_parquet_bytes(
    bytes: Vec<u8>,
    path: &Path,
    roles: &Roles,
    missing: &MissingSettings,
) -> Result<Dataset, DataError> {
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let sha256 = sha256_hex(&bytes);
    // The scan reads the bytes that were hashed (a buffer source, not the path again).
    let source = ScanSources::Buffers(std::iter::once(bytes).map(Into::into).collect());
    read_table(source, path, roles, missing, None, sha256)
}

/// Scans rows `slice` (offset, length; `None`: every row) of a Parquet source and validates
/// them; rows are numbered from `offset + 1`. Every column is read: each is a role column or an
/// extra column the dataset keeps.
pub(crate) fn read_table(
    source: ScanSources,
    path: &Path,
    roles: &Roles,
    missing: &MissingSettings,
    slice: Option<(usize, usize)>,
    sha256: String,
) -> Result<Dataset, DataError> {
    // One file, not a hive-partitioned folder (polars has no hive reading of in-memory bytes).
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_disabled(),
        ..ScanArgsParquet::default()
    };
    let mut scan = guarded(path, || LazyFrame::scan_parquet_sources(source, args))?;
    let schema = guarded(path, || scan.collect_schema())?;
    // Column names are matched trimmed, as a CSV header's are.
    let mut by_name: HashMap<String, String> = HashMap::new();
    let mut header = Vec::new();
    for (i, raw) in schema.iter_names().enumerate() {
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
    let row_offset = slice.map_or(0, |(offset, _)| offset);
    if let Some((offset, len)) = slice {
        let len = IdxSize::try_from(len).unwrap_or(IdxSize::MAX);
        scan = scan.slice(i64::try_from(offset).unwrap_or(i64::MAX), len);
    }
    let frame = guarded(path, || scan.collect())?;
    if frame.height() == 0 {
        return Err(DataError::NoRows {
            path: path.to_path_buf(),
        });
    }
    let cell = |col: &str| -> Result<CellColumn, DataError> {
        let raw = by_name
            .get(col)
            .ok_or_else(|| not_parquet(path, format!("no column '{col}'")))?;
        column_cells(&frame, raw, path)
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

/// A column's cells: floats as `f64` (float32 widened exactly), integers as `i64` (a column
/// whose values do not all fit, such as a large uint64, is read as text), anything else as the
/// text polars casts it to.
fn column_cells(frame: &DataFrame, name: &str, path: &Path) -> Result<CellColumn, DataError> {
    let c = frame.column(name).map_err(|e| not_parquet(path, e))?;
    let dtype = c.dtype().clone();
    if dtype.is_float() {
        let f = c
            .cast(&DataType::Float64)
            .map_err(|e| not_parquet(path, e))?;
        let f = f.f64().map_err(|e| not_parquet(path, e))?;
        return Ok(CellColumn::Floats(f.clone()));
    }
    if dtype.is_integer()
        && let Ok(i) = c.strict_cast(&DataType::Int64)
    {
        let i = i.i64().map_err(|e| not_parquet(path, e))?;
        return Ok(CellColumn::Ints(i.clone()));
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
    Ok(CellColumn::Text(s.clone()))
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
