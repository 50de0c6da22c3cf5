//! Rich display in Jupyter notebooks run by the evcxr Rust kernel, and the `CHECK` lines that let
//! the tests compare a notebook's numbers with `report/findings.json`.
//!
//! evcxr shows the last expression of a cell by calling its `evcxr_display(&self)` method when
//! it has one; the method prints `EVCXR_BEGIN_CONTENT <mime>` … `EVCXR_END_CONTENT` blocks to
//! stdout. This module gives the findings types such a method (an HTML table derived from their
//! serialised form, never nested: list fields follow as their own tables), draws [`Figure`]s
//! inline as SVG that shrinks to the page, shows a polars DataFrame ([`frame`], [`describe`]),
//! and offers views designed for people: one row per configuration, every cross-validated score
//! as "mean ± sd (n)" in one cell ([`mean_sd`]), labelled fields, persona cards, all narrow
//! enough for a 1,000 px page.
//!
//! Nothing here fits a model: it formats values that the analyses produced.

use std::fmt::{self, Write as _};
use std::io::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::analysis::{
    classification::{ClassificationFindings, ClassificationSettings},
    drift::{DriftFindings, DriftSettings},
    eda::{EdaFindings, EdaSettings},
    regression::{RegressionFindings, RegressionSettings},
    robustness::{RobustnessFindings, RobustnessSettings},
    segmentation::{SegmentationFindings, SegmentationSettings},
};
use crate::data::DatasetProfile;
use crate::features::{FeatureFindings, FeatureSettings};
use crate::findings::Findings;
use crate::html::escape;
use crate::plot::{self, Figure};
use crate::settings::Settings;

/// Arrays longer than this are shortened in tables (the full values stay in `findings.json`).
const MAX_LIST: usize = 12;

/// Prefix of the lines the notebook cross-check reads from a notebook's output.
pub const CHECK_PREFIX: &str = "CHECK ";

/// A piece of rich output: HTML for Jupyter and a plain-text twin for consoles.
#[derive(Debug, Clone, PartialEq)]
pub struct Html {
    /// The HTML fragment (`text/html`).
    pub html: String,
    /// The plain-text rendering (`text/plain`).
    pub text: String,
}

impl Html {
    /// Sends the HTML and its text twin to the evcxr kernel (called by evcxr for a cell's last
    /// expression).
    pub fn evcxr_display(&self) {
        emit(&[("text/html", &self.html), ("text/plain", &self.text)]);
    }
}

