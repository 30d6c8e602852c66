//! Search queries: one syntax, parsed here, rendered for each backend, so
//! that a query means the same on SQLite (FTS5) and PostgreSQL (tsquery).
//!
//! - words match whole words, case-insensitively: `harbour ice`
//!   (every word must match);
//! - `"missile defense"` matches the words next to each other, in order;
//! - `-covid` or `-"trade war"` excludes articles that match;
//! - `hydro*` matches words that start with `hydro`.
//!
//! A word is a run of letters and digits; anything else separates words, so
//! `covid-19` is the phrase `"covid 19"`. Malformed queries (an unclosed
//! quote, nothing but exclusions, a lone `*`, too long) are refused with a
//! reason, never passed to the database.

/// Longest query accepted, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 200;
/// Most clauses accepted in one query: each is another index lookup.
pub(crate) const MAX_CLAUSES: usize = 8;
/// Fewest characters before a `*`: shorter prefixes match so many words
/// that one query merges a large part of the index.
pub(crate) const MIN_PREFIX_CHARS: usize = 3;

/// One part of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    /// Articles matching this are excluded.
    pub negated: bool,
    /// The words, in order; more than one is a phrase.
    pub words: Vec<String>,
    /// The last word matches as a prefix.
    pub prefix: bool,
}

/// A parsed search query: at least one clause that is not negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// The clauses, all of which must hold.
    pub clauses: Vec<Clause>,
}

/// Why a query was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing to search for.
    #[error("is empty; give at least one word")]
    Empty,
    /// Longer than [`MAX_QUERY_CHARS`].
    #[error("is longer than 200 characters")]
    TooLong,
    /// More than [`MAX_CLAUSES`] words, phrases and exclusions.
    #[error("has more than 8 words, phrases and exclusions")]
    TooManyClauses,
    /// A prefix shorter than [`MIN_PREFIX_CHARS`].
    #[error("has a prefix shorter than 3 characters before `*`")]
    ShortPrefix,
    /// A `"` without its closing partner.
    #[error("has a quote that is not closed")]
    UnclosedQuote,
    /// Only exclusions: there is nothing to match.
    #[error("excludes words but looks for none")]
    OnlyExclusions,
    /// A `*` that follows no word, or one inside a phrase.
    #[error("has a `*` that does not end a word")]
    MisplacedStar,
}

fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl SearchQuery {
    /// Parses what a reader typed.
    pub fn parse(input: &str) -> Result<Self, QueryError> {
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let mut clauses = Vec::new();
        let mut rest = input.trim_start();
        while !rest.is_empty() {
            let (negated, after_sign) = match rest.strip_prefix('-') {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let (raw, prefix, remaining) = if let Some(quoted) = after_sign.strip_prefix('"') {
                let end = quoted.find('"').ok_or(QueryError::UnclosedQuote)?;
                let after = &quoted[end + 1..];
                if after.starts_with('*') {
                    return Err(QueryError::MisplacedStar);
                }
                (&quoted[..end], false, after)
            } else {
                let end = after_sign
                    .find(char::is_whitespace)
                    .unwrap_or(after_sign.len());
                let token = &after_sign[..end];
                let (body, prefix) = match token.strip_suffix('*') {
                    Some(body) => (body, true),
                    None => (token, false),
                };
                if body.contains(['*', '"']) {
                    return Err(if body.contains('"') {
                        QueryError::UnclosedQuote
                    } else {
                        QueryError::MisplacedStar
                    });
                }
                (body, prefix, &after_sign[end..])
            };
            let words = words_of(raw);
            if words.is_empty() {
                if prefix {
                    return Err(QueryError::MisplacedStar);
                }
            } else {
                // A star after punctuation (`covid-*`) has no word to extend.
                let ends_in_word = raw.chars().last().is_some_and(char::is_alphanumeric);
                if prefix && !ends_in_word {
                    return Err(QueryError::MisplacedStar);
                }
                if prefix
                    && words
                        .last()
                        .is_some_and(|w| w.chars().count() < MIN_PREFIX_CHARS)
                {
                    return Err(QueryError::ShortPrefix);
                }
                clauses.push(Clause {
                    negated,
                    words,
                    prefix,
                });
            }
            rest = remaining.trim_start();
        }
        if clauses.is_empty() {
            return Err(QueryError::Empty);
        }
        if clauses.len() > MAX_CLAUSES {
            return Err(QueryError::TooManyClauses);
        }
        if clauses.iter().all(|c| c.negated) {
            return Err(QueryError::OnlyExclusions);
        }
        Ok(Self { clauses })
    }

    /// The FTS5 `MATCH` expression. Every word is a quoted string, so
    /// nothing a reader types is read as FTS5 syntax.
    pub fn to_fts5(&self) -> String {
        let render = |c: &Clause| {
            let star = if c.prefix { "*" } else { "" };
            format!("\"{}\"{star}", c.words.join(" "))
        };
        let positive: Vec<String> = self
            .clauses
            .iter()
            .filter(|c| !c.negated)
            .map(render)
            .collect();
        let mut expr = format!("({})", positive.join(" AND "));
        for clause in self.clauses.iter().filter(|c| c.negated) {
            expr.push_str(" NOT ");
            expr.push_str(&render(clause));
        }
        expr
    }

    /// The PostgreSQL `to_tsquery('simple', ...)` text. Words are letters
    /// and digits only, quoted as lexemes.
    pub fn to_tsquery(&self) -> String {
        self.clauses
            .iter()
            .map(|c| {
                let last = c.words.len() - 1;
                let lexemes: Vec<String> = c
                    .words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        let star = if c.prefix && i == last { ":*" } else { "" };
                        format!("'{w}'{star}")
                    })
                    .collect();
                let body = format!("({})", lexemes.join(" <-> "));
                if c.negated { format!("!{body}") } else { body }
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// Words of context kept around a highlighted match.
const CONTEXT_WORDS: usize = 12;

/// A short excerpt of `text` around the first match of the query's
/// (positive) clauses, HTML-escaped, with matched words in `<mark>`.
/// `None` when nothing in `text` matches.
pub fn highlight(text: &str, query: &SearchQuery) -> Option<String> {
    // Word spans (byte ranges) and their lowercase forms.
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    let lower: Vec<String> = spans
        .iter()
        .map(|&(s, e)| text[s..e].to_lowercase())
        .collect();
    let matches_at = |clause: &Clause, at: usize| {
        let last = clause.words.len() - 1;
        clause.words.iter().enumerate().all(|(k, word)| {
            lower.get(at + k).is_some_and(|w| {
                if clause.prefix && k == last {
                    w.starts_with(word.as_str())
                } else {
                    w == word
                }
            })
        })
    };
    let mut marked = vec![false; spans.len()];
    for clause in query.clauses.iter().filter(|c| !c.negated) {
        for at in 0..spans.len() {
            if matches_at(clause, at) {
                for flag in &mut marked[at..at + clause.words.len()] {
                    *flag = true;
                }
            }
        }
    }
    let first = marked.iter().position(|&m| m)?;
    let from = first.saturating_sub(CONTEXT_WORDS / 2);
    let to = (first + CONTEXT_WORDS).min(spans.len() - 1);
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut cursor = spans[from].0;
    for i in from..=to {
        let (s, e) = spans[i];
        out.push_str(&escape(&text[cursor..s]));
        if marked[i] {
            out.push_str("<mark>");
            out.push_str(&escape(&text[s..e]));
            out.push_str("</mark>");
        } else {
            out.push_str(&escape(&text[s..e]));
        }
        cursor = e;
    }
    if to + 1 < spans.len() {
        out.push('…');
    }
    Some(out)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(negated: bool, words: &[&str], prefix: bool) -> Clause {
        Clause {
            negated,
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            prefix,
        }
    }

    #[test]
    fn words_phrases_exclusions_and_prefixes_parse() {
        let q =
            SearchQuery::parse(r#"  Missile "air DEFENSE" -covid -"trade war" hydro*  "#).unwrap();
        assert_eq!(
            q.clauses,
            vec![
                clause(false, &["missile"], false),
                clause(false, &["air", "defense"], false),
                clause(true, &["covid"], false),
                clause(true, &["trade", "war"], false),
                clause(false, &["hydro"], true),
            ]
        );
    }

    #[test]
    fn punctuation_separates_words_into_a_phrase() {
        let q = SearchQuery::parse("covid-19 Russia's").unwrap();
        assert_eq!(
            q.clauses,
            vec![
                clause(false, &["covid", "19"], false),
                clause(false, &["russia", "s"], false),
            ]
        );
        let q = SearchQuery::parse("Überseehafen café").unwrap();
        assert_eq!(q.clauses[0].words, ["überseehafen"]);
        assert_eq!(q.clauses[1].words, ["café"]);
    }

    #[test]
    fn malformed_queries_are_refused_with_a_reason() {
        for (input, error) in [
            ("", QueryError::Empty),
            ("   ", QueryError::Empty),
            ("!!! ???", QueryError::Empty),
            ("\"\"", QueryError::Empty),
            ("\"missile defense", QueryError::UnclosedQuote),
            ("mis\"sile", QueryError::UnclosedQuote),
            ("-covid -flu", QueryError::OnlyExclusions),
            ("*", QueryError::MisplacedStar),
            ("-*", QueryError::MisplacedStar),
            ("hy*dro", QueryError::MisplacedStar),
            ("\"air defense\"*", QueryError::MisplacedStar),
            ("covid-*", QueryError::MisplacedStar),
        ] {
            assert_eq!(SearchQuery::parse(input), Err(error), "{input:?}");
        }
        assert_eq!(
            SearchQuery::parse(&"a".repeat(201)),
            Err(QueryError::TooLong)
        );
        assert_eq!(
            SearchQuery::parse(&"word ".repeat(9)),
            Err(QueryError::TooManyClauses)
        );
        assert!(SearchQuery::parse(&"word ".repeat(8)).is_ok());
        for short in ["a*", "ab*", "port a*", "\"x\"-y*"] {
            assert_eq!(
                SearchQuery::parse(short),
                Err(QueryError::ShortPrefix),
                "{short}"
            );
        }
        assert!(SearchQuery::parse("hyd*").is_ok());
    }

    #[test]
    fn fts5_sees_only_quoted_strings() {
        let q = SearchQuery::parse(r#"port "air defense" -covid hydro* NEAR OR"#).unwrap();
        assert_eq!(
            q.to_fts5(),
            r#"("port" AND "air defense" AND "hydro"* AND "near" AND "or") NOT "covid""#
        );
    }

    #[test]
    fn tsquery_uses_lexemes_adjacency_and_prefixes() {
        let q = SearchQuery::parse(r#"port "air defense" -covid hydro*"#).unwrap();
        assert_eq!(
            q.to_tsquery(),
            "('port') & ('air' <-> 'defense') & !('covid') & ('hydro':*)"
        );
    }

    #[test]
    fn highlights_mark_matches_in_context_and_escape_html() {
        let q = SearchQuery::parse(r#"harbour "ice breaker" ship*"#).unwrap();
        let text = "Before dawn the <old> harbour froze; the Ice Breaker & its crew \
                    waited while shipping stopped.";
        let h = highlight(text, &q).unwrap();
        assert_eq!(
            h,
            "Before dawn the &lt;old&gt; <mark>harbour</mark> froze; the <mark>Ice</mark> \
             <mark>Breaker</mark> &amp; its crew waited while <mark>shipping</mark> stopped"
        );
        assert_eq!(highlight("nothing to see", &q), None);
        let excluded = SearchQuery::parse("port -harbour").unwrap();
        assert!(!highlight("the harbour", &excluded).is_some_and(|h| h.contains("<mark>")));
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let q = SearchQuery::parse("needle").unwrap();
        let text = format!("{} needle {}", "hay ".repeat(40), "straw ".repeat(40));
        let h = highlight(&text, &q).unwrap();
        assert!(h.starts_with('…') && h.ends_with('…'), "{h}");
        assert!(h.contains("<mark>needle</mark>"));
        assert!(h.split_whitespace().count() < 25);
    }
}
