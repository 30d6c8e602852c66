//! Article bodies: editors write Markdown; readers get sanitised HTML and
//! plain text, rendered once when the article is written.
//!
//! Sanitising is by construction: raw HTML in the Markdown is shown as text,
//! and links or images whose URL has a scheme other than http, https or
//! mailto point nowhere. The only markup in the output is what the Markdown
//! renderer itself produces, with every attribute escaped.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

use super::article::reading_time_minutes;

/// Words a preview should reach before it stops, at the next block boundary.
const PREVIEW_MIN_WORDS: usize = 60;

/// A body in every form readers and listings need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderedBody {
    /// The whole body as sanitised HTML.
    pub html: String,
    /// The whole body as plain text, paragraphs separated by blank lines.
    pub text: String,
    /// The opening blocks only, as HTML: what a reader without access sees.
    pub preview_html: String,
    /// The same preview as plain text.
    pub preview_text: String,
    /// Words in the whole body.
    pub word_count: usize,
    /// Minutes to read the whole body.
    pub reading_time_minutes: usize,
}

/// Renders `markdown` into its HTML, text and preview forms.
pub fn render(markdown: &str) -> RenderedBody {
    let (html, text) = render_fragment(markdown);
    let (preview_html, preview_text) = match preview_end(markdown) {
        Some(end) => render_fragment(&markdown[..end]),
        None => (String::new(), String::new()),
    };
    let word_count = text.split_whitespace().count();
    RenderedBody {
        html,
        text,
        preview_html,
        preview_text,
        word_count,
        reading_time_minutes: reading_time_minutes(word_count),
    }
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

fn render_fragment(markdown: &str) -> (String, String) {
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options()).map(sanitise).collect();
    let mut out = String::with_capacity(markdown.len() + markdown.len() / 4);
    html::push_html(&mut out, events.iter().cloned());
    (out, plain_text(&events))
}

/// Neutralises what could run in a reader's browser.
fn sanitise(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: if is_safe_url(&dest_url) {
                dest_url
            } else {
                "#".into()
            },
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: if is_safe_url(&dest_url) && !dest_url.starts_with("mailto:") {
                dest_url
            } else {
                "".into()
            },
            title,
            id,
        }),
        other => other,
    }
}

/// Relative URLs and the http, https and mailto schemes are safe; nothing else is.
fn is_safe_url(url: &str) -> bool {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    match cleaned.find([':', '/', '?', '#']) {
        Some(i) if cleaned.as_bytes()[i] == b':' => {
            let scheme = cleaned[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

fn plain_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            Event::SoftBreak => text.push(' '),
            Event::HardBreak => text.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::Table
                | TagEnd::List(_),
            ) => text.push_str("\n\n"),
            Event::End(TagEnd::Item | TagEnd::TableRow | TagEnd::TableHead) => text.push('\n'),
            Event::End(TagEnd::TableCell) => text.push('\t'),
            _ => {}
        }
    }
    let mut out = String::with_capacity(text.len());
    for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(block);
    }
    out
}

/// Where the preview ends: the byte offset of a top-level block boundary
/// once the preview has enough words, never the whole body, never on a
/// heading. `None` when no opening blocks can be shown without showing all.
fn preview_end(markdown: &str) -> Option<usize> {
    let blocks = top_level_blocks(markdown);
    let mut words = 0;
    let mut taken = 0;
    for block in &blocks {
        if taken + 1 >= blocks.len() {
            break;
        }
        taken += 1;
        words += markdown[block.start..block.end].split_whitespace().count();
        if words >= PREVIEW_MIN_WORDS && !block.heading {
            break;
        }
    }
    while taken > 0 && blocks[taken - 1].heading {
        taken -= 1;
    }
    taken.checked_sub(1).map(|last| blocks[last].end)
}

struct Block {
    start: usize,
    end: usize,
    heading: bool,
}

