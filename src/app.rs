//! The application: state built once, and `build_app`, which both the
//! binary and the tests serve.

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Compress, DefaultHeaders, Next, from_fn};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse};
use chrono::{NaiveDateTime, Timelike, Utc};
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa_actix_web::{AppExt, UtoipaApp, scope};
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::auth::jwt::JwtKeys;
use crate::auth::meter_token::MeterKeys;
use crate::cache::{self, EtagDecided, ResponseCache, WasHead};
use crate::config::{Config, SmtpUrl};
use crate::db::ledger::{self, Ledger};
use crate::db::{ConnectionManager, Db, DbPool};
use crate::error::{self, ApiError};
use crate::limits::{self, WindowCounter};
use crate::mail::Mailer;
use crate::metrics::{self, Metrics};
use crate::negotiation::{Coding, negotiate, weak};
use crate::openapi::{self as api_doc, ApiDoc};
use crate::readership::ViewCounter;
use crate::routes::{self, health};

/// Where "now" comes from: the system clock, or a fixed instant in tests.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// The system clock, truncated to microseconds (what both databases store).
    System,
    /// Always this instant.
    Fixed(NaiveDateTime),
}

impl Clock {
    /// The current UTC time.
    pub fn now(&self) -> NaiveDateTime {
        match self {
            Self::System => to_micros(Utc::now().naive_utc()),
            Self::Fixed(at) => *at,
        }
    }
}

/// `at` truncated to microseconds, the precision both databases store.
pub fn to_micros(at: NaiveDateTime) -> NaiveDateTime {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

/// Everything requests share; built once per process.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The clock.
    pub clock: Clock,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The OpenAPI document, serialised once.
    pub openapi_json: Arc<Bytes>,
    /// The document's strong `ETag`.
    pub openapi_etag: String,
    /// Which paths accept which methods, to tell 404 from 405.
    pub routes: RouteTable,
    /// Signs and checks access tokens.
    pub jwt: JwtKeys,
    /// Signs and checks anonymous meter tokens.
    pub meter_keys: MeterKeys,
    /// The configuration.
    pub config: Arc<Config>,
    /// Views counted in memory, written in batches.
    pub views: Arc<ViewCounter>,
    /// Anonymous requests per client address this minute, on this node.
    pub anonymous: WindowCounter,
    /// Signed-in requests per account this minute, on this node.
    pub users: WindowCounter,
    /// Where the outbox sends mail.
    pub mailer: Arc<Mailer>,
    /// Public responses kept in memory for a moment.
    pub cache: ResponseCache,
    /// Commits the meter's writes of concurrent reads together.
    pub ledger: Ledger,
}

impl AppState {
    /// Builds the state over an existing pool.
    pub fn new(
        config: Config,
        pool: DbPool,
        clock: Clock,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let api = api_doc::openapi();
        let mailer = Arc::new(Mailer::new(config.smtp_url.as_ref().map(SmtpUrl::expose))?);
        let openapi_json = Bytes::from(api.to_json()?);
        let (config_url, config_timeout) = (config.database_url.clone(), config.pool_timeout);
        Ok(Self {
            db: Db::new(pool),
            clock,
            metrics: Metrics::new()?,
            openapi_etag: crate::routes::strong_etag(&openapi_json),
            openapi_json: Arc::new(openapi_json),
            routes: RouteTable::from_openapi(&api),
            jwt: JwtKeys::new(config.jwt_secret.expose(), config.access_token_ttl)?,
            meter_keys: MeterKeys::new(config.jwt_secret.expose()),
            config: Arc::new(config),
            views: Arc::new(ViewCounter::default()),
            anonymous: WindowCounter::default(),
            users: WindowCounter::default(),
            mailer,
            cache: ResponseCache::default(),
            ledger: Ledger::start(
                ConnectionManager::new(config_url.clone(), config_timeout),
                ledger::writers_for(&config_url),
            )?,
        })
    }
}

/// Registers every documented service; the OpenAPI document is collected from
/// exactly these registrations.
fn documented<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(
        scope::scope("/api/v1")
            .configure(routes::configure)
            .service(api_doc::get_openapi),
    )
    .service(health::live)
    .service(health::ready)
    .service(metrics::get_metrics)
}

/// The OpenAPI document of everything `build_app` serves.
pub fn documented_api() -> OpenApi {
    documented(App::new().into_utoipa_app().openapi(ApiDoc::openapi()))
        .split_for_parts()
        .1
}

