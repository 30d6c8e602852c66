//! Article bodies: editors write Markdown; readers get sanitised HTML and
//! plain text, rendered once when the article is written.
//!
//! Sanitising is by construction: raw HTML in the Markdown is shown as text,
//! and links or images whose URL has a scheme other than http, https or
//! mailto point nowhere. The only markup in the output is what the Markdown
//! renderer itself produces, with every attribute escaped.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

use super::article::reading_time_minutes;

/// The most of an article's words a preview shows, in percent: a preview
/// tells a reader what the article is about, it does not give it away.
pub(crate) const PREVIEW_SHARE_PERCENT: usize = 30;

/// Bumped whenever the preview rule changes, so that stored previews are
/// rendered again at start-up (see `db::articles::rerender_previews`).
pub(crate) const PREVIEW_RULE_VERSION: i32 = 2;

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
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options()).map(sanitise).collect();
    let (html, text) = render_events(&events);
    let word_count = text.split_whitespace().count();
    let preview = preview_events(&events, word_count * PREVIEW_SHARE_PERCENT / 100);
    let (preview_html, preview_text) = if preview.is_empty() {
        (String::new(), String::new())
    } else {
        render_events(&preview)
    };
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

fn render_events(events: &[Event<'_>]) -> (String, String) {
    let mut out = String::new();
    html::push_html(&mut out, events.iter().cloned());
    (out, plain_text(events))
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

fn words_in(event: &Event<'_>) -> usize {
    match event {
        Event::Text(t) | Event::Code(t) => t.split_whitespace().count(),
        _ => 0,
    }
}

/// One top-level block of a body, as a range of its events.
struct Block {
    start: usize,
    end: usize,
    words: usize,
    heading: bool,
    paragraph: bool,
}

fn top_level_blocks(events: &[Event<'_>]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let (mut depth, mut start, mut words) = (0usize, 0, 0);
    for (i, event) in events.iter().enumerate() {
        words += words_in(event);
        match event {
            Event::Start(_) => {
                if depth == 0 {
                    (start, words) = (i, 0);
                }
                depth += 1;
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    blocks.push(Block {
                        start,
                        end: i + 1,
                        words,
                        heading: matches!(end, TagEnd::Heading(_)),
                        paragraph: matches!(end, TagEnd::Paragraph),
                    });
                }
            }
            _ if depth == 0 => {
                blocks.push(Block {
                    start: i,
                    end: i + 1,
                    words: words_in(event),
                    heading: false,
                    paragraph: false,
                });
                words = 0;
            }
            _ => {}
        }
    }
    blocks
}

/// The opening of a body that a reader without access sees: whole blocks
/// while they fit in `cap` words; then, inside the paragraph that does not
/// fit, as many whole sentences as fit (or, when the preview would
/// otherwise be empty, as many words as fit, ending in an ellipsis). Never
/// ends on a heading; empty when nothing fits.
fn preview_events<'a>(events: &[Event<'a>], cap: usize) -> Vec<Event<'a>> {
    let mut taken: Vec<&Block> = Vec::new();
    let mut out = Vec::new();
    let mut words = 0;
    let blocks = top_level_blocks(events);
    for block in &blocks {
        // A block without words (an image, a rule) has no share to fit in:
        // the preview ends before it rather than give it away whole.
        if block.words == 0 {
            break;
        }
        if words + block.words <= cap {
            words += block.words;
            taken.push(block);
            continue;
        }
        if block.paragraph {
            let room = cap - words;
            let without_headings = taken.iter().all(|b| b.heading);
            if let Some(cut) =
                cut_paragraph(&events[block.start..block.end], room, without_headings)
            {
                for b in &taken {
                    out.extend_from_slice(&events[b.start..b.end]);
                }
                out.extend(cut);
                return without_images(out);
            }
        }
        break;
    }
    while taken.last().is_some_and(|b| b.heading) {
        taken.pop();
    }
    for b in &taken {
        out.extend_from_slice(&events[b.start..b.end]);
    }
    without_images(out)
}

/// The events without their images (and the images' alt text): a preview
/// is text; pictures inside the body are part of what it withholds.
fn without_images(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut depth = 0usize;
    events
        .into_iter()
        .filter(|event| match event {
            Event::Start(Tag::Image { .. }) => {
                depth += 1;
                false
            }
            Event::End(TagEnd::Image) => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0,
        })
        .collect()
}

