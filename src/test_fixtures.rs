//! Fixtures shared by the unit tests: the bundled table and the tolerance checks the reference
//! comparisons use. Integration tests have their own copy in `tests/common/mod.rs`, because
//! they cannot see `cfg(test)` items of the library. The reader of the committed reference
//! values (`tests/reference/*.json`) is one file shared with them.

use std::path::{Path, PathBuf};

use crate::data::{self, Dataset};

#[allow(dead_code)]
#[path = "../tests/common/reference.rs"]
mod reference;
pub(crate) use reference::Reference;

/// The bundled CSV file, as an absolute path (tests run from any folder).
pub(crate) fn bundled_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(crate::pipeline::DEFAULT_DATA)
}

/// The bundled table, loaded and validated with the default roles.
pub(crate) fn bundled() -> Dataset {
    data::load(&bundled_csv()).expect("the bundled data loads")
}

/// Whether `a` is within `rel` of the reference `b`, relative to `b`'s size (so a reference
/// of 0 needs an exact match).
pub(crate) fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

/// Asserts that `a` is within `tol` of the reference `b`, in absolute terms.
#[track_caller]
pub(crate) fn assert_near(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() < tol, "{a} vs {b}");
}
