//! Search syntax from the `q` parameter: parsing must not panic; a parsed
//! query must translate for both backends, and its highlight of any text
//! must be escaped HTML whose only tags are `<mark>` and `</mark>`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::domain::search::{SearchQuery, highlight};

fuzz_target!(|input: (&str, &str)| {
    let (query, text) = input;
    let Ok(parsed) = SearchQuery::parse(query) else {
        return;
    };
    let _ = parsed.to_fts5();
    let _ = parsed.to_tsquery();
    if let Some(marked) = highlight(text, &parsed) {
        let bare = marked.replace("<mark>", "").replace("</mark>", "");
        assert!(
            !bare.contains('<') && !bare.contains('>'),
            "unescaped: {marked:?}"
        );
    }
});
