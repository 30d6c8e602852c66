//! The newsroom: editors create, edit, schedule, publish, unpublish, archive
//! and delete articles. Every change is audited.

use crate::cache::Purge;
use crate::http::{ArticleSlug, Body, Json};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, patch, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Editor;
use crate::clock::to_micros;
use crate::db::articles::{self as article_db, ArticleChanges, NewArticle, NewBody};
use crate::db::{DbConnection, audit, catalogue};
use crate::domain::article::{AccessLevel, ArticleKind, ArticleStatus, Moved, Transition};
use crate::domain::id::ArticleId;
use crate::domain::id::UserId;
use crate::domain::{markdown, slug};
use crate::error::responses::{
    BadRequest, Conflict, Forbidden, InvalidToken, NotFound, PayloadTooLarge, PreconditionFailed,
    Unavailable, UnsupportedMediaType,
};
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::http::{is_http_url, present};
use crate::state::AppState;
use crate::views::EditorArticle;

/// Longest body accepted, in bytes of Markdown.
pub(crate) const MAX_BODY_BYTES: usize = 200_000;

/// The picture at the top of an article.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeroImageInput {
    /// An http(s) URL.
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f\ufeff]+$",
        example = "https://images.newsdesk.example/2026/11/harbour.jpg"
    )]
    pub url: String,
    /// Text alternative.
    #[schema(max_length = 500, example = "Container cranes over a frozen harbour")]
    pub alt: String,
    /// What the picture shows.
    #[schema(max_length = 500)]
    pub caption: Option<String>,
    /// Who took it.
    #[schema(max_length = 200)]
    pub credit: Option<String>,
}

/// The foreign original an article translates.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OriginalInput {
    /// The source's slug.
    #[schema(
        example = "vedomosti-vostoka",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub source: Option<String>,
    /// ISO 639-1 code; defaults to the source's language.
    #[schema(pattern = "^[a-z]{2}$", example = "ru", max_length = 2)]
    pub language: Option<String>,
    /// The original headline.
    #[schema(max_length = 500)]
    pub title: Option<String>,
    /// An http(s) URL of the original.
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f\ufeff]+$"
    )]
    pub url: Option<String>,
    /// Who translated it.
    #[schema(max_length = 200, example = "Daniel Hart")]
    pub translator: Option<String>,
}

/// A new article; it starts as a draft.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "headline": "The port that froze early",
    "dek": "An early winter has locked a Pacific harbour in ice.",
    "body_markdown": "The ice came three weeks early.\n\n## A season lost\n\nShipping agents say...",
    "kind": "news",
    "access_level": "metered",
    "topic": "russia",
    "topics": ["economy"],
    "authors": ["irina-volkova"],
    "dateline": "VLADIVOSTOK",
    "original": {"source": "vedomosti-vostoka", "title": "Порт замёрз раньше срока", "translator": "Daniel Hart"}
}))]
pub(crate) struct CreateArticleRequest {
    /// Defaults to one made from the headline; made unique with a suffix.
    #[schema(max_length = 120, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[schema(min_length = 1, max_length = 300)]
    pub headline: String,
    #[serde(default)]
    #[schema(max_length = 600)]
    pub dek: String,
    /// Markdown; raw HTML is shown as text, unsafe links are neutralised.
    #[schema(min_length = 1, max_length = 200000, pattern = r"\S")]
    pub body_markdown: String,
    #[serde(default = "default_kind")]
    pub kind: ArticleKind,
    pub access_level: AccessLevel,
    /// The primary topic's slug.
    #[schema(max_length = 120, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topic: String,
    /// Secondary topics' slugs.
    #[serde(default)]
    #[schema(max_items = 10, value_type = Vec<crate::http::SlugRef>)]
    pub topics: Vec<String>,
    /// Bylines, in order (authors' slugs).
    #[schema(min_items = 1, max_items = 10, value_type = Vec<crate::http::SlugRef>)]
    pub authors: Vec<String>,
    #[schema(max_length = 100)]
    pub dateline: Option<String>,
    pub hero_image: Option<HeroImageInput>,
    /// Required for `kind = video`.
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f\ufeff]+$"
    )]
    pub video_url: Option<String>,
    pub original: Option<OriginalInput>,
    #[serde(default)]
    pub featured: bool,
    #[schema(minimum = 1, maximum = 100)]
    pub featured_rank: Option<i32>,
}

