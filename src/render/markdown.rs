//! Markdown → HTML through pulldown-cmark, for the HTML report and the slides.
//!
//! The README sections are Markdown; the report renders *the same* Markdown, so the two cannot
//! disagree. On the way, three things change:
//! - every heading gets a stable `id` (a slug of its text, made unique across the document) and
//!   is collected for the table of contents;
//! - an image whose file is one of the build's figures is replaced by the SVG itself, inline,
//!   inside `<figure>` with its alt text as the caption (the report then needs no other file);
//!   a paragraph holding only figures loses its `<p>` so the HTML stays valid;
//! - for slides, top-level thematic breaks (`---`) split the document into slides.

use std::collections::{BTreeMap, BTreeSet};

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

use crate::html::escape;

/// A heading seen while rendering, for the table of contents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Heading {
    /// 1..=6.
    pub level: u8,
    /// The unique anchor id.
    pub id: String,
    /// The heading's plain text.
    pub text: String,
}

/// Heading ids already used in one output document.
#[derive(Debug, Default, Clone)]
pub struct Anchors {
    used: BTreeSet<String>,
}

impl Anchors {
    /// A unique slug for `text`: lowercase letters and digits, other runs become `-`.
    pub fn unique(&mut self, text: &str) -> String {
        let mut slug = String::new();
        for c in text.chars().flat_map(char::to_lowercase) {
            if c.is_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-').to_string();
        let base = if slug.is_empty() {
            "section".to_string()
        } else {
            slug
        };
        let mut id = base.clone();
        let mut n = 2;
        while !self.used.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

/// The figures that may be inlined, by file name (`eda_correlation.svg` → SVG text).
pub type FigureSvgs = BTreeMap<String, String>;

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES
}

fn level_u8(l: HeadingLevel) -> u8 {
    l as u8
}

/// The file name at the end of a link target (`report/figures/a.svg` → `a.svg`).
fn file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// An SVG document ready to sit inside HTML: no XML declaration or doctype.
pub fn inline_svg(svg: &str) -> String {
    let mut s = svg.trim();
    if s.starts_with("<?xml") {
        s = s.find("?>").map_or(s, |i| s[i + 2..].trim_start());
    }
    if s.starts_with("<!DOCTYPE") {
        s = s.find('>').map_or(s, |i| s[i + 1..].trim_start());
    }
    s.to_string()
}

/// Rewrites one document's events: heading ids, inline figures, `<p>` removed around figures.
fn rewrite<'a>(
    events: Vec<Event<'a>>,
    figures: &FigureSvgs,
    anchors: &mut Anchors,
    headings: &mut Vec<Heading>,
) -> Vec<Event<'a>> {
    let mut out = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                let mut text = String::new();
                let mut j = i + 1;
                while j < events.len() && !matches!(events[j], Event::End(TagEnd::Heading(_))) {
                    if let Event::Text(t) | Event::Code(t) = &events[j] {
                        text.push_str(t);
                    }
                    j += 1;
                }
                let anchor = match id {
                    Some(given) => given.to_string(),
                    None => anchors.unique(&text),
                };
                headings.push(Heading {
                    level: level_u8(*level),
                    id: anchor.clone(),
                    text,
                });
                out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(anchor)),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
                i += 1;
            }
            Event::Start(Tag::Paragraph) => {
                // A paragraph made only of inline figures (and line breaks) is dropped around them.
                let mut j = i + 1;
                let mut only_figures = true;
                let mut any = false;
                while j < events.len() && !matches!(events[j], Event::End(TagEnd::Paragraph)) {
                    match &events[j] {
                        Event::Start(Tag::Image { dest_url, .. }) => {
                            if figures.contains_key(file_name(dest_url)) {
                                any = true;
                                while !matches!(events[j], Event::End(TagEnd::Image)) {
                                    j += 1;
                                }
                            } else {
                                only_figures = false;
                            }
                        }
                        Event::SoftBreak | Event::HardBreak => {}
                        Event::Text(t) if t.trim().is_empty() => {}
                        _ => only_figures = false,
                    }
                    j += 1;
                }
                if only_figures && any {
                    let inner: Vec<Event<'a>> = events[i + 1..j]
                        .iter()
                        .filter(|e| !matches!(e, Event::SoftBreak | Event::HardBreak))
                        .cloned()
                        .collect();
                    out.extend(rewrite(inner, figures, anchors, headings));
                    i = j + 1;
                } else {
                    out.push(events[i].clone());
                    i += 1;
                }
            }
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) if figures.contains_key(file_name(dest_url)) => {
                let name = file_name(dest_url).to_string();
                let mut alt = String::new();
                let mut j = i + 1;
                while !matches!(events[j], Event::End(TagEnd::Image)) {
                    if let Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) = &events[j] {
                        alt.push_str(t);
                    }
                    j += 1;
                }
                let caption = if alt.is_empty() {
                    title.to_string()
                } else {
                    alt
                };
                let stem = name.trim_end_matches(".svg");
                let html = format!(
                    "<figure class=\"fig\" id=\"fig-{}\"><div class=\"svg\" role=\"img\" aria-label=\"{}\">{}</div><figcaption>{}</figcaption></figure>\n",
                    escape(stem),
                    escape(&caption),
                    inline_svg(&figures[&name]),
                    escape(&caption)
                );
                out.push(Event::Html(CowStr::from(html)));
                i = j + 1;
            }
            e => {
                out.push(e.clone());
                i += 1;
            }
        }
    }
    out
}

