//! Parquet through polars' lazy scan with typed numeric cells (issue 19): a Parquet copy of a
//! table loads to the dataset its CSV loads to, bit for bit, whatever numeric types the file
//! stores, and every broken rule gives the message the text-only reader gave.
//!
//! References: the CSV loader, an independent reading path (polars' CSV parser and Rust's
//! correctly rounded float parser on the text) for the datasets; `sha2` on the file's bytes for
//! the provenance hash; and for the errors, the messages printed by main at b552614 (the reader
//! that turned every Parquet cell into text first), written out in `EXPECTED` below.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use customer_intel::data::{
    self, DataError, Dataset, MissingPolicy, MissingSettings, SynthSpec, schema::Roles,
};
use polars::prelude::{
    Column, CsvReadOptions, DataFrame, DataType, NamedFrom, ParquetWriter, SerReader, Series,
};
use sha2::{Digest, Sha256};

use common::bundled_csv;

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("parquet-scan-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_frame(path: &Path, frame: &mut DataFrame) {
    let mut file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(&mut file).finish(frame).unwrap();
}

fn sha256_of(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Numeric columns as bit patterns (so NaN gaps and -0.0 compare exactly).
fn bits(ds: &Dataset) -> BTreeMap<String, Vec<u64>> {
    ds.numeric
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

/// Every field of two datasets that does not depend on the file's kind (CSV lines against
/// Parquet rows, and the provenance, are checked separately).
#[track_caller]
fn assert_same_values(a: &Dataset, b: &Dataset) {
    assert_eq!(a.roles, b.roles);
    assert_eq!(a.ids, b.ids);
    assert_eq!(bits(a), bits(b));
    assert_eq!(a.category, b.category);
    assert_eq!(a.extra_columns, b.extra_columns);
    assert_eq!(a.extras, b.extras);
    assert_eq!(a.groups, b.groups);
    assert_eq!(a.n_groups, b.n_groups);
}

/// The bundled CSV read with polars' type inference (integers as int64, loyalty as float64).
fn bundled_frame() -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(bundled_csv()))
        .unwrap()
        .finish()
        .unwrap()
}

fn cast(frame: &DataFrame, name: &str, dtype: &DataType) -> Column {
    frame.column(name).unwrap().cast(dtype).unwrap()
}

#[test]
fn parquet_copies_of_the_bundled_table_load_to_the_csv_dataset() {
    let dir = scratch("bundled");
    let csv = common::bundled();
    let rows: Vec<usize> = (1..=csv.n_rows()).collect();

    // Integers as int64, loyalty as float64 (as pandas or polars would write it).
    let inferred = dir.join("inferred.parquet");
    let mut frame = bundled_frame();
    assert_eq!(frame.column("age").unwrap().dtype(), &DataType::Int64);
    assert_eq!(
        frame.column("loyalty_score").unwrap().dtype(),
        &DataType::Float64
    );
    write_frame(&inferred, &mut frame);
    // Every numeric column as float64 (the project's own writer).
    let floats = dir.join("floats.parquet");
    data::write_parquet(&csv, &floats).unwrap();
    // Narrower and unsigned integer widths (the widths this polars build holds), the id as text.
    let narrow = dir.join("narrow.parquet");
    let f = bundled_frame();
    let mut frame = DataFrame::new(
        f.height(),
        vec![
            cast(&f, "user_id", &DataType::String),
            cast(&f, "age", &DataType::Int32),
            cast(&f, "annual_income", &DataType::UInt32),
            cast(&f, "purchase_amount", &DataType::UInt64),
            f.column("loyalty_score").unwrap().clone(),
            f.column("region").unwrap().clone(),
            cast(&f, "purchase_frequency", &DataType::Int32),
        ],
    )
    .unwrap();
    write_frame(&narrow, &mut frame);

    for p in [&inferred, &floats, &narrow] {
        let ds = data::load(p).unwrap();
        assert_same_values(&ds, &csv);
        assert_eq!(ds.lines, rows, "{}", p.display());
        assert_eq!(ds.provenance.rows, csv.n_rows());
        assert_eq!(ds.provenance.sha256, sha256_of(p));
        // Read in slices, the same cells in the same order.
        let mut ids = Vec::new();
        let mut age = Vec::new();
        let summary = data::for_each_chunk(p, &Roles::default(), 50, |c| {
            ids.extend(c.ids.clone());
            age.extend(c.col("age").iter().map(|x| x.to_bits()));
        })
        .unwrap();
        assert_eq!((summary.rows, summary.chunks), (238, 5));
        assert_eq!(summary.sha256, ds.provenance.sha256);
        assert_eq!(ids, csv.ids);
        assert_eq!(age, bits(&csv)["age"]);
    }
}