fn default_kind() -> ArticleKind {
    ArticleKind::News
}

/// Changes to an article: only the fields present change; `null` clears an
/// optional one.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"headline": "The port that froze three weeks early", "featured": true, "featured_rank": 1}))]
pub(crate) struct UpdateArticleRequest {
    #[schema(max_length = 120, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[schema(min_length = 1, max_length = 300)]
    pub headline: Option<String>,
    #[schema(max_length = 600)]
    pub dek: Option<String>,
    #[schema(max_length = 200000)]
    pub body_markdown: Option<String>,
    pub kind: Option<ArticleKind>,
    pub access_level: Option<AccessLevel>,
    #[schema(max_length = 120, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topic: Option<String>,
    #[schema(max_items = 10, value_type = Option<Vec<crate::http::SlugRef>>)]
    pub topics: Option<Vec<String>>,
    #[schema(min_items = 1, max_items = 10, value_type = Option<Vec<crate::http::SlugRef>>)]
    pub authors: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 100)]
    pub dateline: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub hero_image: Option<Option<HeroImageInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f\ufeff]+$"
    )]
    pub video_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub original: Option<Option<OriginalInput>>,
    pub featured: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 1, maximum = 100)]
    pub featured_rank: Option<Option<i32>>,
}

impl From<CreateArticleRequest> for UpdateArticleRequest {
    fn from(c: CreateArticleRequest) -> Self {
        Self {
            slug: c.slug,
            headline: Some(c.headline),
            dek: Some(c.dek),
            body_markdown: Some(c.body_markdown),
            kind: Some(c.kind),
            access_level: Some(c.access_level),
            topic: Some(c.topic),
            topics: Some(c.topics),
            authors: Some(c.authors),
            dateline: Some(c.dateline),
            hero_image: Some(c.hero_image),
            video_url: Some(c.video_url),
            original: Some(c.original),
            featured: Some(c.featured),
            featured_rank: Some(c.featured_rank),
        }
    }
}

/// When to publish.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"publish_at": "2026-12-01T06:00:00Z"}))]
pub(crate) struct PublishRequest {
    /// Publish at this time (RFC 3339) instead of now. A future time
    /// schedules the article: it appears on its own then.
    #[schema(max_length = 35)]
    pub publish_at: Option<DateTime<Utc>>,
}