/// Renders a Markdown document to HTML, inlining figures and collecting headings.
pub fn to_html(md: &str, figures: &FigureSvgs, anchors: &mut Anchors) -> (String, Vec<Heading>) {
    let events: Vec<Event> = Parser::new_ext(md, options()).collect();
    let mut headings = Vec::new();
    let events = rewrite(events, figures, anchors, &mut headings);
    let mut out = String::with_capacity(md.len() * 2);
    html::push_html(&mut out, events.into_iter());
    (out, headings)
}

/// One slide of the deck: its HTML and its speaker notes' HTML (empty when it has none).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Slide {
    /// The slide's content.
    pub html: String,
    /// The speaker notes: everything after a paragraph holding only `???`.
    pub notes: String,
}

/// Renders a Markdown deck to one [`Slide`] per slide; slides are separated by top-level
/// thematic breaks (`---` on its own line after a blank line), and within a slide a paragraph
/// holding only `???` starts the speaker notes.
pub fn to_slides(md: &str, figures: &FigureSvgs) -> Vec<Slide> {
    let mut anchors = Anchors::default();
    let mut slides: Vec<Vec<Event>> = vec![Vec::new()];
    let mut depth = 0usize;
    for e in Parser::new_ext(md, options()) {
        match &e {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Rule if depth == 0 => {
                slides.push(Vec::new());
                continue;
            }
            _ => {}
        }
        slides.last_mut().expect("never empty").push(e);
    }
    let mut render = |events: Vec<Event>| {
        let mut headings = Vec::new();
        let events = rewrite(events, figures, &mut anchors, &mut headings);
        let mut out = String::new();
        html::push_html(&mut out, events.into_iter());
        out
    };
    slides
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|events| {
            let split = events.windows(3).position(|w| {
                matches!(w[0], Event::Start(Tag::Paragraph))
                    && matches!(&w[1], Event::Text(t) if t.trim() == "???")
                    && matches!(w[2], Event::End(TagEnd::Paragraph))
            });
            match split {
                Some(i) => {
                    let mut body = events;
                    let notes = body.split_off(i).into_iter().skip(3).collect();
                    Slide {
                        html: render(body),
                        notes: render(notes),
                    }
                }
                None => Slide {
                    html: render(events),
                    notes: String::new(),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs() -> FigureSvgs {
        let mut f = FigureSvgs::new();
        f.insert(
            "a.svg".into(),
            "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"10\"></svg>".into(),
        );
        f
    }

    #[test]
    fn headings_get_unique_ids() {
        let mut a = Anchors::default();
        let (html, hs) = to_html(
            "## Results & Score\n\n## Results & score\n",
            &FigureSvgs::new(),
            &mut a,
        );
        assert!(html.contains("<h2 id=\"results-score\">"), "{html}");
        assert!(html.contains("<h2 id=\"results-score-2\">"), "{html}");
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[0].text, "Results & Score");
    }

    #[test]
    fn figures_are_inlined_without_paragraph() {
        let (html, _) = to_html(
            "Text.\n\n![A <caption>](report/figures/a.svg)\n",
            &figs(),
            &mut Anchors::default(),
        );
        assert!(
            html.contains("<figure class=\"fig\" id=\"fig-a\">"),
            "{html}"
        );
        assert!(html.contains("<svg width=\"10\""));
        assert!(!html.contains("<?xml"));
        assert!(!html.contains("<p><figure"));
        assert!(
            html.contains("<figcaption>A &lt;caption&gt;</figcaption>"),
            "{html}"
        );
        // Unknown images stay images.
        let (html, _) = to_html("![x](other.png)\n", &figs(), &mut Anchors::default());
        assert!(html.contains("<img src=\"other.png\""), "{html}");
    }

    #[test]
    fn slides_split_on_rules() {
        let s = to_slides(
            "# One\n\ntext\n\n---\n\n## Two\n\n![c](a.svg)\n\n---\n\n- x\n",
            &figs(),
        );
        assert_eq!(s.len(), 3);
        assert!(s[1].html.contains("<figure"));
        assert!(s[2].html.contains("<li>x</li>"));
        assert!(s.iter().all(|x| x.notes.is_empty()));
    }

    #[test]
    fn notes_follow_three_question_marks() {
        let s = to_slides(
            "## One\n\ntext\n\n???\n\n**Say:** hello\n\n---\n\n## Two\n",
            &figs(),
        );
        assert_eq!(s.len(), 2);
        assert!(
            s[0].html.contains("text") && !s[0].html.contains("hello"),
            "{:?}",
            s[0]
        );
        assert_eq!(s[0].notes, "<p><strong>Say:</strong> hello</p>\n");
        assert!(!s[0].html.contains("???"));
        assert!(s[1].notes.is_empty());
    }

    #[test]
    fn tables_render() {
        let (html, _) = to_html(
            "| a | b |\n|---|--:|\n| 1 | 2 |\n",
            &FigureSvgs::new(),
            &mut Anchors::default(),
        );
        assert!(
            html.contains("<table>") && html.contains("<td style=\"text-align: right\">2</td>"),
            "{html}"
        );
    }
}
