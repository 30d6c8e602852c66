//! Wire types: what clients receive. Built from database rows, never the rows themselves.

use chrono::{DateTime, NaiveDateTime, Utc};

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::articles::{ArticleCard, ArticleRow, NamedRef};
use crate::db::{
    DbConnection, QueryResult, api_keys, articles, audit, catalogue, plans, subscriptions, users,
};
use crate::domain::account::Role;
use crate::domain::api_key::Scope;
use crate::domain::article::{AccessLevel, ArticleKind, ArticleStatus};
use crate::domain::paywall::{Access, AccessReason};
use crate::domain::plan::BillingInterval;
use crate::domain::subscription::SubscriptionStatus;
use crate::error::ApiError;

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// A topic as articles refer to it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TopicRef {
    /// Stable identifier used in URLs and filters.
    #[schema(
        example = "russia",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: String,
    /// Display name, as shown above a headline.
    #[schema(example = "Russia", max_length = 100)]
    pub name: String,
}

/// An author as a byline shows them.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuthorRef {
    /// Stable identifier used in URLs and filters.
    #[schema(
        example = "irina-volkova",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: String,
    /// Name as printed in the byline.
    #[schema(example = "Irina Volkova", max_length = 100)]
    pub name: String,
}

impl From<NamedRef> for TopicRef {
    fn from(r: NamedRef) -> Self {
        Self {
            slug: r.slug,
            name: r.name,
        }
    }
}

impl From<NamedRef> for AuthorRef {
    fn from(r: NamedRef) -> Self {
        Self {
            slug: r.slug,
            name: r.name,
        }
    }
}

/// A foreign outlet as articles refer to it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SourceRef {
    /// Stable identifier used in URLs and filters.
    #[schema(
        example = "vedomosti-vostoka",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: String,
    /// The outlet's name.
    #[schema(example = "Vedomosti Vostoka", max_length = 100)]
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "RU", min_length = 2, max_length = 2)]
    pub country: String,
    /// ISO 639-1 code of the language the outlet publishes in.
    #[schema(example = "ru", min_length = 2, max_length = 2)]
    pub language: String,
}

impl From<&catalogue::Source> for SourceRef {
    fn from(s: &catalogue::Source) -> Self {
        Self {
            slug: s.slug.clone(),
            name: s.name.clone(),
            country: s.country.clone(),
            language: s.language.clone(),
        }
    }
}

/// The picture at the top of an article.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HeroImage {
    /// Where the image is served from.
    #[schema(
        example = "https://images.newsdesk.example/2026/11/harbour-cranes.jpg",
        max_length = 2048
    )]
    pub url: String,
    /// Text alternative for readers who cannot see the image.
    #[schema(
        example = "Container cranes at dusk over a frozen harbour",
        max_length = 500
    )]
    pub alt: String,
    /// What the picture shows.
    #[schema(example = "The port of Vostochny in November", max_length = 500)]
    pub caption: Option<String>,
    /// Who took it or holds its rights.
    #[schema(example = "Photo: Anna Sorokina", max_length = 200)]
    pub credit: Option<String>,
}

/// The foreign article this one translates.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Original {
    /// The outlet that published the original.
    pub source: Option<SourceRef>,
    /// ISO 639-1 code of the original's language.
    #[schema(example = "ru", max_length = 2, pattern = "^[a-z]{2}$")]
    pub language: Option<String>,
    /// The original headline, in its language.
    #[schema(example = "Порт замерз раньше срока", max_length = 500)]
    pub title: Option<String>,
    /// Where the original can be read.
    #[schema(
        example = "https://vedomosti-vostoka.example/2026/11/port",
        max_length = 2048
    )]
    pub url: Option<String>,
    /// Who translated it.
    #[schema(example = "Daniel Hart", max_length = 200)]
    pub translator: Option<String>,
}