/// Checks a request's fields, collecting one error per bad field.
fn check_fields(req: &UpdateArticleRequest, creating: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: &str| errors.push(FieldError::new(field, message));
    if let Some(s) = &req.slug
        && !slug::is_valid(s)
    {
        bad(
            "slug",
            "must be 1-120 lowercase letters, digits and single hyphens",
        );
    }
    if let Some(h) = &req.headline
        && (h.trim().is_empty() || h.chars().count() > 300)
    {
        bad("headline", "must be 1 to 300 characters");
    }
    if req.dek.as_ref().is_some_and(|d| d.chars().count() > 600) {
        bad("dek", "must be at most 600 characters");
    }
    if let Some(body) = &req.body_markdown {
        if body.len() > MAX_BODY_BYTES {
            bad("body_markdown", "must be at most 200,000 bytes");
        } else if creating && body.trim().is_empty() {
            bad("body_markdown", "must not be empty");
        }
    }
    if req.topics.as_ref().is_some_and(|t| t.len() > 10) {
        bad("topics", "at most 10");
    }
    // References are slugs; one that cannot be a slug names nothing.
    for (field, refs) in [
        ("topic", req.topic.as_ref().map(std::slice::from_ref)),
        ("topics", req.topics.as_deref()),
        ("authors", req.authors.as_deref()),
    ] {
        if refs.is_some_and(|r| r.iter().any(|s| !slug::is_valid(s))) {
            bad(field, "must name existing slugs");
        }
    }
    if let Some(authors) = &req.authors
        && (authors.is_empty() || authors.len() > 10)
    {
        bad("authors", "1 to 10 authors");
    }
    if let Some(Some(d)) = &req.dateline
        && d.chars().count() > 100
    {
        bad("dateline", "must be at most 100 characters");
    }
    if let Some(Some(image)) = &req.hero_image {
        if !is_http_url(&image.url) {
            bad("hero_image.url", "must be an http(s) URL");
        }
        for (field, text, max) in [
            ("hero_image.alt", Some(&image.alt), 500),
            ("hero_image.caption", image.caption.as_ref(), 500),
            ("hero_image.credit", image.credit.as_ref(), 200),
        ] {
            if text.is_some_and(|t| t.chars().count() > max) {
                bad(field, &format!("must be at most {max} characters"));
            }
        }
    }
    if let Some(Some(url)) = &req.video_url
        && !is_http_url(url)
    {
        bad("video_url", "must be an http(s) URL");
    }
    if creating && req.kind == Some(ArticleKind::Video) && !matches!(req.video_url, Some(Some(_))) {
        bad("video_url", "is required for a video");
    }
    if let Some(Some(original)) = &req.original {
        if original.source.as_ref().is_some_and(|s| !slug::is_valid(s)) {
            bad("original.source", "must name an existing source's slug");
        }
        if let Some(language) = &original.language
            && !(language.len() == 2 && language.bytes().all(|b| b.is_ascii_lowercase()))
        {
            bad("original.language", "must be a two-letter ISO 639-1 code");
        }
        if original.url.as_ref().is_some_and(|u| !is_http_url(u)) {
            bad("original.url", "must be an http(s) URL");
        }
        for (field, text, max) in [
            ("original.title", original.title.as_ref(), 500),
            ("original.translator", original.translator.as_ref(), 200),
        ] {
            if text.is_some_and(|t| t.chars().count() > max) {
                bad(field, &format!("must be at most {max} characters"));
            }
        }
    }
    if let Some(Some(rank)) = req.featured_rank
        && !(1..=100).contains(&rank)
    {
        bad("featured_rank", "must be between 1 and 100");
    }
    errors
}

/// Ids for the slugs a request names.
struct Resolved {
    topic_ids: Option<Vec<i64>>,
    author_ids: Option<Vec<i64>>,
    /// (source id, its language)
    source: Option<Option<(i64, String)>>,
}