/// The start of one paragraph's events holding at most `room` words, cut
/// after the last sentence that fits, with every tag still open closed.
/// `None` when no sentence fits, unless `by_words` allows cutting between
/// words (with an ellipsis) instead.
fn cut_paragraph<'a>(events: &[Event<'a>], room: usize, by_words: bool) -> Option<Vec<Event<'a>>> {
    // Each candidate: (event index, bytes of its text kept, words so far).
    let mut best: Option<(usize, usize, usize)> = None;
    let mut by_word: Option<(usize, usize)> = None;
    let mut words = 0;
    for (i, event) in events.iter().enumerate() {
        let Event::Text(text) = event else {
            words += words_in(event);
            continue;
        };
        let mut in_word = false;
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        for (k, &(at, c)) in chars.iter().enumerate() {
            if c.is_whitespace() {
                in_word = false;
                continue;
            }
            if !in_word {
                in_word = true;
                words += 1;
                if words > room {
                    break;
                }
            }
            let next = chars.get(k + 1).map(|&(_, n)| n);
            let word_ends = next.is_none_or(char::is_whitespace);
            if word_ends {
                let end = at + c.len_utf8();
                by_word = Some((i, end));
                let closing =
                    text[..end].trim_end_matches(['"', '\'', ')', '\u{201d}', '\u{2019}']);
                if closing.ends_with(['.', '!', '?']) {
                    best = Some((i, end, words));
                }
            }
        }
        if words > room {
            break;
        }
    }
    let (index, keep, ellipsis) = match (best, by_word) {
        (Some((i, end, _)), _) => (i, end, false),
        (None, Some((i, end))) if by_words && room > 0 => (i, end, true),
        _ => return None,
    };
    let mut out: Vec<Event<'a>> = Vec::new();
    let mut open: Vec<TagEnd> = Vec::new();
    for event in &events[..index] {
        match event {
            Event::Start(tag) => open.push(tag.to_end()),
            Event::End(_) => {
                open.pop();
            }
            _ => {}
        }
        out.push(event.clone());
    }
    if let Event::Text(text) = &events[index] {
        let mut kept = text[..keep].to_owned();
        if ellipsis {
            kept.push('\u{2026}');
        }
        out.push(Event::Text(kept.into()));
    }
    out.extend(open.into_iter().rev().map(Event::End));
    Some(out)
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

    fn share(body: &RenderedBody) -> usize {
        body.preview_text.split_whitespace().count() * 100 / body.word_count.max(1)
    }

    #[test]
    fn the_preview_takes_whole_blocks_within_its_share() {
        let md = format!(
            "{}\n\n{}\n\n## Later\n\n{}\n\n{}",
            paragraph(15, "alpha"),
            paragraph(15, "beta"),
            paragraph(40, "gamma"),
            paragraph(40, "delta")
        );
        let body = render(&md);
        assert!(body.preview_text.contains("alpha") && body.preview_text.contains("beta"));
        assert!(!body.preview_text.contains("Later") && !body.preview_text.contains("gamma"));
        assert!(body.html.starts_with(&body.preview_html));
        assert!(share(&body) <= PREVIEW_SHARE_PERCENT);
    }

    #[test]
    fn a_long_first_paragraph_is_cut_at_a_sentence() {
        let sentence = "The ice came early and the cranes stood still all week.";
        let long = [sentence; 20].join(" ");
        let body = render(&format!("{long}\n\n{}", paragraph(10, "after")));
        assert!(!body.preview_text.is_empty());
        assert!(
            body.preview_text.ends_with("week."),
            "{}",
            body.preview_text
        );
        assert!(share(&body) <= PREVIEW_SHARE_PERCENT, "{}", share(&body));
        assert!(
            share(&body) >= PREVIEW_SHARE_PERCENT - 12,
            "{}",
            share(&body)
        );
        assert!(!body.preview_text.contains("after"));
        assert!(body.preview_html.starts_with("<p>") && body.preview_html.ends_with("</p>\n"));
    }

    #[test]
    fn a_cut_inside_markup_closes_what_it_opened() {
        let sentence = "One sentence about the **port and its** crews.";
        let long = format!("*{}*", [sentence; 12].join(" "));
        let body = render(&format!("{long}\n\n{}", paragraph(5, "tail")));
        assert!(
            body.preview_html.starts_with("<p><em>"),
            "{}",
            body.preview_html
        );
        assert!(
            body.preview_html.ends_with("</em></p>\n"),
            "{}",
            body.preview_html
        );
        assert!(share(&body) <= PREVIEW_SHARE_PERCENT);
    }

    #[test]
    fn without_any_sentence_end_the_opening_is_cut_between_words() {
        let body = render(&paragraph(100, "word"));
        assert_eq!(
            body.preview_text,
            format!("{}\u{2026}", paragraph(30, "word"))
        );
    }

    #[test]
    fn the_preview_never_ends_on_a_heading() {
        let md = format!(
            "## Intro\n\n{}\n\n## Next\n\n{}",
            paragraph(20, "one"),
            paragraph(70, "two")
        );
        let body = render(&md);
        assert_eq!(
            body.preview_text,
            format!("Intro\n\n{}", paragraph(20, "one"))
        );
    }

    #[test]
    fn pictures_are_never_part_of_a_preview() {
        let only = render("![](https://img.example/secret.png)");
        assert_eq!(only.preview_html, "", "an image-only body previews nothing");
        let leading = render(&format!(
            "![](https://img.example/first.png)\n\n{}",
            paragraph(40, "words")
        ));
        assert!(
            !leading.preview_html.contains("img"),
            "{}",
            leading.preview_html
        );
        let inline = render(&format!(
            "Text ![a map](https://img.example/map.png) and more text here.\n\n{}",
            paragraph(60, "rest")
        ));
        assert!(
            inline.preview_text.starts_with("Text"),
            "{}",
            inline.preview_text
        );
        assert!(
            !inline.preview_html.contains("img"),
            "{}",
            inline.preview_html
        );
        assert!(
            !inline.preview_text.contains("a map"),
            "{}",
            inline.preview_text
        );
    }

    #[test]
    fn the_preview_is_never_the_whole_body() {
        for md in [
            format!("{}\n\n{}", paragraph(10, "a"), paragraph(10, "b")),
            paragraph(3, "x"),
            "Short.".to_owned(),
        ] {
            let body = render(&md);
            assert!(body.preview_text.len() < body.text.len(), "{md}");
            assert!(share(&body) <= PREVIEW_SHARE_PERCENT, "{md}");
        }
    }

    #[test]
    fn lists_keep_their_items_apart_in_text() {
        let body = render("- first\n- second\n\nAfter.");
        assert_eq!(body.text, "first\nsecond\n\nAfter.");
    }
}
