//! `/sources`: the foreign outlets whose journalism we translate.

use actix_web::{HttpRequest, HttpResponse, get, web};

use super::articles::MAX_SLUG_LEN;
use super::{ITEM_FRESHNESS, Query, SlugListParams, next_slug_cursor, public_json, public_list};
use crate::app::AppState;
use crate::db::catalogue;
use crate::error::ApiError;
use crate::openapi::{BadRequest, NotFound, Unavailable};
use crate::views::{ListMeta, Source, SourceList};

/// List sources
///
/// Every source, ordered by slug, with how many of its articles we have published in translation.
#[utoipa::path(
    tag = "sources",
    params(SlugListParams),
    responses(
        (status = 200, description = "A page of sources.", body = SourceList,
            headers(("ETag" = String, description = "Strong validator of this page."),
                    ("Link" = String, description = "`<...>; rel=\"next\"` when another page follows."))),
        (status = 304, description = "The page is unchanged since the `If-None-Match` ETag."),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[get("/sources")]
pub async fn list_sources(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(params): Query<SlugListParams>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after) = params.page()?;
    let now = state.clock.now();
    let (page, counts) = state
        .db
        .run(move |conn| {
            let page = catalogue::list_sources(conn, after.as_deref(), limit)?;
            let ids: Vec<i64> = page.items.iter().map(|t| t.id).collect();
            let counts = catalogue::published_counts_by_source(conn, &ids, now)?;
            Ok((page, counts))
        })
        .await?;
    let next_cursor = next_slug_cursor(page.next_after);
    let list = SourceList {
        data: page
            .items
            .into_iter()
            .map(|t| {
                let count = counts.get(&t.id).copied().unwrap_or(0);
                Source::new(t, count)
            })
            .collect(),
        meta: ListMeta {
            limit,
            next_cursor: next_cursor.clone(),
        },
    };
    public_list(&req, &list, next_cursor.as_deref())
}

/// Get one source
#[utoipa::path(
    tag = "sources",
    params(("slug" = String, Path, description = "The source's slug.", example = "vedomosti-vostoka", max_length = 120)),
    responses(
        (status = 200, description = "The source.", body = Source,
            headers(("ETag" = String, description = "Strong validator of this representation."))),
        (status = 304, description = "The source is unchanged since the `If-None-Match` ETag."),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[get("/sources/{slug}")]
pub async fn get_source(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    if slug.len() > MAX_SLUG_LEN {
        return Err(ApiError::NotFound("source"));
    }
    let now = state.clock.now();
    let source = state
        .db
        .run(move |conn| {
            let Some(source) = catalogue::find_source(conn, &slug)? else {
                return Ok(None);
            };
            let count = catalogue::published_counts_by_source(conn, &[source.id], now)?
                .get(&source.id)
                .copied()
                .unwrap_or(0);
            Ok(Some(Source::new(source, count)))
        })
        .await?
        .ok_or(ApiError::NotFound("source"))?;
    public_json(&req, &source, ITEM_FRESHNESS)
}
