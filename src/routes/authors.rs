//! `/authors`: the people in the bylines.

use actix_web::{HttpRequest, HttpResponse, get, web};

use chrono::NaiveDateTime;

use crate::db::{DbConnection, QueryResult, catalogue};
use crate::error::ApiError;
use crate::error::responses::{BadRequest, NotFound, Unavailable};
use crate::http::{AuthorSlug, Query, SlugListParams, slug_item, slug_list};
use crate::state::AppState;
use crate::views::{Author, AuthorList};

/// List authors
///
/// Every author, ordered by slug, with their affiliation and how many
/// published articles carry their byline.
#[utoipa::path(
    tag = "authors",
    params(SlugListParams),
    responses(
        (status = 200, description = "A page of authors.", body = AuthorList,
            headers(("ETag" = String, description = "Strong validator of this page."),
                    ("Link" = String, description = "`<...>; rel=\"next\"` when another page follows."))),
        (status = 304, description = "The page is unchanged since the `If-None-Match` ETag."),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[get("/authors")]
pub(crate) async fn list_authors(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(params): Query<SlugListParams>,
) -> Result<HttpResponse, ApiError> {
    slug_list(&state.db, state.clock, &req, &params, author_page).await
}

/// Get one author
///
/// The author's profile with their affiliation and how many published
/// articles carry their byline.
#[utoipa::path(
    tag = "authors",
    params(AuthorSlug),
    responses(
        (status = 200, description = "The author's profile.", body = Author,
            headers(("ETag" = String, description = "Strong validator of this representation."))),
        (status = 304, description = "The profile is unchanged since the `If-None-Match` ETag."),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[get("/authors/{slug}")]
pub(crate) async fn get_author(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: AuthorSlug,
) -> Result<HttpResponse, ApiError> {
    slug_item(&state.db, state.clock, &req, slug, find_author).await
}

/// A page of authors after the slug `after`, with its details.
fn author_page(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<(Vec<Author>, Option<String>)> {
    let page = catalogue::list_authors(conn, after, limit)?;
    Ok((
        Author::with_details(conn, page.items, now)?,
        page.next_after,
    ))
}

/// The author named `slug`, with its details, if there is one.
fn find_author(
    conn: &mut DbConnection,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Author>> {
    let found = catalogue::find_author(conn, slug)?;
    Ok(Author::with_details(conn, found.into_iter().collect(), now)?.pop())
}
