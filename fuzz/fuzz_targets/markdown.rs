//! Article bodies are Markdown from editors, rendered to HTML for readers:
//! rendering anything must not panic, and no input may produce a script,
//! an event handler, or a link or image to a `javascript:` or `data:` URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::domain::markdown::render;

fuzz_target!(|markdown: &str| {
    let body = render(markdown);
    for html in [&body.html, &body.preview_html] {
        let lower = html.to_ascii_lowercase();
        for tag in [
            "<script", "<iframe", "<object", "<embed", "<style", "<svg", "<form",
        ] {
            assert!(!lower.contains(tag), "{tag} in {html:?}");
        }
        // Text and attribute values escape `<`, `>` and `"`, so every `<`
        // opens a tag the renderer wrote, and its attribute names are what
        // lies outside quotes.
        for tag in lower
            .split('<')
            .skip(1)
            .filter_map(|rest| rest.split('>').next())
        {
            let names: String = tag.split('"').step_by(2).collect();
            assert!(!names.contains(" on"), "event handler in <{tag}>");
            for url in [
                "href=\"javascript:",
                "src=\"javascript:",
                "href=\"data:",
                "src=\"data:",
            ] {
                assert!(!tag.contains(url), "{url} in <{tag}>");
            }
        }
    }
});
