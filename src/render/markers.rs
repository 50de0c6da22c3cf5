//! Generated sections inside a hand-written document.
//!
//! A generated section is fenced by two marker lines:
//!
//! ```text
//! <!-- report:eda:start -->
//! (generated text: replaced on every build)
//! <!-- report:eda:end -->
//! ```
//!
//! [`splice`] replaces only the bytes between the end of a start marker and the beginning of
//! its end marker. Every other byte — the hand-written text, the markers themselves, the line
//! endings (LF or CRLF), a missing final newline, a byte-order mark — is kept exactly. The
//! generated text takes the line ending that follows its start marker, so a CRLF file stays CRLF.
//!
//! A marker is recognised only when it stands alone on its line (surrounding spaces allowed),
//! so prose or inline code that *mentions* a marker is never treated as one. Missing,
//! unmatched, duplicated, nested and unknown markers are errors naming the section and line.

use thiserror::Error;

/// What is wrong with a document's markers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MarkerError {
    /// A section the renderer produces has no markers in the document.
    #[error(
        "no markers for section '{name}': add the two lines `<!-- report:{name}:start -->` and `<!-- report:{name}:end -->` where the section belongs"
    )]
    Missing {
        /// The section name.
        name: String,
    },
    /// A start marker without an end marker (or the reverse).
    #[error(
        "line {line}: `<!-- report:{name}:{found} -->` has no matching `<!-- report:{name}:{expected} -->`"
    )]
    Unmatched {
        /// The section name.
        name: String,
        /// 1-based line of the lone marker.
        line: usize,
        /// `start` or `end`: what was found.
        found: &'static str,
        /// What was expected to pair with it.
        expected: &'static str,
    },
    /// A section opened while another one is open.
    #[error(
        "line {line}: section '{inner}' starts inside section '{outer}' (opened on line {outer_line}); sections cannot nest"
    )]
    Nested {
        /// The open section.
        outer: String,
        /// Line where the open section started.
        outer_line: usize,
        /// The section that started inside it.
        inner: String,
        /// Line of the inner start marker.
        line: usize,
    },
    /// The same section appears twice.
    #[error(
        "line {line}: section '{name}' appears a second time (first on line {first}); keep one pair of markers"
    )]
    Duplicate {
        /// The section name.
        name: String,
        /// Line of the first start marker.
        first: usize,
        /// Line of the second start marker.
        line: usize,
    },
    /// Markers name a section the renderer does not produce (often a typo).
    #[error("line {line}: unknown section '{name}' (known sections: {known})")]
    Unknown {
        /// The name in the document.
        name: String,
        /// 1-based line.
        line: usize,
        /// The known section names, comma-separated.
        known: String,
    },
    /// A marker with a kind other than `start` or `end`.
    #[error(
        "line {line}: malformed marker `{text}`: expected `<!-- report:NAME:start -->` or `<!-- report:NAME:end -->`"
    )]
    Malformed {
        /// 1-based line.
        line: usize,
        /// The marker text.
        text: String,
    },
}

/// One recognised marker.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marker {
    name: String,
    start: bool,
    /// Byte offset of the first byte of the marker's line content (after leading spaces).
    begin: usize,
    /// Byte offset just after the closing `-->`.
    end: usize,
    line: usize,
}

const OPEN: &str = "<!-- report:";
const CLOSE: &str = "-->";

/// Finds the markers that stand alone on their line.
fn scan(doc: &str) -> Result<Vec<Marker>, MarkerError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, raw) in doc.split_inclusive('\n').enumerate() {
        let line_no = i + 1;
        let content = raw.trim_end_matches(['\n', '\r']);
        // Leading spaces, tabs and a byte-order mark on the first line are allowed.
        let trimmed = content
            .trim_start_matches([' ', '\t', '\u{feff}'])
            .trim_end();
        if let Some(body) = trimmed
            .strip_prefix(OPEN)
            .and_then(|b| b.strip_suffix(CLOSE))
        {
            let body = body.trim();
            let begin = offset + content.find(OPEN).expect("the trimmed line starts with it");
            let end = begin + trimmed.len();
            let (name, kind) = body.rsplit_once(':').unwrap_or((body, ""));
            let start = match kind {
                "start" => true,
                "end" => false,
                _ => {
                    return Err(MarkerError::Malformed {
                        line: line_no,
                        text: trimmed.to_string(),
                    });
                }
            };
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(MarkerError::Malformed {
                    line: line_no,
                    text: trimmed.to_string(),
                });
            }
            out.push(Marker {
                name: name.to_string(),
                start,
                begin,
                end,
                line: line_no,
            });
        }
        offset += raw.len();
    }
    Ok(out)
}

