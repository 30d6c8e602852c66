//! The front page: `/home` in one request, and `/topics/trending`.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::db::articles::{self as article_db, ArticleFilter, Shelf};
use crate::db::{DbConnection, readership};
use crate::domain::readership::rank_trending;
use crate::error::ApiError;
use crate::error::responses::{BadRequest, Unavailable};
use crate::http::{LIST_FRESHNESS, Query, public_json};
use crate::state::AppState;
use crate::views::{
    ArticleSummary, Home, ListMeta, Listed, TopicRef, TrendingTopic, TrendingTopicList,
};

/// Topics read in the last 24 hours, ranked by how much faster than their
/// own average of the 7 days before.
pub fn trending_topics(
    conn: &mut DbConnection,
    limit: usize,
    now: NaiveDateTime,
) -> Result<Vec<TrendingTopic>, ApiError> {
    let day_ago = now - Duration::hours(24);
    let last = readership::views_by_topic(conn, day_ago, now + Duration::hours(1), now)?;
    let previous = readership::views_by_topic(conn, day_ago - Duration::days(7), day_ago, now)?;
    let ranked = rank_trending(&last, &previous, limit);
    let ids: Vec<i64> = ranked.iter().map(|t| t.topic_id).collect();
    let mut names = readership::topic_names(conn, &ids)?;
    Ok(ranked
        .into_iter()
        .filter_map(|t| {
            let (slug, name) = names.remove(&t.topic_id)?;
            Some(TrendingTopic {
                topic: TopicRef { slug, name },
                views_24h: t.views_24h,
                views_previous_7d: t.views_previous_7d,
                score: (t.score * 100.0).round() / 100.0,
            })
        })
        .collect())
}

/// How many trending topics to return.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrendingParams {
    /// How many topics, at most.
    #[param(minimum = 1, maximum = 50, default = 10)]
    pub limit: Option<i64>,
}

/// Trending topics
///
/// Topics whose readership is rising: each topic's views in the last 24
/// hours against its own daily average over the 7 days before,
/// `score = views_24h / max(views_previous_7d / 7, 10)`. The floor of 10
/// views a day keeps a rarely read topic with a handful of views from
/// jumping to the top. Only topics read in the last 24 hours appear; ties go
/// to the more-read topic. Views are counted from article reads and reach
/// the counters within seconds.
#[utoipa::path(
    tag = "topics",
    params(TrendingParams),
    responses(
        (status = 200, description = "Topics, highest score first (one page).", body = TrendingTopicList),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[get("/topics/trending")]
pub(crate) async fn get_trending_topics(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(params): Query<TrendingParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = params.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 50"));
    }
    let now = state.clock.now();
    let data = state
        .db
        .run(move |conn| trending_topics(conn, usize::try_from(limit).unwrap_or(10), now))
        .await?;
    let list = TrendingTopic::page(data, ListMeta::whole(limit));
    public_json(&req, &list, LIST_FRESHNESS)
}

/// Articles per rail on the front page.
const LATEST: i64 = 10;
const FOCUS: i64 = 6;
const TRENDING: usize = 5;
const MOST_READ: i64 = 5;

/// The front page
///
/// Everything the front page shows, in one cacheable response: THE LATEST
/// (10 newest), FOCUS (up to 6 editors' picks, by rank), TRENDING TOPICS
/// (5, as `GET /topics/trending`) and MOST READ (5, last 24 hours).
/// Summaries only: no body, whatever the reader.
#[utoipa::path(
    tag = "articles",
    responses(
        (status = 200, description = "The front page.", body = Home,
            headers(("ETag" = String, description = "Strong validator."),
                    ("Cache-Control" = String, description = "Public, short-lived."))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 503, response = Unavailable),
    )
)]
#[get("/home")]
pub(crate) async fn get_home(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let home = state
        .db
        .run(move |conn| {
            let everything = ArticleFilter::default();
            let summaries = |cards: Vec<article_db::ArticleCard>| {
                cards.into_iter().map(ArticleSummary::from).collect()
            };
            let latest = article_db::list(conn, &everything, Shelf::Published, None, LATEST, now)?;
            let focus = article_db::focus(conn, FOCUS, now)?;
            let trending_topics = trending_topics(conn, TRENDING, now)?;
            let most_read = readership::most_read(
                conn,
                &everything,
                now - Duration::hours(24),
                MOST_READ,
                now,
            )?;
            Ok(Home {
                latest: summaries(latest.cards),
                focus: summaries(focus),
                trending_topics,
                most_read: most_read
                    .into_iter()
                    .map(|(card, _)| ArticleSummary::from(card))
                    .collect(),
            })
        })
        .await?;
    public_json(&req, &home, LIST_FRESHNESS)
}
