//! This API's own OpenAPI document, as served (Swagger UI at `/docs` reads it).

use actix_web::{HttpRequest, HttpResponse, get, web};

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
    let current = crate::negotiation::still_fresh(req.headers(), Some(etag), None);
    let mut response = if current {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(("ETag", etag))
        .insert_header(("Cache-Control", "public, max-age=300"));
    if current {
        return response.finish();
    }
    response
        .content_type("application/json")
        .body(state.openapi_json.as_ref().clone())
}
