//! The hand-written demo articles: parsed from `demo_articles.txt`, rendered
//! and inserted.

use chrono::{Duration, NaiveDateTime};

use super::catalogue::{SOURCES, TOPICS, translator_for};
use super::{CatalogueIds, SeedError};
use crate::db::DbConnection;
use crate::db::articles::{NewArticle, NewBody, insert_article};
use crate::domain::article::{AccessLevel, ArticleKind, ArticleStatus};
use crate::domain::markdown;

const TEXT: &str = include_str!("demo_articles.txt");

/// One demo article as written in the text file.
#[derive(Debug, Default, Clone)]
pub(crate) struct DemoArticle {
    pub slug: &'static str,
    pub headline: &'static str,
    pub dek: &'static str,
    pub kind: &'static str,
    pub access: &'static str,
    pub status: Option<&'static str>,
    pub topics: Vec<&'static str>,
    pub authors: Vec<&'static str>,
    pub source: Option<&'static str>,
    pub original_title: Option<&'static str>,
    pub dateline: Option<&'static str>,
    pub featured: Option<i32>,
    pub hours_ago: i64,
    pub video: Option<&'static str>,
    pub image: Option<&'static str>,
    pub lead: &'static str,
    pub heading: &'static str,
    pub more: &'static str,
}

/// Parses the demo articles; an error names the record and the problem.
pub(crate) fn demo_articles() -> Result<Vec<DemoArticle>, String> {
    TEXT.split("\n===\n")
        .map(|record| parse_record(record).map_err(|e| format!("{e} in record:\n{record}")))
        .collect()
}

fn list(value: &'static str) -> Vec<&'static str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse_record(record: &'static str) -> Result<DemoArticle, String> {
    let mut article = DemoArticle::default();
    for line in record
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (key, value) = line
            .split_once(": ")
            .ok_or_else(|| format!("line without `key: value`: {line}"))?;
        let value = value.trim();
        match key {
            "slug" => article.slug = value,
            "headline" => article.headline = value,
            "dek" => article.dek = value,
            "kind" => article.kind = value,
            "access" => article.access = value,
            "status" => article.status = Some(value),
            "topics" => article.topics = list(value),
            "authors" => article.authors = list(value),
            "source" => article.source = Some(value),
            "original_title" => article.original_title = Some(value),
            "dateline" => article.dateline = Some(value),
            "featured" => {
                article.featured = Some(
                    value
                        .parse()
                        .map_err(|_| format!("bad featured rank {value}"))?,
                )
            }
            "hours_ago" => {
                article.hours_ago = value
                    .parse()
                    .map_err(|_| format!("bad hours_ago {value}"))?
            }
            "video" => article.video = Some(value),
            "image" => article.image = Some(value),
            "lead" => article.lead = value,
            "heading" => article.heading = value,
            "more" => article.more = value,
            other => return Err(format!("unknown key `{other}`")),
        }
    }
    if article.slug.is_empty() || article.headline.is_empty() || article.lead.is_empty() {
        return Err("slug, headline and lead are required".into());
    }
    Ok(article)
}

impl DemoArticle {
    /// The article's Markdown: its own paragraphs, the topic's background and
    /// a note on the original.
    pub fn markdown(&self) -> String {
        let context = self
            .topics
            .first()
            .and_then(|slug| TOPICS.iter().find(|t| t.slug == *slug))
            .map(|t| t.context)
            .unwrap_or_default();
        let note = match self
            .source
            .and_then(|slug| SOURCES.iter().find(|s| s.slug == slug))
        {
            Some(source) => format!(
                "*This article first appeared in {}. It was translated by {} and edited for length.*",
                source.name,
                translator_for(source.language)
            ),
            None => "*Written for newsdesk.*".to_owned(),
        };
        format!(
            "{}\n\n## {}\n\n{}\n\n## The wider picture\n\n{}\n\n{}\n",
            self.lead, self.heading, self.more, context, note
        )
    }
}

/// Inserts every demo article; returns how many.
pub(super) fn insert_demo_articles(
    conn: &mut DbConnection,
    ids: &CatalogueIds,
    now: NaiveDateTime,
) -> Result<usize, SeedError> {
    let articles = demo_articles().map_err(SeedError::Content)?;
    for article in &articles {
        insert_one(conn, ids, article, now)?;
    }
    Ok(articles.len())
}

fn parse<T: std::str::FromStr>(value: &str, what: &str, slug: &str) -> Result<T, SeedError> {
    value
        .parse()
        .map_err(|_| SeedError::Content(format!("{slug}: unknown {what} `{value}`")))
}

