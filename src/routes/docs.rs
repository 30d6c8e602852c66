//! This API's own OpenAPI document, as served (Swagger UI at `/docs` reads it).

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, get, web};

use crate::state::AppState;

/// This document
///
/// The OpenAPI 3.1 description of every endpoint, as served; Swagger UI at `/docs` reads it.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI document.", body = Object,
            headers(("ETag" = String, description = "Strong validator of the document."))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
    )
)]
#[get("/openapi.json")]
pub(crate) async fn get_openapi(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let etag = state.openapi_etag.as_str();
    if crate::negotiation::still_fresh(req.headers(), Some(etag), None) {
        return cached(HttpResponse::NotModified(), etag).finish();
    }
    cached(HttpResponse::Ok(), etag)
        .content_type("application/json")
        .body(state.openapi_json.as_ref().clone())
}

/// `response` with the document's validator, cacheable for five minutes.
fn cached(mut response: HttpResponseBuilder, etag: &str) -> HttpResponseBuilder {
    response
        .insert_header(("ETag", etag))
        .insert_header(("Cache-Control", "public, max-age=300"));
    response
}
