//! What every request shares: the state built once per process (database,
//! clock, stores, keys, the prepared OpenAPI document) and the route table
//! that tells 404 from 405.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::web::Bytes;
use utoipa::openapi::OpenApi;

use crate::auth::hasher::Hasher;
use crate::auth::jwt::JwtKeys;
use crate::auth::meter_token::MeterKeys;
use crate::cache::ResponseCache;
use crate::clock::Clock;
use crate::config::{Config, SmtpUrl};
use crate::db::ledger::{self, Ledger};
use crate::db::{ConnectionManager, Db, DbPool};
use crate::http::strong_etag;
use crate::limits::WindowCounter;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::readership::ViewCounter;

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
    /// Hashes and checks passwords on threads of its own.
    pub passwords: Hasher,
}

impl AppState {
    /// Builds the state over an existing pool, serving `api` as the OpenAPI
    /// document and reading the route table from it.
    pub fn new(
        config: Config,
        pool: DbPool,
        clock: Clock,
        api: &OpenApi,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let mailer = Arc::new(Mailer::new(config.smtp_url.as_ref().map(SmtpUrl::expose))?);
        let openapi_json = Bytes::from(api.to_json()?);
        let (config_url, config_timeout) = (config.database_url.clone(), config.pool_timeout);
        Ok(Self {
            db: Db::new(pool),
            clock,
            metrics: Metrics::new()?,
            openapi_etag: strong_etag(&openapi_json),
            openapi_json: Arc::new(openapi_json),
            routes: RouteTable::from_openapi(api),
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
            passwords: Hasher::start(),
        })
    }
}

/// The documented paths and their methods, each with whether it takes a
/// bearer token (`bearer` or `admin_bearer` in its security). Every request
/// is looked up once, so the paths are grouped by their number of segments.
#[derive(Debug, Default)]
pub struct RouteTable {
    /// Index: number of segments.
    by_length: Vec<Vec<Route>>,
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
    pub(crate) fn from_openapi(api: &OpenApi) -> Self {
        let mut by_length: Vec<Vec<Route>> = Vec::new();
        for (path, item) in &api.paths.paths {
            let segments: Vec<Segment> = path
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
            if by_length.len() <= segments.len() {
                by_length.resize_with(segments.len() + 1, Vec::new);
            }
            by_length[segments.len()].push((segments, methods));
        }
        // The route with the most literal segments wins a tie: put it first.
        for routes in &mut by_length {
            routes.sort_by_key(|(segments, _)| {
                std::cmp::Reverse(
                    segments
                        .iter()
                        .filter(|s| matches!(s, Segment::Literal(_)))
                        .count(),
                )
            });
        }
        Self { by_length }
    }

    /// The methods a path accepts (HEAD wherever GET is); empty when no
    /// route has this path.
    pub(crate) fn allowed_methods(&self, path: &str) -> Vec<Method> {
        let mut methods: Vec<Method> = self.methods(path).iter().map(|(m, _)| m.clone()).collect();
        if methods.contains(&Method::GET) {
            methods.insert(1, Method::HEAD);
        }
        methods
    }

    /// Whether an operation is documented at `method` `path` (`None` when
    /// not), and if so whether it takes a bearer token: only there does an
    /// `Authorization` header mean anything (elsewhere it is ignored, and the
    /// request is anonymous).
    pub(crate) fn takes_bearer(&self, method: &Method, path: &str) -> Option<bool> {
        self.methods(path)
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, bearer)| *bearer)
    }

    /// The methods of the route a path names, each with whether it takes a
    /// bearer token. When several documented paths match
    /// (`/topics/trending` and `/topics/{slug}`), the one with the most
    /// literal segments is the resource the path names, as the router also
    /// decides.
    fn methods(&self, path: &str) -> &[(Method, bool)] {
        // Only the leading slash goes: a trailing one is another path (404).
        let path = path.strip_prefix('/').unwrap_or(path);
        let length = path.split('/').count();
        let Some(routes) = self.by_length.get(length) else {
            return &[];
        };
        routes
            .iter()
            .find(|(segments, _)| {
                segments.iter().zip(path.split('/')).all(|(s, p)| match s {
                    Segment::Literal(l) => l == p,
                    Segment::Param => !p.is_empty(),
                })
            })
            .map_or(&[], |(_, methods)| methods.as_slice())
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
        let table = RouteTable::from_openapi(&crate::openapi::openapi());
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
        assert_eq!(
            table.takes_bearer(&Method::GET, "/api/v1/articles"),
            Some(true)
        );
        assert_eq!(table.takes_bearer(&Method::GET, "/api/v1/me"), Some(true));
        assert_eq!(
            table.takes_bearer(&Method::GET, "/api/v1/admin/users"),
            Some(true)
        );
        assert_eq!(
            table.takes_bearer(&Method::GET, "/api/v1/topics"),
            Some(false)
        );
        assert_eq!(
            table.takes_bearer(&Method::POST, "/api/v1/auth/login"),
            Some(false)
        );
        assert_eq!(
            table.takes_bearer(&Method::GET, "/health/live"),
            Some(false)
        );
        assert_eq!(table.takes_bearer(&Method::PUT, "/api/v1/articles"), None);
        assert_eq!(table.takes_bearer(&Method::GET, "/api/v1/nothing"), None);
    }
}
