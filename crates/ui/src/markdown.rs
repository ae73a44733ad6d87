//! Descriptions as Markdown (CommonMark, as ATT&CK and most producers write
//! them), rendered safely: the one place the UI emits HTML it did not build
//! itself, so the rules are here.
//!
//! - Raw HTML in the text (blocks and inline) becomes text, escaped by the
//!   writer: it is shown, never obeyed.
//! - Links keep their link only for http(s) destinations; any other
//!   (`javascript:`, `data:`, relative, `mailto:`) is dropped and its text
//!   kept. Images become their alt text (the CSP would refuse outside
//!   images anyway).
//! - Headings are moved down to start at `h3`, under the page's own `h2`.
//! - No tables: pulldown-cmark writes their alignment as `style=""`, which
//!   the CSP refuses.

use maud::{Markup, PreEscaped};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::pages::safe_url;

/// `text` as HTML (see the module docs).
pub(crate) fn render(text: &str) -> Markup {
    let parser = Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH);
    // For each open link or image: whether its tags are kept.
    let mut open: Vec<bool> = Vec::new();
    let events = parser.filter_map(|ev| match ev {
        Event::Html(s) | Event::InlineHtml(s) => Some(Event::Text(s)),
        // An HTML block becomes a paragraph of its text.
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let keep = safe_url(&dest_url);
            open.push(keep);
            keep.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link) => {
            let keep = open.pop().unwrap_or(false);
            keep.then_some(Event::End(TagEnd::Link))
        }
        Event::Start(Tag::Image { .. }) => {
            open.push(false);
            None
        }
        Event::End(TagEnd::Image) => {
            open.pop();
            None
        }
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Some(Event::Start(Tag::Heading {
            level: lower(level),
            id,
            classes,
            attrs,
        })),
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(lower(level)))),
        other => Some(other),
    });
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    pulldown_cmark::html::push_html(&mut out, events);
    // Safe: the writer escapes every text, raw HTML was turned into text
    // above, and only http(s) links are left.
    PreEscaped(out)
}

/// Two levels down (h1 → h3), at most h6.
fn lower(l: HeadingLevel) -> HeadingLevel {
    match l {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        render(s).into_string()
    }

    #[test]
    fn raw_html_is_shown_not_obeyed() {
        for hostile in [
            "<script>alert(1)</script>",
            "text <img src=x onerror=alert(1)> more",
            "<div onclick=\"x()\">block</div>\n\nafter",
            "<!-- comment --><iframe src=\"https://evil.example\"></iframe>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<style>body{display:none}</style>",
        ] {
            let h = r(hostile);
            for bad in [
                "<script", "<img", "<div", "<iframe", "<a ", "<style", "<!--",
            ] {
                assert!(!h.contains(bad), "{hostile:?} gave {h}");
            }
            assert!(h.contains("&lt;"), "{hostile:?} gave {h}");
        }
    }

    #[test]
    fn only_http_links_stay_links() {
        let h = r(
            "[ok](https://attack.mitre.org/groups/G0032) [js](javascript:alert(1)) \
                   [data](data:text/html,x) [rel](/ui/admin) <mailto:a@b.c> \
                   [s](JaVaScRiPt:alert(2)) ![img](https://evil.example/x.png)",
        );
        assert!(
            h.contains("<a href=\"https://attack.mitre.org/groups/G0032\">ok</a>"),
            "{h}"
        );
        assert_eq!(h.matches("<a ").count(), 1, "{h}");
        assert!(!h.to_ascii_lowercase().contains("javascript:alert"));
        assert!(!h.contains("<img"));
        // The text of a dropped link or image stays.
        for t in [" js ", " data ", " rel ", " s ", " img<"] {
            assert!(h.contains(t), "{t} in {h}");
        }
        // An attribute cannot be broken out of.
        let h = r("[x](https://a.example/\"onmouseover=\"alert(1))");
        assert!(!h.contains("\"onmouseover"), "{h}");
    }

    #[test]
    fn markdown_is_rendered() {
        let h = r("# Title\n\nSome *emphasis*, `code` and\n\n- a\n- b\n");
        assert!(h.contains("<h3>Title</h3>"), "{h}");
        assert!(h.contains("<em>emphasis</em>"));
        assert!(h.contains("<code>code</code>"));
        assert!(h.contains("<li>a</li>"));
        // No style attributes (the CSP refuses them): tables are not parsed.
        assert!(!r("| a | b |\n|:--|--:|\n| 1 | 2 |").contains("style="));
    }
}
