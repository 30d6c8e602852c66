//! `/admin`: accounts and the audit trail (role `admin`).

use actix_web::{HttpRequest, HttpResponse, get, patch, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Admin;
use crate::db::{DbConnection, audit, refresh_tokens, users};
use crate::domain::account::Role;
use crate::domain::id::UserId;
use crate::error::responses::{
    BadRequest, Conflict, Forbidden, InvalidToken, NotFound, PayloadTooLarge, Unavailable,
    UnsupportedMediaType,
};
use crate::error::{ApiError, ConflictCode};
use crate::http::{Body, Json, Query, id_cursor, id_page, page_limit};
use crate::state::AppState;
use crate::views::{AdminUser, AuditEvent, AuditList, UserList};

/// Search and pagination for accounts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UserListParams {
    /// Only accounts whose email contains this text (case-insensitive), e.g. `@example.com`.
    #[param(max_length = 254)]
    pub q: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// `meta.next_cursor` of the previous page; omit for the first page.
    #[param(max_length = 512)]
    pub cursor: Option<String>,
}

/// Pagination for the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditListParams {
    /// Page size.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// `meta.next_cursor` of the previous page; omit for the first page.
    #[param(max_length = 512)]
    pub cursor: Option<String>,
}

/// What an admin may change about an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "editor"}))]
pub(crate) struct UpdateUserRequest {
    /// The account's new role.
    pub role: Option<Role>,
    /// Disable (true) or re-enable (false) the account. Disabling ends its
    /// sessions and stops its access tokens at once.
    pub disabled: Option<bool>,
}

fn private<T: serde::Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(value)
}

/// List accounts
///
/// Accounts by id, searchable by email. Role: admin.
#[utoipa::path(
    tag = "administration",
    security(("bearer" = [])),
    params(UserListParams),
    responses(
        (status = 200, description = "A page of accounts.", body = UserList),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
#[get("/admin/users")]
pub(crate) async fn list_users(
    state: web::Data<AppState>,
    _admin: Admin,
    Query(params): Query<UserListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(params.limit)?;
    let after = id_cursor(params.cursor.as_deref())?;
    if params.q.as_ref().is_some_and(|q| q.len() > 254) {
        return Err(ApiError::field("q", "must be at most 254 characters"));
    }
    let search = params.q.filter(|q| !q.trim().is_empty());
    let rows = state
        .db
        .run(move |conn| Ok(users::list(conn, search.as_deref(), after, limit + 1)?))
        .await?;
    Ok(private(&id_page::<_, AdminUser>(rows, limit, |u| {
        u.id.get()
    })))
}

/// Change an account
///
/// Sets an account's role, or disables or re-enables it. A disabled
/// account's sessions end and its access tokens stop working at once.
/// Admins cannot demote or disable themselves (409), so that an
/// installation always keeps an admin. Role: admin.
#[utoipa::path(
    tag = "administration",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account's id.", example = 42, minimum = 1, maximum = 9007199254740991.0)),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The account after the change.", body = AdminUser),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[patch("/admin/users/{id}")]
pub(crate) async fn update_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: Admin,
    body: Body<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let Json(body) = body?;
    let id: UserId = req
        .match_info()
        .get("id")
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or(ApiError::NotFound("user"))?
        .into();
    let demotes_self = body.role.is_some_and(|r| r != Role::Admin) || body.disabled == Some(true);
    if id == admin.id && demotes_self {
        return Err(ApiError::Conflict(
            ConflictCode::SelfLockout,
            "Admins cannot demote or disable themselves; ask another admin.".into(),
        ));
    }
    let now = state.clock.now();
    let user = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                apply_user_change(conn, id, &body, admin.id, now)
            })
        })
        .await?;
    Ok(private(&AdminUser::from(user)))
}

/// Changes an account's role or disabled flag under its session lock (a
/// disabled account's logins are revoked) and audits it.
fn apply_user_change(
    conn: &mut DbConnection,
    id: UserId,
    body: &UpdateUserRequest,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<users::User, ApiError> {
    users::find(conn, id)?.ok_or(ApiError::NotFound("user"))?;
    users::lock_sessions(conn, id)?;
    if let Some(role) = body.role {
        users::set_role(conn, id, role, now)?;
    }
    if let Some(disabled) = body.disabled {
        users::set_disabled(conn, id, disabled, now)?;
        if disabled {
            refresh_tokens::revoke_user(conn, id, None, now)?;
        }
    }
    let details = json!({"role": body.role, "disabled": body.disabled});
    audit::record(
        conn,
        actor,
        "user.update",
        &format!("user:{id}"),
        &details,
        now,
    )?;
    users::find(conn, id)?.ok_or(ApiError::NotFound("user"))
}

/// The audit trail
///
/// Every editorial and administrative change, newest first: who did what
/// to which article, topic, author, source or account, and when. Role: admin.
#[utoipa::path(
    operation_id = "list_audit_entries",
    tag = "administration",
    security(("bearer" = [])),
    params(AuditListParams),
    responses(
        (status = 200, description = "A page of the audit trail.", body = AuditList),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
#[get("/admin/audit")]
pub(crate) async fn list_audit(
    state: web::Data<AppState>,
    _admin: Admin,
    Query(params): Query<AuditListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(params.limit)?;
    let before = id_cursor(params.cursor.as_deref())?;
    let events = state
        .db
        .run(move |conn| Ok(audit::list(conn, before, limit + 1)?))
        .await?;
    Ok(private(&id_page::<_, AuditEvent>(events, limit, |e| e.id)))
}