fn insert_one(
    conn: &mut DbConnection,
    ids: &CatalogueIds,
    article: &DemoArticle,
    now: NaiveDateTime,
) -> Result<(), SeedError> {
    let slug = article.slug;
    let kind: ArticleKind = parse(article.kind, "kind", slug)?;
    let access: AccessLevel = parse(article.access, "access level", slug)?;
    let status: ArticleStatus = parse(article.status.unwrap_or("published"), "status", slug)?;
    let lookup = |map: &std::collections::HashMap<&'static str, i64>, key: &str, what: &str| {
        map.get(key)
            .copied()
            .ok_or_else(|| SeedError::Content(format!("{slug}: unknown {what} `{key}`")))
    };
    let topic_ids = article
        .topics
        .iter()
        .map(|t| lookup(&ids.topics, t, "topic"))
        .collect::<Result<Vec<_>, _>>()?;
    let author_ids = article
        .authors
        .iter()
        .map(|a| lookup(&ids.authors, a, "author"))
        .collect::<Result<Vec<_>, _>>()?;
    let source = match article.source {
        Some(s) => Some(
            *ids.sources
                .get(s)
                .ok_or_else(|| SeedError::Content(format!("{slug}: unknown source `{s}`")))?,
        ),
        None => None,
    };
    let image: Vec<&str> = article
        .image
        .map(|i| i.split(" | ").collect())
        .unwrap_or_default();
    let image_url = article
        .image
        .map(|_| format!("https://images.newsdesk.example/demo/{slug}.jpg"));
    let original_url = source.map(|_| {
        format!(
            "https://{}.example/articles/{slug}",
            article.source.unwrap_or_default()
        )
    });
    let markdown = article.markdown();
    let body = markdown::render(&markdown);
    let at =
        now - Duration::hours(article.hours_ago) - Duration::minutes(7 * (slug.len() as i64 % 8));
    // A scheduled article is published with a time still in the future: it
    // appears on its own when that time comes.
    let (status, publish_at, published_at) = match status {
        ArticleStatus::Published | ArticleStatus::Scheduled => {
            (ArticleStatus::Published, Some(at), Some(at))
        }
        other => (other, None, None),
    };
    let new = NewArticle {
        slug,
        headline: article.headline,
        dek: article.dek,
        dateline: article.dateline,
        hero_image_url: image_url.as_deref(),
        hero_image_alt: image.first().copied(),
        hero_image_caption: image.get(1).copied(),
        hero_image_credit: image.get(2).copied(),
        kind: kind.as_str(),
        video_url: article.video,
        original_source_id: source.map(|(id, _)| id),
        original_language: source.map(|(_, language)| language),
        original_title: article.original_title,
        original_url: original_url.as_deref(),
        translator: source.map(|(_, language)| translator_for(language)),
        status: status.as_str(),
        access_level: access.as_str(),
        featured: article.featured.is_some(),
        featured_rank: article.featured,
        publish_at,
        published_at,
        word_count: body.word_count as i32,
        reading_time_minutes: body.reading_time_minutes as i32,
        created_at: at.min(now),
        updated_at: at.min(now),
    };
    let body = NewBody {
        markdown: &markdown,
        rendered: &body,
    };
    insert_article(conn, &new, body, &author_ids, &topic_ids)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_demo_publication_is_big_and_varied_enough() {
        let articles = demo_articles().unwrap();
        let published: Vec<_> = articles.iter().filter(|a| a.status.is_none()).collect();
        assert!(published.len() >= 60, "{} published", published.len());
        assert!(
            articles
                .iter()
                .filter(|a| a.status == Some("draft"))
                .count()
                >= 3
        );
        let topics: HashSet<_> = published.iter().flat_map(|a| a.topics.clone()).collect();
        assert!(topics.len() >= 8);
        let kinds: HashSet<_> = published.iter().map(|a| a.kind).collect();
        assert_eq!(kinds.len(), 4, "news, analysis, opinion and video");
        assert!(
            published
                .iter()
                .filter(|a| a.kind == "video" && a.video.is_some())
                .count()
                >= 2
        );
        let access: HashSet<_> = published.iter().map(|a| a.access).collect();
        assert_eq!(access.len(), 3, "free, metered and premium");
        assert!(published.iter().any(|a| a.featured.is_some()));
        let languages: HashSet<_> = SOURCES.iter().map(|s| s.language).collect();
        assert!(SOURCES.len() >= 8 && languages.len() >= 5);
        assert!(super::super::catalogue::AUTHORS.len() >= 15);
    }

    #[test]
    fn slugs_are_unique_and_url_safe() {
        let articles = demo_articles().unwrap();
        let mut seen = HashSet::new();
        for a in &articles {
            assert!(seen.insert(a.slug), "duplicate slug {}", a.slug);
            assert!(
                a.slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                a.slug
            );
        }
    }

    #[test]
    fn every_body_has_sub_headings_and_several_paragraphs_and_a_preview() {
        for a in demo_articles().unwrap() {
            let body = markdown::render(&a.markdown());
            assert!(body.html.matches("<h2>").count() >= 2, "{}", a.slug);
            assert!(body.html.matches("<p>").count() >= 3, "{}", a.slug);
            assert!(!body.preview_text.is_empty(), "{}", a.slug);
            assert!(body.preview_text.len() < body.text.len(), "{}", a.slug);
        }
    }
}
