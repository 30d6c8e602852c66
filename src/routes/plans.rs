//! `/plans`: what a subscription costs; admins manage the offer.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::cache::Purge;
use crate::db::plans::{self, NewPlan, PlanChanges};
use crate::db::{DbConnection, audit};
use crate::domain::id::UserId;
use crate::domain::plan::{BillingInterval, is_currency};
use crate::domain::slug;
use crate::error::responses::{
    BadRequest, Conflict, Forbidden, InvalidToken, NotFound, PayloadTooLarge, Unavailable,
    UnsupportedMediaType,
};
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::http::{Body, Json, LIST_FRESHNESS, public_json};
use crate::state::AppState;
use crate::views::{ListMeta, Listed, Plan, PlanList};

/// A new plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "student-yearly", "name": "Student, yearly", "price_minor": 990, "currency": "USD", "interval": "year"}))]
pub(crate) struct CreatePlanRequest {
    /// Stable identifier: lowercase letters, digits and single hyphens.
    #[schema(max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Price in minor units of `currency`.
    #[schema(minimum = 0, maximum = 100000000)]
    pub price_minor: i64,
    /// ISO 4217 code, upper case.
    #[schema(pattern = "^[A-Z]{3}$", max_length = 3)]
    pub currency: String,
    pub interval: BillingInterval,
    /// Offered to new subscribers; defaults to true.
    pub active: Option<bool>,
}

/// Changes to a plan. Plans are never deleted: deactivate one instead.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub(crate) struct UpdatePlanRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// New price for new subscriptions and renewals.
    #[schema(minimum = 0, maximum = 100000000)]
    pub price_minor: Option<i64>,
    /// Whether new subscribers may choose it.
    pub active: Option<bool>,
}

fn check_name(name: Option<&str>, errors: &mut Vec<FieldError>) {
    if name.is_some_and(|n| n.trim().is_empty() || n.chars().count() > 100) {
        errors.push(FieldError::new("name", "must be 1 to 100 characters"));
    }
}

fn check_price(price: Option<i64>, errors: &mut Vec<FieldError>) {
    if price.is_some_and(|p| !(0..=100_000_000).contains(&p)) {
        errors.push(FieldError::new(
            "price_minor",
            "must be between 0 and 100000000",
        ));
    }
}

fn one_plan(conn: &mut DbConnection, code: &str) -> Result<Plan, ApiError> {
    plans::find(conn, code)?
        .map(Plan::from)
        .ok_or(ApiError::NotFound("plan"))
}

/// List plans
///
/// The active subscription plans, cheapest first. Prices are integer minor
/// units (cents) with an ISO 4217 currency.
#[utoipa::path(
    tag = "subscriptions",
    responses(
        (status = 200, description = "The plans on offer.", body = PlanList),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 503, response = Unavailable),
    )
)]
#[get("/plans")]
pub(crate) async fn list_plans(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let rows = state.db.run(|conn| Ok(plans::list(conn, false)?)).await?;
    let data: Vec<Plan> = rows.into_iter().map(Plan::from).collect();
    let limit = i64::try_from(data.len()).unwrap_or(i64::MAX).max(1);
    let list = Plan::page(data, ListMeta::whole(limit));
    public_json(&req, &list, LIST_FRESHNESS)
}

/// Create a plan
///
/// Role: admin.
#[utoipa::path(
    tag = "administration",
    security(("bearer" = [])),
    request_body = CreatePlanRequest,
    responses(
        (status = 201, description = "The new plan.", body = Plan),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[post("/admin/plans")]
pub(crate) async fn create_plan(
    state: web::Data<AppState>,
    admin: Admin,
    body: Body<CreatePlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let Json(body) = body?;
    check_new_plan(&body)?;
    let now = state.clock.now();
    let plan = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| insert_plan(conn, &body, admin.id, now))
        })
        .await?;
    let mut response = HttpResponse::Created().json(plan);
    Purge::attach(&mut response, ["plans".to_owned()]);
    Ok(response)
}

/// A new plan's fields, each fault named.
fn check_new_plan(body: &CreatePlanRequest) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if !slug::is_valid(&body.code) || body.code.len() > 60 {
        errors.push(FieldError::new(
            "code",
            "must be lowercase letters, digits and hyphens",
        ));
    }
    check_name(Some(&body.name), &mut errors);
    check_price(Some(body.price_minor), &mut errors);
    if !is_currency(&body.currency) {
        errors.push(FieldError::new(
            "currency",
            "must be an ISO 4217 code such as `USD`",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(())
}

/// Stores a new plan (409 `code_taken` for a code in use) and audits it.
fn insert_plan(
    conn: &mut DbConnection,
    body: &CreatePlanRequest,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<Plan, ApiError> {
    let new = NewPlan {
        code: &body.code,
        name: body.name.trim(),
        price_minor: body.price_minor,
        currency: &body.currency,
        billing_interval: body.interval.as_str(),
        active: body.active.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    plans::insert(conn, &new).map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            ApiError::Conflict(
                ConflictCode::CodeTaken,
                "A plan with this code exists.".into(),
            )
        } else {
            e.into()
        }
    })?;
    audit::record(
        conn,
        actor,
        "plan.create",
        &format!("plan:{}", body.code),
        &json!({"price_minor": body.price_minor}),
        now,
    )?;
    one_plan(conn, &body.code)
}

/// Change a plan
///
/// Renames, reprices, deactivates or reactivates a plan. Plans are never
/// deleted, so subscriptions keep pointing at theirs. Role: admin.
#[utoipa::path(
    tag = "administration",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The plan's code.", example = "monthly", max_length = 60)),
    request_body = UpdatePlanRequest,
    responses(
        (status = 200, description = "The plan after the change.", body = Plan),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[patch("/admin/plans/{code}")]
pub(crate) async fn update_plan(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<String>,
    body: Body<UpdatePlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let Json(body) = body?;
    let (code, body) = (path.into_inner(), body);
    let mut errors = Vec::new();
    check_name(body.name.as_deref(), &mut errors);
    check_price(body.price_minor, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.clock.now();
    let plan = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                let found = plans::find(conn, &code)?.ok_or(ApiError::NotFound("plan"))?;
                let changes = PlanChanges {
                    name: body.name.as_deref().map(str::trim),
                    price_minor: body.price_minor,
                    active: body.active,
                    updated_at: Some(now),
                };
                plans::update(conn, found.id, &changes)?;
                let details = json!({"price_minor": body.price_minor, "active": body.active});
                audit::record(
                    conn,
                    admin.id,
                    "plan.update",
                    &format!("plan:{code}"),
                    &details,
                    now,
                )?;
                one_plan(conn, &code)
            })
        })
        .await?;
    let mut response = HttpResponse::Ok().json(plan);
    Purge::attach(&mut response, ["plans".to_owned()]);
    Ok(response)
}