/// An article as lists show it: everything but the body.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticleSummary {
    /// Numeric id; stable, but prefer the slug in URLs.
    #[schema(example = 1042, minimum = 1, maximum = 9007199254740991.0)]
    pub id: i64,
    /// Identifier used in the article's URL.
    #[schema(
        example = "the-port-that-froze-early",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: String,
    /// The headline.
    #[schema(example = "The port that froze early", max_length = 300)]
    pub headline: String,
    /// The standfirst under the headline.
    #[schema(
        example = "An early winter has locked a Pacific port in ice, and with it a promise of new trade."
    )]
    #[schema(max_length = 600)]
    pub dek: String,
    /// What sort of journalism this is.
    pub kind: ArticleKind,
    /// Who may read the whole body.
    pub access_level: AccessLevel,
    /// The city the story was filed from.
    #[schema(example = "VLADIVOSTOK", max_length = 100)]
    pub dateline: Option<String>,
    /// The picture at the top, if any.
    pub hero_image: Option<HeroImage>,
    /// The video, for `kind = video`: for a video article the video is the
    /// article, so the playable URL is only given with the whole article
    /// (always for a `free` one; in an article response when `access.full`
    /// is true). Lists, search, feeds and previews carry null.
    #[schema(example = json!(null), max_length = 2048)]
    pub video_url: Option<String>,
    /// The primary topic (the kicker above the headline).
    pub topic: Option<TopicRef>,
    /// Every topic the article is filed under, the primary one first.
    #[schema(max_items = 11)]
    pub topics: Vec<TopicRef>,
    /// Bylines, in order.
    #[schema(max_items = 10)]
    pub authors: Vec<AuthorRef>,
    /// The original this article translates; null for our own reporting.
    pub original: Option<Original>,
    /// Whether editors picked it for the FOCUS rail.
    pub featured: bool,
    /// Position in the FOCUS rail, 1 first; null when not featured.
    #[schema(example = json!(null), minimum = 1, maximum = 100)]
    pub featured_rank: Option<i32>,
    /// When it was published (RFC 3339, UTC).
    #[schema(max_length = 35)]
    pub published_at: Option<DateTime<Utc>>,
    /// When it last changed (RFC 3339, UTC).
    #[schema(max_length = 35)]
    pub updated_at: DateTime<Utc>,
    /// Words in the whole body.
    #[schema(example = 940, minimum = 0, maximum = 200000)]
    pub word_count: i32,
    /// Minutes to read the whole body.
    #[schema(example = 5, minimum = 1, maximum = 1000)]
    pub reading_time_minutes: i32,
    /// Search results only: an excerpt around the matched words, HTML-escaped,
    /// with the matches in `<mark>`. Taken from the headline, the dek, and
    /// the body only as far as everyone may read it (the preview of metered
    /// and premium articles).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "…the icebreaker reached the <mark>harbour</mark> before dawn…")]
    pub highlight: Option<String>,
}

impl From<ArticleCard> for ArticleSummary {
    fn from(card: ArticleCard) -> Self {
        let row = card.row;
        let hero_image = row.hero_image_url.map(|url| HeroImage {
            url,
            alt: row.hero_image_alt.unwrap_or_default(),
            caption: row.hero_image_caption,
            credit: row.hero_image_credit,
        });
        let has_original = card.source.is_some()
            || row.original_title.is_some()
            || row.original_url.is_some()
            || row.original_language.is_some();
        let original = has_original.then(|| Original {
            source: card.source.as_ref().map(SourceRef::from),
            language: row.original_language,
            title: row.original_title,
            url: row.original_url,
            translator: row.translator,
        });
        Self {
            id: row.id.get(),
            slug: row.slug,
            headline: row.headline,
            dek: row.dek,
            kind: row.kind,
            access_level: row.access_level,
            dateline: row.dateline,
            hero_image,
            video_url: row
                .video_url
                .filter(|_| row.access_level == AccessLevel::Free),
            topic: card.primary_topic.map(TopicRef::from),
            topics: card.topics.into_iter().map(TopicRef::from).collect(),
            authors: card.authors.into_iter().map(AuthorRef::from).collect(),
            original,
            featured: row.featured,
            featured_rank: row.featured_rank,
            published_at: row.published_at.map(utc),
            updated_at: utc(row.updated_at),
            word_count: row.word_count,
            highlight: None,
            reading_time_minutes: row.reading_time_minutes,
        }
    }
}