/// Largest JSON body accepted, in bytes.
pub const MAX_JSON_BODY: usize = 256 * 1024;

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
    let (app, _) =
        documented(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts();
    app.app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_JSON_BODY)
                .error_handler(error::json_error),
        )
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .service(web::redirect("/docs", "/docs/"))
        .service(
            SwaggerUi::new("/docs/{_:.*}").config(SwaggerConfig::new(["/api/v1/openapi.json"])),
        )
        .default_service(web::to(fallback))
        .wrap(from_fn(cache::cache))
        .wrap(from_fn(bound_body_time))
        .wrap(from_fn(limits::limit))
        .wrap(from_fn(refuse_nul_in_paths))
        .wrap(from_fn(refuse_oversized_heads))
        .wrap(Compress::default())
        .wrap(from_fn(encoding_aware_caching))
        .wrap(
            DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "no-referrer")),
        )
        .wrap(from_fn(head_as_get))
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

/// Every GET resource answers HEAD (RFC 9110 9.3.2): a HEAD is handled as
/// the GET it stands for, through the same limits, cache and handler
/// (which count no view and spend no meter for it: see `WasHead`), and the
/// connection sends the head alone (actix's HTTP/1 codec remembers the
/// request was a HEAD and writes no body, keeping `Content-Length`; with
/// pipelined requests that memory is the latest request's, an actix-http
/// limitation). Where no GET exists the answer is the GET's: 404, or 405
/// with `Allow`.
async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(WasHead);
    }
    next.call(req).await
}

/// No path names a resource with a NUL character in it (PostgreSQL refuses
/// NUL in any text value: a 500 before this), so a percent-encoded NUL in
/// the path is a 404 before any handler. Queries are checked by
/// `routes::Query`, JSON bodies by `routes::Json`.
async fn refuse_nul_in_paths(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let encoded_nul = req
        .uri()
        .path()
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0');
    if encoded_nul {
        return Err(ApiError::RouteNotFound.into());
    }
    next.call(req).await
}

/// Gives a request's body `BODY_TIMEOUT_MS` to arrive, counted from the
/// end of its head: actix's own timeout covers the head only, and a client
/// announcing a body and sending a byte every few seconds held a connection
/// (and a worker's attention) forever. Past the deadline, reading the body
/// fails, the handler answers 408 and the connection closes.
async fn bound_body_time(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let has_body = req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if let Some(state) = req.app_data::<web::Data<AppState>>().filter(|_| has_body) {
        let deadline = state.config.body_timeout;
        let payload = req.take_payload();
        let bounded = BodyDeadline {
            inner: payload,
            deadline: Box::pin(actix_web::rt::time::sleep(deadline)),
        };
        let stream: std::pin::Pin<
            Box<dyn futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>,
        > = Box::pin(bounded);
        req.set_payload(actix_web::dev::Payload::from(stream));
    }
    next.call(req).await
}

/// A request body that ends in an error once its deadline has passed.
struct BodyDeadline {
    inner: actix_web::dev::Payload,
    deadline: std::pin::Pin<Box<actix_web::rt::time::Sleep>>,
}

impl futures_util::Stream for BodyDeadline {
    type Item = Result<Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::future::Future as _;
        use std::task::Poll;
        if let Poll::Ready(item) = std::pin::Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            let late = std::io::Error::new(std::io::ErrorKind::TimedOut, BODY_TOO_SLOW);
            return Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(late))));
        }
        Poll::Pending
    }
}

/// What a body that missed its deadline fails with.
pub const BODY_TOO_SLOW: &str = "the request body did not arrive in time";

/// The most header bytes (names and values) a request may carry: room for
/// long tokens and cookies, not for a client trying to exhaust memory.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

async fn refuse_oversized_heads(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge(MAX_HEADER_BYTES).into());
    }
    next.call(req).await
}

/// Keeps caches right around compression. A compressed body is other bytes
/// than the one its strong `ETag` names (RFC 9110, 8.8.3), so an encoded
/// response carries the weak form (our `If-None-Match` compares weakly, so
/// either form revalidates). A 304 carries the form its 200 would have (the
/// weak one whenever the client takes a coding we send). A 200 or 304 says
/// `Vary: Accept-Encoding`, or a shared cache could hand a stored brotli
/// body to a client that cannot read it, or the reverse.
async fn encoding_aware_caching(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // What `Compress` will code a 200 in for this client.
    let coded = negotiate(
        req.headers(),
        &[Coding::Brotli, Coding::Gzip, Coding::Deflate],
    ) != Coding::Identity;
    let mut response = next.call(req).await?;
    let status = response.status();
    let revalidated = status == actix_web::http::StatusCode::NOT_MODIFIED;
    let decided = response
        .response()
        .extensions()
        .get::<EtagDecided>()
        .is_some();
    let headers = response.headers_mut();
    // The cache marks identity answers so that `Compress` passes them by.
    let identity = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes() == b"identity");
    if identity {
        headers.remove(header::CONTENT_ENCODING);
    }
    let weaken =
        !decided && (headers.contains_key(header::CONTENT_ENCODING) || (revalidated && coded));
    if weaken
        && let Some(etag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok())
        && etag.starts_with('"')
        && let Ok(weak) = HeaderValue::from_str(&weak(etag))
    {
        headers.insert(header::ETAG, weak);
    }
    let varies = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("accept-encoding"));
    if (status == actix_web::http::StatusCode::OK || revalidated) && !varies {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    Ok(response)
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

/// The documented paths and their methods, each with whether it takes a
/// bearer token (`bearer` or `admin_bearer` in its security).
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

/// A path's segments, and its methods each with whether it takes a bearer token.
type Route = (Vec<Segment>, Vec<(Method, bool)>);

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
}

