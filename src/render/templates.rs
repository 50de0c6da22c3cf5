//! The template environment: built-in templates embedded in the binary, a user folder that
//! overrides them file by file, the number filters, the `figure` function, and errors that name
//! the template, the line and the variable.
//!
//! Lookup order for every template name: `--templates DIR/NAME` if that file exists, else the
//! built-in default (`templates/NAME` in this repository, embedded with `include_str!`). A file
//! in the override folder that matches no known template is an error, so a misspelt file name
//! does not silently do nothing (hidden files and a `README.md` are skipped, so a copy of the
//! whole `templates/` folder works as an override folder).

use std::collections::{BTreeMap, HashMap};
use std::error::Error as _;
use std::path::{Path, PathBuf};

use tera::{Context, Tera, Value};

use super::RenderError;
use super::format;

/// The built-in templates that belong to no single analysis: the report-level sections
/// ([`super::REPORT_SECTIONS`]), shared macros, and the HTML/CSS/JS wrappers of report and slides.
/// Each analysis' own template comes from its registry entry ([`crate::analysis::Analysis`]).
pub const REPORT_TEMPLATES: &[(&str, &str)] = &[
    ("macros.md", include_str!("../../templates/macros.md")),
    ("results.md", include_str!("../../templates/results.md")),
    ("risks.md", include_str!("../../templates/risks.md")),
    (
        "conclusions.md",
        include_str!("../../templates/conclusions.md"),
    ),
    (
        "architecture.md",
        include_str!("../../templates/architecture.md"),
    ),
    (
        "report_intro.md",
        include_str!("../../templates/report_intro.md"),
    ),
    ("slides.md", include_str!("../../templates/slides.md")),
    ("report.html", include_str!("../../templates/report.html")),
    ("slides.html", include_str!("../../templates/slides.html")),
    ("report.css", include_str!("../../templates/report.css")),
    ("slides.css", include_str!("../../templates/slides.css")),
    ("slides.js", include_str!("../../templates/slides.js")),
];

/// Every built-in template, (name, source): each registered analysis' `NAME.md`, in registry
/// order, then [`REPORT_TEMPLATES`].
pub fn builtin() -> Vec<(String, &'static str)> {
    let mut all: Vec<(String, &'static str)> = crate::analysis::REGISTRY
        .iter()
        .map(|a| (format!("{}.md", a.name()), a.template_source()))
        .collect();
    all.extend(REPORT_TEMPLATES.iter().map(|(n, s)| (n.to_string(), *s)));
    all
}

/// Where a template's text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The embedded default.
    Builtin,
    /// A user's override file.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Builtin => write!(f, "built-in"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The template sources in use, by name.
#[derive(Debug, Clone)]
pub struct TemplateSet {
    sources: BTreeMap<String, (String, Origin)>,
}

impl TemplateSet {
    /// The built-in templates only.
    pub fn builtin() -> TemplateSet {
        let sources = builtin()
            .into_iter()
            .map(|(n, s)| (n, (s.to_string(), Origin::Builtin)))
            .collect();
        TemplateSet { sources }
    }

    /// The built-in templates, each replaced by `dir/NAME` when that file exists.
    pub fn with_overrides(dir: &Path) -> Result<TemplateSet, RenderError> {
        let mut set = TemplateSet::builtin();
        let io = |source: std::io::Error| RenderError::TemplateDir {
            path: dir.to_path_buf(),
            source,
        };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort();
        for path in entries {
            if !path.is_file() {
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Hidden files and a README describing the folder are not templates.
            if name.starts_with('.') || name.eq_ignore_ascii_case("README.md") {
                continue;
            }
            if !set.sources.contains_key(&name) {
                return Err(RenderError::UnknownTemplate {
                    path,
                    known: set.names().join(", "),
                });
            }
            let text =
                std::fs::read_to_string(&path).map_err(|source| RenderError::TemplateDir {
                    path: path.clone(),
                    source,
                })?;
            set.sources.insert(name, (text, Origin::File(path)));
        }
        Ok(set)
    }

    /// The template names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.sources.keys().cloned().collect()
    }

    /// The source and origin of a template.
    pub fn get(&self, name: &str) -> Option<&(String, Origin)> {
        self.sources.get(name)
    }
}

/// A figure as templates see it: its caption and the link a Markdown document uses for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FigureLink {
    /// File name, for example `eda_correlation.svg`.
    pub name: String,
    /// Caption.
    pub caption: String,
    /// Relative link from the README to the file (`report/figures/eda_correlation.svg`).
    pub link: String,
}