/// An article body in both forms.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticleBody {
    /// Sanitised HTML: paragraphs, sub-headings, lists, links; no scripts.
    #[schema(
        example = "<p>The ice came three weeks early.</p>\n<h2>A season lost</h2>\n<p>Shipping agents...</p>\n"
    )]
    pub html: String,
    /// The same text without markup, paragraphs separated by blank lines.
    #[schema(example = "The ice came three weeks early.\n\nA season lost\n\nShipping agents...")]
    pub text: String,
}

/// Whether this reader gets the whole article, and why.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AccessInfo {
    /// True when `body` is the whole article; false when it is a preview.
    pub full: bool,
    /// Why: `free`, `subscriber`, `staff`, `meter`, `limit_reached` or `premium`.
    pub reason: AccessReason,
    /// The reader's monthly meter, for metered readers (anonymous and
    /// signed-in readers without a subscription); absent for others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meter: Option<MeterView>,
}

/// A reader's meter for the current calendar month (UTC).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MeterView {
    /// Metered articles allowed per month.
    #[schema(example = 5, minimum = 0, maximum = 9007199254740991.0)]
    pub limit: i64,
    /// Distinct metered articles read this month (re-reads are free).
    #[schema(example = 2, minimum = 0, maximum = 9007199254740991.0)]
    pub used: i64,
    /// How many more may be read whole this month.
    #[schema(example = 3, minimum = 0, maximum = 9007199254740991.0)]
    pub remaining: i64,
    /// When the meter starts again: the first instant of next month, UTC.
    #[schema(max_length = 35)]
    pub resets_at: DateTime<Utc>,
}

impl MeterView {
    /// The meter with `used` of `limit` spent, resetting at `resets_at`.
    pub fn new(limit: i64, used: i64, resets_at: NaiveDateTime) -> Self {
        Self {
            limit,
            used,
            remaining: (limit - used).max(0),
            resets_at: utc(resets_at),
        }
    }
}

/// One article, with as much of its body as the reader may see.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Article {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// The whole body, or a preview cut at a block boundary when `access.full` is false.
    pub body: ArticleBody,
    /// The paywall's decision for this reader.
    pub access: AccessInfo,
    /// Present when `access.full` is false: the plans and what to do next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paywall: Option<Paywall>,
}

impl Article {
    /// The article as `access` allows: a preview body unless access is full.
    pub fn new(
        row: ArticleRow,
        card: ArticleCard,
        access: Access,
        meter: Option<MeterView>,
    ) -> Self {
        let body = if access.full {
            ArticleBody {
                html: row.body.body_html,
                text: row.body.body_text,
            }
        } else {
            ArticleBody {
                html: row.body.preview_html,
                text: row.body.preview_text,
            }
        };
        let video_url = card.row.video_url.clone().filter(|_| access.full);
        Self {
            summary: ArticleSummary {
                video_url,
                ..card.into()
            },
            body,
            access: AccessInfo {
                full: access.full,
                reason: access.reason,
                meter,
            },
            paywall: None,
        }
    }
}

/// A topic with how many published articles carry it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Topic {
    /// Stable identifier used in URLs and filters.
    #[schema(
        example = "energy",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: String,
    /// Display name.
    #[schema(example = "Energy", max_length = 100)]
    pub name: String,
    /// What the topic covers.
    #[schema(
        example = "Oil, gas, power grids and the politics of keeping the lights on.",
        max_length = 1000
    )]
    pub description: String,
    /// Published articles filed under it (primary or secondary).
    #[schema(example = 12, minimum = 0, maximum = 9007199254740991.0)]
    pub article_count: i64,
}

impl Topic {
    /// Attaches published-article counts: one query for a whole page.
    pub(crate) fn with_counts(
        conn: &mut DbConnection,
        topics: Vec<catalogue::Topic>,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        let ids: Vec<i64> = topics.iter().map(|t| t.id.get()).collect();
        let counts = catalogue::published_counts_by_topic(conn, &ids, now)?;
        Ok(topics
            .into_iter()
            .map(|t| {
                let count = counts.get(&t.id.get()).copied().unwrap_or(0);
                Self::new(t, count)
            })
            .collect())
    }

    /// The topic with its count.
    pub fn new(topic: catalogue::Topic, article_count: i64) -> Self {
        Self {
            slug: topic.slug,
            name: topic.name,
            description: topic.description,
            article_count,
        }
    }
}

