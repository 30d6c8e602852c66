//! `/topics`: the subjects articles are filed under.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::{Query, SlugListParams, slug_item, slug_list};
use crate::app::AppState;
use crate::db::{DbConnection, catalogue};
use crate::error::ApiError;
use crate::openapi::{BadRequest, NotFound, Unavailable};
use crate::views::{Topic, TopicList};

/// List topics
///
/// Every topic, ordered by slug, with how many published articles carry it.
#[utoipa::path(
    tag = "topics",
    params(SlugListParams),
    responses(
        (status = 200, description = "A page of topics.", body = TopicList,
            headers(("ETag" = String, description = "Strong validator of this page."),
                    ("Link" = String, description = "`<...>; rel=\"next\"` when another page follows."))),
        (status = 304, description = "The page is unchanged since the `If-None-Match` ETag."),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[get("/topics")]
pub async fn list_topics(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(params): Query<SlugListParams>,
) -> Result<HttpResponse, ApiError> {
    let load = |conn: &mut DbConnection, after: Option<&str>, limit, now| {
        let page = catalogue::list_topics(conn, after, limit)?;
        Ok((with_counts(conn, page.items, now)?, page.next_after))
    };
    slug_list(&state, &req, &params, load, |data, meta| TopicList {
        data,
        meta,
    })
    .await
}

/// Get one topic
///
/// The topic with how many published articles carry it.
#[utoipa::path(
    tag = "topics",
    params(("slug" = String, Path, description = "The topic's slug.", example = "energy", max_length = 120)),
    responses(
        (status = 200, description = "The topic.", body = Topic,
            headers(("ETag" = String, description = "Strong validator of this representation."))),
        (status = 304, description = "The topic is unchanged since the `If-None-Match` ETag."),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[get("/topics/{slug}")]
pub async fn get_topic(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let load = |conn: &mut DbConnection, slug: &str, now| {
        let found = catalogue::find_topic(conn, slug)?;
        Ok(with_counts(conn, found.into_iter().collect(), now)?.pop())
    };
    slug_item(&state, &req, slug.into_inner(), "topic", load).await
}

/// Attaches published-article counts: one query for a whole page.
pub(super) fn with_counts(
    conn: &mut DbConnection,
    topics: Vec<catalogue::Topic>,
    now: NaiveDateTime,
) -> QueryResult<Vec<Topic>> {
    let ids: Vec<i64> = topics.iter().map(|t| t.id).collect();
    let counts = catalogue::published_counts_by_topic(conn, &ids, now)?;
    Ok(topics
        .into_iter()
        .map(|t| {
            let count = counts.get(&t.id).copied().unwrap_or(0);
            Topic::new(t, count)
        })
        .collect())
}
