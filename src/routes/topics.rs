//! `/topics`: the subjects articles are filed under.

use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::db::{DbConnection, catalogue};
use crate::error::ApiError;
use crate::error::responses::{BadRequest, NotFound, Unavailable};
use crate::http::{Query, Slug, SlugListParams, slug_item, slug_list};
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
    let load = |conn: &mut DbConnection, after: Option<&str>, limit, now| {
        let page = catalogue::list_topics(conn, after, limit)?;
        Ok((Topic::with_counts(conn, page.items, now)?, page.next_after))
    };
    slug_list(&state.db, state.clock, &req, &params, load, |data, meta| {
        TopicList { data, meta }
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
pub(crate) async fn get_topic(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: Slug,
) -> Result<HttpResponse, ApiError> {
    let load = |conn: &mut DbConnection, slug: &str, now| {
        let found = catalogue::find_topic(conn, slug)?;
        Ok(Topic::with_counts(conn, found.into_iter().collect(), now)?.pop())
    };
    slug_item(
        &state.db,
        state.clock,
        &req,
        slug.into_inner()?,
        "topic",
        load,
    )
    .await
}
