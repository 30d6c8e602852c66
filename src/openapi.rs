//! The OpenAPI document: metadata here, operations collected from the very
//! routes the server registers (see `documented`).

use actix_web::App;
use actix_web::dev::{ServiceFactory, ServiceRequest};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, UtoipaApp, scope};

use crate::error::responses::{
    BadRequest, Conflict, Forbidden, HeadersTooLarge, InternalError, InvalidApiKey,
    InvalidCredentials, InvalidSignature, InvalidToken, NotFound, PayloadTooLarge,
    PreconditionFailed, TooManyRequests, Unavailable, Unprocessable, UnsupportedMediaType,
};
use crate::error::{FieldError, Problem};
use crate::routes::{self, health};

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
pub(crate) struct ApiDoc;

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

/// Registers every documented service; the OpenAPI document is collected from
/// exactly these registrations.
pub fn documented<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(
        scope::scope("/api/v1")
            .configure(routes::configure)
            .service(routes::docs::get_openapi),
    )
    .service(health::live)
    .service(health::ready)
    .service(health::get_metrics)
}

/// The OpenAPI document of everything `build_app` serves.
fn documented_api() -> OpenApiDoc {
    documented(App::new().into_utoipa_app().openapi(ApiDoc::openapi()))
        .split_for_parts()
        .1
}

/// The OpenAPI document of this API, built from the registered routes.
pub fn openapi() -> OpenApiDoc {
    let mut doc = documented_api();
    conventions::add_limit_responses(&mut doc);
    add_surrogate_keys(&mut doc);
    conventions::declare_security(&mut doc);
    conventions::add_server_wide_errors(&mut doc);
    conventions::add_common_headers_everywhere(&mut doc);
    conventions::bound_headers(&mut doc);
    doc
}

/// The public reads whose 200 carries `Surrogate-Key` (see `crate::surrogate`).
pub(crate) const PURGEABLE: [&str; 15] = [
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
    use crate::http::{HTTP_URL_PATTERN, SLUG_PATTERN};

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
