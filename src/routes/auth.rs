//! `/auth`: registration, login, token refresh and logout.

use crate::http::{Json, no_store};
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::login::{client_address, throttled_check};
use crate::auth::meter_token;
use crate::auth::{AuthUser, tokens};
use crate::db::refresh_tokens::{self, NewRefreshToken};
use crate::db::users::{self, NewUser, User};
use crate::db::{DbConnection, api_keys, meter};
use crate::domain::account::{Email, Role, check_password, display_name};
use crate::domain::id::UserId;
use crate::domain::paywall;
use crate::domain::readership::hour_of;
use crate::error::responses::{
    BadRequest, Conflict, InvalidCredentials, InvalidToken, PayloadTooLarge, TooManyRequests,
    Unavailable, UnsupportedMediaType,
};
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::state::AppState;
use crate::views::{self, Session};

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana.lopez@example.com", "password": "correct horse battery", "display_name": "Ana López"}))]
pub(crate) struct RegisterRequest {
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
pub(crate) struct LoginRequest {
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
pub(crate) struct RefreshRequest {
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

/// Stores a new refresh token in `family`; returns the token.
fn store_refresh_token(
    conn: &mut DbConnection,
    user_id: UserId,
    family: &str,
    now: NaiveDateTime,
    ttl_secs: i64,
) -> Result<String, ApiError> {
    let (token, hash) = tokens::generate()?;
    refresh_tokens::insert(
        conn,
        &NewRefreshToken {
            user_id: user_id.get(),
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
        .map_err(|e| ApiError::Internal(e.into()))?;
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
/// up to the account's allowance, so signing in never grants more free
/// articles.
///
/// The session is stored under the user's session lock, and only while the
/// account is enabled and its password hash is still the one the caller
/// checked: a login racing a password change (or a disabling) either ends
/// before it, and is revoked by it, or sees it and is refused.
async fn new_session(state: &AppState, req: &HttpRequest, user: User) -> Result<Session, ApiError> {
    let family = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now();
    let ttl = state.config.refresh_token_ttl;
    let anonymous = meter_token::presented(req)?.and_then(|token| state.meter_keys.verify(token));
    let (user_id, family_for_db) = (user.id, family.clone());
    let checked_hash = user.password_hash.clone();
    let allowance = i64::from(state.config.free_articles);
    let refresh_token = state
        .db
        .run(move |conn| {
            let token = crate::db::transaction(conn, |conn| {
                users::lock_sessions(conn, user_id)?;
                match users::find(conn, user_id)? {
                    Some(now_stored)
                        if !now_stored.disabled && now_stored.password_hash == checked_hash =>
                    {
                        store_refresh_token(conn, user_id, &family_for_db, now, ttl)
                    }
                    _ => Err(ApiError::InvalidCredentials),
                }
            })?;
            if let Some(id) = anonymous {
                let month = paywall::month_of(now);
                meter::merge(
                    conn,
                    &format!("anon:{id}"),
                    &format!("user:{user_id}"),
                    &month,
                    allowance,
                )?;
            }
            Ok(token)
        })
        .await?;
    session(state, user, &family, refresh_token)
}

fn email_taken() -> ApiError {
    ApiError::Conflict(
        ConflictCode::EmailTaken,
        "An account with this email already exists; log in instead.".into(),
    )
}

/// Register
///
/// Creates a reader account and signs it in. The email is trimmed and
/// lower-cased; one email, one account. One client address may register
/// ten accounts an hour (`REGISTRATIONS_PER_ADDRESS_PER_HOUR`; then 429
/// with `Retry-After`).
#[utoipa::path(
    operation_id = "register_account",
    tag = "accounts",
    params(("X-Meter-Token" = Option<String>, Header, description = "An anonymous reader's meter token: what it read this month joins the account's meter.", max_length = 100)),
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The account exists and is signed in.", body = Session),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 409, response = Conflict),
        (status = 429, response = TooManyRequests),
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
    meter_token::presented(&req)?;
    let (email, name) = validate_registration(&body)?;
    let now = state.clock.now();
    let (client, wanted) = (client_address(&req), email.clone());
    let per_hour =
        i32::try_from(state.config.registrations_per_address_per_hour).unwrap_or(i32::MAX);
    state
        .db
        .run(move |conn| admit_registration(conn, &client, &wanted, per_hour, now))
        .await?;
    let hash = state.passwords.hash(body.password).await?;
    let user = state
        .db
        .run(move |conn| insert_reader(conn, &email, &name, &hash, now))
        .await?;
    let session = new_session(&state, &req, user).await?;
    Ok(no_store(HttpResponse::Created()).json(session))
}

/// The cheap checks before a registration hashes anything: the client's
/// hourly allowance, and an address already registered (the 409 says so
/// anyway, so answering it before hashing leaks nothing).
fn admit_registration(
    conn: &mut DbConnection,
    client: &str,
    email: &Email,
    per_hour: i32,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let hour = hour_of(now);
    let bucket = format!("register-client:{client}");
    if per_hour > 0 && api_keys::hit(conn, &bucket, hour)? > per_hour {
        let wait = (hour + Duration::hours(1) - now).num_seconds().max(1);
        return Err(ApiError::TooManyRequests(wait.unsigned_abs()));
    }
    if users::find_by_email(conn, email.as_str())?.is_some() {
        return Err(email_taken());
    }
    Ok(())
}

/// Stores a new reader's account (409 when the address was taken meanwhile).
fn insert_reader(
    conn: &mut DbConnection,
    email: &Email,
    name: &str,
    hash: &str,
    now: NaiveDateTime,
) -> Result<User, ApiError> {
    let new = NewUser {
        email: email.as_str(),
        display_name: name,
        password_hash: hash,
        role: Role::Reader.as_str(),
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    users::insert(conn, &new).map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            email_taken()
        } else {
            e.into()
        }
    })
}

/// Log in
///
/// Exchanges email and password for a session. A wrong password and an
/// unknown email get the same 401. After 5 failures for one account from
/// one client address, 20 from one address for any accounts, or 100 for one
/// account from all addresses, within 15 minutes, further attempts from
/// there get 429 with `Retry-After` until the oldest failure leaves the
/// window. So a guesser is stopped without locking out the account's owner,
/// who signs in from another address.
#[utoipa::path(
    operation_id = "create_session",
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
    meter_token::presented(&req)?;
    let email = Email::parse(&body.email).map_err(|m| ApiError::field("email", m))?;
    let wanted = email.as_str().to_owned();
    let user = state
        .db
        .run(move |conn| Ok(users::find_by_email(conn, &wanted)?))
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    if !throttled_check(&state, &req, email.as_str(), body.password, stored).await? {
        return Err(ApiError::InvalidCredentials);
    }
    let Some(user) = user else {
        return Err(ApiError::InvalidCredentials);
    };
    if user.disabled {
        return Err(ApiError::AccountDisabled);
    }
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
    operation_id = "refresh_session",
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
    // One transaction, under the user's session lock: a logout, logout
    // everywhere, password change or reuse detection either finishes before
    // this rotation (which then sees the revocation) or starts after it
    // (and then revokes the token minted here too).
    let outcome = state
        .db
        .run(move |conn| rotate(conn, &hash, now, ttl))
        .await?;
    match outcome {
        Refreshed::Rotated(user, family, token) => {
            Ok(no_store(HttpResponse::Ok()).json(session(&state, user, &family, token)?))
        }
        Refreshed::Refused(why) => Err(ApiError::InvalidToken(why.into())),
    }
}

/// Rotates the refresh token with this hash, or says why not; reuse of a
/// used token revokes its whole login.
fn rotate(
    conn: &mut DbConnection,
    hash: &str,
    now: NaiveDateTime,
    ttl: i64,
) -> Result<Refreshed, ApiError> {
    let Some(found) = refresh_tokens::find_by_hash(conn, hash)? else {
        return Ok(Refreshed::Refused("unknown refresh token"));
    };
    crate::db::transaction(conn, |conn| {
        users::lock_sessions(conn, found.user_id)?;
        let Some(stored) = refresh_tokens::find_by_hash(conn, hash)? else {
            return Ok(Refreshed::Refused("unknown refresh token"));
        };
        if stored.revoked_at.is_some() || refresh_tokens::family_revoked(conn, &stored.family)? {
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
}

/// Log out
///
/// Ends the login the refresh token belongs to: every refresh token of it
/// stops working. Unknown tokens are accepted silently.
#[utoipa::path(
    operation_id = "delete_session",
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
                crate::db::transaction(conn, |conn| {
                    users::lock_sessions(conn, stored.user_id)?;
                    refresh_tokens::revoke_family(conn, &stored.family, now)
                })?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log out everywhere
///
/// Ends every login of the signed-in user. Their access tokens stop working
/// at once: every request with an access token checks that its login is
/// still open.
#[utoipa::path(
    operation_id = "delete_all_sessions",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session ended."),
        (status = 401, response = InvalidToken),
        (status = 503, response = Unavailable),
    )
)]
#[post("/auth/logout-all")]
pub(crate) async fn logout_all(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    state
        .db
        .run(move |conn| Ok(refresh_tokens::end_sessions(conn, user.id, None, now)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
