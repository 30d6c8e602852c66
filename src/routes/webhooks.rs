//! `/webhooks/payments`: the payment processor tells us what happened.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures_util::StreamExt as _;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::webhook_signature;
use crate::clock::to_micros;
use crate::config::PaymentProvider;
use crate::db::DbConnection;
use crate::db::subscriptions as subs;
use crate::domain::plan::check_payment;
use crate::domain::subscription::Event;
use crate::error::ApiError;
use crate::error::responses::{BadRequest, InvalidSignature, PayloadTooLarge, Unavailable};
use crate::state::AppState;
use crate::views::WebhookReceipt;

/// Largest webhook body accepted, in bytes.
const MAX_WEBHOOK_BODY: usize = 64 * 1024;

/// Longest event or subscription id accepted.
const MAX_ID_LEN: usize = 255;

/// One event from the payment processor.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "evt_7d1b9c2e",
    "type": "payment.succeeded",
    "created": "2026-11-29T10:00:05Z",
    "data": {
        "subscription": "sub_5f0c2a9e8b7d4c1e9a3f6b2d8c4e1a7f",
        "period_start": "2026-11-29T10:00:00Z",
        "period_end": "2026-12-29T10:00:00Z",
        "amount_minor": 290,
        "currency": "USD"
    }
}))]
pub(crate) struct PaymentEvent {
    /// Unique per event; a redelivery carries the same id and is processed once.
    #[schema(max_length = 255)]
    pub id: String,
    /// `payment.succeeded` (activate or renew: the paid period is
    /// `data.period_start`..`data.period_end`), `payment.failed` (the
    /// subscription becomes `past_due` and keeps access for
    /// `PAST_DUE_GRACE_DAYS`) or `subscription.canceled` (no renewal; access
    /// until the period ends). Other types are acknowledged and ignored.
    #[serde(rename = "type")]
    #[schema(example = "payment.succeeded", max_length = 64)]
    pub event_type: String,
    /// When it happened at the processor (RFC 3339). Events older than what
    /// they would change are ignored, so order of delivery does not matter.
    #[schema(max_length = 35)]
    pub created: DateTime<Utc>,
    /// What it is about.
    pub data: PaymentEventData,
}

/// The subject of a payment event.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct PaymentEventData {
    /// Our subscription id, as returned by `POST /me/subscription`.
    #[schema(example = "sub_5f0c2a9e8b7d4c1e9a3f6b2d8c4e1a7f", max_length = 255)]
    pub subscription: String,
    /// `payment.succeeded` only: the start of the period paid for.
    #[schema(max_length = 35)]
    pub period_start: Option<DateTime<Utc>>,
    /// `payment.succeeded` only: the end of the period paid for.
    #[schema(max_length = 35)]
    pub period_end: Option<DateTime<Utc>>,
    /// The amount taken, in minor units (informational).
    #[schema(example = 290, minimum = 0, maximum = 100000000)]
    pub amount_minor: Option<i64>,
    /// The currency of `amount_minor` (informational).
    #[schema(example = "USD", max_length = 3)]
    pub currency: Option<String>,
}

async fn read_body(mut payload: web::Payload) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if crate::error::is_body_timeout(&e) {
                ApiError::BodyTimeout
            } else {
                ApiError::MalformedBody(e.to_string())
            }
        })?;
        if body.len() + chunk.len() > MAX_WEBHOOK_BODY {
            return Err(ApiError::PayloadTooLarge(MAX_WEBHOOK_BODY));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The domain event a payment event stands for; `None` for types we do not handle.
fn domain_event(event: &PaymentEvent) -> Result<Option<Event>, ApiError> {
    let at = to_micros(event.created.naive_utc());
    Ok(Some(match event.event_type.as_str() {
        "payment.succeeded" => {
            let (Some(start), Some(end)) = (event.data.period_start, event.data.period_end) else {
                return Err(ApiError::field(
                    "data.period_end",
                    "payment.succeeded needs data.period_start and data.period_end",
                ));
            };
            Event::PaymentSucceeded {
                at,
                start: to_micros(start.naive_utc()),
                end: to_micros(end.naive_utc()),
            }
        }
        "payment.failed" => Event::PaymentFailed { at },
        "subscription.canceled" => Event::ProviderCanceled { at },
        _ => return Ok(None),
    }))
}

fn ignored(event: &PaymentEvent, why: impl Into<String>) -> WebhookReceipt {
    WebhookReceipt {
        event_id: event.id.clone(),
        outcome: "ignored",
        detail: Some(why.into()),
    }
}

/// Checks the `webhook-signature` header against the body with the
/// configured secret (none configured refuses every event).
fn verify(
    secret: Option<&[u8]>,
    req: &HttpRequest,
    body: &[u8],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let secret = secret
        .ok_or_else(|| ApiError::InvalidSignature("no webhook secret is configured".into()))?;
    let header = match req.headers().get("webhook-signature") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::InvalidSignature(webhook_signature::SignatureError::Malformed.to_string())
        })?),
    };
    webhook_signature::verify(secret, header, body, now.and_utc().timestamp())
        .map_err(|e| ApiError::InvalidSignature(e.to_string()))
}