fn resolve(
    conn: &mut DbConnection,
    req: &UpdateArticleRequest,
    current_topics: &[String],
) -> Result<Resolved, ApiError> {
    let mut errors = Vec::new();
    let mut topic_id =
        |conn: &mut DbConnection, field: String, slug: &str| -> Result<Option<i64>, ApiError> {
            let id = catalogue::topic_id(conn, slug)?;
            if id.is_none() {
                errors.push(FieldError::new(field, format!("no topic `{slug}`")));
            }
            Ok(id)
        };
    let topic_ids = if req.topic.is_some() || req.topics.is_some() {
        let primary = req
            .topic
            .clone()
            .or_else(|| current_topics.first().cloned());
        let secondary = req
            .topics
            .clone()
            .unwrap_or_else(|| current_topics.iter().skip(1).cloned().collect());
        let mut ids = Vec::new();
        if let Some(primary) = primary {
            ids.extend(topic_id(conn, "topic".into(), &primary)?);
        }
        for (i, slug) in secondary.iter().enumerate() {
            if let Some(id) = topic_id(conn, format!("topics[{i}]"), slug)?
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        Some(ids)
    } else {
        None
    };
    let author_ids = match &req.authors {
        None => None,
        Some(slugs) => {
            let mut ids = Vec::new();
            for (i, slug) in slugs.iter().enumerate() {
                let id = catalogue::author_id(conn, slug)?;
                match id {
                    Some(id) if !ids.contains(&id) => ids.push(id),
                    Some(_) => {
                        errors.push(FieldError::new(format!("authors[{i}]"), "is listed twice"))
                    }
                    None => errors.push(FieldError::new(
                        format!("authors[{i}]"),
                        format!("no author `{slug}`"),
                    )),
                }
            }
            Some(ids)
        }
    };
    let source = match &req.original {
        Some(Some(OriginalInput {
            source: Some(slug), ..
        })) => {
            let found = catalogue::source_id_and_language(conn, slug)?;
            if found.is_none() {
                errors.push(FieldError::new(
                    "original.source",
                    format!("no source `{slug}`"),
                ));
            }
            Some(found)
        }
        Some(_) => Some(None),
        None => None,
    };
    if errors.is_empty() {
        Ok(Resolved {
            topic_ids,
            author_ids,
            source,
        })
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A free slug: `wanted`, or `wanted-2`, `wanted-3`...
fn free_slug(conn: &mut DbConnection, wanted: &str) -> Result<String, ApiError> {
    let base = if wanted.is_empty() { "article" } else { wanted };
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.to_owned()
        } else {
            format!("{base}-{n}")
        };
        if !article_db::slug_taken(conn, &candidate)? {
            return Ok(candidate);
        }
    }
    Err(ApiError::Conflict(
        ConflictCode::SlugTaken,
        "No free slug is left for this headline.".into(),
    ))
}

/// The article as editors see it, with its revision ETag.
fn editor_response(
    mut response: actix_web::HttpResponseBuilder,
    article: &EditorArticle,
) -> HttpResponse {
    let mut response = response
        .insert_header((header::ETAG, article.etag()))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(article);
    Purge::attach(
        &mut response,
        article_keys(article.article.summary.id.into()),
    );
    response
}

/// What an article write changes for the caches: the article wherever it
/// is shown, and everything that lists or counts published articles (the
/// write may publish, unpublish, move or reschedule it).
fn article_keys(id: ArticleId) -> [String; 2] {
    ["articles".to_owned(), format!("article-{id}")]
}

/// Create an article
///
/// Creates a draft. The slug is made from the headline unless given, and a
/// suffix keeps it unique. Markdown is rendered once, to sanitised HTML and
/// plain text; word count and reading time are computed. Role: editor.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    request_body = CreateArticleRequest,
    responses(
        (status = 201, description = "The draft, as editors see it.", body = EditorArticle,
            headers(("ETag" = String, description = "Send as If-Match to change it."),
                    ("Location" = String, description = "The article's URL."))),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[post("/articles")]
pub(crate) async fn create_article(
    state: web::Data<AppState>,
    user: Editor,
    body: Body<CreateArticleRequest>,
) -> Result<HttpResponse, ApiError> {
    let Json(body) = body?;
    let req = UpdateArticleRequest::from(body);
    let errors = check_fields(&req, true);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.clock.now();
    let article = state
        .db
        .run(move |conn| crate::db::transaction(conn, |conn| create(conn, &req, user.id, now)))
        .await?;
    let location = format!("/api/v1/articles/{}", article.article.summary.slug);
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, location));
    Ok(editor_response(response, &article))
}