#[test]
fn float32_cells_load_as_their_exact_float64_values() {
    let dir = scratch("float32");
    let f = bundled_frame();
    let mut frame = DataFrame::new(
        f.height(),
        vec![
            f.column("user_id").unwrap().clone(),
            cast(&f, "age", &DataType::Float32),
            f.column("annual_income").unwrap().clone(),
            f.column("purchase_amount").unwrap().clone(),
            cast(&f, "loyalty_score", &DataType::Float32),
            f.column("region").unwrap().clone(),
            f.column("purchase_frequency").unwrap().clone(),
        ],
    )
    .unwrap();
    let p = dir.join("f32.parquet");
    write_frame(&p, &mut frame);
    let ds = data::load(&p).unwrap();
    let csv = common::bundled();
    let want: Vec<u64> = csv
        .col("loyalty_score")
        .iter()
        .map(|&x| (x as f32 as f64).to_bits())
        .collect();
    assert_eq!(bits(&ds)["loyalty_score"], want);
    // 7.1 as float32 is 7.099999904632568359375, not 7.1.
    assert!(ds.col("loyalty_score").iter().any(|x| x.fract() != 0.0));
    assert_ne!(bits(&ds)["loyalty_score"], bits(&csv)["loyalty_score"]);
    assert_eq!(bits(&ds)["age"], bits(&csv)["age"]);
}

#[test]
fn a_synthetic_table_with_gaps_and_duplicates_loads_like_its_csv() {
    let dir = scratch("gaps");
    let spec = SynthSpec {
        duplicate_rate: 0.3,
        ..SynthSpec::default()
    };
    let text = data::csv_text(&data::synth(3000, 7, &spec));
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
    let k = |c: &str| header.iter().position(|h| h == c).unwrap();
    for (every, col, gap) in [
        (97, "age", ""),
        (131, "region", ""),
        (89, "loyalty_score", "NA"),
        (211, "annual_income", "NaN"),
    ] {
        for line in lines.iter_mut().skip(1).step_by(every) {
            let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
            f[k(col)] = gap.to_string();
            *line = f.join(",");
        }
    }
    let csv_path = dir.join("gaps.csv");
    std::fs::write(&csv_path, lines.join("\n") + "\n").unwrap();
    for policy in [MissingPolicy::Impute, MissingPolicy::DropRows] {
        let missing = MissingSettings {
            missing: policy,
            ..MissingSettings::default()
        };
        let csv = data::load_with(&csv_path, &Roles::default(), &missing).unwrap();
        assert!(csv.has_gaps());
        assert!(csv.n_groups < 3000, "the table has duplicate groups");
        let pq = dir.join("gaps.parquet");
        data::write_parquet(&csv, &pq).unwrap();
        let ds = data::load_with(&pq, &Roles::default(), &missing).unwrap();
        assert_same_values(&ds, &csv);
        assert_eq!(ds.provenance.sha256, sha256_of(&pq));
        let mut parts = Vec::new();
        for c in data::chunks_with(&pq, &Roles::default(), &missing, 400).unwrap() {
            parts.push(c.unwrap());
        }
        assert_eq!(parts.len(), 8);
        let cat: Vec<String> = parts.iter().flat_map(|c| c.category.clone()).collect();
        assert_eq!(cat, csv.category);
        for col in Roles::default().numeric_columns() {
            let v: Vec<u64> = parts
                .iter()
                .flat_map(|c| c.col(&col).iter().map(|x| x.to_bits()).collect::<Vec<_>>())
                .collect();
            assert_eq!(v, bits(&csv)[&col], "{col}");
        }
        // The same gaps written as typed integers (nulls) load the same way.
        let f = data::parquet_bytes(&csv).unwrap();
        let f = polars::prelude::ParquetReader::new(std::io::Cursor::new(f))
            .finish()
            .unwrap();
        let mut typed = DataFrame::new(
            f.height(),
            vec![
                f.column("user_id").unwrap().clone(),
                cast(&f, "age", &DataType::Int64),
                cast(&f, "annual_income", &DataType::Int64),
                cast(&f, "purchase_amount", &DataType::Int32),
                f.column("loyalty_score").unwrap().clone(),
                f.column("region").unwrap().clone(),
                cast(&f, "purchase_frequency", &DataType::UInt32),
            ],
        )
        .unwrap();
        let tp = dir.join("typed.parquet");
        write_frame(&tp, &mut typed);
        let ds = data::load_with(&tp, &Roles::default(), &missing).unwrap();
        assert_same_values(&ds, &csv);
    }
}