/// A section found in a document: its name and the byte range of its generated text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The section name.
    pub name: String,
    /// Byte offset just after the start marker.
    pub inner_start: usize,
    /// Byte offset of the end marker.
    pub inner_end: usize,
    /// 1-based line of the start marker.
    pub line: usize,
}

/// Lists the sections of `doc`, checking that markers pair up, do not nest and do not repeat.
pub fn sections(doc: &str) -> Result<Vec<Span>, MarkerError> {
    let mut spans: Vec<Span> = Vec::new();
    let mut open: Option<Marker> = None;
    for m in scan(doc)? {
        match (&open, m.start) {
            (None, true) => {
                if let Some(prev) = spans.iter().find(|s| s.name == m.name) {
                    return Err(MarkerError::Duplicate {
                        name: m.name,
                        first: prev.line,
                        line: m.line,
                    });
                }
                open = Some(m);
            }
            (None, false) => {
                return Err(MarkerError::Unmatched {
                    name: m.name,
                    line: m.line,
                    found: "end",
                    expected: "start",
                });
            }
            (Some(o), true) => {
                return Err(MarkerError::Nested {
                    outer: o.name.clone(),
                    outer_line: o.line,
                    inner: m.name,
                    line: m.line,
                });
            }
            (Some(o), false) => {
                if o.name != m.name {
                    return Err(MarkerError::Unmatched {
                        name: o.name.clone(),
                        line: o.line,
                        found: "start",
                        expected: "end",
                    });
                }
                spans.push(Span {
                    name: m.name,
                    inner_start: o.end,
                    inner_end: m.begin,
                    line: o.line,
                });
                open = None;
            }
        }
    }
    if let Some(o) = open {
        return Err(MarkerError::Unmatched {
            name: o.name,
            line: o.line,
            found: "start",
            expected: "end",
        });
    }
    Ok(spans)
}

