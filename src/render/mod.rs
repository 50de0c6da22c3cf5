//! The renderer: findings → README sections, `report/index.html` and `report/slides.html`.
//!
//! It reads [`Findings`] and the figures drawn from them and never computes an analysis. Flow:
//!
//! 1. [`view::View`] gathers what templates see: the findings themselves, the scorecard
//!    ([`scorecard`]), the conclusions derived by coded rules ([`conclusions`]), the crates and
//!    versions the binary was built with, figure links and provenance.
//! 2. [`templates::Engine`] renders one Markdown template per README section ([`sections`]);
//!    number formatting is done by the filters of [`format`].
//! 3. [`markers::splice`] puts each section between its markers in README.md.
//! 4. [`markdown`] turns the same Markdown into HTML (figures inlined as SVG, headings with
//!    anchors for the table of contents), wrapped by the `report.html` layout; `slides.md` is
//!    split into slides and wrapped by `slides.html`.
//!
//! Output is a pure function of findings, figures, templates and the optional [`Stamp`]: no
//! clock, no environment, no map iteration order.

pub mod conclusions;
pub mod format;
pub mod markdown;
pub mod markers;
pub mod risks;
pub mod scorecard;
pub mod templates;
pub mod view;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::findings::Findings;
use crate::plot::Figure;
use crate::provenance::GitCommit;
use markdown::{Anchors, FigureSvgs, Heading};
use templates::{Engine, FigureLink, TemplateSet};

pub use markers::MarkerError;

/// The README sections that belong to no single analysis, after the analyses' own sections:
/// (marker name, template).
pub const REPORT_SECTIONS: &[(&str, &str)] = &[
    ("results", "results.md"),
    ("risks", "risks.md"),
    ("conclusions", "conclusions.md"),
    ("architecture", "architecture.md"),
];

/// Every generated README section, in document order, (marker name, template): one per
/// registered analysis ([`crate::analysis::REGISTRY`]), then [`REPORT_SECTIONS`].
pub fn sections() -> Vec<(String, String)> {
    crate::analysis::REGISTRY
        .iter()
        .map(|a| (a.name().to_string(), format!("{}.md", a.name())))
        .chain(
            REPORT_SECTIONS
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string())),
        )
        .collect()
}