/// A valid 30-row table with typed columns; `edit` replaces or changes columns.
fn table(dir: &Path, name: &str, edit: impl FnOnce(&mut Vec<Column>)) -> PathBuf {
    let n = 30i64;
    let mut cols: Vec<Column> = vec![
        Series::new("user_id".into(), (1..=n).collect::<Vec<i64>>()).into(),
        Series::new(
            "age".into(),
            (0..n).map(|i| 20 + i % 40).collect::<Vec<i64>>(),
        )
        .into(),
        Series::new(
            "annual_income".into(),
            (0..n)
                .map(|i| 40_000.0 + 100.0 * i as f64)
                .collect::<Vec<f64>>(),
        )
        .into(),
        Series::new(
            "purchase_amount".into(),
            (0..n).map(|i| 300 + i).collect::<Vec<i64>>(),
        )
        .into(),
        Series::new(
            "loyalty_score".into(),
            (0..n).map(|i| 5.0 + 0.1 * i as f64).collect::<Vec<f64>>(),
        )
        .into(),
        Series::new(
            "region".into(),
            (0..n)
                .map(|i| ["North", "South", "East", "West"][i as usize % 4])
                .collect::<Vec<&str>>(),
        )
        .into(),
        Series::new(
            "purchase_frequency".into(),
            (0..n).map(|i| 10 + i % 5).collect::<Vec<i64>>(),
        )
        .into(),
    ];
    edit(&mut cols);
    let mut frame = DataFrame::new(n as usize, cols).unwrap();
    let p = dir.join(format!("{name}.parquet"));
    write_frame(&p, &mut frame);
    p
}

fn set(cols: &mut [Column], name: &str, s: Series) {
    let k = cols.iter().position(|c| c.name() == name).unwrap();
    cols[k] = s.with_name(name.into()).into();
}

fn f64s(f: impl Fn(usize) -> Option<f64>) -> Series {
    Series::new("x".into(), (0..30).map(f).collect::<Vec<Option<f64>>>())
}

fn i64s(f: impl Fn(usize) -> Option<i64>) -> Series {
    Series::new("x".into(), (0..30).map(f).collect::<Vec<Option<i64>>>())
}

