//! `/sources`: the foreign outlets whose journalism we translate.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::{Query, SlugListParams, slug_item, slug_list};
use crate::app::AppState;
use crate::db::{DbConnection, catalogue};
use crate::error::ApiError;
use crate::openapi::{BadRequest, NotFound, Unavailable};
use crate::views::{Source, SourceList};

/// List sources
///
/// Every source, ordered by slug, with how many of its articles we have
/// published in translation.
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
    let load = |conn: &mut DbConnection, after: Option<&str>, limit, now| {
        let page = catalogue::list_sources(conn, after, limit)?;
        Ok((with_counts(conn, page.items, now)?, page.next_after))
    };
    slug_list(&state, &req, &params, load, |data, meta| SourceList {
        data,
        meta,
    })
    .await
}

/// Get one source
///
/// The source with how many of its articles we have published in translation.
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
    let load = |conn: &mut DbConnection, slug: &str, now| {
        let found = catalogue::find_source(conn, slug)?;
        Ok(with_counts(conn, found.into_iter().collect(), now)?.pop())
    };
    slug_item(&state, &req, slug.into_inner(), "source", load).await
}

/// Attaches published-article counts: one query for a whole page.
pub(super) fn with_counts(
    conn: &mut DbConnection,
    sources: Vec<catalogue::Source>,
    now: NaiveDateTime,
) -> QueryResult<Vec<Source>> {
    let ids: Vec<i64> = sources.iter().map(|t| t.id).collect();
    let counts = catalogue::published_counts_by_source(conn, &ids, now)?;
    Ok(sources
        .into_iter()
        .map(|t| {
            let count = counts.get(&t.id).copied().unwrap_or(0);
            Source::new(t, count)
        })
        .collect())
}
