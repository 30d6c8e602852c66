//! The OpenAPI document: metadata here, operations collected from the very
//! routes the server registers (see `app::documented`).

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{OpenApi, ToResponse};

use crate::app::AppState;
use crate::error::{FieldError, Problem};

/// Document metadata, tags and shared components.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsdesk",
        description = "The REST/JSON API of an international news publication that translates \
journalism from foreign outlets: articles, topics, authors and sources.\n\n\
Errors are RFC 9457 `application/problem+json` documents with a stable `code`. \
Lists share one envelope (`data`, `meta`) and keyset pagination through an opaque `cursor`; \
a `Link: rel=\"next\"` header mirrors it. Public responses carry `ETag` and `Cache-Control`, \
and `If-None-Match` is answered with 304. Every response has an `X-Request-Id`.",
        license(name = "MIT", identifier = "MIT"),
        contact(name = "newsdesk API team", email = "api@newsdesk.example")
    ),
    tags(
        (name = "articles", description = "Published journalism, in translation."),
        (name = "topics", description = "The subjects articles are filed under."),
        (name = "authors", description = "The people in the bylines."),
        (name = "sources", description = "The foreign outlets whose articles we translate."),
        (name = "operations", description = "Health, metrics and this document.")
    ),
    components(
        schemas(Problem, FieldError),
        responses(BadRequest, NotFound, Unavailable)
    )
)]
pub struct ApiDoc;

/// Some inputs were not acceptable; `errors` names each field.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "Invalid `limit`: must be between 1 and 100.",
        "code": "validation_failed",
        "errors": [{"field": "limit", "message": "must be between 1 and 100"}]
    })
)]
pub struct BadRequest(#[allow(dead_code)] Problem);

/// Nothing public has this identifier.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No article matches this request.",
        "code": "not_found"
    })
)]
pub struct NotFound(#[allow(dead_code)] Problem);

/// The database cannot be reached right now; retry after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = String, description = "Seconds to wait before retrying.")),
    example = json!({
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The service cannot reach its database right now; retry shortly.",
        "code": "service_unavailable"
    })
)]
pub struct Unavailable(#[allow(dead_code)] Problem);

/// The OpenAPI document of this API, built from the registered routes.
pub fn openapi() -> OpenApiDoc {
    crate::app::documented_api()
}

/// This document
///
/// The OpenAPI 3.1 description of every endpoint, as served; Swagger UI at `/docs` reads it.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The OpenAPI document.", body = Object))
)]
#[get("/openapi.json")]
pub async fn get_openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(state.openapi_json.as_ref().clone())
}