/// An author's profile.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Author {
    /// Stable identifier used in URLs and filters.
    #[schema(
        example = "irina-volkova",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: String,
    /// Name as printed in bylines.
    #[schema(example = "Irina Volkova", max_length = 100)]
    pub name: String,
    /// A short biography.
    #[schema(
        example = "Irina Volkova covers shipping and the Russian Far East.",
        max_length = 2000
    )]
    pub bio: String,
    /// Portrait URL.
    #[schema(
        example = "https://images.newsdesk.example/authors/irina-volkova.jpg",
        max_length = 2048
    )]
    pub avatar_url: Option<String>,
    /// The outlet the author writes for, when not our own staff.
    pub affiliation: Option<SourceRef>,
    /// Published articles with this byline.
    #[schema(example = 7, minimum = 0, maximum = 9007199254740991.0)]
    pub article_count: i64,
}

impl Author {
    /// Attaches affiliations and article counts: two queries for a whole page.
    pub(crate) fn with_details(
        conn: &mut DbConnection,
        authors: Vec<catalogue::Author>,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        let ids: Vec<i64> = authors.iter().map(|a| a.id.get()).collect();
        let counts = catalogue::published_counts_by_author(conn, &ids, now)?;
        let source_ids: Vec<i64> = authors
            .iter()
            .filter_map(|a| a.affiliation_source_id)
            .collect();
        let sources = catalogue::sources_by_id(conn, &source_ids)?;
        Ok(authors
            .into_iter()
            .map(|a| {
                let count = counts.get(&a.id.get()).copied().unwrap_or(0);
                let affiliation = a.affiliation_source_id.and_then(|id| sources.get(&id));
                Self::new(a, affiliation, count)
            })
            .collect())
    }

    /// The profile with its affiliation and count.
    pub fn new(
        author: catalogue::Author,
        affiliation: Option<&catalogue::Source>,
        article_count: i64,
    ) -> Self {
        Self {
            slug: author.slug,
            name: author.name,
            bio: author.bio,
            avatar_url: author.avatar_url,
            affiliation: affiliation.map(SourceRef::from),
            article_count,
        }
    }
}

/// A foreign outlet we translate.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Source {
    /// Stable identifier used in URLs and filters.
    #[schema(
        example = "vedomosti-vostoka",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: String,
    /// The outlet's name.
    #[schema(example = "Vedomosti Vostoka", max_length = 100)]
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "RU", max_length = 2, pattern = "^[A-Z]{2}$")]
    pub country: String,
    /// ISO 639-1 language code.
    #[schema(example = "ru", max_length = 2, pattern = "^[a-z]{2}$")]
    pub language: String,
    /// The outlet's home page.
    #[schema(example = "https://vedomosti-vostoka.example", max_length = 2048)]
    pub homepage_url: Option<String>,
    /// Published translations of its articles.
    #[schema(example = 9, minimum = 0, maximum = 9007199254740991.0)]
    pub article_count: i64,
}

impl Source {
    /// Attaches published-article counts: one query for a whole page.
    pub(crate) fn with_counts(
        conn: &mut DbConnection,
        sources: Vec<catalogue::Source>,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<Self>> {
        let ids: Vec<i64> = sources.iter().map(|t| t.id.get()).collect();
        let counts = catalogue::published_counts_by_source(conn, &ids, now)?;
        Ok(sources
            .into_iter()
            .map(|t| {
                let count = counts.get(&t.id.get()).copied().unwrap_or(0);
                Self::new(t, count)
            })
            .collect())
    }

    /// The source with its count.
    pub fn new(source: catalogue::Source, article_count: i64) -> Self {
        Self {
            slug: source.slug,
            name: source.name,
            country: source.country,
            language: source.language,
            homepage_url: source.homepage_url,
            article_count,
        }
    }
}

/// Pagination details shared by every list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ListMeta {
    /// The page size used.
    #[schema(example = 20, minimum = 1, maximum = 100)]
    pub limit: i64,
    /// Pass as `cursor` to get the next page; null on the last page.
    #[schema(example = "cDE6MTc2NDQyNTYwMDAwMDAwMDo0Mg", max_length = 512)]
    pub next_cursor: Option<String>,
}

impl ListMeta {
    /// The meta of a list that comes whole, in one page of `limit` items.
    pub(crate) fn whole(limit: i64) -> Self {
        Self {
            limit,
            next_cursor: None,
        }
    }
}