/// Errors of rendering.
#[derive(Debug, Error)]
pub enum RenderError {
    /// A template failed to parse or render.
    #[error("template '{template}' ({origin}){}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default(), variable.as_ref().map(|v| format!(", `{v}`")).unwrap_or_default())]
    Template {
        /// The template's name, for example `eda.md`.
        template: String,
        /// `built-in` or the override file's path.
        origin: String,
        /// 1-based line, when it could be determined.
        line: Option<usize>,
        /// The variable (or `filter NAME` / `function NAME`) involved, when known.
        variable: Option<String>,
        /// tera's whole cause chain.
        message: String,
    },
    /// The override folder or one of its files could not be read.
    #[error("cannot read templates from '{path}': {source}")]
    TemplateDir {
        /// The folder or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file in the override folder matches no template.
    #[error("'{}' does not override any template; known templates: {known}", path.display())]
    UnknownTemplate {
        /// The file.
        path: PathBuf,
        /// Known names.
        known: String,
    },
    /// The README's markers are missing or inconsistent.
    #[error("README '{}' has missing or mismatched `<!-- report:NAME:start/end -->` markers", path.display())]
    Markers {
        /// The README.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: MarkerError,
    },
    /// The README could not be read.
    #[error("cannot read README '{}': {source}", path.display())]
    Readme {
        /// The README.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Facts about the build that are only included on request, because they change with every
/// commit or day: a committed report that printed its own commit would always be stale.
///
/// [`Stamp::from_env`] returns one only when `SOURCE_DATE_EPOCH` is set (the reproducible-builds
/// convention for "this is a release build, pinned to this time"); the default build has none.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stamp {
    /// UTC date and time from `SOURCE_DATE_EPOCH`, `YYYY-MM-DD HH:MM:SS UTC`.
    pub date: String,
    /// The commit as [`GitCommit::short`] writes it (12 hex digits, `-dirty` when the work tree
    /// has changes); `None` outside a git checkout.
    pub commit: Option<String>,
}

impl Stamp {
    /// A stamp when `SOURCE_DATE_EPOCH` holds a Unix time, else `None`.
    pub fn from_env() -> Option<Stamp> {
        let epoch: i64 = std::env::var("SOURCE_DATE_EPOCH")
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(Stamp {
            date: utc_date(epoch),
            commit: GitCommit::current().map(|c| c.short()),
        })
    }
}

/// Formats a Unix time as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian calendar).
pub fn utc_date(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's published algorithm, re-derived here).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Folder of templates overriding the built-in ones.
    pub templates: Option<PathBuf>,
    /// Link prefix from the README to the figures folder, for example `report/figures`.
    pub figure_base: String,
    /// Optional build stamp (date, commit) for the provenance footer.
    pub stamp: Option<Stamp>,
}

/// Everything rendered, in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// README sections: (marker name, Markdown).
    pub sections: Vec<(String, String)>,
    /// `index.html`.
    pub report_html: String,
    /// `slides.html`.
    pub slides_html: String,
}

/// Renders README sections, the HTML report and the slides, with the slide figures drawn from
/// the findings ([`crate::plot::slides::all`]).
pub fn render(
    findings: &Findings,
    figures: &[Figure],
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    render_with_slides(findings, figures, &crate::plot::slides::all(findings), opts)
}

/// [`render`] with the slide figures given: they live in `figures/slides/`, only the deck shows
/// them, and templates reach them by name with `figure(name=…)` like any other figure.
pub fn render_with_slides(
    findings: &Findings,
    figures: &[Figure],
    slide_figures: &[Figure],
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    render_parsed(
        parse_templates(opts)?,
        findings,
        figures,
        slide_figures,
        opts,
    )
}

/// Loads the templates `opts` names (the built-in ones, with any overrides from
/// [`RenderOptions::templates`]) and parses them: the part of rendering that needs no findings.
pub fn parse_templates(opts: &RenderOptions) -> Result<Engine, RenderError> {
    let set = match &opts.templates {
        Some(dir) => TemplateSet::with_overrides(dir)?,
        None => TemplateSet::builtin(),
    };
    Engine::parse(set)
}

/// [`render_with_slides`] with templates already parsed by [`parse_templates`] for the same
/// options.
pub fn render_parsed(
    engine: Engine,
    findings: &Findings,
    figures: &[Figure],
    slide_figures: &[Figure],
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let base = opts.figure_base.trim_end_matches('/');
    let links: Vec<FigureLink> = figures
        .iter()
        .map(|f| FigureLink {
            name: f.name.clone(),
            caption: f.caption.clone(),
            link: if base.is_empty() {
                f.name.clone()
            } else {
                format!("{base}/{}", f.name)
            },
        })
        .collect();
    let slide_links: Vec<FigureLink> = slide_figures
        .iter()
        .map(|f| FigureLink {
            name: f.name.clone(),
            caption: f.caption.clone(),
            link: if base.is_empty() {
                format!("slides/{}", f.name)
            } else {
                format!("{base}/slides/{}", f.name)
            },
        })
        .collect();
    let all_links: Vec<FigureLink> = links.iter().chain(&slide_links).cloned().collect();
    let engine = engine.with_figures(&all_links);
    let v = view::View::new(findings, &links, opts.stamp.clone());
    let ctx = tera::Context::from_serialize(&v).expect("the view always serialises");

    let mut sections = Vec::new();
    for (name, template) in self::sections() {
        let md = engine.render(&template, &ctx)?;
        sections.push((name, normalise(&md)));
    }

    let svgs: FigureSvgs = figures
        .iter()
        .map(|f| (f.name.clone(), f.svg.clone()))
        .collect();

    // The report: intro, every section, then any figure no section showed.
    let mut anchors = Anchors::default();
    let intro = normalise(&engine.render("report_intro.md", &ctx)?);
    let mut body = String::new();
    let mut toc: Vec<Heading> = Vec::new();
    let (html, _) = markdown::to_html(&intro, &svgs, &mut anchors);
    body.push_str(&html);
    for (_, md) in &sections {
        let (html, hs) = markdown::to_html(md, &svgs, &mut anchors);
        body.push_str(&html);
        toc.extend(hs);
    }
    let unshown: Vec<&FigureLink> = links
        .iter()
        .filter(|l| !sections.iter().any(|(_, md)| md.contains(&l.link)))
        .collect();
    if !unshown.is_empty() {
        let mut md = String::from("## Appendix: further figures\n\n");
        for l in unshown {
            md.push_str(&format!(
                "![{}]({})\n\n",
                l.caption.replace(['[', ']'], ""),
                l.link
            ));
        }
        let (html, hs) = markdown::to_html(&md, &svgs, &mut anchors);
        body.push_str(&html);
        toc.extend(hs);
    }
    toc.retain(|h| h.level <= 3);
    let mut page = ctx.clone();
    page.insert("body", &body);
    page.insert("toc", &toc);
    page.insert("css", &engine.render("report.css", &ctx)?);
    let report_html = normalise(&engine.render("report.html", &page)?);

    // The slides.
    let deck = normalise(&engine.render("slides.md", &ctx)?);
    let mut deck_svgs = svgs.clone();
    deck_svgs.extend(
        slide_figures
            .iter()
            .map(|f| (f.name.clone(), f.svg.clone())),
    );
    let slides = markdown::to_slides(&deck, &deck_svgs);
    let mut page = ctx.clone();
    page.insert("slides", &slides);
    page.insert("css", &engine.render("slides.css", &ctx)?);
    page.insert("js", &engine.render("slides.js", &ctx)?);
    let slides_html = normalise(&engine.render("slides.html", &page)?);

    Ok(Rendered {
        sections,
        report_html,
        slides_html,
    })
}

/// Trailing spaces removed, runs of blank lines collapsed to one, exactly one final newline:
/// templates can then use `{% if %}` blocks freely without leaving ragged Markdown.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Refreshes the generated sections of the README at `path`, returning its new bytes.
pub fn splice_readme(path: &Path, sections: &[(String, String)]) -> Result<Vec<u8>, RenderError> {
    let old = std::fs::read_to_string(path).map_err(|source| RenderError::Readme {
        path: path.to_path_buf(),
        source,
    })?;
    let new = markers::splice(&old, sections).map_err(|source| RenderError::Markers {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(new.into_bytes())
}

/// The relative link from the folder holding `readme` to `figures_dir`, with `/` separators.
///
/// ```
/// use std::path::Path;
/// use customer_intel::render::relative_link;
/// assert_eq!(relative_link(Path::new("README.md"), Path::new("report/figures")), "report/figures");
/// assert_eq!(relative_link(Path::new("docs/README.md"), Path::new("out/figures")), "../out/figures");
/// ```
pub fn relative_link(readme: &Path, figures_dir: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let from = abs(readme
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new(".")));
    let to = abs(figures_dir);
    let norm = |p: &Path| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    v.pop();
                }
                other => v.push(other.as_os_str().to_string_lossy().into_owned()),
            }
        }
        v
    };
    let (f, t) = (norm(&from), norm(&to));
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - common];
    parts.extend(t[common..].iter().cloned());
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_epoch() {
        // `date -u -d @0`, `date -u -d @951782400` (a leap day), `date -u -d @1700000000`.
        assert_eq!(utc_date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn normalise_collapses_blank_lines() {
        assert_eq!(normalise("\n\na  \n\n\n\nb\n\n"), "a\n\nb\n");
    }
}
