//! `/me/subscription`: a reader's paid subscription: start, see, cancel, resume.

use crate::http::{Json, no_store};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{AuthUser, tokens};
use crate::config::PaymentProvider;
use crate::db::DbConnection;
use crate::db::plans;
use crate::db::subscriptions::{self as subs, NewSubscription, StoredAnswer};
use crate::domain::id::UserId;
use crate::domain::subscription::{Event, Refusal, Terms, period_end};
use crate::error::responses::{
    BadRequest, Conflict, InvalidToken, NotFound, PayloadTooLarge, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use crate::error::{ApiError, ConflictCode};
use crate::state::AppState;
use crate::views::{PaymentNote, Subscription};

/// Starting a subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"plan": "monthly"}))]
pub(crate) struct SubscribeRequest {
    /// The code of an active plan (see `GET /plans`).
    #[schema(example = "monthly", max_length = 60)]
    pub plan: String,
}

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;

static IDEMPOTENCY_KEY: header::HeaderName = header::HeaderName::from_static("idempotency-key");
static REPLAYED: header::HeaderName = header::HeaderName::from_static("idempotent-replayed");

/// The request's `Idempotency-Key`: required, 1 to 255 visible ASCII characters.
fn idempotency_key(req: &HttpRequest) -> Result<String, ApiError> {
    let invalid = |message: &str| ApiError::field("Idempotency-Key", message);
    let value = req.headers().get(&IDEMPOTENCY_KEY).ok_or_else(|| {
        invalid("is required: a unique value per subscription attempt, e.g. a UUID")
    })?;
    let bytes = value.as_bytes();
    if bytes.is_empty()
        || bytes.len() > MAX_IDEMPOTENCY_KEY
        || !bytes.iter().all(|b| (0x21..=0x7e).contains(b))
    {
        return Err(invalid("must be 1 to 255 visible ASCII characters"));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn request_hash(plan: &str) -> String {
    tokens::hash(&format!("POST /me/subscription\n{plan}"))
}

fn new_public_id() -> String {
    format!("sub_{}", uuid::Uuid::new_v4().simple())
}

/// What a subscribe request produced: a new answer, or the one kept for its key.
enum Answer {
    Fresh(String),
    Replayed(u16, String),
}

fn subscribe_once(
    conn: &mut DbConnection,
    state: &AppState,
    user_id: UserId,
    key: &str,
    plan_code: &str,
    now: NaiveDateTime,
) -> Result<Answer, ApiError> {
    subs::lock_user(conn, user_id)?;
    let hash = request_hash(plan_code);
    if let Some(kept) = subs::stored_answer(conn, user_id, key)? {
        if kept.request_hash != hash {
            return Err(ApiError::Unprocessable(
                ConflictCode::IdempotencyKeyReused,
                "This Idempotency-Key was used with a different request; use a new key for a new request."
                    .into(),
            ));
        }
        let status = u16::try_from(kept.response_status).unwrap_or(201);
        return Ok(Answer::Replayed(status, kept.response_body));
    }
    let plan = plans::find(conn, plan_code)?
        .filter(|plan| plan.active)
        .ok_or_else(|| ApiError::field("plan", "no active plan has this code; see GET /plans"))?;
    let grace = state.config.past_due_grace();
    if let Some((current, _)) = subs::latest_for_user(conn, user_id)? {
        let status = current.terms().status_at(now, grace);
        if status.is_live() {
            return Err(ApiError::Conflict(
                ConflictCode::SubscriptionExists,
                format!(
                    "You already have a subscription ({status}); resume or cancel it instead of starting another."
                ),
            ));
        }
    }
    let provider = state.config.payment_provider;
    let (terms, note) = match provider {
        PaymentProvider::Test => {
            let paid = Event::PaymentSucceeded {
                at: now,
                start: now,
                end: period_end(now, plan.billing_interval),
            };
            let terms = Terms::incomplete(now)
                .apply(paid, grace)
                .map_err(|e| ApiError::Internal(e.into()))?;
            let note = "Test mode: activated at once; nothing was charged.";
            (terms, note)
        }
        PaymentProvider::Webhook => (
            Terms::incomplete(now),
            "Awaiting the payment processor's confirmation; the subscription activates when it arrives.",
        ),
    };
    let public_id = new_public_id();
    let row = subs::insert(
        conn,
        &NewSubscription::new(&public_id, user_id, plan.id, provider.as_str(), &terms),
    )?;
    let mut view = Subscription::new(row, plan, now, grace);
    view.payment = Some(PaymentNote {
        charged: false,
        message: note.into(),
    });
    let body = serde_json::to_string(&view).map_err(|e| ApiError::Internal(e.into()))?;
    let answer = StoredAnswer {
        request_hash: hash,
        response_status: 201,
        response_body: body.clone(),
    };
    subs::store_answer(conn, user_id, key, &answer, now)?;
    Ok(Answer::Fresh(body))
}

/// Subscribe
///
/// Starts a subscription to an active plan through the configured payment
/// provider. With the `test` provider (development and the demo) it is
/// `active` at once and nothing is charged; with `webhook` it stays
/// `incomplete` until the payment processor confirms the first payment
/// (`POST /webhooks/payments`), and lapses if that does not happen within a day.
///
/// `Idempotency-Key` is required: repeating the request with the same key
/// returns the first answer (with `Idempotent-Replayed: true`) and starts
/// nothing new; the same key with a different body is 422. A reader who has
/// a live subscription (anything but `expired`) gets 409.
#[utoipa::path(
    operation_id = "create_subscription",
    tag = "subscriptions",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = String, Header, description = "A unique value per subscription attempt (e.g. a UUID); 1 to 255 visible ASCII characters.", example = "5c9f1d2e-8a7b-4c3d-9e0f-1a2b3c4d5e6f", max_length = 255)
    ),
    request_body = SubscribeRequest,
    responses(
        (status = 201, description = "The new subscription, with what happened to the payment.", body = Subscription,
            headers(
                ("Location" = String, description = "`/api/v1/me/subscription`."),
                ("Idempotent-Replayed" = String, description = "`true` when this is the kept answer to an earlier request with the same key.")
            )),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    )
)]
#[post("/me/subscription")]
pub async fn subscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<SubscribeRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let plan = body.into_inner().plan;
    if plan.len() > 60 {
        return Err(ApiError::field(
            "plan",
            "no active plan has this code; see GET /plans",
        ));
    }
    let now = state.clock.now();
    let app = state.clone();
    let answer = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                subscribe_once(conn, &app, me.id, &key, &plan, now)
            })
        })
        .await?;
    let (status, body, replayed) = match answer {
        Answer::Fresh(body) => (201, body, false),
        Answer::Replayed(status, body) => (status, body, true),
    };
    let status =
        actix_web::http::StatusCode::from_u16(status).map_err(|e| ApiError::Internal(e.into()))?;
    let mut response = no_store(HttpResponse::build(status));
    response
        .content_type("application/json")
        .insert_header((header::LOCATION, "/api/v1/me/subscription"));
    if replayed {
        response.insert_header((REPLAYED.clone(), "true"));
    }
    Ok(response.body(body))
}