/// An item that lists come in pages of.
pub(crate) trait Listed: Sized {
    /// The page type, as the OpenAPI document names it.
    type Page;

    /// A page of `data`.
    fn page(data: Vec<Self>, meta: ListMeta) -> Self::Page;
}

macro_rules! list_type {
    ($(#[$meta:meta])* $name:ident of $item:ty) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Serialize, ToSchema)]
        pub struct $name {
            /// The items of this page (at most 100, the largest `limit`).
            #[schema(max_items = 100)]
            pub data: Vec<$item>,
            /// How to get the next page.
            pub meta: ListMeta,
        }

        impl Listed for $item {
            type Page = $name;

            fn page(data: Vec<Self>, meta: ListMeta) -> $name {
                $name { data, meta }
            }
        }
    };
}

list_type!(
    /// A page of article summaries, newest first.
    ArticleList of ArticleSummary
);
list_type!(
    /// A page of topics, by slug.
    TopicList of Topic
);
list_type!(
    /// A page of authors, by slug.
    AuthorList of Author
);
list_type!(
    /// A page of sources, by slug.
    SourceList of Source
);

/// An account as its owner (or an admin) sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct User {
    /// The user's id.
    #[schema(example = 42, minimum = 1, maximum = 9007199254740991.0)]
    pub id: i64,
    /// The sign-in email, lower-cased.
    #[schema(example = "ana.lopez@example.com", max_length = 254)]
    pub email: String,
    /// The name shown for the user.
    #[schema(example = "Ana López", max_length = 100)]
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// When the account was created.
    #[schema(max_length = 35)]
    pub created_at: DateTime<Utc>,
}

impl From<users::User> for User {
    fn from(user: users::User) -> Self {
        Self {
            id: user.id.get(),
            email: user.email,
            display_name: user.display_name,
            role: user.role,
            created_at: utc(user.created_at),
        }
    }
}

/// A session: the account and the tokens to use it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct Session {
    /// The account.
    pub user: User,
    /// Short-lived JWT for `Authorization: Bearer ...`.
    #[schema(
        example = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl",
        max_length = 2048
    )]
    pub access_token: String,
    /// Single-use token for `POST /auth/refresh`; keep it secret.
    #[schema(
        example = "3q2-7wAAAAAb8Xl0b2tlbl9vZl9leGFtcGxlX29ubHk",
        max_length = 128
    )]
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer", max_length = 6)]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900, minimum = 60, maximum = 86400)]
    pub expires_in: i64,
}

/// An article as the newsroom sees it: everything readers see, plus its
/// editorial state and the Markdown source.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct EditorArticle {
    #[serde(flatten)]
    pub article: Article,
    /// `scheduled` is a published article whose time has not come yet.
    pub status: ArticleStatus,
    /// The body as the editors wrote it.
    #[schema(
        example = "The ice came three weeks early.\n\n## A season lost\n\nShipping agents..."
    )]
    #[schema(max_length = 200000)]
    pub body_markdown: String,
    /// When the article was created.
    #[schema(max_length = 35)]
    pub created_at: DateTime<Utc>,
    /// Increases with every change; the ETag is built from it.
    #[schema(example = 3, minimum = 1, maximum = 2147483647)]
    pub revision: i32,
}

impl EditorArticle {
    /// Loads an article for the newsroom, or 404.
    pub fn load(conn: &mut DbConnection, slug: &str, now: NaiveDateTime) -> Result<Self, ApiError> {
        let (row, card) = articles::find_any(conn, slug)?.ok_or(ApiError::NotFound("article"))?;
        Ok(Self::new(row, card, now))
    }

    /// The whole article with its state as of `now`.
    pub fn new(row: ArticleRow, card: ArticleCard, now: NaiveDateTime) -> Self {
        let summary = &row.summary;
        let status = match (summary.status, summary.published_at) {
            (ArticleStatus::Published, Some(at)) if at > now => ArticleStatus::Scheduled,
            (status, _) => status,
        };
        let (created_at, revision) = (utc(summary.created_at), summary.revision);
        let body_markdown = row.body.body_markdown.clone();
        let access = Access {
            full: true,
            reason: AccessReason::Staff,
        };
        Self {
            article: Article::new(row, card, access, None),
            status,
            body_markdown,
            created_at,
            revision,
        }
    }

