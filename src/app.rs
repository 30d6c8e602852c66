//! The composition root: `build_app`, which both the binary and the tests
//! serve, puts the documented routes, Swagger UI and the middleware
//! together over the state.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, web};
use utoipa::OpenApi as _;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::DbPool;
use crate::error::{self, ApiError};
use crate::middleware::{self, cache, limits, metrics};
use crate::openapi::{self, ApiDoc};
use crate::state::AppState;

/// The state over an existing pool, serving the OpenAPI document of
/// everything `build_app` serves.
pub fn state(
    config: Config,
    pool: DbPool,
    clock: Clock,
) -> Result<AppState, Box<dyn std::error::Error>> {
    AppState::new(config, pool, clock, &openapi::openapi())
}

/// The whole application, ready to serve.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors(&state.config.cors_allowed_origins);
    let (app, _) = openapi::documented(App::new().into_utoipa_app().openapi(ApiDoc::openapi()))
        .split_for_parts();
    app.app_data(state)
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .service(web::redirect("/docs", "/docs/"))
        .service(
            SwaggerUi::new("/docs/{_:.*}").config(SwaggerConfig::new(["/api/v1/openapi.json"])),
        )
        .default_service(web::to(fallback))
        .wrap(from_fn(cache::cache))
        .wrap(from_fn(middleware::bound_body_time))
        .wrap(from_fn(limits::limit))
        .wrap(from_fn(middleware::refuse_nul_in_paths))
        .wrap(from_fn(middleware::refuse_oversized_heads))
        .wrap(Compress::default())
        .wrap(from_fn(middleware::encoding_aware_caching))
        .wrap(
            DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "no-referrer")),
        )
        .wrap(from_fn(middleware::head_as_get))
        .wrap(cors)
        .wrap(from_fn(metrics::observe))
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-none-match",
            "if-match",
            "idempotency-key",
            "x-api-key",
            "x-meter-token",
            "x-request-id",
        ])
        .expose_headers([
            "ratelimit",
            "ratelimit-policy",
            "etag",
            "idempotent-replayed",
            "link",
            "location",
            "retry-after",
            "x-request-id",
            "x-meter-token",
        ])
        .supports_credentials()
        .max_age(3600)
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Unknown paths are 404; known paths with another method are 405.
async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let allowed = state.routes.allowed_methods(req.path());
    Err(if allowed.is_empty() {
        ApiError::RouteNotFound
    } else {
        ApiError::MethodNotAllowed(allowed)
    })
}