/// A ready template environment.
pub struct Engine {
    tera: Tera,
    set: TemplateSet,
}

impl Engine {
    /// Parses every template and registers filters, the `figure(name=…)` function, which
    /// writes the Markdown image of a figure (`![caption](link)`) and fails for unknown names,
    /// and `has_figure(name=…)`, which tells whether the build produced a figure.
    pub fn new(set: TemplateSet, figures: &[FigureLink]) -> Result<Engine, RenderError> {
        Ok(Engine::parse(set)?.with_figures(figures))
    }

    /// Parses every template and registers the filters: everything [`Engine::new`] does that
    /// needs no figures, so that a build can do it while its analyses run (tera takes about
    /// 25 ms over the built-in templates). A template that does not parse is an error naming
    /// its file and line.
    pub fn parse(set: TemplateSet) -> Result<Engine, RenderError> {
        let mut tera = Tera::default();
        // Markdown templates must not be HTML-escaped; HTML layouts are (tera's default for .html),
        // with the same escaper as every other piece of HTML (tera's own also escapes `/`).
        tera.autoescape_on(vec![".html"]);
        tera.set_escape_fn(crate::html::escape);
        format::register(&mut tera);
        let pairs: Vec<(String, String)> = set
            .sources
            .iter()
            .map(|(n, (s, _))| (n.clone(), s.clone()))
            .collect();
        if let Err(e) = tera.add_raw_templates(pairs) {
            return Err(describe(&set, &e, None));
        }
        Ok(Engine { tera, set })
    }

    /// Registers `figure(name=…)` and `has_figure(name=…)` (see [`Engine::new`]) for `figures`,
    /// replacing any earlier registration.
    pub fn with_figures(mut self, figures: &[FigureLink]) -> Engine {
        let tera = &mut self.tera;
        let figs: BTreeMap<String, FigureLink> = figures
            .iter()
            .map(|f| (f.name.clone(), f.clone()))
            .collect();
        let names: Vec<String> = figs.keys().cloned().collect();
        tera.register_function("has_figure", move |args: &HashMap<String, Value>| {
            let Some(Value::String(name)) = args.get("name") else {
                return Err(tera::Error::msg(
                    "function `has_figure` needs `name=\"file.svg\"`",
                ));
            };
            let key = if name.ends_with(".svg") {
                name.clone()
            } else {
                format!("{name}.svg")
            };
            Ok(Value::Bool(names.contains(&key)))
        });
        tera.register_function("figure", move |args: &HashMap<String, Value>| {
            let Some(Value::String(name)) = args.get("name") else {
                return Err(tera::Error::msg(
                    "function `figure` needs `name=\"file.svg\"`",
                ));
            };
            let key = if name.ends_with(".svg") {
                name.clone()
            } else {
                format!("{name}.svg")
            };
            match figs.get(&key) {
                Some(f) => Ok(Value::String(format!(
                    "![{}]({})",
                    f.caption.replace(['[', ']'], ""),
                    f.link
                ))),
                None => Err(tera::Error::msg(format!(
                    "figure `{key}` is not produced by this build (figures: {})",
                    figs.keys().cloned().collect::<Vec<_>>().join(", ")
                ))),
            }
        });
        self
    }

    /// Renders one template.
    pub fn render(&self, name: &str, ctx: &Context) -> Result<String, RenderError> {
        self.tera
            .render(name, ctx)
            .map_err(|e| describe(&self.set, &e, Some(name)))
    }
}

/// The whole cause chain of a tera error, one message per link.
fn chain(e: &tera::Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cur: Option<&dyn std::error::Error> = e.source();
    while let Some(c) = cur {
        out.push(c.to_string());
        cur = c.source();
    }
    out
}

/// The text between the first pair of backticks after `prefix` in `s`.
fn backticked_after<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &s[s.find(prefix)? + prefix.len()..];
    let a = rest.find('`')?;
    let b = rest[a + 1..].find('`')?;
    Some(&rest[a + 1..a + 1 + b])
}

/// The text between the first pair of single quotes after `prefix`.
fn quoted_after<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &s[s.find(prefix)? + prefix.len()..];
    let a = rest.find('\'')?;
    let b = rest[a + 1..].find('\'')?;
    Some(&rest[a + 1..a + 1 + b])
}

