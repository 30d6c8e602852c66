//! The OpenAPI document: metadata here, operations collected from the very
//! routes the server registers (see `app::documented`).

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::app::AppState;
use crate::error::{FieldError, Problem};

mod conventions;

/// Document metadata, tags and shared components.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsdesk",
        description = "The REST/JSON API of an international news publication that translates \
journalism from foreign outlets: articles, topics, authors and sources.\n\n\
Errors are RFC 9457 `application/problem+json` documents with a stable `code`. \
Lists share one envelope (`data`, `meta`) and keyset pagination through an opaque `cursor`; \
a `Link: rel=\"next\"` header mirrors it. Public responses carry `ETag`, `Cache-Control` and \
`Surrogate-Key` (purge tags for a CDN), and `If-None-Match` is answered with 304. Responses are \
compressed with gzip or brotli when `Accept-Encoding` asks (a compressed body has a weak `ETag`). \
Every response has an `X-Request-Id`.",
        license(name = "MIT", identifier = "MIT"),
        contact(name = "newsdesk API team", email = "api@newsdesk.example")
    ),
    tags(
        (name = "articles", description = "Published journalism, in translation."),
        (name = "topics", description = "The subjects articles are filed under."),
        (name = "authors", description = "The people in the bylines."),
        (name = "sources", description = "The foreign outlets whose articles we translate."),
        (name = "newsroom", description = "Writing, scheduling and publishing articles (editors)."),
        (name = "subscriptions", description = "Plans, a reader's subscription, and the payment processor's webhook."),
        (name = "newsletters", description = "The daily newsletter: double opt-in sign-up and one-click unsubscribe."),
        (name = "administration", description = "Accounts and the audit trail (admins)."),
        (name = "accounts", description = "Registration, login, tokens and one's own account."),
        (name = "operations", description = "Health, metrics and this document.")
    ),
    modifiers(&BearerAuth),
    components(
        schemas(Problem, FieldError),
        responses(
            BadRequest,
            NotFound,
            Unavailable,
            Conflict,
            InvalidCredentials,
            InvalidToken,
            Forbidden,
            TooManyRequests,
            PayloadTooLarge,
            UnsupportedMediaType,
            PreconditionFailed,
            Unprocessable,
            InvalidSignature,
            InvalidApiKey,
            HeadersTooLarge,
            InternalError
        )
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme that protected operations name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            conventions::BEARER,
            bearer(
                "An access token from `POST /api/v1/auth/login` (or register, or refresh). \
                 Tokens follow RFC8725: HS256 only (the token's own `alg` is never trusted), \
                 `exp`, `iss`, `aud` and `sub` required and checked, a short life \
                 (`ACCESS_TOKEN_TTL`, 15 minutes by default), and the account is looked up \
                 on every request, so a disabled or demoted account loses access at once.",
            ),
        );
        components.add_security_scheme(
            conventions::ADMIN_BEARER,
            bearer(
                "The access token of an account with the `admin` role (see `bearer`; \
                 RFC8725 applies alike). Other roles get 403.",
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "A third party's key from an admin (`POST /api/v1/admin/api-keys`).",
            ))),
        );
    }
}

/// The request conflicts with what exists (for example, the email is taken).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "An account with this email already exists; log in instead.",
        "code": "email_taken"
    })
)]
pub struct Conflict(#[allow(dead_code)] Problem);

/// The email or the password is wrong (the same answer for unknown emails).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The email or the password is wrong.",
        "code": "invalid_credentials"
    })
)]
pub struct InvalidCredentials(#[allow(dead_code)] Problem);

/// No valid credentials: missing (`unauthenticated`), or a token that is
/// invalid, expired or revoked (`invalid_token`, with `WWW-Authenticate`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer`, with `error=\"invalid_token\"` when a token was refused.")),
    example = json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The token is invalid, expired or revoked; log in or refresh.",
        "code": "invalid_token"
    })
)]
pub struct InvalidToken(#[allow(dead_code)] Problem);

/// Signed in, but the role does not allow this.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "Your role does not allow this.",
        "code": "forbidden"
    })
)]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// Too many attempts, or over an allowance (an API key's requests per
/// minute, or an address's without credentials); wait `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = String, description = "Seconds to wait before trying again."),
        ("RateLimit-Policy" = String, description = "Over an allowance: the allowance, e.g. `\"per-key\";q=600;w=60`."),
        ("RateLimit" = String, description = "Over an allowance: what remains and when it resets, e.g. `\"per-key\";r=0;t=42`.")
    ),
    example = json!({
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Too many attempts; retry in 840 seconds.",
        "code": "too_many_requests"
    })
)]
pub struct TooManyRequests(#[allow(dead_code)] Problem);

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
    let mut doc = crate::app::documented_api();
    conventions::add_limit_responses(&mut doc);
    add_surrogate_keys(&mut doc);
    conventions::declare_security(&mut doc);
    conventions::add_server_wide_errors(&mut doc);
    conventions::add_common_headers_everywhere(&mut doc);
    conventions::bound_headers(&mut doc);
    doc
}

