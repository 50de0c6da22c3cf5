//! What templates see: a borrowed, serialisable view of the findings plus what the renderer
//! derives from them (scorecard, conclusions, provenance, the crates of the build).
//!
//! Template variables (all documented in `templates/README.md`):
//! `findings` (the whole [`Findings`]), `dataset`, `roles`, `settings`, `scorecard`,
//! `conclusions`, `figures`, `provenance`, `architecture`.

use serde::Serialize;

use super::Stamp;
use super::conclusions::{self, Conclusion};
use super::scorecard::{self, Scorecard};
use super::templates::FigureLink;
use crate::data::DatasetProfile;
use crate::findings::Findings;
use crate::settings::{Roles, Settings};

mod versions {
    include!(concat!(env!("OUT_DIR"), "/crate_versions.rs"));
}

/// A direct dependency of this crate and the version the binary was built with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrateVersion {
    /// Crate name.
    pub name: &'static str,
    /// Resolved version from Cargo.lock.
    pub version: &'static str,
    /// `normal`, `dev` or `build` dependency.
    pub kind: &'static str,
}

/// The crates this binary was built with, read from Cargo.lock by `build.rs`.
pub fn crate_versions() -> Vec<CrateVersion> {
    versions::CRATE_VERSIONS
        .iter()
        .map(|&(name, version, kind)| CrateVersion {
            name,
            version,
            kind,
        })
        .collect()
}

/// The build's architecture facts.
#[derive(Debug, Clone, Serialize)]
pub struct Architecture {
    /// This crate's name.
    pub package: &'static str,
    /// This crate's version.
    pub version: &'static str,
    /// Direct dependencies with the versions locked in Cargo.lock.
    pub crates: Vec<CrateVersion>,
}

/// Where the numbers came from, for footers.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenanceView {
    /// The data source as given.
    pub source: String,
    /// SHA-256 of the data file.
    pub sha256: String,
    /// First 12 hex digits of the hash.
    pub sha256_short: String,
    /// Rows read.
    pub rows: usize,
    /// This crate's version.
    pub crate_version: String,
    /// Master seed.
    pub seed: u64,
    /// Cross-validation folds.
    pub folds: usize,
    /// Cross-validation repeats.
    pub repeats: usize,
    /// The complete settings as TOML.
    pub settings_toml: String,
    /// Date and commit, only in stamped builds (see [`Stamp`]).
    pub stamp: Option<Stamp>,
}

/// The template context.
#[derive(Debug, Clone, Serialize)]
pub struct View<'a> {
    /// Every finding.
    pub findings: &'a Findings,
    /// Shortcut for `findings.dataset`.
    pub dataset: &'a DatasetProfile,
    /// Shortcut for `findings.provenance.settings`.
    pub settings: &'a Settings,
    /// Shortcut for the column roles.
    pub roles: &'a Roles,
    /// Success targets against measured values.
    pub scorecard: Scorecard,
    /// Conclusions derived by the rules of [`conclusions`].
    pub conclusions: Vec<Conclusion>,
    /// The plan's risks answered by the rules of [`super::risks`].
    pub risks: Vec<super::risks::Risk>,
    /// Figures with their README links, in build order.
    pub figures: &'a [FigureLink],
    /// Provenance for footers.
    pub provenance: ProvenanceView,
    /// Crates and versions of the build.
    pub architecture: Architecture,
    /// The analyses that did not run on this table, with the reason in words.
    pub not_run: Vec<crate::analysis::NotRun>,
}

impl<'a> View<'a> {
    /// Builds the view.
    pub fn new(
        findings: &'a Findings,
        figures: &'a [FigureLink],
        stamp: Option<Stamp>,
    ) -> View<'a> {
        let p = &findings.provenance;
        let settings_toml = toml::to_string(&p.settings)
            .unwrap_or_else(|e| format!("# settings could not be written as TOML: {e}\n"));
        View {
            findings,
            dataset: &findings.dataset,
            settings: &p.settings,
            roles: &p.settings.roles,
            scorecard: scorecard::build(findings),
            conclusions: conclusions::derive(findings),
            risks: super::risks::derive(findings),
            figures,
            provenance: ProvenanceView {
                source: p.data.source.clone(),
                sha256: p.data.sha256.clone(),
                sha256_short: p.data.sha256.chars().take(12).collect(),
                rows: p.data.rows,
                crate_version: p.crate_version.clone(),
                seed: p.seed,
                folds: p.settings.folds,
                repeats: p.settings.repeats,
                settings_toml,
                stamp,
            },
            architecture: Architecture {
                package: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
                crates: crate_versions(),
            },
            not_run: crate::analysis::not_run(findings),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_lock_file() {
        let lock = include_str!("../../Cargo.lock");
        let v = crate_versions();
        let tera = v
            .iter()
            .find(|c| c.name == "tera")
            .expect("tera is a dependency");
        assert!(
            lock.contains(&format!("name = \"tera\"\nversion = \"{}\"", tera.version)),
            "{tera:?}"
        );
        assert!(v.iter().any(|c| c.name == "tempfile" && c.kind == "dev"));
        assert!(v.iter().all(|c| c.version != "unresolved"), "{v:?}");
    }
}