impl PaymentEvent {
    /// Bounds on what the processor sends, each fault named.
    fn check(&self) -> Result<(), ApiError> {
        if self.id.is_empty() || self.id.len() > MAX_ID_LEN {
            return Err(ApiError::field("id", "must be 1 to 255 characters"));
        }
        if self.event_type.len() > 100 {
            return Err(ApiError::field("type", "must be at most 100 characters"));
        }
        if self.data.subscription.len() > MAX_ID_LEN {
            return Err(ApiError::field(
                "data.subscription",
                "must be at most 255 characters",
            ));
        }
        Ok(())
    }
}

/// Applies an event once: a repeat of a claimed event id is a `duplicate`.
fn receive(
    conn: &mut DbConnection,
    event: &PaymentEvent,
    grace: chrono::Duration,
    now: NaiveDateTime,
) -> Result<WebhookReceipt, ApiError> {
    if !subs::claim_event(conn, &event.id, &event.event_type, now)? {
        return Ok(WebhookReceipt {
            event_id: event.id.clone(),
            outcome: "duplicate",
            detail: None,
        });
    }
    let receipt = process(conn, event, grace, now)?;
    subs::record_outcome(conn, &event.id, receipt.outcome)?;
    Ok(receipt)
}

/// Processes a claimed event, under the subscription's lock.
fn process(
    conn: &mut DbConnection,
    event: &PaymentEvent,
    grace: chrono::Duration,
    now: chrono::NaiveDateTime,
) -> Result<WebhookReceipt, ApiError> {
    let Some(change) = domain_event(event)? else {
        return Ok(ignored(
            event,
            format!("event type `{}` is not handled", event.event_type),
        ));
    };
    let Some((row, plan)) = subs::lock_by_public_id(conn, &event.data.subscription)? else {
        return Ok(ignored(event, "no subscription has this id"));
    };
    // A signature proves who sent the event, not that the money matches:
    // a payment activates only the plan's price, in its currency, for one
    // of its periods. Anything else is refused and recorded for review.
    if let Event::PaymentSucceeded { start, end, .. } = change {
        let paid = event.data.amount_minor.zip(event.data.currency.as_deref());
        if let Err(mismatch) = check_payment(
            plan.price_minor,
            &plan.currency,
            plan.billing_interval,
            paid,
            (start, end),
        ) {
            tracing::warn!(
                event = %event.id,
                subscription = %event.data.subscription,
                %mismatch,
                "payment refused: it does not match the plan"
            );
            return Ok(WebhookReceipt {
                event_id: event.id.clone(),
                outcome: "rejected",
                detail: Some(format!("payment does not match the plan: {mismatch}")),
            });
        }
    }
    if row.provider != PaymentProvider::Webhook.as_str() {
        return Ok(ignored(
            event,
            "this subscription is not billed by the payment processor",
        ));
    }
    match row.terms().apply(change, grace) {
        Ok(terms) => {
            let canceled_at = matches!(change, Event::ProviderCanceled { .. }).then_some(now);
            subs::save(conn, row.id, &terms, canceled_at, now)?;
            Ok(WebhookReceipt {
                event_id: event.id.clone(),
                outcome: "applied",
                detail: None,
            })
        }
        Err(refusal) => Ok(ignored(event, refusal.to_string())),
    }
}

/// Payment events
///
/// Called by the payment processor, not by readers. The request must carry
/// `Webhook-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
/// HMAC-SHA256 of `"<t>.<raw body>"` under `PAYMENT_WEBHOOK_SECRET`; several
/// `v1` values may be sent while a secret is rotated, and one must match. A
/// timestamp more than five minutes from the server's clock is refused.
///
/// Each event id is processed once: a redelivery is acknowledged with
/// `duplicate`. Events that change nothing (stale, out of order, about an
/// unknown subscription, or of a type not handled) are acknowledged with
/// `ignored`, so the processor stops retrying them.
#[utoipa::path(
    operation_id = "receive_payment_event",
    tag = "subscriptions",
    params(
        ("Webhook-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">`, with one or more `v1`.", example = "t=1796032805,v1=6f1c0e5b2a9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99", max_length = 1024)
    ),
    request_body = PaymentEvent,
    responses(
        (status = 200, description = "The event was received; `outcome` says what it did.", body = WebhookReceipt),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidSignature),
        (status = 413, response = PayloadTooLarge),
        (status = 503, response = Unavailable),
    )
)]
#[post("/webhooks/payments")]
pub(crate) async fn payment_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload).await?;
    let now = state.clock.now();
    let secret = state.config.payment_webhook_secret.as_ref();
    verify(secret.map(|s| s.expose()), &req, &body, now)?;
    let event: PaymentEvent =
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    event.check()?;
    let grace = state.config.past_due_grace();
    let receipt = state
        .db
        .run(move |conn| crate::db::transaction(conn, |conn| receive(conn, &event, grace, now)))
        .await?;
    if receipt.outcome == "ignored" {
        tracing::warn!(event = %receipt.event_id, detail = ?receipt.detail, "payment event ignored");
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(receipt))
}