impl fmt::Display for Html {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Writes evcxr content blocks in one locked write, so concurrent output cannot interleave.
fn emit(parts: &[(&str, &str)]) {
    let mut buf = String::new();
    for (mime, body) in parts {
        let _ = write!(
            buf,
            "EVCXR_BEGIN_CONTENT {mime}\n{body}\nEVCXR_END_CONTENT\n"
        );
    }
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let _ = lock.write_all(buf.as_bytes());
    let _ = lock.flush();
}

/// Renders any serialisable value as a titled HTML table: a struct becomes a field/value table,
/// a list of structs a table with one column per field, a short list of numbers one line.
///
/// ```
/// use customer_intel::display::table;
/// #[derive(serde::Serialize)]
/// struct Score { model: &'static str, r2: f64 }
/// let t = table("Scores", &vec![Score { model: "ridge", r2: 0.91234 }]);
/// assert!(t.html.contains("<th>model</th>") && t.html.contains("<td>0.9123</td>"));
/// assert!(t.text.contains("ridge"));
/// ```
pub fn table<T: Serialize + ?Sized>(title: &str, value: &T) -> Html {
    titled(title, &Node::from_tree(&Tree::of(value)))
}

/// A node under a title, as HTML and as plain text.
fn titled(title: &str, node: &Node) -> Html {
    let mut html = String::new();
    let _ = write!(
        html,
        "<div class=\"customer-intel\"><h4>{}</h4>",
        escape(title)
    );
    match node {
        // A record's scalar fields form one table; each list or record field follows as its own
        // titled table, so no table is nested inside another.
        Node::Record(fields) => {
            let scalars: Vec<(String, Node)> = fields
                .iter()
                .filter(|(_, v)| matches!(v, Node::Scalar(_)))
                .map(|(k, v)| (k.clone(), Node::Scalar(v.inline())))
                .collect();
            if !scalars.is_empty() {
                Node::Record(scalars).html(&mut html);
            }
            for (k, v) in fields.iter().filter(|(_, v)| !matches!(v, Node::Scalar(_))) {
                let _ = write!(html, "<h5>{}</h5>", escape(k));
                v.html(&mut html);
            }
        }
        _ => node.html(&mut html),
    }
    html.push_str("</div>");
    let mut text = format!("{title}\n");
    node.text(&mut text, 0);
    Html {
        html,
        text: text.trim_end().to_string(),
    }
}

/// A table from explicit column names and rows of already formatted cells (for glue that
/// puts values from several findings side by side).
pub fn rows(title: &str, header: &[&str], body: &[Vec<String>]) -> Html {
    let node = Node::Grid {
        header: header.iter().map(|h| h.to_string()).collect(),
        rows: body
            .iter()
            .map(|r| r.iter().map(|c| Node::Scalar(c.clone())).collect())
            .collect(),
    };
    titled(title, &node)
}

/// Formats a number the way the tables do: integers as they are, other values with four
/// significant digits (at most four decimals, trailing zeros dropped: data values such as 3.25 read
/// as written), large values without decimals. Scores use [`mean_sd`], which keeps four decimals.
///
/// ```
/// use customer_intel::display::number;
/// assert_eq!(number(238.0), "238");
/// assert_eq!(number(0.912345), "0.9123");
/// assert_eq!(number(12.3456), "12.35");
/// assert_eq!(number(0.974), "0.974");
/// assert_eq!(number(54321.7), "54322");
/// assert_eq!(number(-0.00012), "-1.200e-4");
/// ```
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let a = x.abs();
    if a >= 1e4 {
        format!("{x:.0}")
    } else if a < 1e-3 {
        format!("{x:.3e}")
    } else {
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 4) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// The display tree a serialised value turns into.
enum Node {
    /// One formatted value.
    Scalar(String),
    /// Field name → value.
    Record(Vec<(String, Node)>),
    /// Rows of equally shaped records (or tuples).
    Grid {
        header: Vec<String>,
        rows: Vec<Vec<Node>>,
    },
}

/// A serialised value that keeps struct fields in declaration order (`serde_json::Value` sorts
/// them by name, which would scramble every table's columns).
enum Tree {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

impl<'de> serde::Deserialize<'de> for Tree {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tree, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Tree;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Tree, E> {
                Ok(Tree::Null)
            }
            fn visit_none<E>(self) -> Result<Tree, E> {
                Ok(Tree::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Tree, E> {
                Ok(Tree::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Tree, E> {
                Ok(Tree::Int(i.into()))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Tree, E> {
                Ok(Tree::Int(u.into()))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Tree, E> {
                Ok(Tree::Float(x))
            }
            fn visit_str<E>(self, s: &str) -> Result<Tree, E> {
                Ok(Tree::Str(s.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
                let mut items = Vec::new();
                while let Some(x) = seq.next_element()? {
                    items.push(x);
                }
                Ok(Tree::List(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
                let mut fields = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Tree>()? {
                    fields.push((k, v));
                }
                Ok(Tree::Map(fields))
            }
        }
        d.deserialize_any(V)
    }
}

impl Tree {
    fn of<T: Serialize + ?Sized>(value: &T) -> Tree {
        let json = serde_json::to_string(value).expect("findings always serialise");
        serde_json::from_str(&json).expect("serde_json reads what it wrote")
    }

    fn scalar(&self) -> Option<String> {
        match self {
            Tree::Null => Some("—".to_string()),
            Tree::Bool(b) => Some(b.to_string()),
            Tree::Int(i) => Some(i.to_string()),
            Tree::Float(x) => Some(number(*x)),
            Tree::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn get(&self, key: &str) -> Option<&Tree> {
        match self {
            Tree::Map(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A JSON scalar as text, for list selectors in [`lookup`].
fn value_scalar(v: &Value) -> Option<String> {
    match v {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

impl Node {
    fn from_tree(t: &Tree) -> Node {
        if let Some(s) = t.scalar() {
            return Node::Scalar(s);
        }
        match t {
            Tree::Map(fields) => Node::Record(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Node::from_tree(v)))
                    .collect(),
            ),
            Tree::List(items) => Node::from_list(items),
            _ => unreachable!("scalars handled above"),
        }
    }

    fn from_list(items: &[Tree]) -> Node {
        if items.is_empty() {
            return Node::Scalar("(none)".to_string());
        }
        if let Some(cells) = items
            .iter()
            .map(Tree::scalar)
            .collect::<Option<Vec<String>>>()
        {
            let shown = if cells.len() > MAX_LIST {
                let mut s = cells[..MAX_LIST - 2].join(", ");
                let _ = write!(s, ", … ({} values)", cells.len());
                s
            } else {
                cells.join(", ")
            };
            return Node::Scalar(format!("[{shown}]"));
        }
        // A list of records sharing one set of fields becomes a grid.
        if let Tree::Map(first) = &items[0] {
            let keys: Vec<&str> = first.iter().map(|(k, _)| k.as_str()).collect();
            let same = items.iter().all(|it| match it {
                Tree::Map(f) => {
                    f.len() == keys.len() && f.iter().zip(&keys).all(|((k, _), want)| k == want)
                }
                _ => false,
            });
            if same {
                return Node::Grid {
                    header: keys.iter().map(|k| k.to_string()).collect(),
                    rows: items
                        .iter()
                        .map(|it| {
                            keys.iter()
                                .map(|k| Node::from_tree(it.get(k).expect("checked")))
                                .collect()
                        })
                        .collect(),
                };
            }
        }
        // A list of equally long tuples (serialised as arrays) becomes a grid without names.
        if let Tree::List(first) = &items[0] {
            let n = first.len();
            if items
                .iter()
                .all(|it| matches!(it, Tree::List(a) if a.len() == n))
            {
                return Node::Grid {
                    header: Vec::new(),
                    rows: items
                        .iter()
                        .map(|it| match it {
                            Tree::List(a) => a.iter().map(Node::from_tree).collect(),
                            _ => unreachable!("checked"),
                        })
                        .collect(),
                };
            }
        }
        Node::Record(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("[{i}]"), Node::from_tree(v)))
                .collect(),
        )
    }

    /// HTML of a value inside a table cell: scalars as they are, anything else as one line of
    /// labelled text (tables are never nested).
    fn cell_html(&self, out: &mut String) {
        match self {
            Node::Scalar(s) => out.push_str(&escape(s)),
            _ => out.push_str(&escape(&self.inline())),
        }
    }

    fn html(&self, out: &mut String) {
        match self {
            Node::Scalar(s) => out.push_str(&escape(s)),
            Node::Record(fields) => {
                out.push_str("<table>");
                for (k, v) in fields {
                    let _ = write!(
                        out,
                        "<tr><th style=\"text-align:left\">{}</th><td style=\"text-align:left\">",
                        escape(k)
                    );
                    v.cell_html(out);
                    out.push_str("</td></tr>");
                }
                out.push_str("</table>");
            }
            Node::Grid { header, rows } => {
                out.push_str("<table>");
                if !header.is_empty() {
                    out.push_str("<thead><tr>");
                    for h in header {
                        let _ = write!(out, "<th>{}</th>", escape(h));
                    }
                    out.push_str("</tr></thead>");
                }
                out.push_str("<tbody>");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str("<td>");
                        cell.cell_html(out);
                        out.push_str("</td>");
                    }
                    out.push_str("</tr>");
                }
                out.push_str("</tbody></table>");
            }
        }
    }

    /// One-line text for a grid cell.
    fn inline(&self) -> String {
        match self {
            Node::Scalar(s) => s.clone(),
            Node::Record(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.inline()))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
            Node::Grid { header, rows } => rows
                .iter()
                .map(|r| {
                    r.iter()
                        .enumerate()
                        .map(|(j, c)| match header.get(j) {
                            Some(h) => format!("{h}: {}", c.inline()),
                            None => c.inline(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    fn text(&self, out: &mut String, indent: usize) {
        let pad = "  ".repeat(indent);
        match self {
            Node::Scalar(s) => {
                let _ = writeln!(out, "{pad}{s}");
            }
            Node::Record(fields) => {
                for (k, v) in fields {
                    match v {
                        Node::Scalar(s) => {
                            let _ = writeln!(out, "{pad}{k}: {s}");
                        }
                        _ => {
                            let _ = writeln!(out, "{pad}{k}:");
                            v.text(out, indent + 1);
                        }
                    }
                }
            }
            Node::Grid { header, rows } => {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| r.iter().map(Node::inline).collect())
                    .collect();
                let ncol = cells
                    .iter()
                    .map(Vec::len)
                    .chain([header.len()])
                    .max()
                    .unwrap_or(0);
                let mut width = vec![0usize; ncol];
                for row in cells.iter().chain(std::iter::once(header)) {
                    for (j, c) in row.iter().enumerate() {
                        width[j] = width[j].max(c.chars().count());
                    }
                }
                let line = |row: &[String]| {
                    let parts: Vec<String> = row
                        .iter()
                        .enumerate()
                        .map(|(j, c)| format!("{c:<w$}", w = width[j]))
                        .collect();
                    format!("{pad}{}", parts.join("  ").trim_end())
                };
                if !header.is_empty() {
                    let _ = writeln!(out, "{}", line(header));
                }
                for row in &cells {
                    let _ = writeln!(out, "{}", line(row));
                }
            }
        }
    }
}

/// The SVG of a figure without an XML declaration, ready to inline in HTML.
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

impl Figure {
    /// The figure as an HTML `<figure>` with the SVG inline and its caption.
    /// The SVG scales down to the page when the page is narrower than the figure.
    pub fn to_html(&self) -> String {
        let svg = inline_svg(&self.svg);
        let svg = match svg.strip_prefix("<svg") {
            Some(rest) => format!("<svg style=\"max-width:100%;height:auto\"{rest}"),
            None => svg.to_string(),
        };
        format!(
            "<figure style=\"margin:0 0 1em 0;max-width:100%\"><div>{}</div><figcaption>{} <code>{}</code></figcaption></figure>",
            svg,
            escape(&self.caption),
            escape(&self.name)
        )
    }

    /// Draws the figure inline in Jupyter (called by evcxr for a cell's last expression).
    pub fn evcxr_display(&self) {
        emit(&[
            ("text/html", &self.to_html()),
            ("text/plain", &format!("{}: {}", self.name, self.caption)),
        ]);
    }
}

/// Several figures shown together (evcxr keeps one output per content type and cell, so a cell
/// that shows many figures must send them as one HTML block).
#[derive(Debug, Clone, PartialEq)]
pub struct Gallery(pub Vec<Figure>);

impl Gallery {
    /// Draws every figure inline, one after the other.
    pub fn evcxr_display(&self) {
        if self.0.is_empty() {
            emit(&[("text/plain", "(no figures)")]);
            return;
        }
        let html: String = self.0.iter().map(Figure::to_html).collect();
        let text: Vec<String> = self
            .0
            .iter()
            .map(|f| format!("{}: {}", f.name, f.caption))
            .collect();
        emit(&[("text/html", &html), ("text/plain", &text.join("\n"))]);
    }
}

/// The figures of the findings whose file name starts with `prefix`, drawn by the analysis the
/// prefix names (its registry entry: `"eda"`, `"regression"`, … or a longer prefix such as
/// `"eda_vif"`), in the order the report shows them. Only that analysis' figures are drawn.
pub fn figures(findings: &Findings, prefix: &str) -> Gallery {
    let owner = crate::analysis::REGISTRY
        .iter()
        .find(|a| prefix == a.name() || prefix.starts_with(&format!("{}_", a.name())));
    let drawn = match owner {
        Some(a) => a.figures(findings),
        None => plot::all(findings),
    };
    Gallery(
        drawn
            .into_iter()
            .filter(|f| f.name.starts_with(prefix))
            .collect(),
    )
}

/// One registered analysis' part of the findings as a titled table (the analysis' title from
/// the registry), or a note naming the registered analyses when `name` is not one of them.
pub fn section(findings: &Findings, name: &str) -> Html {
    match crate::analysis::find(name) {
        Some(a) => table(a.title(), &a.findings_json(findings)),
        None => {
            let known: Vec<&str> = crate::analysis::REGISTRY.iter().map(|a| a.name()).collect();
            rows(
                "Unknown analysis",
                &["asked for", "registered analyses"],
                &[vec![name.to_string(), known.join(", ")]],
            )
        }
    }
}

/// Prints `CHECK key=value` with the value as JSON (floats round-trip exactly). `key` is the
/// value's path in `findings.json` (see [`lookup`]); the notebook cross-check compares the two.
///
/// ```
/// assert_eq!(customer_intel::display::check_line("dataset.rows", &238), "CHECK dataset.rows=238");
/// ```
pub fn check<T: Serialize + ?Sized>(key: &str, value: &T) {
    println!("{}", check_line(key, value));
}

/// The line [`check`] prints.
pub fn check_line<T: Serialize + ?Sized>(key: &str, value: &T) -> String {
    let json = serde_json::to_string(value).expect("check values serialise");
    format!("{CHECK_PREFIX}{key}={json}")
}

/// Parses a line printed by [`check`] into its key and value.
///
/// ```
/// use customer_intel::display::parse_check_line;
/// let (k, v) = parse_check_line("CHECK eda.rows=238").unwrap();
/// assert_eq!((k.as_str(), v.as_f64()), ("eda.rows", Some(238.0)));
/// assert!(parse_check_line("eda.rows=238").is_none());
/// // `=` inside a list selector belongs to the key
/// let (k, v) = parse_check_line("CHECK regression.gaps[model=ols].r2=0.5").unwrap();
/// assert_eq!((k.as_str(), v.as_f64()), ("regression.gaps[model=ols].r2", Some(0.5)));
/// ```
pub fn parse_check_line(line: &str) -> Option<(String, Value)> {
    let rest = line.trim_end().strip_prefix(CHECK_PREFIX)?;
    let mut depth = 0usize;
    let split = rest.char_indices().find(|&(_, c)| {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '=' if depth == 0 => return true,
            _ => {}
        }
        false
    })?;
    let (key, json) = (&rest[..split.0], &rest[split.0 + 1..]);
    Some((key.to_string(), serde_json::from_str(json).ok()?))
}

/// Finds a value in serialised findings by path: fields separated by dots, list items chosen by
/// position (`models[0]`) or by a field's value (`models[name=ridge]`).
///
/// ```
/// use customer_intel::display::lookup;
/// let v = serde_json::json!({"regression": {"models": [{"name": "ols", "r2": 0.5}, {"name": "ridge", "r2": 0.6}]}});
/// assert_eq!(lookup(&v, "regression.models[name=ridge].r2").and_then(|x| x.as_f64()), Some(0.6));
/// assert_eq!(lookup(&v, "regression.models[0].name").and_then(|x| x.as_str()), Some("ols"));
/// assert!(lookup(&v, "regression.models[name=lasso]").is_none());
/// ```
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = root;
    for segment in path.split('.') {
        let (field, mut selectors) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !field.is_empty() {
            cur = cur.get(field)?;
        }
        while let Some(rest) = selectors.strip_prefix('[') {
            let end = rest.find(']')?;
            let sel = &rest[..end];
            selectors = &rest[end + 1..];
            let items = cur.as_array()?;
            cur = match sel.split_once('=') {
                Some((k, want)) => items
                    .iter()
                    .find(|it| it.get(k).and_then(value_scalar).is_some_and(|s| s == want))?,
                None => items.get(sel.parse::<usize>().ok()?)?,
            };
        }
        if !selectors.is_empty() {
            return None;
        }
    }
    Some(cur)
}

/// Whether a notebook's value agrees with the report's: equal, or numbers within a relative
/// tolerance `tol` (compiler optimisation levels may round the last bits differently).
pub fn agree(notebook: &Value, report: &Value, tol: f64) -> bool {
    match (notebook, report) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            a == b || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| agree(x, y, tol))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| agree(x, y, tol)))
        }
        _ => notebook == report,
    }
}

macro_rules! display_as_table {
    ($($ty:ty => $title:expr),* $(,)?) => {$(
        impl $ty {
            /// Shows these results as an HTML table in Jupyter (called by evcxr for a cell's
            /// last expression).
            pub fn evcxr_display(&self) {
                table($title, self).evcxr_display();
            }
        }
    )*};
}

display_as_table! {
    Findings => "All findings",
    DatasetProfile => "Dataset profile",
    Settings => "Settings",
    EdaFindings => "Exploratory analysis",
    FeatureFindings => "Engineered features and the growth-potential label",
    RegressionFindings => "Spend regression",
    ClassificationFindings => "Growth-potential classification",
    SegmentationFindings => "Segmentation",
    RobustnessFindings => "Robustness to noise",
    DriftFindings => "Drift and retraining",
    EdaSettings => "EDA settings",
    FeatureSettings => "Feature settings",
    RegressionSettings => "Regression settings",
    ClassificationSettings => "Classification settings",
    SegmentationSettings => "Segmentation settings",
    RobustnessSettings => "Robustness settings",
    DriftSettings => "Drift settings",
}

// ---------------------------------------------------------------------------------------------
// Views designed for people: one row per configuration, "mean ± sd (n)" in one cell, labelled
// fields, nothing nested, and narrow enough for a 1,000 px page.
// ---------------------------------------------------------------------------------------------

/// "mean ± sd (n = n)" with [`number`]'s formatting; the way every cross-validated score is shown.
///
/// ```
/// use customer_intel::display::mean_sd;
/// assert_eq!(mean_sd(0.98988, 0.00627, 15), "0.9899 ± 0.0063 (n = 15)");
/// assert_eq!(mean_sd(0.5, 0.0, 1), "0.5000 (n = 1)");
/// assert_eq!(mean_sd(1.0, 4e-17, 15), "1.0000 ± 0.0000 (n = 15)");
/// ```
pub fn mean_sd(mean: f64, sd: f64, n: usize) -> String {
    // Scores (|x| < 10) get four decimals, so a perfect 1 reads 1.0000 like its neighbours.
    let score = |x: f64| {
        if x.is_finite() && x.abs() < 10.0 {
            format!("{x:.4}")
        } else {
            number(x)
        }
    };
    if n < 2 {
        format!("{} (n = {n})", score(mean))
    } else {
        format!("{} ± {} (n = {n})", score(mean), score(sd))
    }
}

fn spread(s: &crate::ml::metrics::FoldSummary) -> String {
    mean_sd(s.mean, s.sd, s.n)
}

fn cspread(s: &crate::analysis::classification::Spread) -> String {
    mean_sd(s.mean, s.sd, s.n)
}

fn pct(x: f64) -> String {
    format!("{} %", number(100.0 * x))
}

fn yes(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

fn row(cells: &[String]) -> Vec<String> {
    cells.to_vec()
}

/// A polars DataFrame as an HTML table: its shape, each column's type, the first `n` and the
/// last `n` rows (all rows when there are at most 2n), like pandas' notebook display.
///
/// ```
/// use polars::prelude::*;
/// let df = df!("id" => ["a", "b", "c"], "x" => [1.5, 2.0, 3.25]).unwrap();
/// let t = customer_intel::display::frame(&df, 1);
/// assert!(t.text.starts_with("DataFrame: 3 rows × 2 columns"));
/// assert!(t.html.contains("<td>a</td>") && t.html.contains("<td>3.25</td>") && t.html.contains("…"));
/// assert!(!t.html.contains("<td>b</td>"));
/// ```
pub fn frame(df: &polars::prelude::DataFrame, n: usize) -> Html {
    let (h, w) = (df.height(), df.width());
    let shown: Vec<Option<usize>> = if h <= 2 * n {
        (0..h).map(Some).collect()
    } else {
        (0..n)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((h - n..h).map(Some))
            .collect()
    };
    let cols = df.columns();
    let cell = |c: &polars::prelude::Column, i: usize| -> String {
        match c.get(i) {
            Ok(v) if v.is_null() => "null".into(),
            Ok(v) if c.dtype().is_primitive_numeric() => v
                .extract::<f64>()
                .map(number)
                .unwrap_or_else(|| v.to_string()),
            Ok(v) => v.str_value().into_owned(),
            Err(_) => "?".into(),
        }
    };
    let mut header: Vec<String> = vec![String::new()];
    header.extend(cols.iter().map(|c| c.name().to_string()));
    let mut body: Vec<Vec<String>> = Vec::new();
    let mut types = vec!["type".to_string()];
    types.extend(cols.iter().map(|c| c.dtype().to_string()));
    body.push(types);
    for r in shown {
        body.push(match r {
            Some(i) => std::iter::once(i.to_string())
                .chain(cols.iter().map(|c| cell(c, i)))
                .collect(),
            None => vec!["…".to_string(); w + 1],
        });
    }
    rows(
        &format!("DataFrame: {h} rows × {w} columns"),
        &header.iter().map(String::as_str).collect::<Vec<_>>(),
        &body,
    )
}

/// Summary statistics of every column of a DataFrame, one row per column (count, nulls, mean,
/// sd, min, quartiles, max for numbers; count, nulls and distinct values for text), like
/// pandas' `describe`. Quartiles are type 7 ([`crate::stats::quantile`]).
///
/// ```
/// use polars::prelude::*;
/// let df = df!("x" => [1.0, 2.0, 3.0, 4.0], "g" => ["a", "b", "a", "a"]).unwrap();
/// let t = customer_intel::display::describe(&df);
/// assert!(t.html.contains("<td>x</td><td>f64</td><td>4</td><td>0</td><td>2.5</td><td>1.291</td><td>1</td><td>1.75</td><td>2.5</td><td>3.25</td><td>4</td>"), "{}", t.html);
/// assert!(t.html.contains("<td>g</td><td>str</td><td>4</td><td>0</td><td>2 distinct</td>"));
/// ```
pub fn describe(df: &polars::prelude::DataFrame) -> Html {
    use crate::stats;
    let header = [
        "column", "type", "count", "nulls", "mean", "sd", "min", "25 %", "50 %", "75 %", "max",
    ];
    let mut body = Vec::new();
    for c in df.columns() {
        let nulls = c.null_count();
        let count = c.len() - nulls;
        let mut r = vec![
            c.name().to_string(),
            c.dtype().to_string(),
            count.to_string(),
            nulls.to_string(),
        ];
        if c.dtype().is_primitive_numeric() {
            let x: Vec<f64> = (0..c.len())
                .filter_map(|i| c.get(i).ok().and_then(|v| v.extract::<f64>()))
                .collect();
            if x.is_empty() {
                r.extend(std::iter::repeat_n("—".to_string(), 7));
            } else {
                r.push(number(stats::mean(&x)));
                r.push(number(stats::sd(&x)));
                for q in [0.0, 0.25, 0.5, 0.75, 1.0] {
                    r.push(number(stats::quantile(&x, q)));
                }
            }
        } else {
            r.push(match c.n_unique() {
                Ok(u) => format!("{u} distinct"),
                Err(_) => "—".into(),
            });
            r.extend(std::iter::repeat_n(String::new(), 6));
        }
        body.push(r);
    }
    rows("describe()", &header, &body)
}

/// Numeric column profiles (from [`crate::analysis::eda::profile`]), one row per column.
pub fn profiles(p: &[crate::analysis::eda::NumericProfile]) -> Html {
    let body: Vec<Vec<String>> = p
        .iter()
        .map(|c| {
            row(&[
                if c.unit.is_empty() {
                    c.column.clone()
                } else {
                    format!("{} ({})", c.column, c.unit)
                },
                c.count.to_string(),
                format!("{} ± {}", number(c.mean), number(c.sd)),
                format!(
                    "{} / {} / {}",
                    number(c.min),
                    number(c.median),
                    number(c.max)
                ),
                number(c.skewness),
                number(c.kurtosis),
                c.distinct.to_string(),
                pct(c.top_value_share),
                (c.outliers_low + c.outliers_high).to_string(),
            ])
        })
        .collect();
    rows(
        "Numeric columns",
        &[
            "column (unit)",
            "n",
            "mean ± sd",
            "min / median / max",
            "skewness G1",
            "excess kurtosis G2",
            "distinct",
            "most frequent value",
            "Tukey outliers",
        ],
        &body,
    )
}

/// A square matrix (correlations) with row and column names.
pub fn matrix(title: &str, names: &[String], m: &[Vec<f64>]) -> Html {
    let mut header = vec![""];
    header.extend(names.iter().map(String::as_str));
    let body: Vec<Vec<String>> = names
        .iter()
        .zip(m)
        .map(|(n, r)| {
            std::iter::once(n.clone())
                .chain(r.iter().map(|&v| format!("{v:.3}")))
                .collect()
        })
        .collect();
    rows(title, &header, &body)
}

/// Variance inflation factors, one row per predictor.
pub fn vif_table(names: &[String], vif: &[(f64, f64)]) -> Html {
    let body: Vec<Vec<String>> = names
        .iter()
        .zip(vif)
        .map(|(n, (r2, v))| row(&[n.clone(), format!("{r2:.4}"), number(*v)]))
        .collect();
    rows(
        "Variance inflation factors",
        &[
            "predictor",
            "R² on the other predictors",
            "VIF = 1 / (1 − R²)",
        ],
        &body,
    )
}

/// How many duplicate groups of each size a table has, and the rows they hold (a group of size 1
/// is a row without copies).
///
/// ```
/// let t = customer_intel::display::group_sizes(&[0, 0, 1, 2, 2, 2]);
/// assert!(t.html.contains("<tr><td>1</td><td>1</td><td>1</td></tr>"), "{}", t.html);
/// assert!(t.html.contains("<tr><td>3</td><td>1</td><td>3</td></tr>"), "{}", t.html);
/// assert!(t.html.contains("<tr><td>2 or more (copied rows)</td><td>2</td><td>5</td></tr>"), "{}", t.html);
/// assert!(t.html.contains("<tr><td>all (distinct rows)</td><td>3</td><td>6</td></tr>"), "{}", t.html);
/// ```
pub fn group_sizes(groups: &[usize]) -> Html {
    let n_groups = groups.iter().max().map_or(0, |m| m + 1);
    let mut size = vec![0usize; n_groups];
    for &g in groups {
        size[g] += 1;
    }
    let mut by_size = std::collections::BTreeMap::<usize, usize>::new();
    for s in size {
        *by_size.entry(s).or_default() += 1;
    }
    let mut body: Vec<Vec<String>> = by_size
        .iter()
        .map(|(s, g)| row(&[s.to_string(), g.to_string(), (s * g).to_string()]))
        .collect();
    let copied = by_size.iter().filter(|(s, _)| **s > 1);
    let (copied_groups, copied_rows) = copied.fold((0, 0), |(g, r), (s, n)| (g + n, r + s * n));
    body.push(row(&[
        "2 or more (copied rows)".into(),
        copied_groups.to_string(),
        copied_rows.to_string(),
    ]));
    body.push(row(&[
        "all (distinct rows)".into(),
        n_groups.to_string(),
        groups.len().to_string(),
    ]));
    rows(
        "Duplicate groups by size",
        &["rows per group", "groups", "rows"],
        &body,
    )
}

/// Label/value pairs as a two-column table.
pub fn fields(title: &str, pairs: &[(String, String)]) -> Html {
    let body: Vec<Vec<String>> = pairs
        .iter()
        .map(|(k, v)| row(&[k.clone(), v.clone()]))
        .collect();
    rows(title, &["", ""], &body)
}

/// Every regression model × feature set: group-aware R² and RMSE / sd as mean ± sd (n), the naive
/// R² beside it and the inflation, one row each.
pub fn regression_scores(f: &crate::analysis::regression::RegressionFindings) -> Html {
    use crate::ml::cv::Scheme;
    let body: Vec<Vec<String>> = f
        .gaps
        .iter()
        .map(|g| {
            let find = |scheme: Scheme| {
                f.scores.iter().find(|s| {
                    s.model == g.model && s.feature_set == g.feature_set && s.scheme == scheme
                })
            };
            let group = find(Scheme::GroupKFold);
            row(&[
                g.model.label().to_string(),
                g.feature_set.label().to_string(),
                group.map_or("—".into(), |s| spread(&s.r2)),
                group.map_or("—".into(), |s| spread(&s.rmse_over_sd)),
                number(g.naive_r2),
                format!("{:+.4}", g.r2_inflation),
            ])
        })
        .collect();
    let scheme = f
        .scores
        .first()
        .map(|s| format!(" — group {}-fold × {} repeats", s.folds, s.repeats))
        .unwrap_or_default();
    rows(
        &format!("Spend models{scheme}"),
        &[
            "model",
            "features",
            "R² (group folds)",
            "RMSE / sd (group folds)",
            "R² (naive folds)",
            "naive − group",
        ],
        &body,
    )
}

/// Coefficients of a fitted linear model in target units per unit of each column.
pub fn coefficients(columns: &[String], coef: &[f64], intercept: f64, target_unit: &str) -> Html {
    let mut body = vec![row(&["(intercept)".into(), number(intercept)])];
    body.extend(
        columns
            .iter()
            .zip(coef)
            .map(|(c, v)| row(&[c.clone(), number(*v)])),
    );
    rows(
        "Coefficients",
        &["column", &format!("{target_unit} per unit of the column")],
        &body,
    )
}

/// A few rows' actual and predicted values.
pub fn predictions(ids: &[String], actual: &[f64], predicted: &[f64], n: usize) -> Html {
    let body: Vec<Vec<String>> = (0..ids.len().min(n))
        .map(|i| {
            row(&[
                ids[i].clone(),
                number(actual[i]),
                format!("{:.1}", predicted[i]),
                format!("{:+.1}", actual[i] - predicted[i]),
            ])
        })
        .collect();
    rows(
        "Predictions",
        &["id", "actual", "predicted", "residual"],
        &body,
    )
}

/// Bootstrap intervals of the OLS and ridge coefficients, one row per column.
pub fn coefficient_intervals(b: &crate::analysis::regression::BootstrapFindings) -> Html {
    let iv = |c: &crate::analysis::regression::CoefInterval| {
        format!(
            "{} [{}, {}]",
            number(c.estimate),
            number(c.lo),
            number(c.hi)
        )
    };
    let body: Vec<Vec<String>> = b
        .coefficients
        .iter()
        .map(|c| {
            row(&[
                c.column.clone(),
                iv(&c.ols),
                pct(c.ols.sign_flip_share),
                iv(&c.ridge),
                pct(c.ridge.sign_flip_share),
            ])
        })
        .collect();
    rows(
        &format!(
            "Coefficients in {} per sd of the column, 95 % bootstrap intervals ({} resamples of duplicate groups)",
            b.target_unit, b.resamples
        ),
        &[
            "column",
            "OLS",
            "OLS sign flips",
            "ridge",
            "ridge sign flips",
        ],
        &body,
    )
}

/// Permutation importance of the best model, one row per feature.
pub fn importance(i: &crate::analysis::regression::ImportanceFindings) -> Html {
    let body: Vec<Vec<String>> = i
        .features
        .iter()
        .map(|f| row(&[f.feature.clone(), spread(&f.r2_drop)]))
        .collect();
    rows(
        &format!(
            "Permutation importance of {} ({} features)",
            i.model.map_or("—", |m| m.label()),
            i.feature_set.map_or("—", |f| f.label())
        ),
        &["feature", "drop in held-out R² when shuffled"],
        &body,
    )
}

/// Every classification configuration, one row each: F1, precision and recall at the chosen
/// threshold, F1 at 0.5, ROC-AUC, each as mean ± sd (n).
pub fn classification_results(r: &[crate::analysis::classification::ConfigResult]) -> Html {
    let body: Vec<Vec<String>> = r
        .iter()
        .map(|c| {
            row(&[
                c.model.name().to_string(),
                yes(c.smote),
                match c.features {
                    crate::analysis::classification::FeatureSet::Honest => "honest".into(),
                    crate::analysis::classification::FeatureSet::LeakyAblation => "leaky".into(),
                },
                if c.scheme.is_group_aware() {
                    "group".into()
                } else {
                    "naive".into()
                },
                cspread(&c.at_chosen.f1),
                cspread(&c.at_chosen.precision),
                cspread(&c.at_default.f1),
                cspread(&c.roc_auc),
                number(c.chosen_threshold.mean),
            ])
        })
        .collect();
    rows(
        "Classifiers (F1, precision at the threshold chosen on training folds)",
        &[
            "model",
            "SMOTE",
            "features",
            "folds",
            "F1",
            "precision",
            "F1 at 0.5",
            "ROC-AUC",
            "threshold",
        ],
        &body,
    )
}

/// The confusion matrix summed over folds and repeats.
pub fn confusion(c: &crate::ml::class_metrics::Confusion) -> Html {
    rows(
        "Confusion matrix (rows: actual, columns: predicted)",
        &["", "predicted growth", "predicted not"],
        &[
            row(&[
                "growth potential".into(),
                c.tp.to_string(),
                c.fn_.to_string(),
            ]),
            row(&[
                "no growth potential".into(),
                c.fp.to_string(),
                c.tn.to_string(),
            ]),
        ],
    )
}

/// The one-split rule of each honest numeric column: the rule, its errors on the whole table and
/// its cross-validated F1.
pub fn one_split_rules(b: &crate::analysis::classification::ClassificationBaselines) -> Html {
    let body: Vec<Vec<String>> = b
        .rules
        .iter()
        .map(|r| {
            let s = &r.whole_table;
            let op = if s.positive_below { "≤" } else { ">" };
            row(&[
                format!("{} {op} {}", r.column, number(s.below_max)),
                format!("{} of {}", r.misclassified, r.rows),
                cspread(&r.f1),
                yes(r.meets),
            ])
        })
        .collect();
    rows(
        "One-split rules (positive when …)",
        &[
            "rule",
            "rows misclassified",
            "F1 (group folds)",
            "meets the target",
        ],
        &body,
    )
}

/// The k sweep of the segmentation, one row per k.
pub fn k_sweep(f: &crate::analysis::segmentation::SegmentationFindings) -> Html {
    let body: Vec<Vec<String>> = f
        .per_k
        .iter()
        .map(|k| {
            row(&[
                if k.k == f.chosen_k {
                    format!("{} (chosen)", k.k)
                } else {
                    k.k.to_string()
                },
                number(k.inertia),
                format!("{:.4}", k.silhouette_all),
                format!("{:.4}", k.silhouette_distinct),
                number(k.davies_bouldin),
                number(k.calinski_harabasz),
                pct(k.smallest_share),
                yes(k.eligible),
            ])
        })
        .collect();
    rows(
        "k-means for every k",
        &[
            "k",
            "inertia",
            "silhouette (all rows)",
            "silhouette (distinct rows)",
            "Davies–Bouldin",
            "Calinski–Harabasz",
            "smallest cluster",
            "eligible",
        ],
        &body,
    )
}

/// The segmentation's null reference per k: observed silhouette against structureless tables.
pub fn null_reference(n: &crate::analysis::segmentation::null::NullReference) -> Html {
    let body: Vec<Vec<String>> = n
        .per_k
        .iter()
        .map(|k| {
            row(&[
                k.k.to_string(),
                format!("{:.4}", k.observed_silhouette),
                format!("{:.4} [{:.4}, {:.4}]", k.null_mean, k.null_p05, k.null_p95),
                pct(k.observed_percentile),
                pct(k.null_share_meeting_target),
                format!("{:.3} ± {:.3}", k.gap, k.gap_se),
            ])
        })
        .collect();
    rows(
        &format!(
            "Observed against {} structureless tables of {} rows (the first principal axis carries \
             {:.1} % of the observed variance; on the null tables the k rule picked {})",
            n.tables,
            n.rows,
            100.0 * n.pc1_share,
            n.null_chosen_k
                .iter()
                .map(|(k, times)| format!("k = {k} in {times}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        &[
            "k",
            "observed silhouette",
            "null mean [5 %, 95 %]",
            "null tables below observed",
            "null tables meeting the target",
            "gap ± se",
        ],
        &body,
    )
}

/// The Gaussian mixture's BIC per k beside k-means.
pub fn mixture(m: &crate::analysis::segmentation::MixtureComparison) -> Html {
    let body: Vec<Vec<String>> = m
        .per_k
        .iter()
        .map(|k| {
            row(&[
                k.k.to_string(),
                k.bic.map_or("—".into(), number),
                k.ari_with_kmeans.map_or("—".into(), |a| format!("{a:.3}")),
                format!("{} of {}", k.converged, k.inits),
            ])
        })
        .collect();
    rows(
        "Gaussian mixture (lower BIC is better)",
        &["k", "BIC", "agreement with k-means (ARI)", "fits converged"],
        &body,
    )
}

/// Persona cards: size and share, traits with values, region mix, growth-potential share, the
/// action and the rule that fired, and how often the persona reappears in bootstrap refits.
pub fn persona_cards(personas: &[crate::analysis::segmentation::Persona]) -> Html {
    let mut html = String::from(
        "<div class=\"customer-intel\" style=\"display:flex;flex-wrap:wrap;gap:12px;max-width:1000px\">",
    );
    let mut text = String::new();
    for p in personas {
        let traits: Vec<String> = p.traits.iter().map(|t| t.text.clone()).collect();
        let mix: Vec<String> = p
            .category_mix
            .iter()
            .map(|l| format!("{} {}", l.level, pct(l.share)))
            .collect();
        let stability = p.stability.map_or("—".to_string(), pct);
        let lines = [
            (
                "customers",
                format!(
                    "{} ({} of all; {} distinct rows)",
                    p.size,
                    pct(p.share),
                    p.distinct_rows
                ),
            ),
            (
                "traits",
                if traits.is_empty() {
                    "none beyond the threshold".into()
                } else {
                    traits.join(", ")
                },
            ),
            (
                "value / engagement",
                format!(
                    "{} ({:+.2}) / {} ({:+.2})",
                    p.value_level, p.value_score, p.engagement_level, p.engagement_score
                ),
            ),
            ("regions", mix.join(", ")),
            ("growth potential", pct(p.growth_share)),
            ("action", p.action.clone()),
            ("rule", p.rule.clone()),
            ("reappears in refits", stability),
        ];
        let _ = write!(
            html,
            "<div style=\"flex:0 1 300px;border:1px solid #bbb;border-radius:6px;padding:8px;font-size:13px\"><b>{} · {}</b>",
            p.cluster,
            escape(&p.name)
        );
        let _ = writeln!(text, "[{}] {}", p.cluster, p.name);
        for (k, v) in lines {
            let _ = write!(html, "<div><i>{}</i>: {}</div>", escape(k), escape(&v));
            let _ = writeln!(text, "  {k}: {v}");
        }
        html.push_str("</div>");
    }
    html.push_str("</div>");
    Html {
        html,
        text: text.trim_end().to_string(),
    }
}

/// Drift batches, one row per batch: the generator's knobs, the largest PSI against the
/// reference period and each monitored feature's PSI.
pub fn drift_batches(d: &crate::analysis::drift::DriftFindings) -> Html {
    let features: Vec<String> = d
        .batches
        .first()
        .map(|b| b.psi.keys().cloned().collect())
        .unwrap_or_default();
    let mut header: Vec<String> = ["batch", "income ×", "young share", "largest PSI"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(features.iter().map(|f| format!("PSI {f}")));
    let body: Vec<Vec<String>> = d
        .batches
        .iter()
        .map(|b| {
            let mut r = vec![
                b.batch.to_string(),
                number(b.income_scale),
                pct(b.young_share),
                format!("{:.4}", b.max_psi),
            ];
            r.extend(
                features
                    .iter()
                    .map(|f| b.psi.get(f).map_or("—".into(), |v| format!("{v:.3}"))),
            );
            r
        })
        .collect();
    let null = &d.psi_null;
    rows(
        &format!(
            "Batches against the reference period (without drift, over {} simulated batches, the \
             largest PSI per batch has a 95th percentile of {:.4} and a maximum of {:.4})",
            null.batches, null.max_psi_p95, null.max_psi_max
        ),
        &header.iter().map(String::as_str).collect::<Vec<_>>(),
        &body,
    )
}

/// The retraining policies: this run's retrains and pooled RMSE, and over the replicates the mean
/// ± sd (n) of the pooled RMSE and how often each policy was best.
pub fn policies(d: &crate::analysis::drift::DriftFindings) -> Html {
    let body: Vec<Vec<String>> = d
        .policies
        .iter()
        .map(|p| {
            let rep = d.replicates.policies.iter().find(|r| r.policy == p.policy);
            row(&[
                p.policy.name().to_string(),
                p.retrains.to_string(),
                number(p.pooled_rmse),
                rep.map_or("—".into(), |r| {
                    mean_sd(r.mean_pooled_rmse, r.sd_pooled_rmse, r.n)
                }),
                rep.map_or("—".into(), |r| format!("{} of {}", r.wins, r.n)),
            ])
        })
        .collect();
    rows(
        "Retraining policies (pooled RMSE, target units)",
        &[
            "policy",
            "retrains (this run)",
            "pooled RMSE (this run)",
            "pooled RMSE over replicates",
            "replicates won",
        ],
        &body,
    )
}

/// The alarms one policy raised, one row per batch, with labelled reasons.
pub fn alarms(p: &crate::analysis::drift::PolicyOutcome) -> Html {
    use crate::analysis::drift::AlarmReason;
    let body: Vec<Vec<String>> = p
        .alarms
        .iter()
        .map(|a| {
            let reasons: Vec<String> = a
                .reasons
                .iter()
                .map(|r| match r {
                    AlarmReason::Psi { feature, psi } => format!("PSI of {feature} {psi:.4}"),
                    AlarmReason::Rmse { rmse, threshold } => {
                        format!("RMSE {} above {}", number(*rmse), number(*threshold))
                    }
                })
                .collect();
            row(&[a.batch.to_string(), reasons.join("; "), yes(a.retrained)])
        })
        .collect();
    rows(
        &format!("Alarms of the {} policy", p.policy.name()),
        &[
            "after batch",
            "why (against the deployed model's training data)",
            "retrained",
        ],
        &body,
    )
}

impl crate::notebook::Inputs {
    /// Shows which table and settings the notebook analyses (called by evcxr for a cell's last
    /// expression).
    pub fn evcxr_display(&self) {
        fields("What this notebook analyses", &self.summary()).evcxr_display();
    }
}

/// The figures among `figures` whose file name starts with `prefix`, shown together (for an
/// analysis' own figure function, e.g. `regression::figures::figures(&findings)`).
pub fn gallery(figures: Vec<Figure>, prefix: &str) -> Gallery {
    Gallery(
        figures
            .into_iter()
            .filter(|f| f.name.starts_with(prefix))
            .collect(),
    )
}

/// The sparse-level merge ablation of one analysis ([`crate::sparse::Ablation`]): every model
/// scored with and without merging the sparse category levels on the same folds, one row per
/// model with the paired per-fold difference, then the merges the training folds decided and the
/// recommendation with its rule. Nothing here is recomputed; it shows what the analysis found.
///
/// ```
/// use customer_intel::{analysis::regression, data, display, settings::Settings};
/// let ds = data::synth(120, 3, &data::SynthSpec::default());
/// let mut settings = Settings::default();
/// settings.repeats = 1;
/// settings.regression.forest.trees = 10;
/// let f = regression::run(&ds, &settings);
/// let shown = display::sparse_ablation(&f.sparse_merge);
/// assert!(shown.html.contains("merged − unmerged"));
/// ```
pub fn sparse_ablation(a: &crate::sparse::Ablation) -> Html {
    let body: Vec<Vec<String>> = a
        .rows
        .iter()
        .map(|r| {
            row(&[
                format!("{}{}", r.model, if r.best { " (best)" } else { "" }),
                r.metric.clone(),
                spread(&r.merged),
                spread(&r.unmerged),
                spread(&r.difference),
                if r.hurts {
                    "hurts".into()
                } else if r.helps {
                    "helps".into()
                } else {
                    "within fold noise".into()
                },
            ])
        })
        .collect();
    let decided: Vec<String> = a
        .fold_decisions
        .iter()
        .map(|d| {
            format!(
                "{} → {} in {} of {} training folds{}",
                d.level,
                d.into,
                d.folds,
                a.folds,
                if d.unseen > 0 {
                    format!(" ({} without a row of {})", d.unseen, d.level)
                } else {
                    String::new()
                }
            )
        })
        .collect();
    let table = rows(
        &format!(
            "Sparse levels merged or not ({}; merge {} in the settings)",
            a.scheme,
            if a.enabled { "on" } else { "off" }
        ),
        &[
            "model",
            "metric",
            "merged",
            "unmerged",
            "merged − unmerged",
            "effect",
        ],
        &body,
    );
    let notes = fields(
        "What the folds decided and what follows",
        &[
            ("rule".into(), a.rule.clone()),
            (
                "merges decided".into(),
                if decided.is_empty() {
                    "none (no level is sparse)".into()
                } else {
                    decided.join("; ")
                },
            ),
            ("recommendation rule".into(), a.recommendation_rule.clone()),
            (
                "recommendation".into(),
                format!(
                    "{}: {}",
                    if a.recommend_merge {
                        "merge"
                    } else {
                        "do not merge"
                    },
                    a.reason
                ),
            ),
        ],
    );
    Html {
        html: format!("{}{}", table.html, notes.html),
        text: format!("{}\n{}", table.text, notes.text),
    }
}

/// The regression's headline model beside every single-column OLS baseline, one row each, with
/// R² as mean ± sd (n) and whether each meets the success target.
pub fn regression_baselines(b: &crate::analysis::regression::RegressionBaselines) -> Html {
    let mut body = Vec::new();
    if let Some(h) = &b.headline {
        body.push(row(&[
            format!("{} (headline)", h.model.label()),
            h.feature_set.label().to_string(),
            spread(&h.r2),
            spread(&h.rmse_over_sd),
            "—".into(),
        ]));
    }
    for s in &b.single_column {
        body.push(row(&[
            "OLS, one column".into(),
            s.column.clone(),
            spread(&s.r2),
            spread(&s.rmse_over_sd),
            yes(s.meets),
        ]));
    }
    rows(
        "The headline model against one-column baselines (group folds)",
        &[
            "model",
            "features",
            "R²",
            "RMSE / sd",
            "meets the target alone",
        ],
        &body,
    )
}

/// The noise sweep as numbers: one row per score and noise level, "mean ± sd (n)" of the score
/// with noise on the features and, beside it, with noise on the target.
pub fn noise_sweep(r: &crate::analysis::robustness::RobustnessFindings) -> Html {
    use crate::analysis::robustness::NoiseOn;
    let mut body = Vec::new();
    for c in r.curves.iter().filter(|c| c.noise_on == NoiseOn::Features) {
        let twin = r
            .curves
            .iter()
            .find(|t| t.noise_on != NoiseOn::Features && t.score == c.score && t.model == c.model);
        for p in &c.points {
            let on_target = twin
                .and_then(|t| t.points.iter().find(|q| q.level == p.level))
                .map_or("—".to_string(), |q| mean_sd(q.mean, q.sd, q.n));
            body.push(row(&[
                crate::analysis::robustness::figures::score_label(&c.score, &c.model),
                format!("{} %", number(100.0 * p.level)),
                mean_sd(p.mean, p.sd, p.n),
                on_target,
            ]));
        }
    }
    rows(
        "Scores under noise (noise sd as a share of each column's sd)",
        &[
            "score",
            "noise",
            "noise on the features",
            "noise on the target",
        ],
        &body,
    )
}

/// The EDA's alerts, one row each: severity, subject, the evidence as labelled numbers and the
/// recommendation.
pub fn alerts(a: &[crate::analysis::eda::Alert]) -> Html {
    let body: Vec<Vec<String>> = a
        .iter()
        .map(|x| {
            let kind = serde_json::to_value(x.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let severity = serde_json::to_value(x.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let evidence: Vec<String> = x
                .evidence
                .iter()
                .map(|e| format!("{} = {}", e.name, number(e.value)))
                .collect();
            row(&[
                severity,
                format!("{}: {}", kind.replace('_', " "), x.subject.join(", ")),
                evidence.join("; "),
                x.recommendation.clone(),
            ])
        })
        .collect();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for r in &body {
        *counts.entry(r[0].clone()).or_default() += 1;
    }
    let counted: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    rows(
        &format!("Alerts: {} ({})", body.len(), counted.join(", ")),
        &["severity", "about", "evidence", "recommendation"],
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_lists_and_tuples_become_tables() {
        let v = json!({"rows": 238, "counts": [["North", 70], ["East", 6]],
                       "models": [{"name": "ols", "r2": 0.123456}, {"name": "tree", "r2": null}]});
        let t = table("T", &v);
        assert!(
            t.html
                .starts_with("<div class=\"customer-intel\"><h4>T</h4><table>")
        );
        assert!(t.html.contains("<tr><td>North</td><td>70</td></tr>"));
        assert!(
            t.html
                .contains("<thead><tr><th>name</th><th>r2</th></tr></thead>")
        );
        assert!(t.html.contains("<td>0.1235</td>"));
        assert!(t.html.contains("<td>—</td>"));
        assert!(t.text.contains("rows: 238"));
        assert!(t.text.contains("  ols   0.1235"), "{}", t.text);
    }

    #[test]
    fn struct_fields_keep_their_declared_order() {
        #[derive(Serialize)]
        struct Row {
            zeta: u8,
            alpha: f64,
        }
        let t = table(
            "Rows",
            &[Row {
                zeta: 1,
                alpha: 2.5,
            }],
        );
        assert!(
            t.html
                .contains("<thead><tr><th>zeta</th><th>alpha</th></tr></thead>"),
            "{}",
            t.html
        );
        assert!(t.text.ends_with("zeta  alpha\n1     2.5"), "{}", t.text);
    }

    #[test]
    fn long_lists_are_shortened_and_html_is_escaped() {
        let v: Vec<u32> = (0..40).collect();
        assert_eq!(
            table("a<b", &v).text,
            "a<b\n[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (40 values)]"
        );
        assert!(table("a<b", &v).html.contains("<h4>a&lt;b</h4>"));
    }

    #[test]
    fn check_lines_round_trip_floats_exactly() {
        let x = 0.1 + 0.2;
        let (k, v) = parse_check_line(&check_line("a.b", &x)).unwrap();
        assert_eq!(k, "a.b");
        assert_eq!(v.as_f64(), Some(x));
        assert!(agree(&json!(1.0), &json!(1.0 + 1e-12), 1e-9));
        assert!(!agree(&json!(1.0), &json!(1.001), 1e-9));
        assert!(!agree(&json!("ols"), &json!("ridge"), 1e-9));
    }

    #[test]
    fn lookup_rejects_malformed_paths() {
        let v = json!({"a": [1, 2]});
        assert_eq!(lookup(&v, "a[1]"), Some(&json!(2)));
        assert!(lookup(&v, "a[2]").is_none());
        assert!(lookup(&v, "a[x").is_none());
        assert!(lookup(&v, "b").is_none());
    }

    #[test]
    fn figures_inline_without_xml_declaration() {
        let f = Figure {
            name: "eda_x.svg".into(),
            caption: "A & B".into(),
            svg: "<?xml version=\"1.0\"?>\n<svg/>".into(),
        };
        assert_eq!(
            f.to_html(),
            "<figure style=\"margin:0 0 1em 0;max-width:100%\"><div><svg style=\"max-width:100%;height:auto\"/></div><figcaption>A &amp; B <code>eda_x.svg</code></figcaption></figure>"
        );
    }
}
