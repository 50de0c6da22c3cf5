//! Build script: records the exact versions of this crate's direct dependencies, read from
//! `Cargo.lock` at build time, so the report's Technical Architecture section lists the crates the
//! binary was really built with instead of a hand-typed table that can go stale.
//!
//! Writes `$OUT_DIR/crate_versions.rs` holding `CRATE_VERSIONS: &[(&str, &str, &str)]`
//! (name, version, kind: "normal", "dev" or "build"), sorted by kind then name.

use std::collections::BTreeMap;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=Cargo.lock");
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml is readable");
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let package = std::env::var("CARGO_PKG_NAME").expect("cargo sets CARGO_PKG_NAME");

    let direct = direct_dependencies(&manifest);
    let resolved = root_dependencies(&lock, &package);
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for (name, kind) in &direct {
        let version = resolved
            .get(name)
            .cloned()
            .unwrap_or_else(|| "unresolved".to_string());
        rows.push((name.clone(), version, kind.clone()));
    }
    rows.sort_by(|a, b| (kind_rank(&a.2), &a.0).cmp(&(kind_rank(&b.2), &b.0)));

    let mut code = String::from(
        "/// Direct dependencies as (name, version, kind), read from Cargo.lock by build.rs.\n",
    );
    code.push_str("pub const CRATE_VERSIONS: &[(&str, &str, &str)] = &[\n");
    for (n, v, k) in rows {
        code.push_str(&format!("    ({n:?}, {v:?}, {k:?}),\n"));
    }
    code.push_str("];\n");
    let dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // Write a new file and rename it over the old one rather than rewriting in place, so a
    // target folder copied with hard links never changes the file another copy still uses.
    let tmp = dir.join("crate_versions.rs.tmp");
    std::fs::write(&tmp, code).expect("OUT_DIR is writable");
    std::fs::rename(&tmp, dir.join("crate_versions.rs")).expect("OUT_DIR is writable");
}

fn kind_rank(kind: &str) -> u8 {
    match kind {
        "normal" => 0,
        "build" => 1,
        _ => 2,
    }
}

/// Names of the direct dependencies in `[dependencies]`, `[dev-dependencies]` and
/// `[build-dependencies]` (a `package = "..."` rename is honoured).
fn direct_dependencies(manifest: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut kind: Option<&str> = None;
    for raw in manifest.lines() {
        let line = raw.trim();
        if line.starts_with('[') {
            kind = match line {
                "[dependencies]" => Some("normal"),
                "[dev-dependencies]" => Some("dev"),
                "[build-dependencies]" => Some("build"),
                _ => None,
            };
            continue;
        }
        let Some(k) = kind else { continue };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let mut name = key.trim().trim_matches('"').to_string();
        if let Some(pos) = value.find("package") {
            let rest = &value[pos + "package".len()..];
            if let Some(q1) = rest.find('"')
                && let Some(q2) = rest[q1 + 1..].find('"')
            {
                name = rest[q1 + 1..q1 + 1 + q2].to_string();
            }
        }
        out.entry(name).or_insert_with(|| k.to_string());
    }
    out
}

/// The resolved version of each dependency of the root package in Cargo.lock. The root's
/// `dependencies` list names a crate alone when one version is locked and as "name version"
/// when several are.
fn root_dependencies(lock: &str, package: &str) -> BTreeMap<String, String> {
    // Parse every [[package]] block into (name, version, dependencies).
    let mut blocks: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut in_deps = false;
    for raw in lock.lines() {
        let line = raw.trim();
        if line == "[[package]]" {
            blocks.push((String::new(), String::new(), Vec::new()));
            in_deps = false;
            continue;
        }
        let Some(b) = blocks.last_mut() else { continue };
        if in_deps {
            if line.starts_with(']') {
                in_deps = false;
            } else {
                b.2.push(line.trim_end_matches(',').trim_matches('"').to_string());
            }
            continue;
        }
        if let Some(v) = line.strip_prefix("name = ") {
            b.0 = v.trim_matches('"').to_string();
        } else if let Some(v) = line.strip_prefix("version = ") {
            b.1 = v.trim_matches('"').to_string();
        } else if line.starts_with("dependencies = [") {
            in_deps = !line.ends_with(']');
        }
    }
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (n, v, _) in &blocks {
        versions.entry(n.clone()).or_default().push(v.clone());
    }
    let mut out = BTreeMap::new();
    if let Some((_, _, deps)) = blocks.iter().find(|(n, _, _)| n == package) {
        for d in deps {
            let mut parts = d.split_whitespace();
            let name = parts.next().unwrap_or_default().to_string();
            let version = match parts.next() {
                Some(v) => v.to_string(),
                None => versions
                    .get(&name)
                    .and_then(|v| v.first().cloned())
                    .unwrap_or_default(),
            };
            out.insert(name, version);
        }
    }
    out
}