fn create(
    conn: &mut DbConnection,
    req: &UpdateArticleRequest,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<EditorArticle, ApiError> {
    let resolved = resolve(conn, req, &[])?;
    let headline = req.headline.as_deref().unwrap_or_default().trim();
    let slug = match &req.slug {
        Some(wanted) if article_db::slug_taken(conn, wanted)? => {
            return Err(ApiError::Conflict(
                ConflictCode::SlugTaken,
                format!("Another article already has the slug `{wanted}`."),
            ));
        }
        Some(wanted) => wanted.clone(),
        None => free_slug(conn, &slug::slugify(headline))?,
    };
    let markdown_source = req.body_markdown.clone().unwrap_or_default();
    let body = markdown::render(&markdown_source);
    let image = req.hero_image.clone().flatten();
    let original = req.original.clone().flatten();
    let source = resolved.source.clone().flatten();
    let language = original
        .as_ref()
        .and_then(|o| o.language.clone())
        .or_else(|| source.as_ref().map(|s| s.1.clone()));
    let new = NewArticle {
        slug: &slug,
        headline,
        dek: req.dek.as_deref().unwrap_or_default().trim(),
        dateline: req
            .dateline
            .as_ref()
            .and_then(|d| d.as_deref())
            .map(str::trim)
            .filter(|d| !d.is_empty()),
        hero_image_url: image.as_ref().map(|i| i.url.as_str()),
        hero_image_alt: image.as_ref().map(|i| i.alt.as_str()),
        hero_image_caption: image.as_ref().and_then(|i| i.caption.as_deref()),
        hero_image_credit: image.as_ref().and_then(|i| i.credit.as_deref()),
        kind: req.kind.unwrap_or(ArticleKind::News).as_str(),
        video_url: req.video_url.as_ref().and_then(|v| v.as_deref()),
        original_source_id: source.as_ref().map(|s| s.0),
        original_language: language.as_deref(),
        original_title: original.as_ref().and_then(|o| o.title.as_deref()),
        original_url: original.as_ref().and_then(|o| o.url.as_deref()),
        translator: original.as_ref().and_then(|o| o.translator.as_deref()),
        status: ArticleStatus::Draft.as_str(),
        access_level: req.access_level.unwrap_or(AccessLevel::Metered).as_str(),
        featured: req.featured.unwrap_or(false),
        featured_rank: req.featured_rank.flatten(),
        publish_at: None,
        published_at: None,
        word_count: body.word_count as i32,
        reading_time_minutes: body.reading_time_minutes as i32,
        created_at: now,
        updated_at: now,
    };
    let body = NewBody {
        markdown: &markdown_source,
        rendered: &body,
    };
    let author_ids = resolved.author_ids.unwrap_or_default();
    let topic_ids = resolved.topic_ids.unwrap_or_default();
    article_db::insert_article(conn, &new, body, &author_ids, &topic_ids)?;
    article_db::drop_redirect(conn, &slug)?;
    audit::record(
        conn,
        actor,
        "article.create",
        &format!("article:{slug}"),
        &json!({"headline": headline}),
        now,
    )?;
    EditorArticle::load(conn, &slug, now)
}

/// The longest `If-Match` accepted: room for a dozen of our tags.
const MAX_IF_MATCH_LEN: usize = 1024;

/// The entity tags of `If-Match`; empty when the header is absent.
fn if_match_tags(req: &HttpRequest) -> Result<Vec<String>, ApiError> {
    let values = req.headers().get_all(header::IF_MATCH);
    if values.clone().map(|v| v.len()).sum::<usize>() > MAX_IF_MATCH_LEN {
        return Err(ApiError::Validation(vec![FieldError::new(
            "If-Match",
            format!("must be at most {MAX_IF_MATCH_LEN} characters"),
        )]));
    }
    Ok(values
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().to_owned())
        .filter(|tag| !tag.is_empty())
        .collect())
}