/// My subscription
///
/// The signed-in reader's latest subscription, as it stands now: a
/// canceled subscription shows `expired` once its period has ended, with no
/// other request needed.
#[utoipa::path(
    tag = "subscriptions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscription.", body = Subscription),
        (status = 401, response = InvalidToken),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
#[get("/me/subscription")]
pub(crate) async fn get_my_subscription(
    state: web::Data<AppState>,
    me: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let grace = state.config.past_due_grace();
    let (row, plan) = state
        .db
        .run(move |conn| Ok(subs::latest_for_user(conn, me.id)?))
        .await?
        .ok_or(ApiError::NotFound("subscription"))?;
    Ok(no_store(HttpResponse::Ok()).json(Subscription::new(row, plan, now, grace)))
}

/// Why a cancel was refused: the subscription is in no state to end.
fn not_cancelable(refusal: Refusal) -> ApiError {
    ApiError::Conflict(
        ConflictCode::SubscriptionNotCancelable,
        format!(
            "The subscription is {}; only an active, past-due or incomplete subscription can be canceled.",
            standing(refusal)
        ),
    )
}

/// Why a resume was refused: nothing canceled is left to take back.
fn not_resumable(refusal: Refusal) -> ApiError {
    ApiError::Conflict(
        ConflictCode::SubscriptionNotResumable,
        format!(
            "The subscription is {}; only a canceled subscription whose period has not ended can be resumed.",
            standing(refusal)
        ),
    )
}

/// The status a command was refused in.
fn standing(refusal: Refusal) -> String {
    match refusal {
        Refusal::NotApplicable(status) => status.to_string(),
        other => other.to_string(),
    }
}

/// Applies a reader's command to their latest subscription.
async fn command(
    state: &AppState,
    user_id: UserId,
    event: Event,
    refused: fn(Refusal) -> ApiError,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let grace = state.config.past_due_grace();
    let (row, plan) = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                subs::lock_user(conn, user_id)?;
                let (row, plan) = subs::latest_for_user(conn, user_id)?
                    .ok_or(ApiError::NotFound("subscription"))?;
                let terms = row.terms().apply(event, grace).map_err(refused)?;
                let canceled_at = matches!(event, Event::Cancel { .. }).then_some(now);
                Ok((subs::save(conn, row.id, &terms, canceled_at, now)?, plan))
            })
        })
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(Subscription::new(row, plan, now, grace)))
}

/// Cancel my subscription
///
/// Cancel any time: the subscription will not renew, and it keeps full
/// access until `current_period_end`, when it becomes `expired` by itself.
/// An `incomplete` subscription (never paid) ends at once. Resume before the
/// period ends with `POST /me/subscription/resume`.
#[utoipa::path(
    tag = "subscriptions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The canceled subscription.", body = Subscription),
        (status = 401, response = InvalidToken),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
#[post("/me/subscription/cancel")]
pub(crate) async fn cancel_subscription(
    state: web::Data<AppState>,
    me: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    command(&state, me.id, Event::Cancel { at: now }, not_cancelable).await
}

/// Resume my subscription
///
/// Takes back a cancellation before the period ends: the subscription is
/// `active` again and renews as before.
#[utoipa::path(
    tag = "subscriptions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The resumed subscription.", body = Subscription),
        (status = 401, response = InvalidToken),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
#[post("/me/subscription/resume")]
pub(crate) async fn resume_subscription(
    state: web::Data<AppState>,
    me: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    command(&state, me.id, Event::Resume { at: now }, not_resumable).await
}
