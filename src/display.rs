//! Rich display in Jupyter notebooks run by the evcxr Rust kernel, and the `CHECK` lines that let
//! the tests compare a notebook's numbers with `report/findings.json`.
//!
//! evcxr shows the last expression of a cell by calling its `evcxr_display(&self)` method when
//! it has one; the method prints `EVCXR_BEGIN_CONTENT <mime>` … `EVCXR_END_CONTENT` blocks to
//! stdout. This module gives the findings types such a method (an HTML table derived from their
//! serialised form, so every field the analysis produced is shown and nothing else), draws
//! [`Figure`]s inline as SVG, and offers [`table`] for any serialisable part of the findings.
//!
//! Nothing here computes: it formats values that the analyses already produced.

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
    node.html(&mut html);
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
/// significant digits (at most), large values without decimals.
///
/// ```
/// use customer_intel::display::number;
/// assert_eq!(number(238.0), "238");
/// assert_eq!(number(0.912345), "0.9123");
/// assert_eq!(number(12.3456), "12.35");
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
                    v.html(out);
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
                        cell.html(out);
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
            Node::Grid { rows, .. } => format!("({} rows)", rows.len()),
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
    pub fn to_html(&self) -> String {
        format!(
            "<figure><div>{}</div><figcaption>{} <code>{}</code></figcaption></figure>",
            inline_svg(&self.svg),
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
/// ```
pub fn parse_check_line(line: &str) -> Option<(String, Value)> {
    let rest = line.trim_end().strip_prefix(CHECK_PREFIX)?;
    let (key, json) = rest.split_once('=')?;
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
            "<figure><div><svg/></div><figcaption>A &amp; B <code>eda_x.svg</code></figcaption></figure>"
        );
    }
}
