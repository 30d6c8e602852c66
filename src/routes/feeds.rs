//! `/feeds`: the latest published articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::db::articles::{self as article_db, ArticleCard, ArticleFilter, Shelf};
use crate::db::{DbConnection, QueryResult};
use crate::domain::article::AccessLevel;
use crate::error::responses::{BadRequest, Unavailable};
use crate::error::{ApiError, FieldError};
use crate::feeds::{Feed, FeedEntry};
use crate::http::{Query, article_filter};
use crate::state::AppState;
use crate::surrogate::{SurrogateKeys, Tagged};

/// Which articles a feed carries; filters combine with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FeedParams {
    /// Only articles filed under this topic (slug).
    #[param(min_length = 1, max_length = 120, example = "energy")]
    pub topic: Option<String>,
    /// Only articles by this author (slug).
    #[param(min_length = 1, max_length = 120)]
    pub author: Option<String>,
    /// Only translations from this source (slug).
    #[param(min_length = 1, max_length = 120)]
    pub source: Option<String>,
    /// Only translations from this original language (ISO 639-1).
    #[param(max_length = 2, pattern = "^[a-z]{2}$", example = "ru")]
    pub language: Option<String>,
    /// How many articles, newest first.
    #[param(minimum = 1, maximum = 50, default = 20)]
    pub limit: Option<i64>,
}

