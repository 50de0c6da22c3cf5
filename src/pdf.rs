//! PDFs of the report and the deck, printed by headless Chromium (`--print-to-pdf`): the pages
//! carry their own print styles (`@page`, one slide per page), Chromium embeds the fonts and keeps
//! the text selectable. PDFs are build outputs, never committed: they embed a creation date.
//!
//! Chromium is found on `PATH` under its usual names (or at `$CHROMIUM`); when it is missing the
//! error says how to install it.

use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

/// Executable names tried, in order, when `$CHROMIUM` is not set.
pub const BROWSERS: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// What `report pdf` prints: (page in the output folder, PDF written beside it).
pub const DOCUMENTS: &[(&str, &str)] = &[
    ("index.html", "report.pdf"),
    ("slides.html", "slides.pdf"),
    ("slides.html?notes", "slides-notes.pdf"),
];

/// Errors of printing PDFs.
#[derive(Debug, Error)]
pub enum PdfError {
    /// No Chromium or Chrome executable was found.
    #[error(
        "headless Chromium is needed to print PDFs and none was found (tried $CHROMIUM and {tried}); install it, e.g. `sudo apt-get install chromium` (Debian/Ubuntu), `brew install --cask chromium` (macOS), or set CHROMIUM=/path/to/chrome"
    )]
    NoBrowser {
        /// The names tried.
        tried: String,
    },
    /// A page to print does not exist: the report was not built into that folder.
    #[error("'{}' does not exist; run `report build` (with the same --out) first", path.display())]
    MissingPage {
        /// The page.
        path: PathBuf,
    },
    /// Chromium could not be started.
    #[error("cannot run '{}': {source}", browser.display())]
    Launch {
        /// The executable.
        browser: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Chromium ran but wrote no PDF.
    #[error("'{}' did not write '{}' (exit status {status}): {stderr}", browser.display(), pdf.display())]
    NotWritten {
        /// The executable.
        browser: PathBuf,
        /// The PDF that was expected.
        pdf: PathBuf,
        /// Its exit status.
        status: String,
        /// The last lines of its standard error.
        stderr: String,
    },
    /// A temporary profile folder could not be made.
    #[error("cannot create a temporary browser profile: {0}")]
    Profile(std::io::Error),
}

/// The Chromium executable to use: `$CHROMIUM` when set, else the first of [`BROWSERS`] on
/// `PATH`.
pub fn find_browser() -> Result<PathBuf, PdfError> {
    if let Some(p) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in BROWSERS {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(PdfError::NoBrowser {
        tried: BROWSERS.join(", "),
    })
}

/// Prints every page of [`DOCUMENTS`] found in `out_dir` to its PDF there, with `browser`;
/// returns the PDFs written. A missing page is an error; an existing PDF is replaced only when
/// the new one was written completely (Chromium writes to a temporary name first).
pub fn print_all(browser: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, PdfError> {
    let mut written = Vec::new();
    for (page, pdf) in DOCUMENTS {
        let (file, query) = page.split_once('?').map_or((*page, ""), |(f, q)| (f, q));
        let path = out_dir.join(file);
        if !path.is_file() {
            return Err(PdfError::MissingPage { path });
        }
        let abs = std::path::absolute(&path).unwrap_or(path);
        let mut url = format!("file://{}", abs.display());
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        let target = out_dir.join(pdf);
        print(browser, &url, &target)?;
        written.push(target);
    }
    Ok(written)
}

/// Prints one URL to `pdf` with headless Chromium (no header or footer, a throw-away profile).
pub fn print(browser: &Path, url: &str, pdf: &Path) -> Result<(), PdfError> {
    let profile = Profile::new()?;
    let tmp = pdf.with_extension("pdf.tmp");
    let _ = std::fs::remove_file(&tmp);
    let tmp_abs = std::path::absolute(&tmp).unwrap_or(tmp.clone());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.0.display()))
        .arg(format!("--print-to-pdf={}", tmp_abs.display()))
        .arg(url)
        .output()
        .map_err(|source| PdfError::Launch {
            browser: browser.to_path_buf(),
            source,
        })?;
    let ok = std::fs::metadata(&tmp)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if !ok {
        let _ = std::fs::remove_file(&tmp);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(PdfError::NotWritten {
            browser: browser.to_path_buf(),
            pdf: pdf.to_path_buf(),
            status: out.status.to_string(),
            stderr: tail.into_iter().rev().collect::<Vec<_>>().join(" | "),
        });
    }
    std::fs::rename(&tmp, pdf).map_err(|source| PdfError::Launch {
        browser: browser.to_path_buf(),
        source,
    })
}

/// A throw-away browser profile folder, removed when dropped.
struct Profile(PathBuf);

impl Profile {
    fn new() -> Result<Profile, PdfError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "customer-intel-chromium-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(PdfError::Profile)?;
        Ok(Profile(dir))
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_page_names_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let e = print_all(Path::new("/nonexistent/chromium"), dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("index.html") && e.contains("report build"),
            "{e}"
        );
    }

    #[test]
    fn no_browser_says_how_to_install_one() {
        let e = PdfError::NoBrowser {
            tried: BROWSERS.join(", "),
        }
        .to_string();
        assert!(
            e.contains("apt-get install chromium") && e.contains("CHROMIUM="),
            "{e}"
        );
    }

    #[test]
    fn a_browser_that_writes_nothing_is_an_error_and_leaves_the_old_pdf() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("x.pdf");
        std::fs::write(&pdf, "old").unwrap();
        let e = print(Path::new("/bin/true"), "file:///nowhere", &pdf).unwrap_err();
        assert!(matches!(e, PdfError::NotWritten { .. }), "{e}");
        assert_eq!(std::fs::read_to_string(&pdf).unwrap(), "old");
    }
}