/// The request with the bylines and topics it leaves alone filled in from
/// the current article, so that links are always replaced as a whole.
fn with_current_links(req: &UpdateArticleRequest, current: &EditorArticle) -> UpdateArticleRequest {
    let mut effective = req.clone();
    let touches_links = req.topic.is_some() || req.topics.is_some() || req.authors.is_some();
    if !touches_links {
        return effective;
    }
    let summary = &current.article.summary;
    if effective.authors.is_none() {
        effective.authors = Some(summary.authors.iter().map(|a| a.slug.clone()).collect());
    }
    if effective.topic.is_none() && effective.topics.is_none() {
        effective.topic = summary.topic.as_ref().map(|t| t.slug.clone());
    }
    if effective.topics.is_none() {
        let primary = summary.topic.as_ref().map(|t| t.slug.as_str());
        effective.topics = Some(
            summary
                .topics
                .iter()
                .filter(|t| Some(t.slug.as_str()) != primary)
                .map(|t| t.slug.clone())
                .collect(),
        );
    }
    effective
}

fn apply_update(
    conn: &mut DbConnection,
    slug: &str,
    req: &UpdateArticleRequest,
    etag_ok: impl Fn(&str) -> bool,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<EditorArticle, ApiError> {
    article_db::lock_for_edit(conn, slug)?;
    let current = EditorArticle::load(conn, slug, now)?;
    if !etag_ok(&current.etag()) {
        return Err(ApiError::PreconditionFailed);
    }
    let effective = with_current_links(req, &current);
    let resolved = resolve(conn, &effective, &[])?;
    let new_slug = match &req.slug {
        Some(wanted) if wanted != slug => {
            if article_db::slug_taken(conn, wanted)? {
                return Err(ApiError::Conflict(
                    ConflictCode::SlugTaken,
                    format!("Another article already has the slug `{wanted}`."),
                ));
            }
            Some(wanted.as_str())
        }
        _ => None,
    };
    let rendered = req.body_markdown.as_deref().map(markdown::render);
    let image = req.hero_image.as_ref().map(|i| i.as_ref());
    let original = req.original.as_ref().map(|o| o.as_ref());
    let source = resolved.source.as_ref().map(|s| s.as_ref());
    let language = original.map(|o| {
        o.and_then(|o| o.language.clone())
            .or_else(|| source.flatten().map(|s| s.1.clone()))
    });
    let changes = ArticleChanges {
        slug: new_slug,
        headline: req.headline.as_deref().map(str::trim),
        dek: req.dek.as_deref().map(str::trim),
        dateline: req.dateline.as_ref().map(|d| d.as_deref()),
        hero_image_url: image.map(|i| i.map(|i| i.url.as_str())),
        hero_image_alt: image.map(|i| i.map(|i| i.alt.as_str())),
        hero_image_caption: image.map(|i| i.and_then(|i| i.caption.as_deref())),
        hero_image_credit: image.map(|i| i.and_then(|i| i.credit.as_deref())),
        kind: req.kind.map(ArticleKind::as_str),
        video_url: req.video_url.as_ref().map(|v| v.as_deref()),
        original_source_id: source.map(|s| s.map(|s| s.0)),
        original_language: language.as_ref().map(|l| l.as_deref()),
        original_title: original.map(|o| o.and_then(|o| o.title.as_deref())),
        original_url: original.map(|o| o.and_then(|o| o.url.as_deref())),
        translator: original.map(|o| o.and_then(|o| o.translator.as_deref())),
        access_level: req.access_level.map(AccessLevel::as_str),
        featured: req.featured,
        featured_rank: req.featured_rank,
        word_count: rendered.as_ref().map(|b| b.word_count as i32),
        reading_time_minutes: rendered.as_ref().map(|b| b.reading_time_minutes as i32),
        ..Default::default()
    };
    let body = match (&req.body_markdown, &rendered) {
        (Some(markdown), Some(rendered)) => Some(NewBody { markdown, rendered }),
        _ => None,
    };
    let links = match (&resolved.author_ids, &resolved.topic_ids) {
        (Some(a), Some(t)) => Some((a.as_slice(), t.as_slice())),
        _ => None,
    };
    let id = current.article.summary.id;
    if !article_db::update(conn, id, current.revision, &changes, body, links, now)? {
        return Err(ApiError::PreconditionFailed);
    }
    let final_slug = new_slug.unwrap_or(slug);
    if let Some(new_slug) = new_slug {
        article_db::drop_redirect(conn, new_slug)?;
        if current.status == ArticleStatus::Published {
            article_db::add_redirect(conn, slug, id)?;
        }
    }
    let changed = changed_fields(req);
    audit::record(
        conn,
        actor,
        "article.update",
        &format!("article:{final_slug}"),
        &json!({"fields": changed}),
        now,
    )?;
    EditorArticle::load(conn, final_slug, now)
}

/// The names of the fields a request changes, for the audit trail.
fn changed_fields(req: &UpdateArticleRequest) -> Vec<&'static str> {
    [
        ("slug", req.slug.is_some()),
        ("headline", req.headline.is_some()),
        ("dek", req.dek.is_some()),
        ("body_markdown", req.body_markdown.is_some()),
        ("kind", req.kind.is_some()),
        ("access_level", req.access_level.is_some()),
        ("topic", req.topic.is_some()),
        ("topics", req.topics.is_some()),
        ("authors", req.authors.is_some()),
        ("dateline", req.dateline.is_some()),
        ("hero_image", req.hero_image.is_some()),
        ("video_url", req.video_url.is_some()),
        ("original", req.original.is_some()),
        ("featured", req.featured.is_some()),
        ("featured_rank", req.featured_rank.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect()
}

/// Update an article
///
/// Changes any field; only fields present in the body change, and `null`
/// clears an optional one. Send the article's `ETag` as `If-Match`: if
/// someone else changed it meanwhile, the answer is 412 and nothing changes.
/// Renaming a published article keeps its old slug as a 301 redirect.
/// Role: editor.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(
        ArticleSlug,
        ("If-Match" = Option<String>, Header, description = "The ETag of the version being changed.", example = "\"r3-1042\"", max_length = 1024)
    ),
    request_body = UpdateArticleRequest,
    responses(
        (status = 200, description = "The updated article.", body = EditorArticle,
            headers(("ETag" = String, description = "The new version's ETag."))),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[patch("/articles/{slug}")]
pub(crate) async fn update_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: Editor,
    slug: ArticleSlug,
    body: Body<UpdateArticleRequest>,
) -> Result<HttpResponse, ApiError> {
    let Json(body) = body?;
    let errors = check_fields(&body, false);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let slug = slug.into_inner()?;
    let now = state.clock.now();
    let if_match = if_match_tags(&req)?;
    let article = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                // The tag names a revision, not bytes: the weak form a
                // compressed answer carried (W/"r3-7") names the same one,
                // and editors' browsers send back what they were given.
                let etag_ok = |etag: &str| {
                    if_match.is_empty()
                        || if_match
                            .iter()
                            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
                };
                apply_update(conn, &slug, &body, etag_ok, user.id, now)
            })
        })
        .await?;
    Ok(editor_response(HttpResponse::Ok(), &article))
}

