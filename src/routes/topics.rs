//! `/topics`: the subjects articles are filed under.

use actix_web::{HttpRequest, HttpResponse, get, web};

use chrono::NaiveDateTime;

use crate::db::{DbConnection, QueryResult, catalogue};
use crate::error::ApiError;
use crate::error::responses::{BadRequest, NotFound, Unavailable};
use crate::http::{Query, SlugListParams, TopicSlug, slug_item, slug_list};
use crate::state::AppState;
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
pub(crate) async fn list_topics(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(params): Query<SlugListParams>,
) -> Result<HttpResponse, ApiError> {
    slug_list(&state.db, state.clock, &req, &params, topic_page).await
}

/// Get one topic
///
/// The topic with how many published articles carry it.
#[utoipa::path(
    tag = "topics",
    params(TopicSlug),
    responses(
        (status = 200, description = "The topic.", body = Topic,
            headers(("ETag" = String, description = "Strong validator of this representation."))),
        (status = 304, description = "The topic is unchanged since the `If-None-Match` ETag."),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[get("/topics/{slug}")]
pub(crate) async fn get_topic(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: TopicSlug,
) -> Result<HttpResponse, ApiError> {
    slug_item(&state.db, state.clock, &req, slug, find_topic).await
}

/// A page of topics after the slug `after`, with its article count.
fn topic_page(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<(Vec<Topic>, Option<String>)> {
    let page = catalogue::list_topics(conn, after, limit)?;
    Ok((Topic::with_counts(conn, page.items, now)?, page.next_after))
}

/// The topic named `slug`, with its article count, if there is one.
fn find_topic(
    conn: &mut DbConnection,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Topic>> {
    let found = catalogue::find_topic(conn, slug)?;
    Ok(Topic::with_counts(conn, found.into_iter().collect(), now)?.pop())
}