/// The messages main gave (b552614, before the typed path), with the scratch folder as `<dir>`.
const EXPECTED: &[(&str, &str)] = &[
    (
        "negative",
        "data file '<dir>/negative.parquet' breaks 2 validation rules:\n  <dir>/negative.parquet:row 5, column 'age', value '-3': age is between 0 and 120\n  <dir>/negative.parquet:row 8, column 'annual_income', value '-0.5': annual_income is a whole number (45 or 45.0)",
    ),
    (
        "non_finite",
        "data file '<dir>/non_finite.parquet' breaks 3 validation rules:\n  <dir>/non_finite.parquet:row 3, column 'annual_income', value 'NaN': annual_income is a finite number (not NaN or infinity)\n  <dir>/non_finite.parquet:row 4, column 'annual_income', value 'inf': annual_income is a finite number (not NaN or infinity)\n  <dir>/non_finite.parquet:row 5, column 'annual_income', value '-inf': annual_income is a finite number (not NaN or infinity)",
    ),
    (
        "out_of_range",
        "data file '<dir>/out_of_range.parquet' breaks 7 validation rules:\n  <dir>/out_of_range.parquet:row 2, column 'purchase_frequency', value '12.5': purchase_frequency is a whole number (45 or 45.0)\n  <dir>/out_of_range.parquet:row 6, column 'annual_income', value '1e300': annual_income is at most 1e15 in magnitude (larger values overflow sums of squares)\n  <dir>/out_of_range.parquet:row 7, column 'purchase_amount', value '10000000000000000': purchase_amount is at most 1e15 in magnitude (larger values overflow sums of squares)\n  <dir>/out_of_range.parquet:row 9, column 'annual_income', value '1000000000000000.3': annual_income is at most 1e15 in magnitude (larger values overflow sums of squares)\n  <dir>/out_of_range.parquet:row 10, column 'purchase_amount', value '9007199254740993': purchase_amount is at most 1e15 in magnitude (larger values overflow sums of squares)\n  <dir>/out_of_range.parquet:row 12, column 'age', value '120.5': age is a whole number (45 or 45.0)\n  <dir>/out_of_range.parquet:row 27, column 'loyalty_score', value '11.0': loyalty_score is between 0 and 10",
    ),
    (
        "missing",
        "data file '<dir>/missing.parquet' breaks 4 validation rules:\n  <dir>/missing.parquet:row 21, column 'age', value '': required columns have no missing values (data.missing = \"reject\"; \"drop_rows\" or \"impute\" accept gaps)\n  <dir>/missing.parquet:row 22, column 'annual_income', value '': required columns have no missing values (data.missing = \"reject\"; \"drop_rows\" or \"impute\" accept gaps)\n  <dir>/missing.parquet:row 23, column 'region', value '': required columns have no missing values (data.missing = \"reject\"; \"drop_rows\" or \"impute\" accept gaps)\n  <dir>/missing.parquet:row 24, column 'user_id', value '': required columns have no missing values (data.missing = \"reject\"; \"drop_rows\" or \"impute\" accept gaps)",
    ),
    (
        "missing_id_under_impute",
        "data file '<dir>/missing_id.parquet' breaks 1 validation rule:\n  <dir>/missing_id.parquet:row 14, column 'user_id', value '': user_id is never missing, whatever data.missing says",
    ),
    (
        "repeated_id",
        "data file '<dir>/repeated_id.parquet' breaks 2 validation rules:\n  <dir>/repeated_id.parquet:row 20, column 'user_id', value '3': ids are unique; '3' already appears on row 3\n  <dir>/repeated_id.parquet:row 29, column 'user_id', value '2': ids are unique; '2' already appears on row 2",
    ),
    (
        "wrong_type",
        "data file '<dir>/wrong_type.parquet' breaks 60 validation rules:\n  <dir>/wrong_type.parquet:row 1, column 'age', value 'true': age is a number\n  <dir>/wrong_type.parquet:row 1, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 2, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 2, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 3, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 3, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 4, column 'age', value 'true': age is a number\n  <dir>/wrong_type.parquet:row 4, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 5, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 5, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 6, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 6, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 7, column 'age', value 'true': age is a number\n  <dir>/wrong_type.parquet:row 7, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 8, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 8, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 9, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 9, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 10, column 'age', value 'true': age is a number\n  <dir>/wrong_type.parquet:row 10, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 11, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 11, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 12, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 12, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 13, column 'age', value 'true': age is a number\n  <dir>/wrong_type.parquet:row 13, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 14, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 14, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 15, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 15, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 16, column 'age', value 'true': age is a number\n  <dir>/wrong_type.parquet:row 16, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 17, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 17, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 18, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 18, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 19, column 'age', value 'true': age is a number\n  <dir>/wrong_type.parquet:row 19, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 20, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 20, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 21, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 21, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 22, column 'age', value 'true': age is a number\n  <dir>/wrong_type.parquet:row 22, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 23, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 23, column 'region', value '0': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 24, column 'age', value 'false': age is a number\n  <dir>/wrong_type.parquet:row 24, column 'region', value '1': region is one of North, South, East, West\n  <dir>/wrong_type.parquet:row 25, column 'age', value 'true': age is a number\n  <dir>/wrong_type.parquet:row 25, column 'region', value '0': region is one of North, South, East, West\n  … and 10 more",
    ),
    (
        "numeric_gap_token",
        "data file '<dir>/gap_token.parquet' breaks 2 validation rules:\n  <dir>/gap_token.parquet:row 5, column 'annual_income', value '-1.0': annual_income is at least 0\n  <dir>/gap_token.parquet:row 6, column 'purchase_amount', value '-2': purchase_amount is at least 0",
    ),
    (
        "nan_is_a_gap_under_impute_but_inf_is_not",
        "data file '<dir>/nan_gap.parquet' breaks 1 validation rule:\n  <dir>/nan_gap.parquet:row 4, column 'annual_income', value 'inf': annual_income is a finite number (not NaN or infinity)",
    ),
    (
        "uint64_beyond_int64_and_float32",
        "data file '<dir>/wide.parquet' breaks 3 validation rules:\n  <dir>/wide.parquet:row 3, column 'purchase_amount', value '18446744073709551615': purchase_amount is at most 1e15 in magnitude (larger values overflow sums of squares)\n  <dir>/wide.parquet:row 5, column 'loyalty_score', value '10.100000381469727': loyalty_score is between 0 and 10\n  <dir>/wide.parquet:row 30, column 'user_id', value 'c28': ids are unique; 'c28' already appears on row 29",
    ),
];