/// A change of an article's publication state.
fn transition(
    conn: &mut DbConnection,
    slug: &str,
    change: Transition,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<EditorArticle, ApiError> {
    article_db::lock_for_edit(conn, slug)?;
    let current = EditorArticle::load(conn, slug, now)?;
    let published_at = current
        .article
        .summary
        .published_at
        .map(|at| at.naive_utc());
    let Moved {
        status,
        published_at,
        action,
    } = change.apply(current.status, published_at, now);
    let changes = ArticleChanges {
        status: Some(status.as_str()),
        published_at: Some(published_at),
        ..Default::default()
    };
    let id = current.article.summary.id;
    if !article_db::update(conn, id, current.revision, &changes, None, None, now)? {
        return Err(ApiError::PreconditionFailed);
    }
    let at = published_at.map(|t| t.and_utc().to_rfc3339());
    audit::record(
        conn,
        actor,
        action,
        &format!("article:{slug}"),
        &json!({"published_at": at}),
        now,
    )?;
    EditorArticle::load(conn, slug, now)
}

async fn run_transition(
    state: &AppState,
    user: Editor,
    slug: String,
    change: Transition,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let article = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| transition(conn, &slug, change, user.id, now))
        })
        .await?;
    Ok(editor_response(HttpResponse::Ok(), &article))
}

