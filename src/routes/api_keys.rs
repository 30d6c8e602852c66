//! `/admin/api-keys`: keys for third parties (role `admin`).

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Admin, api_key};
use crate::db::api_keys::{self, NewApiKey};
use crate::db::{DbConnection, audit};
use crate::domain::api_key::Scope;
use crate::domain::id::UserId;
use crate::error::responses::{
    BadRequest, Forbidden, InvalidToken, NotFound, PayloadTooLarge, Unavailable,
    UnsupportedMediaType,
};
use crate::error::{ApiError, FieldError};
use crate::http::{Body, Json, Query, id_cursor, id_page, no_store, page_limit};
use crate::state::AppState;
use crate::views::{ApiKey, ApiKeyList, CreatedApiKey};

/// A new key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Harbour Monitor syndication", "scopes": ["content:full"], "rate_limit_per_minute": 600}))]
pub(crate) struct CreateApiKeyRequest {
    /// Who it is for.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// At least one of `content:read` and `content:full` (a repeated scope counts once).
    #[schema(min_items = 1, max_items = 2)]
    pub scopes: Vec<Scope>,
    /// Requests allowed per minute (default 600).
    #[schema(minimum = 1, maximum = 100000)]
    pub rate_limit_per_minute: Option<i32>,
}

/// Pagination for keys.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ApiKeyListParams {
    /// Page size.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// `meta.next_cursor` of the previous page; omit for the first page.
    #[param(max_length = 512)]
    pub cursor: Option<String>,
}

/// Create an API key
///
/// Makes a key for a third party and returns its secret, once: only a hash
/// is stored. `content:read` reads like an anonymous reader without a meter
/// (free articles whole, previews of metered and premium ones);
/// `content:full` is a syndication licence that reads every published
/// article whole. Role: admin.
#[utoipa::path(
    tag = "administration",
    security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "The key and its secret (shown this once).", body = CreatedApiKey),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[post("/admin/api-keys")]
pub(crate) async fn create_api_key(
    state: web::Data<AppState>,
    admin: Admin,
    body: Body<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let Json(body) = body?;
    let (name, scopes, per_minute) = checked(body)?;
    let secret = api_key::generate()?;
    let (hash, prefix) = (api_key::hash(&secret), api_key::display_prefix(&secret));
    let now = state.clock.now();
    let row = state
        .db
        .run(move |conn| {
            let new = NewApiKey {
                name: &name,
                prefix: &prefix,
                secret_hash: &hash,
                scopes: &Scope::join(&scopes),
                rate_limit_per_minute: per_minute,
                created_by: Some(admin.id.get()),
                created_at: now,
            };
            crate::db::transaction(conn, |conn| insert_key(conn, &new, admin.id, now))
        })
        .await?;
    Ok(no_store(HttpResponse::Created()).json(CreatedApiKey {
        key: ApiKey::from(row),
        secret,
    }))
}

/// The request's name, scopes (sorted, without repeats) and allowance,
/// each fault named.
fn checked(body: CreateApiKeyRequest) -> Result<(String, Vec<Scope>, i32), ApiError> {
    let name = body.name.trim().to_owned();
    let mut errors = Vec::new();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "must be 1 to 100 characters"));
    }
    let mut scopes = body.scopes;
    if scopes.len() > 2 {
        errors.push(FieldError::new("scopes", "lists at most the two scopes"));
    }
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    if scopes.is_empty() {
        errors.push(FieldError::new("scopes", "needs at least one scope"));
    }
    let per_minute = body.rate_limit_per_minute.unwrap_or(600);
    if !(1..=100_000).contains(&per_minute) {
        errors.push(FieldError::new(
            "rate_limit_per_minute",
            "must be between 1 and 100000",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok((name, scopes, per_minute))
}

/// Stores a new key and audits it.
fn insert_key(
    conn: &mut DbConnection,
    new: &NewApiKey<'_>,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<api_keys::ApiKey, ApiError> {
    let row = api_keys::insert(conn, new)?;
    audit::record(
        conn,
        actor,
        "api_key.create",
        &format!("api_key:{}", row.id),
        &json!({"name": row.name, "scopes": row.scopes}),
        now,
    )?;
    Ok(row)
}

/// List API keys
///
/// Every key, newest first, revoked ones included; never a secret. Role: admin.
#[utoipa::path(
    tag = "administration",
    security(("bearer" = [])),
    params(ApiKeyListParams),
    responses(
        (status = 200, description = "A page of keys.", body = ApiKeyList),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
#[get("/admin/api-keys")]
pub(crate) async fn list_api_keys(
    state: web::Data<AppState>,
    _admin: Admin,
    Query(params): Query<ApiKeyListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(params.limit)?;
    let before = id_cursor(params.cursor.as_deref())?;
    let rows = state
        .db
        .run(move |conn| Ok(api_keys::list(conn, before, limit + 1)?))
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(id_page::<_, ApiKey>(rows, limit, |k| k.id)))
}

/// Revoke an API key
///
/// The key stops working at once, on every node (keys are checked against
/// the database on each request). Revoking a revoked key changes nothing.
/// Role: admin.
#[utoipa::path(
    tag = "administration",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The key's id.", example = 7, minimum = 1, maximum = 9007199254740991.0)),
    responses(
        (status = 204, description = "Revoked."),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[delete("/admin/api-keys/{id}")]
pub(crate) async fn revoke_api_key(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let found = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                let found = api_keys::revoke(conn, id, now)?;
                if found {
                    audit::record(
                        conn,
                        admin.id,
                        "api_key.revoke",
                        &format!("api_key:{id}"),
                        &json!({}),
                        now,
                    )?;
                }
                Ok(found)
            })
        })
        .await?;
    if found {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound("API key"))
    }
}