fn impute() -> MissingSettings {
    MissingSettings {
        missing: MissingPolicy::Impute,
        ..MissingSettings::default()
    }
}

#[test]
fn every_broken_rule_gives_the_text_readers_message() {
    let dir = scratch("errors");
    let ok = |i: usize| Some(20 + (i % 40) as i64);
    let income = |i: usize| Some(40_000.0 + 100.0 * i as f64);
    type Case = (&'static str, PathBuf, MissingSettings);
    let cases: Vec<Case> = vec![
        (
            "negative",
            table(&dir, "negative", |c| {
                set(c, "age", i64s(|i| if i == 4 { Some(-3) } else { ok(i) }));
                set(
                    c,
                    "annual_income",
                    f64s(|i| if i == 7 { Some(-0.5) } else { income(i) }),
                );
            }),
            MissingSettings::reject(),
        ),
        (
            "non_finite",
            table(&dir, "non_finite", |c| {
                set(
                    c,
                    "annual_income",
                    f64s(|i| match i {
                        2 => Some(f64::NAN),
                        3 => Some(f64::INFINITY),
                        4 => Some(f64::NEG_INFINITY),
                        _ => income(i),
                    }),
                );
            }),
            MissingSettings::reject(),
        ),
        (
            "out_of_range",
            table(&dir, "out_of_range", |c| {
                set(
                    c,
                    "loyalty_score",
                    f64s(|i| Some(if i == 26 { 11.0 } else { 5.0 })),
                );
                set(
                    c,
                    "purchase_frequency",
                    f64s(|i| Some(if i == 1 { 12.5 } else { 12.0 })),
                );
                set(
                    c,
                    "annual_income",
                    f64s(|i| match i {
                        5 => Some(1e300),
                        6 => Some(-0.0),
                        8 => Some(1.0000000000000002e15),
                        _ => income(i),
                    }),
                );
                set(
                    c,
                    "purchase_amount",
                    i64s(|i| match i {
                        6 => Some(10_000_000_000_000_000),
                        9 => Some(9_007_199_254_740_993),
                        10 => Some(1_000_000_000_000_000),
                        _ => Some(300),
                    }),
                );
                set(
                    c,
                    "age",
                    Series::new(
                        "x".into(),
                        (0..30)
                            .map(|i| if i == 11 { 120.5f32 } else { 30.0 })
                            .collect::<Vec<f32>>(),
                    ),
                );
            }),
            MissingSettings::reject(),
        ),
        (
            "missing",
            table(&dir, "missing", |c| {
                set(c, "age", i64s(|i| if i == 20 { None } else { ok(i) }));
                set(
                    c,
                    "annual_income",
                    f64s(|i| if i == 21 { None } else { income(i) }),
                );
                set(
                    c,
                    "region",
                    Series::new(
                        "x".into(),
                        (0..30)
                            .map(|i| (i != 22).then_some("East"))
                            .collect::<Vec<Option<&str>>>(),
                    ),
                );
                set(c, "user_id", i64s(|i| (i != 23).then_some(i as i64 + 1)));
            }),
            MissingSettings::reject(),
        ),
        (
            "missing_id_under_impute",
            table(&dir, "missing_id", |c| {
                set(c, "user_id", i64s(|i| (i != 13).then_some(i as i64 + 1)));
                set(c, "age", i64s(|i| if i == 20 { None } else { ok(i) }));
            }),
            impute(),
        ),
        (
            "repeated_id",
            table(&dir, "repeated_id", |c| {
                set(
                    c,
                    "user_id",
                    i64s(|i| {
                        Some(match i {
                            19 => 3,
                            28 => 2,
                            _ => i as i64 + 1,
                        })
                    }),
                );
            }),
            MissingSettings::reject(),
        ),
        (
            "wrong_type",
            table(&dir, "wrong_type", |c| {
                set(
                    c,
                    "age",
                    Series::new(
                        "x".into(),
                        (0..30).map(|i| i % 3 == 0).collect::<Vec<bool>>(),
                    ),
                );
                set(
                    c,
                    "region",
                    Series::new("x".into(), (0..30).map(|i| i % 2).collect::<Vec<i64>>()),
                );
            }),
            MissingSettings::reject(),
        ),
        (
            "numeric_gap_token",
            table(&dir, "gap_token", |c| {
                set(c, "age", i64s(|i| if i == 3 { Some(-1) } else { ok(i) }));
                set(
                    c,
                    "annual_income",
                    f64s(|i| if i == 4 { Some(-1.0) } else { income(i) }),
                );
                set(
                    c,
                    "purchase_amount",
                    i64s(|i| if i == 5 { Some(-2) } else { Some(300) }),
                );
            }),
            MissingSettings {
                missing: MissingPolicy::Impute,
                missing_values: vec!["-1".into(), "NA".into()],
                ..MissingSettings::default()
            },
        ),
        (
            "uint64_beyond_int64_and_float32",
            table(&dir, "wide", |c| {
                set(
                    c,
                    "purchase_amount",
                    Series::new(
                        "x".into(),
                        (0..30)
                            .map(|i| if i == 2 { u64::MAX } else { 300 })
                            .collect::<Vec<u64>>(),
                    ),
                );
                set(
                    c,
                    "loyalty_score",
                    Series::new(
                        "x".into(),
                        (0..30)
                            .map(|i| if i == 4 { 10.1f32 } else { 4.5 })
                            .collect::<Vec<f32>>(),
                    ),
                );
                set(
                    c,
                    "user_id",
                    Series::new(
                        "x".into(),
                        (0..30)
                            .map(|i| format!(" c{} ", i.min(28)))
                            .collect::<Vec<String>>(),
                    ),
                );
            }),
            MissingSettings::reject(),
        ),
        (
            "nan_is_a_gap_under_impute_but_inf_is_not",
            table(&dir, "nan_gap", |c| {
                set(
                    c,
                    "annual_income",
                    f64s(|i| match i {
                        2 => Some(f64::NAN),
                        3 => Some(f64::INFINITY),
                        4 => None,
                        _ => income(i),
                    }),
                );
            }),
            impute(),
        ),
    ];
    let prefix = format!("{}/", dir.display());
    let mut got = Vec::new();
    for (name, path, missing) in &cases {
        let whole = data::load_with(path, &Roles::default(), missing)
            .unwrap_err()
            .to_string();
        let chunked = data::chunks_with(path, &Roles::default(), missing, 7)
            .unwrap()
            .find_map(Result::err)
            .unwrap()
            .to_string();
        assert_eq!(
            chunked, whole,
            "{name}: chunks of 7 rows against a whole load"
        );
        got.push((*name, whole.replace(&prefix, "<dir>/")));
    }
    let want: BTreeMap<&str, &str> = EXPECTED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (name, msg) in &got {
        if want.get(name) != Some(&msg.as_str()) {
            wrong.push(format!("(\n    {name:?},\n    {msg:?},\n),"));
        }
    }
    assert!(wrong.is_empty(), "messages differ:\n{}", wrong.join("\n"));
}

#[test]
fn typed_cells_that_break_no_rule_load_exactly() {
    let dir = scratch("typed-ok");
    // An id stored as float64 is the text a CSV copy would hold ("1.0"); -0.0 stays -0.0;
    // an integer above 2^53 within the magnitude rule rounds as the text parser rounds it.
    let p = table(&dir, "ids", |c| {
        set(
            c,
            "user_id",
            f64s(|i| Some(i as f64 + if i == 3 { 0.5 } else { 1.0 })),
        );
        set(
            c,
            "annual_income",
            f64s(|i| Some(if i == 6 { -0.0 } else { 45_000.0 })),
        );
        set(
            c,
            "purchase_amount",
            i64s(|i| Some(if i == 9 { 999_999_999_999_999 } else { 300 })),
        );
    });
    let ds = data::load(&p).unwrap();
    assert_eq!(ds.ids[0], "1.0");
    assert_eq!(ds.ids[3], "3.5");
    assert_eq!(ds.col("annual_income")[6].to_bits(), (-0.0f64).to_bits());
    assert_eq!(ds.col("purchase_amount")[9], 999_999_999_999_999.0);
    // Against a CSV of the text the old reader made of each cell.
    let csv: String = std::iter::once(
        "user_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency"
            .to_string(),
    )
    .chain((0..30).map(|i| {
        format!(
            "{:?},{},{:?},{},{:?},{},{}",
            ds.ids[i].parse::<f64>().unwrap(),
            20 + i % 40,
            if i == 6 { -0.0 } else { 45_000.0 },
            if i == 9 { 999_999_999_999_999i64 } else { 300 },
            5.0 + 0.1 * i as f64,
            ["North", "South", "East", "West"][i % 4],
            10 + i % 5
        )
    }))
    .collect::<Vec<_>>()
    .join("\n");
    let from_csv = data::parse_csv_bytes(csv.as_bytes(), &p, &Roles::default()).unwrap();
    assert_same_values(&ds, &from_csv);
}

#[test]
fn a_damaged_file_is_a_clear_error_never_a_crash() {
    let dir = scratch("damaged");
    let good = data::parquet_bytes(&data::synth(5000, 3, &SynthSpec::default())).unwrap();
    let mut files = Vec::new();
    let truncated = dir.join("truncated.parquet");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    files.push(truncated.clone());
    let garbage = dir.join("garbage.parquet");
    std::fs::write(&garbage, b"PAR1 this is not parquet at all PAR1").unwrap();
    files.push(garbage.clone());
    // Bytes overwritten inside the data pages (the footer intact).
    for (k, at) in [0.1, 0.3, 0.5, 0.7].into_iter().enumerate() {
        let mut bad = good.clone();
        let start = (good.len() as f64 * at) as usize;
        for (j, b) in bad[start..start + 64].iter_mut().enumerate() {
            *b = b.wrapping_mul(31).wrapping_add(j as u8 ^ 0x5a);
        }
        let p = dir.join(format!("pages{k}.parquet"));
        std::fs::write(&p, &bad).unwrap();
        files.push(p);
    }
    for p in [&truncated, &garbage] {
        let err = data::load(p).unwrap_err();
        assert!(matches!(err, DataError::NotParquet { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "data file '{}' is not a readable Parquet file: ",
                p.display()
            )),
            "{msg}"
        );
        let chunked =
            data::chunks(p, &Roles::default(), 1000).and_then(|c| c.collect::<Result<Vec<_>, _>>());
        assert!(matches!(chunked, Err(DataError::NotParquet { .. })));
    }
    // Damaged pages: an error or (when the damage lands on values) a table, never a panic.
    for p in &files {
        let _ = data::load(p);
        if let Ok(c) = data::chunks(p, &Roles::default(), 700) {
            for chunk in c {
                let _ = chunk;
            }
        }
    }
}
