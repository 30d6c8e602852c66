//! `/auth`: registration, login, token refresh and logout.

use crate::routes::Json;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{AuthUser, password, tokens};
use crate::db::refresh_tokens::{self, NewRefreshToken};
use crate::db::users::{self, NewUser, User};
use crate::db::{DbConnection, login_failures, meter};
use crate::domain::account::{
    ACCOUNT_THROTTLE, CLIENT_THROTTLE, Email, Role, Throttle, check_password, display_name,
};
use crate::domain::paywall;
use crate::error::{ApiError, FieldError};
use crate::openapi::{
    BadRequest, Conflict, InvalidCredentials, InvalidToken, PayloadTooLarge, TooManyRequests,
    Unavailable, UnsupportedMediaType,
};
use crate::routes::articles::presented_meter_token;
use crate::views::{self, Session};

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana.lopez@example.com", "password": "correct horse battery", "display_name": "Ana López"}))]
pub struct RegisterRequest {
    /// Sign-in email; trimmed and lower-cased.
    #[schema(max_length = 254)]
    pub email: String,
    /// At least 10 characters, at most 1,024 bytes.
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    /// The name shown for the user.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub display_name: String,
}

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana.lopez@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// Sign-in email.
    #[schema(max_length = 254)]
    pub email: String,
    /// The password.
    #[schema(max_length = 1024)]
    pub password: String,
}

/// A refresh token, for refresh and logout.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "3q2-7wAAAAAb8Xl0b2tlbl9vZl9leGFtcGxlX29ubHk"}))]
pub struct RefreshRequest {
    /// The refresh token from the last session response.
    #[schema(max_length = 128)]
    pub refresh_token: String,
}

/// Longest refresh token a request may carry (ours are far shorter).
const MAX_REFRESH_TOKEN_LEN: usize = 128;

/// Checks registration fields, naming every one that is wrong.
fn validate_registration(body: &RegisterRequest) -> Result<(Email, String), ApiError> {
    let mut errors = Vec::new();
    let email = Email::parse(&body.email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    if let Err(m) = check_password(&body.password) {
        errors.push(FieldError::new("password", m));
    }
    let name = display_name(&body.display_name)
        .map_err(|m| errors.push(FieldError::new("display_name", m)))
        .ok();
    match (email, name) {
        (Some(email), Some(name)) if errors.is_empty() => Ok((email, name)),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Hashes a password on the hashing threads: argon2 is slow on purpose.
pub async fn hash_password(plain: String) -> Result<String, ApiError> {
    on_hashing_threads(move || password::hash(&plain))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Verifies a password on the hashing threads; without a stored hash it
/// spends the same time and fails, so unknown accounts cannot be told apart.
pub async fn verify_password(plain: String, stored: Option<String>) -> Result<bool, ApiError> {
    on_hashing_threads(move || match stored {
        Some(stored) => password::verify(&plain, &stored),
        None => {
            password::verify_nothing(&plain);
            false
        }
    })
    .await
}

type Job = Box<dyn FnOnce() + Send>;

/// Password hashes run on a few threads of their own, two per core, and
/// wait their turn there. Each hash takes 19 MiB; on the general blocking
/// pool a burst of logins spread them over dozens of threads whose
/// allocators each kept the memory (1.2 GB after 64 concurrent logins).
async fn on_hashing_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    static QUEUE: std::sync::LazyLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> =
        std::sync::LazyLock::new(|| {
            let (sender, receiver) = std::sync::mpsc::channel::<Job>();
            let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
            let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
            for i in 0..cores * 2 {
                let receiver = receiver.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("password-{i}"))
                    .spawn(move || {
                        loop {
                            let job = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                            match job {
                                Ok(job) => job(),
                                Err(_) => break,
                            }
                        }
                    });
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "no password-hashing thread");
                }
            }
            std::sync::Mutex::new(sender)
        });
    let (reply, answer) = tokio::sync::oneshot::channel();
    QUEUE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(Box::new(move || {
            let _ = reply.send(work());
        }))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    answer
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing stopped: {e}")))
}

/// Stores a new refresh token in `family`; returns the token.
fn store_refresh_token(
    conn: &mut DbConnection,
    user_id: i64,
    family: &str,
    now: NaiveDateTime,
    ttl_secs: i64,
) -> Result<String, ApiError> {
    let (token, hash) = tokens::generate().map_err(|e| ApiError::Internal(e.to_string()))?;
    refresh_tokens::insert(
        conn,
        &NewRefreshToken {
            user_id,
            family,
            token_hash: &hash,
            created_at: now,
            expires_at: now + Duration::seconds(ttl_secs),
        },
    )?;
    Ok(token)
}

