//! Content for an empty database: the hand-written demo publication, or
//! generated articles in bulk for benchmarks.

mod catalogue;
mod demo;
mod synthetic;

use std::collections::HashMap;

use crate::clock::Clock;
use crate::db::DbConnection;
use crate::db::articles::any_exist;
use crate::db::catalogue::{
    NewAuthor, NewSource, NewTopic, insert_author, insert_source, insert_topic,
};

pub use synthetic::synthetic;

/// What a seed added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Articles inserted, published or not.
    pub articles: usize,
}

/// Why seeding stopped.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The database already holds articles; demo content is for empty ones.
    #[error("the database already has articles; demo content only goes into an empty database")]
    NotEmpty,
    /// The demo content refers to something it does not define.
    #[error("demo content: {0}")]
    Content(String),
    /// The database refused.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Adds the demo publication when the database has no articles at all.
pub fn demo_if_empty(conn: &mut DbConnection) -> Result<Option<SeedReport>, SeedError> {
    match demo(conn) {
        Ok(report) => Ok(Some(report)),
        Err(SeedError::NotEmpty) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Adds the demo publication: topics, authors, sources and articles.
pub fn demo(conn: &mut DbConnection) -> Result<SeedReport, SeedError> {
    let now = Clock::System.now();
    crate::db::transaction(conn, |conn| {
        crate::db::lock_for_setup(conn)?;
        if any_exist(conn)? {
            return Err(SeedError::NotEmpty);
        }
        let ids = insert_catalogue(conn, now)?;
        let articles = demo::insert_demo_articles(conn, &ids, now)?;
        Ok(SeedReport { articles })
    })
}

/// Ids of the catalogue rows by slug.
pub(crate) struct CatalogueIds {
    pub topics: HashMap<&'static str, i64>,
    pub authors: HashMap<&'static str, i64>,
    pub sources: HashMap<&'static str, (i64, &'static str)>,
}

/// Inserts the demo catalogue: sources first, then authors (who may be
/// affiliated with a source), then topics.
pub(crate) fn insert_catalogue(
    conn: &mut DbConnection,
    now: chrono::NaiveDateTime,
) -> Result<CatalogueIds, SeedError> {
    let mut sources = HashMap::new();
    for s in catalogue::SOURCES {
        let id = insert_source(
            conn,
            &NewSource {
                slug: s.slug,
                name: s.name,
                country: s.country,
                language: s.language,
                homepage_url: Some(s.homepage),
                created_at: now,
                updated_at: now,
            },
        )?;
        sources.insert(s.slug, (id, s.language));
    }
    let mut authors = HashMap::new();
    for a in catalogue::AUTHORS {
        let affiliation = match a.source {
            Some(slug) => Some(sources.get(slug).map(|(id, _)| *id).ok_or_else(|| {
                SeedError::Content(format!("author {} names unknown source {slug}", a.slug))
            })?),
            None => None,
        };
        let avatar = format!("https://images.newsdesk.example/authors/{}.jpg", a.slug);
        let id = insert_author(
            conn,
            &NewAuthor {
                slug: a.slug,
                name: a.name,
                bio: a.bio,
                avatar_url: Some(&avatar),
                affiliation_source_id: affiliation,
                created_at: now,
                updated_at: now,
            },
        )?;
        authors.insert(a.slug, id);
    }
    let mut topics = HashMap::new();
    for t in catalogue::TOPICS {
        let id = insert_topic(
            conn,
            &NewTopic {
                slug: t.slug,
                name: t.name,
                description: t.description,
                created_at: now,
                updated_at: now,
            },
        )?;
        topics.insert(t.slug, id);
    }
    Ok(CatalogueIds {
        topics,
        authors,
        sources,
    })
}
