//! Reading the committed reference values under `tests/reference/` (see its README.md): each
//! `<stem>.json` is written by the script `<stem>.py` from numpy, pandas, scipy, statsmodels or
//! scikit-learn, and carries in `_meta` the SHA-256 of the script and its inputs, which
//! `tests/reference_hashes.rs` recomputes with [`input_hash`]. Shared by the integration tests
//! (through `tests/common/mod.rs`) and the unit tests (through `src/test_fixtures.rs`).

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The repository root (tests run from any folder).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folder holding the reference scripts and their JSON output.
pub fn reference_dir() -> PathBuf {
    repo_root().join("tests").join("reference")
}

/// SHA-256 (lower-case hex) over `files` (repository-relative, `/`-separated) in order: for each,
/// its path, a newline, its length in bytes after CRLF → LF normalisation, a newline, then those
/// bytes. The same definition as `input_hash` in `tests/reference/_common.py`.
pub fn input_hash(root: &Path, files: &[String]) -> std::io::Result<String> {
    let mut h = Sha256::new();
    for rel in files {
        let raw = std::fs::read(root.join(rel))?;
        let mut data = Vec::with_capacity(raw.len());
        for (i, &b) in raw.iter().enumerate() {
            if !(b == b'\r' && raw.get(i + 1) == Some(&b'\n')) {
                data.push(b);
            }
        }
        h.update(format!("{rel}\n{}\n", data.len()).as_bytes());
        h.update(&data);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// One reference file, `tests/reference/<stem>.json`, with typed accessors by JSON pointer
/// (`"/profiles/0/mean"`) that panic naming the file and the pointer when a value is missing or
/// has another type, so a renamed key fails loudly instead of comparing against nothing.
pub struct Reference {
    stem: String,
    value: Value,
}

impl Reference {
    /// Loads `tests/reference/<stem>.json`; panics (naming the regeneration command) if it is
    /// missing or not JSON.
    #[track_caller]
    pub fn load(stem: &str) -> Reference {
        let path = reference_dir().join(format!("{stem}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e} (run `bash tests/reference/regenerate.sh {stem}`)",
                path.display()
            )
        });
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
        Reference {
            stem: stem.to_string(),
            value,
        }
    }

    /// The raw value at `pointer`.
    #[track_caller]
    pub fn get(&self, pointer: &str) -> &Value {
        self.value.pointer(pointer).unwrap_or_else(|| {
            panic!(
                "tests/reference/{}.json has no value at {pointer}",
                self.stem
            )
        })
    }

    #[track_caller]
    fn typed<T>(&self, pointer: &str, what: &str, f: impl Fn(&Value) -> Option<T>) -> T {
        f(self.get(pointer)).unwrap_or_else(|| {
            panic!(
                "tests/reference/{}.json: {pointer} is not {what}",
                self.stem
            )
        })
    }

    /// A number (integers read as floats too).
    #[track_caller]
    pub fn f64(&self, pointer: &str) -> f64 {
        self.typed(pointer, "a number", Value::as_f64)
    }

    /// An array of numbers.
    #[track_caller]
    pub fn f64s(&self, pointer: &str) -> Vec<f64> {
        self.typed(pointer, "an array of numbers", |v| {
            v.as_array()?.iter().map(Value::as_f64).collect()
        })
    }

    /// An array of arrays of numbers (a matrix, row by row).
    #[track_caller]
    pub fn f64ss(&self, pointer: &str) -> Vec<Vec<f64>> {
        self.typed(pointer, "an array of arrays of numbers", |v| {
            v.as_array()?
                .iter()
                .map(|r| r.as_array()?.iter().map(Value::as_f64).collect())
                .collect()
        })
    }

    /// A non-negative integer.
    #[track_caller]
    pub fn usize(&self, pointer: &str) -> usize {
        self.typed(pointer, "a non-negative integer", |v| {
            v.as_u64().and_then(|u| usize::try_from(u).ok())
        })
    }

    /// An array of non-negative integers.
    #[track_caller]
    pub fn usizes(&self, pointer: &str) -> Vec<usize> {
        self.typed(pointer, "an array of non-negative integers", |v| {
            v.as_array()?
                .iter()
                .map(|x| x.as_u64().and_then(|u| usize::try_from(u).ok()))
                .collect()
        })
    }

    /// A boolean.
    #[track_caller]
    pub fn bool(&self, pointer: &str) -> bool {
        self.typed(pointer, "a boolean", Value::as_bool)
    }

    /// An array of booleans.
    #[track_caller]
    pub fn bools(&self, pointer: &str) -> Vec<bool> {
        self.typed(pointer, "an array of booleans", |v| {
            v.as_array()?.iter().map(Value::as_bool).collect()
        })
    }

    /// A string.
    #[track_caller]
    pub fn str(&self, pointer: &str) -> &str {
        self.get(pointer).as_str().unwrap_or_else(|| {
            panic!(
                "tests/reference/{}.json: {pointer} is not a string",
                self.stem
            )
        })
    }

    /// An array of strings.
    #[track_caller]
    pub fn strings(&self, pointer: &str) -> Vec<String> {
        self.typed(pointer, "an array of strings", |v| {
            v.as_array()?
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect()
        })
    }

    /// An array of `[integer, integer]` pairs (for example `[group size, groups of that size]`).
    #[track_caller]
    pub fn usize_pairs(&self, pointer: &str) -> Vec<(usize, usize)> {
        self.pairs(pointer, "an array of [integer, integer] pairs", |v| {
            v.as_u64().map(|u| u as usize)
        })
    }

    /// An array of `[name, count]` pairs.
    #[track_caller]
    pub fn named_counts(&self, pointer: &str) -> Vec<(String, usize)> {
        self.pairs(pointer, "an array of [string, integer] pairs", |v| {
            v.as_str().map(str::to_string)
        })
    }

    /// An array of two-element arrays whose first element `first` reads and whose second is a
    /// non-negative integer.
    #[track_caller]
    fn pairs<A>(
        &self,
        pointer: &str,
        what: &str,
        first: impl Fn(&Value) -> Option<A>,
    ) -> Vec<(A, usize)> {
        self.typed(pointer, what, |v| {
            v.as_array()?
                .iter()
                .map(|p| {
                    let p = p.as_array()?;
                    Some((first(p.first()?)?, p.get(1)?.as_u64()? as usize))
                })
                .collect()
        })
    }
}
