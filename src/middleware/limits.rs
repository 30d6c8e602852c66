//! Applies the allowances of `crate::limits` before a request reaches a
//! handler, and writes the `RateLimit` header fields on the way out.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use chrono::NaiveDateTime;

use crate::auth::api_key;
use crate::client::ClientAddr;
use crate::db::api_keys;
use crate::domain::api_key::{Scope, seconds_to_reset, window_start};
use crate::error::ApiError;
use crate::limits::{API_KEY, ApiClient, Identity};
use crate::state::AppState;

static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

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

/// One per-minute allowance: its policy name, the limit and this request's count.
struct Allowance {
    policy: &'static str,
    limit: i64,
    used: i64,
    reset: i64,
}

impl Allowance {
    fn exceeded(&self) -> bool {
        self.limit > 0 && self.used > self.limit
    }

    fn write(&self, headers: &mut HeaderMap) {
        if self.limit > 0 {
            rate_headers(headers, self.policy, self.limit, self.used, self.reset);
        }
    }
}

/// Works out who the request is and applies their allowance before it
/// reaches a handler: API keys (counted in the database, shared by every
/// node), signed-in accounts and anonymous client addresses (counted in
/// memory on each node). Every path counts, `/health`, `/metrics` and
/// unknown ones included.
pub async fn limit<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let client = ClientAddr::identify(&req, &state.config.trusted_proxies);
    let now = state.clock.now();
    let reset = seconds_to_reset(now);
    let per_address = |state: &AppState| Allowance {
        policy: "per-address",
        limit: i64::from(state.config.rate_limit_anonymous_per_minute),
        used: i64::from(state.anonymous.hit(client.bucket(), now)),
        reset,
    };
    // A method or path that no route serves gets its 404 or 405 first. The
    // path as the router matches it: percent-decoded (`/api/v1/%61rticles`
    // is `/api/v1/articles`), or an encoded spelling would slip past.
    let operation = state
        .routes
        .takes_bearer(req.method(), req.match_info().as_str());
    let routed = operation.is_some();
    let (identity, allowance) = if let Some(presented) =
        req.headers().get(&API_KEY).filter(|_| routed)
    {
        match check_key(&state, presented, now).await {
            Ok(Some((key_id, full_licence, used, limit))) => {
                req.extensions_mut().insert(ApiClient {
                    key_id,
                    full_licence,
                });
                let allowance = Allowance {
                    policy: "per-key",
                    limit,
                    used,
                    reset,
                };
                (Identity::Key(key_id), allowance)
            }
            // An unknown key is an anonymous client guessing: it spends its
            // address's allowance, and is refused.
            Ok(None) => {
                let allowance = per_address(&state);
                let error = if allowance.exceeded() {
                    ApiError::TooManyRequests(reset.unsigned_abs())
                } else {
                    ApiError::InvalidApiKey
                };
                let mut refused = refuse(req, error);
                allowance.write(refused.headers_mut());
                return Ok(refused);
            }
            Err(e) => return Ok(refuse(req, e)),
        }
    } else {
        let bearer = operation == Some(true);
        match req.headers().get(header::AUTHORIZATION).filter(|_| bearer) {
            None => (Identity::Anonymous, per_address(&state)),
            Some(value) => match signed_in(&state, value) {
                Some(user_id) => (
                    Identity::User(user_id),
                    Allowance {
                        policy: "per-account",
                        limit: i64::from(state.config.rate_limit_user_per_minute),
                        used: i64::from(state.users.hit(u128::from(user_id.unsigned_abs()), now)),
                        reset,
                    },
                ),
                // A token that does not verify is refused here, before any
                // database or cache work, and counts against the address.
                None => {
                    let allowance = per_address(&state);
                    let error = if allowance.exceeded() {
                        ApiError::TooManyRequests(reset.unsigned_abs())
                    } else {
                        ApiError::InvalidToken("the token does not verify".into())
                    };
                    let mut refused = refuse(req, error);
                    allowance.write(refused.headers_mut());
                    return Ok(refused);
                }
            },
        }
    };
    if allowance.exceeded() {
        let mut refused = refuse(req, ApiError::TooManyRequests(reset.unsigned_abs()));
        allowance.write(refused.headers_mut());
        return Ok(refused);
    }
    req.extensions_mut().insert(identity);
    let mut response = next.call(req).await?.map_into_left_body();
    allowance.write(response.headers_mut());
    Ok(response)
}

/// The user id of a bearer token whose signature, issuer, audience and
/// expiry check out (the account itself is checked by the handler).
fn signed_in(state: &AppState, value: &HeaderValue) -> Option<i64> {
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    state.jwt.verify(token.trim()).ok()?.sub.parse().ok()
}

/// A presented API key: its id, licence, this minute's count and its limit;
/// `None` when no live key has this secret.
async fn check_key(
    state: &AppState,
    presented: &HeaderValue,
    now: NaiveDateTime,
) -> Result<Option<(i64, bool, i64, i64)>, ApiError> {
    let Some(hash) = presented
        .to_str()
        .ok()
        .filter(|s| !s.is_empty() && s.len() <= api_key::MAX_SECRET_LEN)
        .map(api_key::hash)
    else {
        return Ok(None);
    };
    let window = window_start(now);
    state
        .db
        .run(move |conn| {
            let Some(key) = api_keys::find_live(conn, &hash)? else {
                return Ok(None);
            };
            let hits = api_keys::hit(conn, &format!("key:{}", key.id), window)?;
            api_keys::touch(conn, key.id, now)?;
            let full = Scope::parse_list(&key.scopes).contains(&Scope::ContentFull);
            Ok(Some((
                key.id,
                full,
                i64::from(hits),
                i64::from(key.rate_limit_per_minute),
            )))
        })
        .await
}