/// The session response for a user with a fresh refresh token.
fn session(
    state: &AppState,
    user: User,
    family: &str,
    refresh_token: String,
) -> Result<Session, ApiError> {
    let access_token = state
        .jwt
        .issue(user.id, user.role, family, state.clock.now().and_utc())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Session {
        user: views::User::from(user),
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_secs(),
    })
}

/// Starts a new login session (a new refresh-token family) for `user`. An
/// anonymous meter token sent with the request joins the account's meter,
/// so signing in never grants more free articles.
async fn new_session(state: &AppState, req: &HttpRequest, user: User) -> Result<Session, ApiError> {
    let family = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now();
    let ttl = state.config.refresh_token_ttl;
    let anonymous = presented_meter_token(req)?.and_then(|token| state.meter_keys.verify(token));
    let (user_id, family_for_db) = (user.id, family.clone());
    let refresh_token = state
        .db
        .run(move |conn| {
            if let Some(id) = anonymous {
                let month = paywall::month_of(now);
                meter::merge(
                    conn,
                    &format!("anon:{id}"),
                    &format!("user:{user_id}"),
                    &month,
                )?;
            }
            store_refresh_token(conn, user_id, &family_for_db, now, ttl)
        })
        .await?;
    session(state, user, &family, refresh_token)
}

fn no_store(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response.insert_header(("Cache-Control", "no-store"));
    response
}

/// Register
///
/// Creates a reader account and signs it in. The email is trimmed and
/// lower-cased; one email, one account.
#[utoipa::path(
    tag = "accounts",
    params(("X-Meter-Token" = Option<String>, Header, description = "An anonymous reader's meter token: what it read this month joins the account's meter.", max_length = 100)),
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The account exists and is signed in.", body = Session),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    presented_meter_token(&req)?;
    let (email, name) = validate_registration(&body)?;
    let hash = hash_password(body.password).await?;
    let now = state.clock.now();
    let user = state
        .db
        .run(move |conn| {
            let new = NewUser {
                email: email.as_str(),
                display_name: &name,
                password_hash: &hash,
                role: Role::Reader.as_str(),
                disabled: false,
                created_at: now,
                updated_at: now,
            };
            users::insert(conn, &new).map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => ApiError::Conflict(
                    "email_taken",
                    "An account with this email already exists; log in instead.".into(),
                ),
                other => other.into(),
            })
        })
        .await?;
    let session = new_session(&state, &req, user).await?;
    Ok(no_store(HttpResponse::Created()).json(session))
}

/// The address failed logins are counted against.
fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|addr| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Seconds to wait when either scope is throttled.
fn throttled(
    conn: &mut DbConnection,
    scopes: &[(&str, Throttle)],
    now: NaiveDateTime,
) -> Result<Option<u64>, ApiError> {
    let mut wait = None;
    for (scope, throttle) in scopes {
        let (failures, oldest) = login_failures::recent(conn, scope, now - throttle.window)?;
        wait = wait.max(throttle.retry_after(failures, oldest, now));
    }
    Ok(wait)
}