/// A pest position ` --> LINE:COL` in a parse error.
fn parse_line(s: &str) -> Option<usize> {
    let rest = &s[s.find("--> ")? + 4..];
    rest.split(':').next()?.trim().parse().ok()
}

/// First 1-based line of `source` containing `needle` (outside `{# comments #}` is not checked).
fn line_of(source: &str, needle: &str) -> Option<usize> {
    source
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
}

/// Turns a tera error into a [`RenderError::Template`] naming template, line and variable.
fn describe(set: &TemplateSet, e: &tera::Error, rendering: Option<&str>) -> RenderError {
    let msgs = chain(e);
    let all = msgs.join("\n");
    // The template at fault: the innermost one a message names, else the one being rendered.
    let mut template = rendering.map(str::to_string);
    for m in &msgs {
        for p in ["while rendering ", "Failed to parse ", "Failed to render "] {
            if let Some(t) = quoted_after(m, p) {
                template = Some(t.to_string());
            }
        }
    }
    let variable = msgs
        .iter()
        .find_map(|m| backticked_after(m, "Variable "))
        .map(|v| v.to_string());
    let filter = msgs
        .iter()
        .find_map(|m| quoted_after(m, "Filter call ").or_else(|| backticked_after(m, "Filter ")))
        .map(str::to_string);
    let function = msgs
        .iter()
        .find_map(|m| quoted_after(m, "Function call "))
        .map(str::to_string);
    let mut line = msgs.iter().find_map(|m| parse_line(m));
    let mut origin = None;
    if let Some(t) = &template
        && let Some((src, o)) = set.get(t)
    {
        origin = Some(o.clone());
        if line.is_none() {
            let needle = variable
                .clone()
                .or_else(|| filter.clone())
                .or_else(|| function.as_ref().map(|f| format!("{f}(")));
            if let Some(n) = needle {
                // A variable `a.b` may be written `a["b"]` or reached through a loop alias;
                // the longest written form found wins, else its first segment.
                line = line_of(src, &n).or_else(|| {
                    n.split(['.', '['])
                        .next_back()
                        .and_then(|last| line_of(src, last))
                });
            }
        }
    }
    RenderError::Template {
        template: template.unwrap_or_else(|| "?".into()),
        origin: origin
            .map(|o| o.to_string())
            .unwrap_or_else(|| "unknown".into()),
        line,
        variable: variable
            .or(filter.map(|f| format!("filter {f}")))
            .or(function.map(|f| format!("function {f}"))),
        message: all,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine_with(name: &str, text: &str) -> Result<Engine, RenderError> {
        let mut set = TemplateSet::builtin();
        set.sources.insert(
            name.to_string(),
            (
                text.to_string(),
                Origin::File(PathBuf::from(format!("x/{name}"))),
            ),
        );
        Engine::new(set, &[])
    }

    #[test]
    fn missing_variable_names_template_line_and_variable() {
        let e = engine_with(
            "eda.md",
            "# EDA\n\nrows: {{ 1 | num }}\nbad: {{ dataset.rowz | num }}\n",
        )
        .unwrap();
        let ctx = Context::from_value(serde_json::json!({"dataset": {"rows": 3}})).unwrap();
        let err = e.render("eda.md", &ctx).unwrap_err();
        let msg = err.to_string();
        match &err {
            RenderError::Template {
                template,
                line,
                variable,
                ..
            } => {
                assert_eq!(template, "eda.md");
                assert_eq!(*line, Some(4));
                assert_eq!(variable.as_deref(), Some("dataset.rowz"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            msg.contains("eda.md") && msg.contains("line 4") && msg.contains("dataset.rowz"),
            "{msg}"
        );
    }

    #[test]
    fn syntax_error_names_line() {
        let err = engine_with("results.md", "ok\n\n{{ broken | }}\n")
            .err()
            .expect("parse error");
        let RenderError::Template { template, line, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(template, "results.md");
        assert_eq!(*line, Some(3), "{err}");
    }

    #[test]
    fn unknown_figure_is_an_error() {
        let e = engine_with("eda.md", "x\n{{ figure(name=\"nope\") }}\n").unwrap();
        let err = e.render("eda.md", &Context::new()).unwrap_err().to_string();
        assert!(err.contains("nope.svg") && err.contains("line 2"), "{err}");
    }
}
