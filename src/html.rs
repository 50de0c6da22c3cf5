//! HTML escaping, one rule for every writer of HTML: the report and slides (tera's autoescape and
//! the captions of inlined figures), the notebook display tables, and the fallback of a figure
//! that could not be drawn.

/// Escapes `&`, `<`, `>`, `"` and `'` (as `&#39;`), so the result is safe both as element text
/// and inside a quoted attribute value. It is pulldown-cmark's own escaper, the one that wrote
/// every other piece of the report's HTML; `/` is left alone.
///
/// ```
/// assert_eq!(
///     customer_intel::html::escape(r#"<a href="x">Tom's & Jerry's</a>"#),
///     "&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; Jerry&#39;s&lt;/a&gt;"
/// );
/// assert_eq!(customer_intel::html::escape("data/a.csv"), "data/a.csv");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    pulldown_cmark_escape::escape_html(&mut out, text).expect("writing to a String cannot fail");
    out
}