/// Replaces the text of every section in `doc` with the generated text of the same name.
///
/// `generated` lists (name, Markdown) pairs; every name must have markers in `doc`, and every
/// marker in `doc` must name a generated section. Text is written as
/// `start-marker EOL text EOL end-marker`, with the EOL that follows the start marker in `doc`.
///
/// ```
/// use customer_intel::render::markers::splice;
/// let doc = "# Title\r\n<!-- report:a:start -->\r\nold\r\n<!-- report:a:end -->\r\nkept";
/// let out = splice(doc, &[("a".to_string(), "new\nlines\n".to_string())]).unwrap();
/// assert_eq!(out, "# Title\r\n<!-- report:a:start -->\r\nnew\r\nlines\r\n<!-- report:a:end -->\r\nkept");
/// ```
pub fn splice(doc: &str, generated: &[(String, String)]) -> Result<String, MarkerError> {
    let spans = sections(doc)?;
    let known = || {
        generated
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for s in &spans {
        if !generated.iter().any(|(n, _)| *n == s.name) {
            return Err(MarkerError::Unknown {
                name: s.name.clone(),
                line: s.line,
                known: known(),
            });
        }
    }
    for (name, _) in generated {
        if !spans.iter().any(|s| s.name == *name) {
            return Err(MarkerError::Missing { name: name.clone() });
        }
    }
    let mut out =
        String::with_capacity(doc.len() + generated.iter().map(|(_, t)| t.len()).sum::<usize>());
    let mut pos = 0;
    for s in &spans {
        out.push_str(&doc[pos..s.inner_start]);
        let eol = if doc[s.inner_start..].starts_with("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let text = &generated
            .iter()
            .find(|(n, _)| *n == s.name)
            .expect("checked above")
            .1;
        out.push_str(eol);
        let body = text.replace("\r\n", "\n");
        let body = body.trim_matches('\n');
        if !body.is_empty() {
            for line in body.split('\n') {
                out.push_str(line);
                out.push_str(eol);
            }
        }
        // Keep the end marker's indentation: copy the spaces before it on its line.
        let line_start = doc[..s.inner_end].rfind('\n').map_or(0, |i| i + 1);
        let indent = &doc[line_start..s.inner_end];
        if indent.chars().all(|c| c == ' ' || c == '\t') {
            out.push_str(indent);
        }
        pos = s.inner_end;
    }
    out.push_str(&doc[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn replaces_only_inside() {
        let doc = "intro\n<!-- report:a:start -->\nold a\n<!-- report:a:end -->\nmiddle\n  <!-- report:b:start -->\n  <!-- report:b:end -->\nend";
        let out = splice(doc, &pairs(&[("a", "A1\nA2"), ("b", "B\n\n")])).unwrap();
        assert_eq!(
            out,
            "intro\n<!-- report:a:start -->\nA1\nA2\n<!-- report:a:end -->\nmiddle\n  <!-- report:b:start -->\nB\n  <!-- report:b:end -->\nend"
        );
        // Idempotent.
        assert_eq!(
            splice(&out, &pairs(&[("a", "A1\nA2"), ("b", "B\n\n")])).unwrap(),
            out
        );
    }

    #[test]
    fn mentions_are_not_markers() {
        let doc = "Use `<!-- report:x:start -->` to fence.\n<!-- report:a:start -->\n<!-- report:a:end -->\n";
        assert_eq!(sections(doc).unwrap().len(), 1);
    }

    #[test]
    fn errors_name_section_and_line() {
        let e = splice("x\n<!-- report:a:start -->\n", &pairs(&[("a", "")])).unwrap_err();
        assert_eq!(
            e,
            MarkerError::Unmatched {
                name: "a".into(),
                line: 2,
                found: "start",
                expected: "end"
            }
        );
        let e = splice("<!-- report:a:end -->\n", &pairs(&[("a", "")])).unwrap_err();
        assert!(matches!(
            e,
            MarkerError::Unmatched {
                found: "end",
                line: 1,
                ..
            }
        ));
        let e = splice("no markers\n", &pairs(&[("a", "")])).unwrap_err();
        assert_eq!(e, MarkerError::Missing { name: "a".into() });
        assert!(e.to_string().contains("<!-- report:a:start -->"));
        let doc = "<!-- report:a:start -->\n<!-- report:b:start -->\n<!-- report:b:end -->\n<!-- report:a:end -->\n";
        assert!(matches!(
            splice(doc, &pairs(&[("a", ""), ("b", "")])).unwrap_err(),
            MarkerError::Nested { line: 2, .. }
        ));
        let doc = "<!-- report:a:start -->\n<!-- report:b:end -->\n";
        assert!(matches!(
            splice(doc, &pairs(&[("a", ""), ("b", "")])).unwrap_err(),
            MarkerError::Unmatched { .. }
        ));
        let doc = "<!-- report:a:start -->\n<!-- report:a:end -->\n<!-- report:a:start -->\n<!-- report:a:end -->\n";
        assert!(matches!(
            splice(doc, &pairs(&[("a", "")])).unwrap_err(),
            MarkerError::Duplicate {
                first: 1,
                line: 3,
                ..
            }
        ));
        let doc = "<!-- report:edaa:start -->\n<!-- report:edaa:end -->\n";
        let e = splice(doc, &pairs(&[("eda", "")])).unwrap_err();
        assert!(e.to_string().contains("unknown section 'edaa'"), "{e}");
        let e = splice("<!-- report:a:begin -->\n", &pairs(&[("a", "")])).unwrap_err();
        assert!(matches!(e, MarkerError::Malformed { line: 1, .. }));
    }

    #[test]
    fn bom_and_missing_final_newline_survive() {
        let doc = "\u{feff}<!-- report:a:start -->\n<!-- report:a:end -->";
        let out = splice(doc, &pairs(&[("a", "x")])).unwrap();
        assert_eq!(
            out,
            "\u{feff}<!-- report:a:start -->\nx\n<!-- report:a:end -->"
        );
    }
}