/// The feed for `params`: the newest published articles, bodies only of
/// free ones, links from `PUBLIC_BASE_URL`.
async fn build(state: &AppState, req: &HttpRequest, params: FeedParams) -> Result<Feed, ApiError> {
    let mut errors = Vec::new();
    let describe = [
        params.topic.as_deref().map(|t| format!("topic {t}")),
        params.author.as_deref().map(|a| format!("author {a}")),
        params.source.as_deref().map(|s| format!("source {s}")),
        params.language.as_deref().map(|l| format!("language {l}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    let filter = article_filter(
        params.topic,
        params.author,
        params.source,
        params.language,
        &mut errors,
    );
    let limit = params.limit.unwrap_or(20);
    if !(1..=50).contains(&limit) {
        errors.push(FieldError::new("limit", "must be between 1 and 50"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.clock.now();
    let (cards, bodies, site_changed) = state
        .db
        .run(move |conn| Ok(load(conn, &filter, limit, now)?))
        .await?;
    // Links come from configuration, never from Host or X-Forwarded-*:
    // this answer is cached and shared with every reader.
    let base = state.config.public_base_url.clone();
    let entries = entries(cards, bodies, &base);
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .or(site_changed)
        .unwrap_or(now);
    let title = if describe.is_empty() {
        "newsdesk: the latest".to_owned()
    } else {
        format!("newsdesk: the latest, {}", describe.join(", "))
    };
    Ok(Feed {
        title,
        description: "Journalism from foreign outlets, in translation.".into(),
        self_url: format!("{base}{}", req.uri()),
        home_url: format!("{base}/api/v1/articles"),
        entries,
        updated,
    })
}

/// A feed's articles, the bodies of the free ones, and when public content
/// last changed (asked only for an empty feed).
type Loaded = (
    Vec<ArticleCard>,
    HashMap<i64, String>,
    Option<NaiveDateTime>,
);

/// The newest published articles for a feed, the bodies of the free ones,
/// and (for an empty feed) when public content last changed anywhere: an
/// empty feed is as new as that (not 1970), stable between changes, so
/// validators still work.
fn load(
    conn: &mut DbConnection,
    filter: &ArticleFilter,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Loaded> {
    let page = article_db::list(conn, filter, Shelf::Published, None, limit, now)?;
    let site_changed = if page.cards.is_empty() {
        article_db::latest_public_change(conn, now)?
    } else {
        None
    };
    let free: Vec<i64> = page
        .cards
        .iter()
        .filter(|c| c.row.access_level == AccessLevel::Free)
        .map(|c| c.row.id.get())
        .collect();
    let bodies = article_db::bodies_html(conn, &free)?;
    Ok((page.cards, bodies, site_changed))
}

/// The feed's entries, linked under `base`, with the bodies at hand.
fn entries(
    cards: Vec<ArticleCard>,
    mut bodies: HashMap<i64, String>,
    base: &str,
) -> Vec<FeedEntry> {
    cards
        .into_iter()
        .map(|card| {
            let row = card.row;
            FeedEntry {
                id: row.id.get(),
                url: format!("{base}/api/v1/articles/{}", row.slug),
                content_html: bodies.remove(&row.id.get()),
                title: row.headline,
                summary: row.dek,
                authors: card.authors.into_iter().map(|a| a.name).collect(),
                topics: card.topics.into_iter().map(|t| (t.slug, t.name)).collect(),
                published: row.published_at.unwrap_or(row.updated_at),
                updated: row
                    .updated_at
                    .max(row.published_at.unwrap_or(row.updated_at)),
            }
        })
        .collect()
}

fn http_date(at: NaiveDateTime) -> String {
    at.and_utc().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Serves `body` with validators; 304 when the client's copy is current.
fn respond(req: &HttpRequest, feed: &Feed, body: Vec<u8>, content_type: &str) -> HttpResponse {
    let updated = feed.updated;
    let etag = crate::http::strong_etag(&body);
    let fresh = crate::negotiation::still_fresh(
        req.headers(),
        Some(&etag),
        Some(updated.and_utc().timestamp()),
    );
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::LAST_MODIFIED, http_date(updated)))
        .insert_header((
            header::CACHE_CONTROL,
            "public, max-age=60, stale-while-revalidate=60",
        ));
    let mut response = if fresh {
        response.finish()
    } else {
        response.content_type(content_type).body(body)
    };
    let mut keys = SurrogateKeys::default();
    feed.tag(&mut keys);
    keys.apply(&mut response);
    response
}

/// RSS feed
///
/// The latest published articles as RSS 2.0 (`application/rss+xml`). Free
/// articles carry their body in `content:encoded`; metered and premium ones
/// only their dek. `ETag` and `Last-Modified` are answered with 304.
#[utoipa::path(
    operation_id = "get_rss_feed",
    tag = "articles",
    params(FeedParams),
    responses(
        (status = 200, description = "The feed.", content_type = "application/rss+xml", body = String,
            headers(("ETag" = String, description = "Strong validator."),
                    ("Last-Modified" = String, description = "When the newest entry changed."))),
        (status = 304, description = "Unchanged since `If-None-Match` or `If-Modified-Since`."),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[get("/feeds/rss")]
pub async fn rss(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(params): Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let feed = build(&state, &req, params).await?;
    Ok(respond(
        &req,
        &feed,
        feed.to_rss().into_bytes(),
        "application/rss+xml; charset=utf-8",
    ))
}

/// Atom feed
///
/// The latest published articles as Atom 1.0 (`application/atom+xml`).
/// Free articles carry their body as `content`; metered and premium ones only
/// their `summary`. `ETag` and `Last-Modified` are answered with 304.
#[utoipa::path(
    operation_id = "get_atom_feed",
    tag = "articles",
    params(FeedParams),
    responses(
        (status = 200, description = "The feed.", content_type = "application/atom+xml", body = String,
            headers(("ETag" = String, description = "Strong validator."),
                    ("Last-Modified" = String, description = "When the newest entry changed."))),
        (status = 304, description = "Unchanged since `If-None-Match` or `If-Modified-Since`."),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[get("/feeds/atom")]
pub async fn atom(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(params): Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let feed = build(&state, &req, params).await?;
    Ok(respond(
        &req,
        &feed,
        feed.to_atom().into_bytes(),
        "application/atom+xml; charset=utf-8",
    ))
}

/// JSON Feed
///
/// The latest published articles as JSON Feed 1.1 (`application/feed+json`).
/// Free articles carry `content_html`; metered and premium ones only
/// `content_text` with their dek. `ETag` and `Last-Modified` are answered with 304.
#[utoipa::path(
    operation_id = "get_json_feed",
    tag = "articles",
    params(FeedParams),
    responses(
        (status = 200, description = "The feed.", content_type = "application/feed+json", body = Object,
            headers(("ETag" = String, description = "Strong validator."),
                    ("Last-Modified" = String, description = "When the newest entry changed."))),
        (status = 304, description = "Unchanged since `If-None-Match` or `If-Modified-Since`."),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[get("/feeds/json")]
pub(crate) async fn json_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(params): Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let feed = build(&state, &req, params).await?;
    let body = serde_json::to_vec(&feed.to_json()).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(respond(&req, &feed, body, "application/feed+json"))
}