/// Log in
///
/// Exchanges email and password for a session. A wrong password and an
/// unknown email get the same 401. After 5 failures for one account, or 20
/// from one client address, within 15 minutes, further attempts get 429 with
/// `Retry-After` until the oldest failure leaves the window.
#[utoipa::path(
    tag = "accounts",
    params(("X-Meter-Token" = Option<String>, Header, description = "An anonymous reader's meter token: what it read this month joins the account's meter.", max_length = 100)),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in.", body = Session),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 401, response = InvalidCredentials),
        (status = 403, description = "The account is disabled.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, response = TooManyRequests),
        (status = 503, response = Unavailable),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    presented_meter_token(&req)?;
    let email = Email::parse(&body.email).map_err(|m| ApiError::field("email", m))?;
    let account_scope = format!("email:{}", email.as_str());
    let client_scope = format!("client:{}", client_address(&req));
    let now = state.clock.now();

    let scopes = (account_scope.clone(), client_scope.clone());
    let user = state
        .db
        .run(move |conn| {
            let limits = [
                (scopes.0.as_str(), ACCOUNT_THROTTLE),
                (scopes.1.as_str(), CLIENT_THROTTLE),
            ];
            if let Some(wait) = throttled(conn, &limits, now)? {
                return Err(ApiError::TooManyRequests(wait));
            }
            Ok(users::find_by_email(conn, email.as_str())?)
        })
        .await?;

    let stored = user.as_ref().map(|u| u.password_hash.clone());
    if !verify_password(body.password, stored).await? {
        state
            .db
            .run(move |conn| {
                login_failures::record(conn, &[&account_scope, &client_scope], now)?;
                login_failures::prune(conn, &account_scope, now - ACCOUNT_THROTTLE.window)?;
                login_failures::prune(conn, &client_scope, now - CLIENT_THROTTLE.window)?;
                Ok(())
            })
            .await?;
        return Err(ApiError::InvalidCredentials);
    }
    let Some(user) = user else {
        return Err(ApiError::InvalidCredentials);
    };
    if user.disabled {
        return Err(ApiError::AccountDisabled);
    }
    state
        .db
        .run(move |conn| Ok(login_failures::clear(conn, &account_scope)?))
        .await?;
    let session = new_session(&state, &req, user).await?;
    Ok(no_store(HttpResponse::Ok()).json(session))
}

/// What a refresh token turned out to be.
enum Refreshed {
    Rotated(User, String, String),
    Refused(&'static str),
}

/// Refresh
///
/// Exchanges a refresh token for a new session in the same login. Refresh
/// tokens are single-use: each call returns a new one. Presenting a token
/// that was already used revokes every token of that login and answers 401.
#[utoipa::path(
    tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token and refresh token.", body = Session),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 401, response = InvalidToken),
        (status = 503, response = Unavailable),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let hash = tokens::hash(&body.refresh_token);
    let now = state.clock.now();
    let ttl = state.config.refresh_token_ttl;
    let outcome = state
        .db
        .run(move |conn| {
            let Some(stored) = refresh_tokens::find_by_hash(conn, &hash)? else {
                return Ok(Refreshed::Refused("unknown refresh token"));
            };
            if stored.revoked_at.is_some() {
                return Ok(Refreshed::Refused("revoked refresh token"));
            }
            if stored.used_at.is_some() || !refresh_tokens::mark_used(conn, stored.id, now)? {
                refresh_tokens::revoke_family(conn, &stored.family, now)?;
                return Ok(Refreshed::Refused(
                    "reused refresh token: its login was revoked",
                ));
            }
            if stored.expires_at <= now {
                return Ok(Refreshed::Refused("expired refresh token"));
            }
            match users::find(conn, stored.user_id)? {
                Some(user) if !user.disabled => {
                    let token = store_refresh_token(conn, user.id, &stored.family, now, ttl)?;
                    Ok(Refreshed::Rotated(user, stored.family, token))
                }
                _ => Ok(Refreshed::Refused("the account is gone or disabled")),
            }
        })
        .await?;
    match outcome {
        Refreshed::Rotated(user, family, token) => {
            Ok(no_store(HttpResponse::Ok()).json(session(&state, user, &family, token)?))
        }
        Refreshed::Refused(why) => Err(ApiError::InvalidToken(why.into())),
    }
}

/// Log out
///
/// Ends the login the refresh token belongs to: every refresh token of it
/// stops working. Unknown tokens are accepted silently.
#[utoipa::path(
    tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out."),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    // Silent for unknown tokens, but not for what no token can look like.
    if body.refresh_token.len() > MAX_REFRESH_TOKEN_LEN {
        return Err(ApiError::field(
            "refresh_token",
            "is longer than any refresh token",
        ));
    }
    let hash = tokens::hash(&body.refresh_token);
    let now = state.clock.now();
    state
        .db
        .run(move |conn| {
            if let Some(stored) = refresh_tokens::find_by_hash(conn, &hash)? {
                refresh_tokens::revoke_family(conn, &stored.family, now)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log out everywhere
///
/// Ends every login of the signed-in user. Access tokens already issued
/// expire on their own within their short lifetime.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session ended."),
        (status = 401, response = InvalidToken),
        (status = 503, response = Unavailable),
    )
)]
#[post("/auth/logout-all")]
pub async fn logout_all(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    state
        .db
        .run(move |conn| Ok(refresh_tokens::revoke_user(conn, user.id, None, now)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
