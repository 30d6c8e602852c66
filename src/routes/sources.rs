//! `/sources`: the foreign outlets whose journalism we translate.

use actix_web::{HttpRequest, HttpResponse, get, web};

use chrono::NaiveDateTime;

use crate::db::{DbConnection, QueryResult, catalogue};
use crate::error::ApiError;
use crate::error::responses::{BadRequest, NotFound, Unavailable};
use crate::http::{Query, SlugListParams, SourceSlug, slug_item, slug_list};
use crate::state::AppState;
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
pub(crate) async fn list_sources(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(params): Query<SlugListParams>,
) -> Result<HttpResponse, ApiError> {
    slug_list(&state.db, state.clock, &req, &params, source_page).await
}

/// Get one source
///
/// The source with how many of its articles we have published in translation.
#[utoipa::path(
    tag = "sources",
    params(SourceSlug),
    responses(
        (status = 200, description = "The source.", body = Source,
            headers(("ETag" = String, description = "Strong validator of this representation."))),
        (status = 304, description = "The source is unchanged since the `If-None-Match` ETag."),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[get("/sources/{slug}")]
pub(crate) async fn get_source(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: SourceSlug,
) -> Result<HttpResponse, ApiError> {
    slug_item(&state.db, state.clock, &req, slug, find_source).await
}

/// A page of sources after the slug `after`, with its article count.
fn source_page(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<(Vec<Source>, Option<String>)> {
    let page = catalogue::list_sources(conn, after, limit)?;
    Ok((Source::with_counts(conn, page.items, now)?, page.next_after))
}

/// The source named `slug`, with its article count, if there is one.
fn find_source(
    conn: &mut DbConnection,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Source>> {
    let found = catalogue::find_source(conn, slug)?;
    Ok(Source::with_counts(conn, found.into_iter().collect(), now)?.pop())
}
