//! `/topics`: the subjects articles are filed under.

use actix_web::{HttpRequest, HttpResponse, get, web};

use super::articles::MAX_SLUG_LEN;
use super::{ITEM_FRESHNESS, Query, SlugListParams, next_slug_cursor, public_json, public_list};
use crate::app::AppState;
use crate::db::catalogue;
use crate::error::ApiError;
use crate::openapi::{BadRequest, NotFound, Unavailable};
use crate::views::{ListMeta, Topic, TopicList};

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
    let (limit, after) = params.page()?;
    let now = state.clock.now();
    let (page, counts) = state
        .db
        .run(move |conn| {
            let page = catalogue::list_topics(conn, after.as_deref(), limit)?;
            let ids: Vec<i64> = page.items.iter().map(|t| t.id).collect();
            let counts = catalogue::published_counts_by_topic(conn, &ids, now)?;
            Ok((page, counts))
        })
        .await?;
    let next_cursor = next_slug_cursor(page.next_after);
    let list = TopicList {
        data: page
            .items
            .into_iter()
            .map(|t| {
                let count = counts.get(&t.id).copied().unwrap_or(0);
                Topic::new(t, count)
            })
            .collect(),
        meta: ListMeta {
            limit,
            next_cursor: next_cursor.clone(),
        },
    };
    public_list(&req, &list, next_cursor.as_deref())
}

/// Get one topic
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
    let slug = slug.into_inner();
    if slug.len() > MAX_SLUG_LEN {
        return Err(ApiError::NotFound("topic"));
    }
    let now = state.clock.now();
    let topic = state
        .db
        .run(move |conn| {
            let Some(topic) = catalogue::find_topic(conn, &slug)? else {
                return Ok(None);
            };
            let count = catalogue::published_counts_by_topic(conn, &[topic.id], now)?
                .get(&topic.id)
                .copied()
                .unwrap_or(0);
            Ok(Some(Topic::new(topic, count)))
        })
        .await?
        .ok_or(ApiError::NotFound("topic"))?;
    public_json(&req, &topic, ITEM_FRESHNESS)
}