/// The public reads whose 200 carries `Surrogate-Key` (see `crate::surrogate`).
pub const PURGEABLE: [&str; 15] = [
    "/api/v1/articles",
    "/api/v1/articles/{slug}",
    "/api/v1/home",
    "/api/v1/topics",
    "/api/v1/topics/trending",
    "/api/v1/topics/{slug}",
    "/api/v1/authors",
    "/api/v1/authors/{slug}",
    "/api/v1/sources",
    "/api/v1/sources/{slug}",
    "/api/v1/plans",
    "/api/v1/newsletters",
    "/api/v1/feeds/rss",
    "/api/v1/feeds/atom",
    "/api/v1/feeds/json",
];

/// Documents the `Surrogate-Key` header on every purgeable read.
fn add_surrogate_keys(doc: &mut OpenApiDoc) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::header::HeaderBuilder;
    for path in PURGEABLE {
        let ok = doc
            .paths
            .paths
            .get_mut(path)
            .and_then(|item| item.get.as_mut())
            .and_then(|op| op.responses.responses.get_mut("200"));
        if let Some(RefOr::T(ok)) = ok {
            let header = HeaderBuilder::new()
                .description(Some(
                    "Space-separated purge tags for a CDN: `articles` on anything listing or \
                     counting articles, `article-{id}`, `topic-{slug}`, `author-{slug}`, \
                     `source-{slug}` for what the body shows, and `topics`, `authors`, \
                     `sources`, `plans`, `newsletters` on their lists. Only on public \
                     responses (`Cache-Control: public`).",
                ))
                .example(Some(serde_json::json!(
                    "articles article-1042 topic-energy author-irina-volkova"
                )))
                .build();
            ok.headers
                .insert("Surrogate-Key".to_owned(), RefOr::T(header));
        }
    }
}

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
pub async fn get_openapi(state: web::Data<AppState>, req: actix_web::HttpRequest) -> HttpResponse {
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

/// The body is larger than the 256 KiB limit.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Payload Too Large",
        "status": 413,
        "detail": "The body is larger than 262144 bytes.",
        "code": "payload_too_large"
    })
)]
pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

/// The body must be `application/json`.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unsupported Media Type",
        "status": 415,
        "detail": "Send the body as application/json.",
        "code": "unsupported_media_type"
    })
)]
pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

/// `If-Match` named an older version: someone changed the article meanwhile.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Precondition Failed",
        "status": 412,
        "detail": "Someone changed this since your copy (If-Match); fetch it again and reapply.",
        "code": "precondition_failed"
    })
)]
pub struct PreconditionFailed(#[allow(dead_code)] Problem);

/// The request is well-formed but cannot be processed as sent: an
/// `Idempotency-Key` already used with a different body
/// (`idempotency_key_reused`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "This Idempotency-Key was used with a different request; use a new key for a new request.",
        "code": "idempotency_key_reused"
    })
)]
pub struct Unprocessable(#[allow(dead_code)] Problem);

/// The `Webhook-Signature` header is missing, malformed, more than five
/// minutes old, or matches no signature of the body.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The webhook signature was refused: no signature matches the body.",
        "code": "invalid_signature"
    })
)]
pub struct InvalidSignature(#[allow(dead_code)] Problem);

/// The `X-API-Key` is unknown, malformed or revoked.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The X-API-Key is unknown or revoked; ask for a new key.",
        "code": "invalid_api_key"
    })
)]
pub struct InvalidApiKey(#[allow(dead_code)] Problem);

/// The request's headers are larger than 16 KiB in all.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Request Header Fields Too Large",
        "status": 431,
        "detail": "The request's headers are larger than 16384 bytes in all.",
        "code": "headers_too_large"
    })
)]
pub struct HeadersTooLarge(#[allow(dead_code)] Problem);

/// Something failed on our side; it is logged with the request id, and the
/// body never says what.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "Something went wrong on our side; it has been logged.",
        "code": "internal_error"
    })
)]
pub struct InternalError(#[allow(dead_code)] Problem);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purgeable_read_documents_its_surrogate_keys() {
        let doc = openapi();
        for path in PURGEABLE {
            let ok = doc.paths.paths[path]
                .get
                .as_ref()
                .and_then(|op| op.responses.responses.get("200"));
            let Some(utoipa::openapi::RefOr::T(ok)) = ok else {
                panic!("{path} has no inline 200");
            };
            assert!(ok.headers.contains_key("Surrogate-Key"), "{path}");
        }
    }
}

#[cfg(test)]
mod pattern_tests {
    use serde_json::Value;

    use super::openapi;
    use crate::routes::{HTTP_URL_PATTERN, SLUG_PATTERN};

    /// Request bodies document the very rules their validation applies, so
    /// that generated clients and fuzzers send what the server accepts.
    #[test]
    fn request_slugs_and_urls_carry_the_patterns_the_server_enforces() {
        let doc: Value = serde_json::to_value(openapi()).unwrap();
        let mut checked = 0;
        for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
            if !(name.ends_with("Input") || name.ends_with("Request")) {
                continue;
            }
            let Some(properties) = schema["properties"].as_object() else {
                continue;
            };
            for (field, property) in properties {
                let expected = if field == "slug" {
                    SLUG_PATTERN
                } else if field.ends_with("url") {
                    HTTP_URL_PATTERN
                } else {
                    continue;
                };
                assert_eq!(property["pattern"], expected, "{name}.{field}");
                checked += 1;
            }
        }
        assert!(checked >= 10, "only {checked} fields checked");
    }
}