    /// The validator `If-Match` must repeat to change this article.
    pub fn etag(&self) -> String {
        format!("\"r{}-{}\"", self.revision, self.article.summary.id)
    }
}

/// An account as admins see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AdminUser {
    #[serde(flatten)]
    pub user: User,
    /// A disabled account cannot log in, and its tokens stop working.
    pub disabled: bool,
    /// When the account last changed.
    #[schema(max_length = 35)]
    pub updated_at: DateTime<Utc>,
}

impl From<users::User> for AdminUser {
    fn from(user: users::User) -> Self {
        let (disabled, updated_at) = (user.disabled, utc(user.updated_at));
        Self {
            user: User::from(user),
            disabled,
            updated_at,
        }
    }
}

/// Who did something, in the audit trail.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Actor {
    /// The account's id.
    #[schema(example = 3, minimum = 1, maximum = 9007199254740991.0)]
    pub id: i64,
    /// The account's email, when it still exists.
    #[schema(example = "editor@newsdesk.example", max_length = 254)]
    pub email: Option<String>,
}

/// One change in the audit trail.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    #[schema(example = 981, minimum = 1, maximum = 9007199254740991.0)]
    pub id: i64,
    /// Who made the change; null when the account was deleted.
    pub actor: Option<Actor>,
    /// What was done, e.g. `article.publish`, `topic.delete`, `user.update`.
    #[schema(example = "article.publish", max_length = 64)]
    pub action: String,
    /// What it was done to, e.g. `article:the-port-that-froze-early`.
    #[schema(example = "article:the-port-that-froze-early", max_length = 256)]
    pub target: String,
    /// A short summary of the change.
    #[schema(value_type = Object, example = json!({"published_at": "2026-11-29T06:00:00+00:00"}))]
    pub details: serde_json::Value,
    /// When it happened.
    #[schema(max_length = 35)]
    pub at: DateTime<Utc>,
}

impl From<audit::AuditEvent> for AuditEvent {
    fn from(event: audit::AuditEvent) -> Self {
        Self {
            id: event.id,
            actor: event.actor_id.map(|id| Actor {
                id,
                email: event.actor_email,
            }),
            action: event.action,
            target: event.target,
            details: serde_json::from_str(&event.details).unwrap_or(serde_json::Value::Null),
            at: utc(event.at),
        }
    }
}

list_type!(
    /// A page of accounts, by id.
    UserList of AdminUser
);
list_type!(
    /// A page of the audit trail, newest first.
    AuditList of AuditEvent
);

/// A subscription plan.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Plan {
    /// Stable identifier, e.g. `monthly`.
    #[schema(
        example = "monthly",
        max_length = 60,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub code: String,
    /// Display name.
    #[schema(example = "Monthly", max_length = 100)]
    pub name: String,
    /// The price in minor units of `currency` (cents for USD).
    #[schema(example = 290, minimum = 0, maximum = 100000000)]
    pub price_minor: i64,
    /// ISO 4217 currency code.
    #[schema(example = "USD", max_length = 3, pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// How often it renews.
    pub interval: BillingInterval,
    /// Whether new subscriptions may choose it.
    pub active: bool,
}

impl From<plans::Plan> for Plan {
    fn from(plan: plans::Plan) -> Self {
        Self {
            code: plan.code,
            name: plan.name,
            price_minor: plan.price_minor,
            currency: plan.currency,
            interval: plan.billing_interval,
            active: plan.active,
        }
    }
}

list_type!(
    /// Plans, cheapest first.
    PlanList of Plan
);

/// What a reader who may not read the whole article can do next.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Paywall {
    /// For people.
    #[schema(
        example = "You've reached your monthly limit of free articles.",
        max_length = 200
    )]
    pub message: String,
    /// The plans on offer.
    #[schema(max_items = 100)]
    pub plans: Vec<Plan>,
    /// Next steps, in order of preference.
    #[schema(max_items = 4)]
    pub actions: Vec<PaywallAction>,
}