impl RouteTable {
    /// Reads paths and methods from the OpenAPI document.
    pub fn from_openapi(api: &OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .trim_matches('/')
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Param
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let methods = [
                    (&item.get, Method::GET),
                    (&item.post, Method::POST),
                    (&item.put, Method::PUT),
                    (&item.patch, Method::PATCH),
                    (&item.delete, Method::DELETE),
                ]
                .into_iter()
                .filter_map(|(op, m)| op.as_ref().map(|op| (m, takes_bearer(op))))
                .collect();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods a path accepts (HEAD wherever GET is); empty when no
    /// route has this path.
    pub fn allowed_methods(&self, path: &str) -> Vec<Method> {
        let mut methods: Vec<Method> = self
            .route(path)
            .map(|methods| methods.iter().map(|(m, _)| m.clone()).collect())
            .unwrap_or_default();
        if methods.contains(&Method::GET) {
            methods.insert(1, Method::HEAD);
        }
        methods
    }

    /// Whether the operation at `method` `path` takes a bearer token: only
    /// there does an `Authorization` header mean anything (elsewhere it is
    /// ignored, and the request is anonymous).
    pub fn takes_bearer(&self, method: &Method, path: &str) -> bool {
        self.route(path)
            .is_some_and(|methods| methods.iter().any(|(m, bearer)| m == method && *bearer))
    }

    /// The methods of the route a path names. When several documented paths
    /// match (`/topics/trending` and `/topics/{slug}`), the one with the
    /// most literal segments is the resource the path names, as the router
    /// also decides.
    fn route(&self, path: &str) -> Option<&Vec<(Method, bool)>> {
        // Only the leading slash goes: a trailing one is another path (404).
        let parts: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        let literals = |segments: &[Segment]| {
            segments
                .iter()
                .filter(|s| matches!(s, Segment::Literal(_)))
                .count()
        };
        self.routes
            .iter()
            .filter(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(s, p)| match s {
                        Segment::Literal(l) => l == p,
                        Segment::Param => !p.is_empty(),
                    })
            })
            .max_by_key(|(segments, _)| literals(segments))
            .map(|(_, methods)| methods)
    }
}

/// Whether an operation's security lists one of the bearer schemes.
fn takes_bearer(operation: &utoipa::openapi::path::Operation) -> bool {
    let Ok(security) = serde_json::to_value(&operation.security) else {
        return false;
    };
    security.as_array().is_some_and(|requirements| {
        requirements.iter().any(|requirement| {
            requirement
                .as_object()
                .is_some_and(|schemes| schemes.keys().any(|k| k.ends_with("bearer")))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_table_knows_documented_paths() {
        let table = RouteTable::from_openapi(&documented_api());
        assert_eq!(
            table.allowed_methods("/health/live"),
            vec![Method::GET, Method::HEAD]
        );
        assert_eq!(
            table.allowed_methods("/api/v1/articles"),
            vec![Method::GET, Method::HEAD, Method::POST]
        );
        assert_eq!(
            table.allowed_methods("/api/v1/articles/some-slug"),
            vec![Method::GET, Method::HEAD, Method::PATCH, Method::DELETE]
        );
        assert_eq!(
            table.allowed_methods("/api/v1/topics/trending"),
            vec![Method::GET, Method::HEAD],
            "the literal path wins over /topics/{{slug}}, once"
        );
        assert_eq!(
            table.allowed_methods("/api/v1/auth/login"),
            vec![Method::POST]
        );
        assert!(table.allowed_methods("/api/v1/nothing").is_empty());
        assert!(table.allowed_methods("/api/v1/articles/a/b").is_empty());
        assert!(table.allowed_methods("/api/v1/articles/a/").is_empty());
        assert!(table.allowed_methods("/health/live/").is_empty());
        assert!(table.takes_bearer(&Method::GET, "/api/v1/articles"));
        assert!(table.takes_bearer(&Method::GET, "/api/v1/me"));
        assert!(table.takes_bearer(&Method::GET, "/api/v1/admin/users"));
        assert!(!table.takes_bearer(&Method::GET, "/api/v1/topics"));
        assert!(!table.takes_bearer(&Method::POST, "/api/v1/auth/login"));
        assert!(!table.takes_bearer(&Method::GET, "/health/live"));
    }

    #[test]
    fn the_system_clock_has_microsecond_precision() {
        let now = Clock::System.now();
        assert_eq!(now.nanosecond() % 1_000, 0);
    }
}