/// Publish or schedule an article
///
/// Publishes now, or at `publish_at`: a future time schedules the article,
/// which then appears on its own at that moment with no further request.
/// Publishing an article that is already live keeps its publication time.
/// The body is optional. Role: editor.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(ArticleSlug),
    request_body(content = Option<PublishRequest>, description = "Optional: when to publish (no body, or `null`, publishes now)."),
    responses(
        (status = 200, description = "The article, published or scheduled.", body = EditorArticle),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
    )
)]
#[post("/articles/{slug}/publish")]
pub(crate) async fn publish_article(
    state: web::Data<AppState>,
    user: Editor,
    slug: ArticleSlug,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // No body, or `null`, publishes now; anything else must be the object.
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::MalformedBody(e.to_string()))?
        .trim();
    if !(text.is_empty() || text == "null" || text.starts_with('{')) {
        return Err(ApiError::MalformedBody(
            "the body must be a JSON object".into(),
        ));
    }
    let request: PublishRequest = if text.is_empty() {
        PublishRequest::default()
    } else {
        serde_json::from_str::<Option<PublishRequest>>(text)
            .map_err(|e| ApiError::MalformedBody(e.to_string()))?
            .unwrap_or_default()
    };
    let at = request.publish_at.map(|t| to_micros(t.naive_utc()));
    run_transition(&state, user, slug.into_inner()?, Transition::Publish(at)).await
}

/// Unpublish an article
///
/// Takes the article off the site and back to draft. Role: editor.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(ArticleSlug),
    responses(
        (status = 200, description = "The article, now a draft.", body = EditorArticle),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 503, response = Unavailable),
    )
)]
#[post("/articles/{slug}/unpublish")]
pub(crate) async fn unpublish_article(
    state: web::Data<AppState>,
    user: Editor,
    slug: ArticleSlug,
) -> Result<HttpResponse, ApiError> {
    run_transition(&state, user, slug.into_inner()?, Transition::Unpublish).await
}

/// Archive an article
///
/// Withdraws the article from the site and from lists, keeping it for the
/// record. Role: editor.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(ArticleSlug),
    responses(
        (status = 200, description = "The archived article.", body = EditorArticle),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 503, response = Unavailable),
    )
)]
#[post("/articles/{slug}/archive")]
pub(crate) async fn archive_article(
    state: web::Data<AppState>,
    user: Editor,
    slug: ArticleSlug,
) -> Result<HttpResponse, ApiError> {
    run_transition(&state, user, slug.into_inner()?, Transition::Archive).await
}

/// Delete an article
///
/// Deletes the article, its body, bylines, topics and redirects. Role: editor.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(ArticleSlug),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[delete("/articles/{slug}")]
pub(crate) async fn delete_article(
    state: web::Data<AppState>,
    user: Editor,
    slug: ArticleSlug,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner()?;
    let now = state.clock.now();
    let id = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                let (row, _) =
                    article_db::find_any(conn, &slug)?.ok_or(ApiError::NotFound("article"))?;
                article_db::delete(conn, row.summary.id)?;
                audit::record(
                    conn,
                    user.id,
                    "article.delete",
                    &format!("article:{slug}"),
                    &json!({}),
                    now,
                )?;
                Ok(row.summary.id)
            })
        })
        .await?;
    let mut response = HttpResponse::NoContent().finish();
    Purge::attach(&mut response, article_keys(id));
    Ok(response)
}