/// One next step past the paywall.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaywallAction {
    /// `log_in`, `register` or `subscribe`.
    #[schema(example = "subscribe", max_length = 32)]
    pub kind: &'static str,
    /// The HTTP method of the endpoint.
    #[schema(example = "GET", max_length = 8)]
    pub method: &'static str,
    /// The endpoint.
    #[schema(example = "/api/v1/plans", max_length = 64)]
    pub href: &'static str,
}

impl Paywall {
    /// The paywall for a reader refused for `reason`; `signed_in` decides
    /// whether logging in is still a step.
    pub fn new(reason: AccessReason, signed_in: bool, plans: Vec<Plan>) -> Self {
        let message = match reason {
            AccessReason::LimitReached => "You've reached your monthly limit of free articles.",
            _ => "This article is for subscribers.",
        };
        let mut actions = Vec::new();
        if !signed_in {
            actions.push(PaywallAction {
                kind: "log_in",
                method: "POST",
                href: "/api/v1/auth/login",
            });
            actions.push(PaywallAction {
                kind: "register",
                method: "POST",
                href: "/api/v1/auth/register",
            });
        }
        actions.push(PaywallAction {
            kind: "subscribe",
            method: "POST",
            href: "/api/v1/me/subscription",
        });
        Self {
            message: message.into(),
            plans,
            actions,
        }
    }
}

/// A reader's subscription.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "sub_5f0c2a9e8b7d4c1e9a3f6b2d8c4e1a7f",
    "plan": {"code": "monthly", "name": "Monthly", "price_minor": 290, "currency": "USD", "interval": "month", "active": true},
    "status": "active",
    "provider": "test",
    "full_access": true,
    "current_period_start": "2026-11-29T10:00:00Z",
    "current_period_end": "2026-12-29T10:00:00Z",
    "cancel_at_period_end": false,
    "grace_until": null,
    "canceled_at": null,
    "created_at": "2026-11-29T10:00:00Z"
}))]
pub struct Subscription {
    /// The subscription's id, as the payment processor knows it too.
    #[schema(example = "sub_5f0c2a9e8b7d4c1e9a3f6b2d8c4e1a7f", max_length = 64)]
    pub id: String,
    /// The plan subscribed to.
    pub plan: Plan,
    /// Where it stands now: `incomplete` (awaiting the first payment),
    /// `active`, `past_due` (a payment failed; access continues until
    /// `grace_until`), `canceled` (access until `current_period_end`, no
    /// renewal) or `expired`.
    pub status: SubscriptionStatus,
    /// Who takes the payments: `test` (charges nothing) or `webhook` (a payment processor).
    #[schema(example = "test", max_length = 32)]
    pub provider: String,
    /// Whether the subscriber reads every article whole right now.
    pub full_access: bool,
    /// Start of the paid period (RFC 3339, UTC); null until the first payment.
    #[schema(max_length = 35)]
    pub current_period_start: Option<DateTime<Utc>>,
    /// End of the paid period: renewal is due, or access ends if canceled.
    #[schema(max_length = 35)]
    pub current_period_end: Option<DateTime<Utc>>,
    /// Canceled: it will not renew, and access ends with the period.
    pub cancel_at_period_end: bool,
    /// While `past_due`: when access ends unless a payment succeeds.
    #[schema(max_length = 35)]
    pub grace_until: Option<DateTime<Utc>>,
    /// When it was first canceled.
    #[schema(max_length = 35)]
    pub canceled_at: Option<DateTime<Utc>>,
    /// When it was started.
    #[schema(max_length = 35)]
    pub created_at: DateTime<Utc>,
    /// On the answer to starting a subscription only: what happened to the payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentNote>,
}

/// What starting a subscription did about payment.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaymentNote {
    /// Whether money was taken by this request.
    pub charged: bool,
    /// For people.
    #[schema(
        example = "Test mode: activated at once; nothing was charged.",
        max_length = 200
    )]
    pub message: String,
}

