//! Who may make how many requests: API keys (shared per-minute counters in
//! the database, so every node sees the same count) and anonymous clients
//! (per address, counted in memory on each node).
//!
//! Every response to a counted request (keyed, or anonymous when a per-address
//! allowance is set) carries the IETF `RateLimit-Policy` and `RateLimit`
//! header fields; a request over the allowance gets 429 with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use chrono::NaiveDateTime;

use crate::app::AppState;
use crate::auth::api_key;
use crate::db::api_keys;
use crate::domain::api_key::{Scope, seconds_to_reset, window_start};
use crate::error::ApiError;

/// The header third parties send their key in.
pub static API_KEY: HeaderName = HeaderName::from_static("x-api-key");
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// A request made with a valid API key.
#[derive(Clone, Debug)]
pub struct ApiClient {
    /// The key's id.
    pub key_id: i64,
    /// Whether the key carries the syndication licence (`content:full`).
    pub full_licence: bool,
}

/// Per-address request counts for the current minute, on this node.
#[derive(Debug, Default)]
pub struct AnonymousLimiter {
    windows: Mutex<(NaiveDateTime, HashMap<IpAddr, u32>)>,
}

impl AnonymousLimiter {
    /// Counts a request from `ip` at `now`; returns the count this minute.
    pub fn hit(&self, ip: IpAddr, now: NaiveDateTime) -> u32 {
        let window = window_start(now);
        let mut guard = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (current, counts) = &mut *guard;
        if *current != window {
            *current = window;
            counts.clear();
        }
        let count = counts.entry(ip).or_insert(0);
        *count = count.saturating_add(1);
        *count
    }
}

fn rate_headers(headers: &mut HeaderMap, policy: &str, limit: i64, used: i64, reset: i64) {
    let remaining = (limit - used).max(0);
    let pairs = [
        (&RATELIMIT_POLICY, format!("\"{policy}\";q={limit};w=60")),
        (&RATELIMIT, format!("\"{policy}\";r={remaining};t={reset}")),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name.clone(), value);
        }
    }
}

fn refuse<B>(req: ServiceRequest, error: ApiError) -> ServiceResponse<EitherBody<B>> {
    let response = error.error_response();
    req.into_response(response).map_into_right_body()
}

/// Applies API keys and anonymous limits before a request reaches its handler.
pub async fn limit<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let now = state.clock.now();
    let reset = seconds_to_reset(now);
    // A method or path that no route serves gets its 404 or 405 first.
    let routed = || {
        state
            .routes
            .allowed_methods(req.path())
            .contains(req.method())
    };
    if let Some(presented) = req.headers().get(&API_KEY).filter(|_| routed()) {
        let secret = presented
            .to_str()
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= api_key::MAX_SECRET_LEN)
            .map(api_key::hash);
        let Some(hash) = secret else {
            return Ok(refuse(req, ApiError::InvalidApiKey));
        };
        let window = window_start(now);
        let found = state
            .db
            .run(move |conn| {
                let Some(key) = api_keys::find_live(conn, &hash)? else {
                    return Ok(None);
                };
                let hits = api_keys::hit(conn, &format!("key:{}", key.id), window)?;
                api_keys::touch(conn, key.id, now)?;
                Ok(Some((key, hits)))
            })
            .await;
        let (key, hits) = match found {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(refuse(req, ApiError::InvalidApiKey)),
            Err(e) => return Ok(refuse(req, e)),
        };
        let limit = i64::from(key.rate_limit_per_minute);
        let used = i64::from(hits);
        if used > limit {
            let mut refused = refuse(req, ApiError::TooManyRequests(reset.unsigned_abs()));
            rate_headers(refused.headers_mut(), "per-key", limit, used, reset);
            return Ok(refused);
        }
        req.extensions_mut().insert(ApiClient {
            key_id: key.id,
            full_licence: Scope::parse_list(&key.scopes).contains(&Scope::ContentFull),
        });
        let mut response = next.call(req).await?.map_into_left_body();
        rate_headers(response.headers_mut(), "per-key", limit, used, reset);
        return Ok(response);
    }
    let per_minute = i64::from(state.config.rate_limit_anonymous_per_minute);
    let anonymous = per_minute > 0
        && !req.headers().contains_key(header::AUTHORIZATION)
        && req.path().starts_with("/api/");
    if let Some(ip) = req.peer_addr().map(|a| a.ip()).filter(|_| anonymous) {
        let used = i64::from(state.anonymous.hit(ip, now));
        if used > per_minute {
            let mut refused = refuse(req, ApiError::TooManyRequests(reset.unsigned_abs()));
            rate_headers(
                refused.headers_mut(),
                "per-address",
                per_minute,
                used,
                reset,
            );
            return Ok(refused);
        }
        let mut response = next.call(req).await?.map_into_left_body();
        rate_headers(
            response.headers_mut(),
            "per-address",
            per_minute,
            used,
            reset,
        );
        return Ok(response);
    }
    Ok(next.call(req).await?.map_into_left_body())
}