fn top_level_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        match event {
            Event::Start(_) => {
                if depth == 0 {
                    start = range.start;
                }
                depth += 1;
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    blocks.push(Block {
                        start,
                        end: range.end,
                        heading: matches!(end, TagEnd::Heading(_)),
                    });
                }
            }
            Event::Rule if depth == 0 => blocks.push(Block {
                start: range.start,
                end: range.end,
                heading: false,
            }),
            _ => {}
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paragraph(n: usize, word: &str) -> String {
        vec![word; n].join(" ")
    }

    #[test]
    fn headings_and_paragraphs_become_html_and_text() {
        let body = render("Opening line.\n\n## Bring a flash drive\n\nSecond *paragraph*.");
        assert_eq!(
            body.html,
            "<p>Opening line.</p>\n<h2>Bring a flash drive</h2>\n<p>Second <em>paragraph</em>.</p>\n"
        );
        assert_eq!(
            body.text,
            "Opening line.\n\nBring a flash drive\n\nSecond paragraph."
        );
        assert_eq!(body.word_count, 8);
        assert_eq!(body.reading_time_minutes, 1);
    }

    #[test]
    fn raw_html_is_shown_as_text_not_run() {
        let body = render(
            "Hello <script>alert(1)</script> and <img src=x onerror=alert(2)>\n\n<div onclick=\"x()\">block</div>",
        );
        assert!(!body.html.contains("<script"), "{}", body.html);
        assert!(!body.html.contains("<img"), "{}", body.html);
        assert!(!body.html.contains("<div"), "{}", body.html);
        assert!(body.html.contains("&lt;script&gt;"), "{}", body.html);
    }

    #[test]
    fn dangerous_link_schemes_point_nowhere() {
        for url in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "vbscript:msgbox",
            "data:text/html;base64,PHNjcmlwdD4=",
        ] {
            let body = render(&format!("[click]({url})"));
            let html = body.html.to_ascii_lowercase();
            for scheme in ["javascript", "vbscript", "data"] {
                assert!(!html.contains(&format!("href=\"{scheme}")), "{url}: {html}");
            }
        }
        let images = render("![x](javascript:alert(1)) ![y](https://img.example.com/a.jpg)");
        assert!(images.html.contains("src=\"\""), "{}", images.html);
        assert!(
            images
                .html
                .contains("src=\"https://img.example.com/a.jpg\"")
        );
    }

    #[test]
    fn safe_links_are_kept_and_attributes_escaped() {
        let body = render(
            "[a](https://example.com/?a=1&b=\"2\") [b](/articles/x) [c](mailto:desk@example.com)",
        );
        assert!(
            body.html
                .contains("href=\"https://example.com/?a=1&amp;b=%222%22\""),
            "{}",
            body.html
        );
        assert!(body.html.contains("href=\"/articles/x\""));
        assert!(body.html.contains("href=\"mailto:desk@example.com\""));
    }

    #[test]
    fn the_preview_stops_at_a_block_boundary_once_it_has_enough_words() {
        let md = format!(
            "{}\n\n{}\n\n## Later\n\n{}\n\n{}",
            paragraph(40, "alpha"),
            paragraph(40, "beta"),
            paragraph(40, "gamma"),
            paragraph(40, "delta")
        );
        let body = render(&md);
        assert!(body.preview_text.contains("alpha") && body.preview_text.contains("beta"));
        assert!(!body.preview_text.contains("Later") && !body.preview_text.contains("gamma"));
        assert!(body.html.starts_with(&body.preview_html));
    }

    #[test]
    fn the_preview_never_ends_on_a_heading() {
        let md = format!(
            "## Intro\n\n{}\n\n## Next\n\n{}",
            paragraph(70, "one"),
            paragraph(70, "two")
        );
        let body = render(&md);
        assert_eq!(
            body.preview_text,
            format!("Intro\n\n{}", paragraph(70, "one"))
        );
    }

    #[test]
    fn the_preview_is_never_the_whole_body() {
        let two = render(&format!("{}\n\n{}", paragraph(10, "a"), paragraph(10, "b")));
        assert_eq!(two.preview_text, paragraph(10, "a"));
        let one = render(&paragraph(500, "only"));
        assert_eq!(one.preview_text, "");
        assert_eq!(one.preview_html, "");
        let heading_then_one = render(&format!("## Title\n\n{}", paragraph(100, "x")));
        assert_eq!(heading_then_one.preview_text, "");
    }

    #[test]
    fn lists_keep_their_items_apart_in_text() {
        let body = render("- first\n- second\n\nAfter.");
        assert_eq!(body.text, "first\nsecond\n\nAfter.");
    }
}