impl Subscription {
    /// The view of `row` (of `plan`) at instant `now`.
    pub fn new(
        row: subscriptions::Subscription,
        plan: plans::Plan,
        now: NaiveDateTime,
        grace: chrono::Duration,
    ) -> Self {
        let status = row.terms().status_at(now, grace);
        Self {
            id: row.public_id,
            plan: Plan::from(plan),
            status,
            provider: row.provider,
            full_access: status.gives_access(),
            current_period_start: row.current_period_start.map(utc),
            current_period_end: row.current_period_end.map(utc),
            cancel_at_period_end: row.cancel_at_period_end,
            grace_until: row
                .grace_until
                .filter(|_| status == SubscriptionStatus::PastDue)
                .map(utc),
            canceled_at: row.canceled_at.map(utc),
            created_at: utc(row.created_at),
            payment: None,
        }
    }
}

/// The acknowledgement of a payment event.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct WebhookReceipt {
    /// The event's id.
    #[schema(example = "evt_7d1b9c2e", max_length = 255)]
    pub event_id: String,
    /// `applied` (the subscription changed), `ignored` (nothing to change:
    /// stale, out of order, unknown subscription or event type; see
    /// `detail`), `rejected` (a payment whose amount, currency or period
    /// does not match the plan: nothing changed, and it is recorded) or
    /// `duplicate` (this event was processed before).
    #[schema(example = "applied", max_length = 32)]
    pub outcome: &'static str,
    /// Why it was ignored, for the processor's logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub detail: Option<String>,
}

/// A topic whose readership is rising.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TrendingTopic {
    /// The topic.
    pub topic: TopicRef,
    /// Views of its published articles in the last 24 hours.
    #[schema(example = 1840, minimum = 0, maximum = 9007199254740991.0)]
    pub views_24h: i64,
    /// Views in the 7 days before that.
    #[schema(example = 4200, minimum = 0, maximum = 9007199254740991.0)]
    pub views_previous_7d: i64,
    /// `views_24h / max(views_previous_7d / 7, 10)`: how many times its usual
    /// daily readership the topic had today.
    #[schema(example = 3.07)]
    pub score: f64,
}

list_type!(
    /// Topics rising in readership, highest score first.
    TrendingTopicList of TrendingTopic
);

/// The front page in one response: summaries only, never a body.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct Home {
    /// THE LATEST: the newest published articles.
    #[schema(max_items = 10)]
    pub latest: Vec<ArticleSummary>,
    /// FOCUS: the editors' picks, by rank.
    #[schema(max_items = 6)]
    pub focus: Vec<ArticleSummary>,
    /// TRENDING TOPICS: topics rising in readership.
    #[schema(max_items = 5)]
    pub trending_topics: Vec<TrendingTopic>,
    /// MOST READ: the most-read articles of the last 24 hours.
    #[schema(max_items = 5)]
    pub most_read: Vec<ArticleSummary>,
}

/// A third-party API key, as admins see it (never its secret).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiKey {
    /// The key's id.
    #[schema(example = 7, minimum = 1, maximum = 9007199254740991.0)]
    pub id: i64,
    /// Who it is for.
    #[schema(example = "Harbour Monitor syndication", max_length = 100)]
    pub name: String,
    /// The first characters of the secret, to tell keys apart.
    #[schema(example = "nd_Q2x9bX", max_length = 16)]
    pub prefix: String,
    /// What it may do.
    #[schema(min_items = 1, max_items = 2)]
    pub scopes: Vec<Scope>,
    /// Requests allowed per minute.
    #[schema(example = 600, minimum = 1, maximum = 100000)]
    pub rate_limit_per_minute: i32,
    /// When it was made.
    #[schema(max_length = 35)]
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute); null if never.
    #[schema(max_length = 35)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; null while it works.
    #[schema(max_length = 35)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_keys::ApiKey> for ApiKey {
    fn from(row: api_keys::ApiKey) -> Self {
        Self {
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            scopes: Scope::parse_list(&row.scopes),
            rate_limit_per_minute: row.rate_limit_per_minute,
            created_at: utc(row.created_at),
            last_used_at: row.last_used_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        }
    }
}

/// A new key, with its secret: shown this once and never again.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct CreatedApiKey {
    /// The key.
    pub key: ApiKey,
    /// Send it as `X-API-Key`. Only a hash is kept: store it now.
    #[schema(
        example = "nd_Q2x9bXlZ0a8T1rVw3kM6pN4sE7uH5jC2gF9dB0yL1qA",
        max_length = 100
    )]
    pub secret: String,
}

list_type!(
    /// API keys, newest first.
    ApiKeyList of ApiKey
);
