//! Test data, built through the library's own insert functions.

use chrono::{Duration, NaiveDateTime};
use newsdesk::clock::Clock;
use newsdesk::db::articles::{NewArticle, NewBody, insert_article};
use newsdesk::db::catalogue::{
    NewAuthor, NewSource, NewTopic, insert_author, insert_source, insert_topic,
};
use newsdesk::domain::article::{AccessLevel, ArticleKind, ArticleStatus};
use newsdesk::domain::markdown;

use crate::harness::TestApp;

/// A body long enough to have a preview that is clearly not the whole text.
pub const BODY: &str = "The opening paragraph sets the scene with enough words to stand on its own as a preview for readers who have not subscribed yet, and it keeps going for a while so that the preview reaches its minimum length before the first heading. It adds a further sentence about the harbour, the ice and the ships waiting in the bay, so that nobody can mistake it for a short note.\n\n## Bring a flash drive\n\nThe second section holds the detail that only readers with access should see, including the SECRET-ENDING marker.\n\nA closing paragraph with the last of the reporting.\n";

impl TestApp {
    /// Inserts a topic; returns its id.
    pub fn topic(&self, slug: &str, name: &str) -> i64 {
        let now = Clock::System.now();
        self.db(|conn| {
            insert_topic(
                conn,
                &NewTopic {
                    slug,
                    name,
                    description: "A topic for tests.",
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .expect("insert topic")
    }

    /// Inserts an author; returns their id.
    pub fn author(&self, slug: &str, name: &str, affiliation: Option<i64>) -> i64 {
        let now = Clock::System.now();
        self.db(|conn| {
            insert_author(
                conn,
                &NewAuthor {
                    slug,
                    name,
                    bio: "An author for tests.",
                    avatar_url: None,
                    affiliation_source_id: affiliation,
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .expect("insert author")
    }

    /// Inserts a source; returns its id.
    pub fn source(&self, slug: &str, language: &str) -> i64 {
        let now = Clock::System.now();
        self.db(|conn| {
            insert_source(
                conn,
                &NewSource {
                    slug,
                    name: slug,
                    country: "XX",
                    language,
                    homepage_url: Some("https://source.example"),
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .expect("insert source")
    }
}

/// An article to insert, with sensible defaults: published an hour ago, free news.
pub struct ArticleBuilder {
    slug: String,
    headline: String,
    status: ArticleStatus,
    access: AccessLevel,
    kind: ArticleKind,
    published_at: Option<NaiveDateTime>,
    topics: Vec<i64>,
    authors: Vec<i64>,
    source: Option<(i64, String)>,
    featured_rank: Option<i32>,
    body: String,
}

impl ArticleBuilder {
    /// A free news article published an hour ago.
    pub fn new(slug: &str) -> Self {
        Self {
            slug: slug.to_owned(),
            headline: format!("Headline of {slug}"),
            status: ArticleStatus::Published,
            access: AccessLevel::Free,
            kind: ArticleKind::News,
            published_at: Some(Clock::System.now() - Duration::hours(1)),
            topics: Vec::new(),
            authors: Vec::new(),
            source: None,
            featured_rank: None,
            body: BODY.to_owned(),
        }
    }

    /// Drafts and archived articles have no publication time; a scheduled
    /// one is published with a time a day ahead, as the newsroom stores it.
    pub fn status(mut self, status: ArticleStatus) -> Self {
        match status {
            ArticleStatus::Published => {}
            ArticleStatus::Scheduled => {
                self.status = ArticleStatus::Published;
                return self.minutes_ago(-24 * 60);
            }
            other => {
                self.status = other;
                self.published_at = None;
            }
        }
        self
    }

    pub fn access(mut self, access: AccessLevel) -> Self {
        self.access = access;
        self
    }

    pub fn kind(mut self, kind: ArticleKind) -> Self {
        self.kind = kind;
        self
    }

    /// Published at exactly this instant.
    pub fn published_at(mut self, at: NaiveDateTime) -> Self {
        self.published_at = Some(at);
        self
    }

    /// Published this many minutes ago (negative: in the future).
    pub fn minutes_ago(self, minutes: i64) -> Self {
        self.published_at(Clock::System.now() - Duration::minutes(minutes))
    }

    /// Filed under these topics, the first primary.
    pub fn topics(mut self, topics: &[i64]) -> Self {
        self.topics = topics.to_vec();
        self
    }

    /// Bylined to these authors, in order.
    pub fn authors(mut self, authors: &[i64]) -> Self {
        self.authors = authors.to_vec();
        self
    }

    /// A translation from this source, in this language.
    pub fn source(mut self, id: i64, language: &str) -> Self {
        self.source = Some((id, language.to_owned()));
        self
    }

    pub fn headline(mut self, headline: &str) -> Self {
        self.headline = headline.to_owned();
        self
    }

    /// A body whose first paragraph is `opening` (inside the preview for
    /// paywalled articles) followed by the standard test body.
    pub fn opening(mut self, opening: &str) -> Self {
        self.body = format!("{opening}\n\n{BODY}");
        self
    }

    /// Appends `text` as a closing paragraph, after the preview cut.
    pub fn closing(mut self, text: &str) -> Self {
        self.body = format!("{}\n{text}\n", self.body);
        self
    }

    pub fn featured(mut self, rank: i32) -> Self {
        self.featured_rank = Some(rank);
        self
    }

    /// Inserts it; returns its id.
    pub fn insert(self, app: &TestApp) -> i64 {
        let body = markdown::render(&self.body);
        let now = Clock::System.now();
        let new = NewArticle {
            slug: &self.slug,
            headline: &self.headline,
            dek: "A dek for tests.",
            dateline: Some("TESTVILLE"),
            hero_image_url: Some("https://images.example/hero.jpg"),
            hero_image_alt: Some("Alt text"),
            hero_image_caption: None,
            hero_image_credit: Some("Photo: tests"),
            kind: self.kind.as_str(),
            video_url: (self.kind == ArticleKind::Video).then_some("https://video.example/v.mp4"),
            original_source_id: self.source.as_ref().map(|s| s.0),
            original_language: self.source.as_ref().map(|s| s.1.as_str()),
            original_title: self.source.as_ref().map(|_| "Original title"),
            original_url: self
                .source
                .as_ref()
                .map(|_| "https://source.example/original"),
            translator: self.source.as_ref().map(|_| "A. Translator"),
            status: self.status.as_str(),
            access_level: self.access.as_str(),
            featured: self.featured_rank.is_some(),
            featured_rank: self.featured_rank,
            publish_at: self.published_at,
            published_at: self.published_at,
            word_count: body.word_count as i32,
            reading_time_minutes: body.reading_time_minutes as i32,
            created_at: now,
            updated_at: now,
        };
        let body = NewBody {
            markdown: &self.body,
            rendered: &body,
        };
        app.db(|conn| insert_article(conn, &new, body, &self.authors, &self.topics))
            .expect("insert article")
    }
}
