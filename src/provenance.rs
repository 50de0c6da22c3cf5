//! Where a build came from, as far as the source checkout can tell: the git commit that the
//! render stamp prints and the run log (or MLflow) records. One `git` call site for both.

use std::process::Command;

/// The checked-out commit of the current folder's git repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommit {
    /// The full 40-hex-digit commit id of `HEAD`.
    pub id: String,
    /// Whether tracked files differ from `HEAD` (untracked files do not count).
    pub dirty: bool,
}

impl GitCommit {
    /// The commit of the current folder, or `None` outside a git checkout or without `git`.
    pub fn current() -> Option<GitCommit> {
        let out = Command::new("git")
            .args(["rev-parse", "HEAD"])
            .output()
            .ok()?;
        let id = String::from_utf8(out.stdout).ok()?.trim().to_string();
        if !out.status.success() || id.len() != 40 {
            return None;
        }
        let dirty = Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(false);
        Some(GitCommit { id, dirty })
    }

    /// The first 12 hex digits, with `-dirty` appended when the work tree has changes: the form
    /// a reader compares with `git log --oneline`.
    ///
    /// ```
    /// use customer_intel::provenance::GitCommit;
    /// let id = "0123456789abcdef0123456789abcdef01234567".to_string();
    /// let c = GitCommit { id, dirty: true };
    /// assert_eq!(c.short(), "0123456789ab-dirty");
    /// ```
    pub fn short(&self) -> String {
        let short = &self.id[..12.min(self.id.len())];
        if self.dirty {
            format!("{short}-dirty")
        } else {
            short.to_string()
        }
    }
}
