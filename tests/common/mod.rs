//! Fixtures shared by the integration tests (each test file includes this with `mod common;`
//! and uses what it needs): the bundled table and the tolerance checks of the reference
//! comparisons, and the committed reference values (`reference`, shared with the unit tests).
//! The library's unit tests have the same helpers in `src/test_fixtures.rs`.
#![allow(dead_code)]

mod reference;
#[allow(unused_imports)] // each test file uses a different part
pub use reference::{Reference, input_hash, reference_dir, repo_root};

use std::path::{Path, PathBuf};

use customer_intel::data::{self, Dataset};
use customer_intel::pipeline;

/// The bundled CSV file, as an absolute path (tests run from any folder).
pub fn bundled_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(pipeline::DEFAULT_DATA)
}

/// The bundled table, loaded and validated with the default roles.
pub fn bundled() -> Dataset {
    data::load(&bundled_csv()).expect("the bundled data loads")
}

/// Whether `a` is within `rel` of the reference `b`, relative to `b`'s size (so a reference
/// of 0 needs an exact match).
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

/// Asserts [`close`], naming both values.
#[track_caller]
pub fn assert_close(a: f64, b: f64, rel: f64) {
    assert!(close(a, b, rel), "{a} vs reference {b} (rel {rel})");
}
