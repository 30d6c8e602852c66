//! `/me`: the signed-in user's own account.

use crate::http::{Json, no_store};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::auth::login::throttled_check;
use crate::db::{meter, refresh_tokens, users};
use crate::domain::account::{check_password, display_name};
use crate::domain::id::UserId;
use crate::domain::paywall;
use crate::error::ApiError;
use crate::error::responses::{
    BadRequest, InvalidToken, PayloadTooLarge, TooManyRequests, Unavailable, UnsupportedMediaType,
};
use crate::state::AppState;
use crate::views::{MeterView, User};

/// Changes to one's own account. Only these fields exist: role, email and
/// anything else are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Ana L."}))]
pub(crate) struct UpdateMeRequest {
    /// A new display name.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub display_name: Option<String>,
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "a longer passphrase now"}))]
pub(crate) struct ChangePasswordRequest {
    /// The password in use now.
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// The new password: at least 10 characters, at most 1,024 bytes.
    #[schema(min_length = 10, max_length = 1024)]
    pub new_password: String,
}

async fn load(state: &AppState, id: UserId) -> Result<users::User, ApiError> {
    state
        .db
        .run(move |conn| Ok(users::find(conn, id)?))
        .await?
        .ok_or_else(|| ApiError::InvalidToken("the account is gone".into()))
}

fn private(user: users::User) -> HttpResponse {
    no_store(HttpResponse::Ok()).json(User::from(user))
}

/// My account
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user's account.", body = User),
        (status = 401, response = InvalidToken),
        (status = 503, response = Unavailable),
    )
)]
#[get("/me")]
pub(crate) async fn get_me(me: AuthUser) -> HttpResponse {
    private(me.account)
}

/// Update my account
///
/// Changes the display name. Role, email and other fields cannot be set here.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated account.", body = User),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 401, response = InvalidToken),
        (status = 503, response = Unavailable),
    )
)]
#[patch("/me")]
pub(crate) async fn update_me(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Json<UpdateMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    if let Some(raw) = body.into_inner().display_name {
        let name = display_name(&raw).map_err(|m| ApiError::field("display_name", m))?;
        state
            .db
            .run(move |conn| Ok(users::set_display_name(conn, me.id, &name, now)?))
            .await?;
    }
    Ok(private(load(&state, me.id).await?))
}

/// Change my password
///
/// Needs the current password, checked under the same throttle as logging
/// in (429 with `Retry-After` after 5 wrong ones from one address in 15
/// minutes). Every other login of the account ends; this one stays signed in.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "The password changed; other sessions ended."),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 401, response = InvalidToken),
        (status = 429, response = TooManyRequests),
        (status = 503, response = Unavailable),
    )
)]
#[post("/me/password")]
pub(crate) async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    check_password(&body.new_password).map_err(|m| ApiError::field("new_password", m))?;
    let stored = me.account.password_hash.clone();
    // The same throttle as logging in: a stolen access token must not be
    // a way to guess the password without limit.
    let account = me.account.email.clone();
    if !throttled_check(&state, &req, &account, body.current_password, Some(stored)).await? {
        return Err(ApiError::field(
            "current_password",
            "is not the password in use",
        ));
    }
    let hash = state.passwords.hash(body.new_password).await?;
    let now = state.clock.now();
    state
        .db
        .run(move |conn| {
            Ok(crate::db::transaction(conn, |conn| {
                users::lock_sessions(conn, me.id)?;
                users::set_password_hash(conn, me.id, &hash, now)?;
                refresh_tokens::revoke_user(conn, me.id, Some(&me.session), now)
            })?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// My meter
///
/// The signed-in reader's meter for this calendar month (UTC): how many
/// metered articles were read, how many remain, and when it resets.
/// Subscribers, editors and admins are not metered; their meter stays at 0.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The meter.", body = MeterView),
        (status = 401, response = InvalidToken),
        (status = 503, response = Unavailable),
    )
)]
#[get("/me/meter")]
pub(crate) async fn get_my_meter(
    state: web::Data<AppState>,
    me: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let (key, month) = (format!("user:{}", me.id), paywall::month_of(now));
    let used = state
        .db
        .run(move |conn| Ok(meter::used(conn, &key, &month)?))
        .await?;
    let limit = i64::from(state.config.free_articles);
    let meter = MeterView::new(limit, used, paywall::resets_at(now));
    Ok(no_store(HttpResponse::Ok()).json(meter))
}
