//! `/newsletters`: sign-up with double opt-in, and one-click unsubscribe.

use crate::http::Json;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::tokens;
use crate::client::ClientAddr;
use crate::db::{DbConnection, QueryResult, api_keys, newsletters, outbox};
use crate::domain::account::Email;
use crate::domain::readership::hour_of;
use crate::error::ApiError;
use crate::error::responses::{
    BadRequest, NotFound, PayloadTooLarge, TooManyRequests, Unavailable, UnsupportedMediaType,
};
use crate::http::{ITEM_FRESHNESS, NewsletterSlug, Query, public_json};
use crate::state::AppState;
use crate::surrogate::{SurrogateKeys, Tagged};

/// How long a confirmation link works.
const CONFIRM_TTL: Duration = Duration::hours(48);
/// Sign-up requests per client address per hour.
const SIGNUPS_PER_CLIENT: i32 = 10;
/// Confirmation mails per email address per hour.
const MAILS_PER_ADDRESS: i32 = 3;

/// A newsletter.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NewsletterView {
    /// Identifier used in URLs.
    #[schema(
        example = "daily",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: String,
    /// Its name.
    #[schema(example = "The Daily Dispatch", max_length = 100)]
    pub name: String,
    /// What it brings.
    #[schema(max_length = 1000)]
    pub description: String,
}

impl From<newsletters::Newsletter> for NewsletterView {
    fn from(newsletter: newsletters::Newsletter) -> Self {
        Self {
            slug: newsletter.slug,
            name: newsletter.name,
            description: newsletter.description,
        }
    }
}

/// The newsletters on offer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NewsletterList {
    /// Every newsletter (at most 100).
    #[schema(max_items = 100)]
    pub data: Vec<NewsletterView>,
}

impl Tagged for NewsletterList {
    fn tag(&self, keys: &mut SurrogateKeys) {
        keys.add("newsletters");
    }
}

/// A sign-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com"}))]
pub(crate) struct SignupRequest {
    /// The address to send the newsletter to.
    #[schema(max_length = 254)]
    pub email: String,
}

/// A token from a mail.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Zq3v0Yl8m2TgS1b5xWcK7fH4rP9dN6aE0uJ2iQ8oL3y"}))]
pub(crate) struct TokenRequest {
    /// The token, as written in the mail.
    #[schema(max_length = 100)]
    pub token: String,
}

/// The token of a one-click unsubscribe link.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OneClickParams {
    /// The token from the `List-Unsubscribe` link.
    #[param(max_length = 100)]
    pub token: String,
}

/// What happened to a request about a subscription.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SignupStatus {
    /// The newsletter.
    #[schema(
        example = "daily",
        max_length = 120,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub newsletter: String,
    /// `pending`, `confirmed` or `unsubscribed`.
    #[schema(example = "confirmed", max_length = 32)]
    pub status: String,
}

/// The answer to a sign-up: the same whatever the address's state.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SignupAccepted {
    /// For people.
    #[schema(
        example = "Check your inbox: if this address can receive mail, a confirmation link is on its way."
    )]
    #[schema(max_length = 300)]
    pub message: &'static str,
}

/// A random token for a mail and the hash to store for it.
fn new_token() -> Result<(String, String), ApiError> {
    Ok(tokens::generate()?)
}

/// List newsletters
#[utoipa::path(
    tag = "newsletters",
    responses(
        (status = 200, description = "The newsletters.", body = NewsletterList),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 503, response = Unavailable),
    )
)]
#[get("/newsletters")]
pub(crate) async fn list_newsletters(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let rows = state.db.run(|conn| Ok(newsletters::list(conn)?)).await?;
    let list = NewsletterList {
        data: rows.into_iter().map(NewsletterView::from).collect(),
    };
    public_json(&req, &list, ITEM_FRESHNESS)
}

fn queue_confirmation(
    conn: &mut DbConnection,
    newsletter: &newsletters::Newsletter,
    email: &str,
    token: &str,
    base: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    let body = format!(
        "Someone (we hope you) asked to receive {name} at this address.\n\n\
         To confirm, send this token to {base}/api/v1/newsletters/confirm within 48 hours:\n\n    {token}\n\n\
         If it was not you, ignore this mail: nothing will be sent without confirmation.\n",
        name = newsletter.name
    );
    outbox::enqueue(
        conn,
        email,
        &format!("Confirm your subscription to {}", newsletter.name),
        &body,
        None,
        now,
    )
}

/// Sign up to a newsletter
///
/// Answers 202 whatever the address's state (new, pending, confirmed or
/// unsubscribed), so the answer tells nothing about who subscribes. A
/// confirmation mail with a single-use token (valid 48 hours) is queued when
/// the address is not already confirmed; at most three such mails per
/// address per hour. A client address may make ten sign-up requests an hour.
#[utoipa::path(
    operation_id = "create_signup",
    tag = "newsletters",
    params(NewsletterSlug),
    request_body = SignupRequest,
    responses(
        (status = 202, description = "Accepted; a confirmation mail may be on its way.", body = SignupAccepted),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, response = TooManyRequests),
        (status = 503, response = Unavailable),
    )
)]
#[post("/newsletters/{slug}/signups")]
pub async fn sign_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: NewsletterSlug,
    body: Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email).map_err(|m| ApiError::field("email", m))?;
    let email = email.as_str().to_owned();
    let slug = slug.into_inner()?;
    let (token, hash) = new_token()?;
    let (_, unsubscribe_hash) = new_token()?;
    let signup = Signup {
        slug,
        email,
        client: ClientAddr::of(&req).key(),
        base: state.config.public_base_url.clone(),
        token,
        hash,
        unsubscribe_hash,
        now: state.clock.now(),
    };
    state
        .db
        .run(move |conn| crate::db::transaction(conn, |conn| signup.record(conn)))
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .json(SignupAccepted {
            message: "Check your inbox: if this address can receive mail, a confirmation link is on its way.",
        }))
}

/// A sign-up to record: who asks, for which newsletter, with which tokens.
struct Signup {
    slug: String,
    email: String,
    /// The client address's key, whose sign-ups per hour are bounded.
    client: String,
    /// Where the confirmation link points.
    base: String,
    /// The confirmation token to mail, and its hash to store.
    token: String,
    hash: String,
    unsubscribe_hash: String,
    now: NaiveDateTime,
}

impl Signup {
    /// Records a pending sign-up and queues its confirmation mail, within
    /// the hourly allowances of the client and of the address. Past the
    /// address's, and for an address already confirmed, the answer stays
    /// the same and no mail is sent.
    fn record(&self, conn: &mut DbConnection) -> Result<(), ApiError> {
        let hour = hour_of(self.now);
        let newsletter =
            newsletters::find(conn, &self.slug)?.ok_or(ApiError::NotFound("newsletter"))?;
        if api_keys::hit(conn, &format!("signup-client:{}", self.client), hour)?
            > SIGNUPS_PER_CLIENT
        {
            let wait = (hour + Duration::hours(1) - self.now).num_seconds().max(1);
            return Err(ApiError::TooManyRequests(wait.unsigned_abs()));
        }
        let existing = newsletters::find_signup(conn, newsletter.id, &self.email)?;
        if existing.as_ref().is_some_and(|s| s.status == "confirmed") {
            return Ok(());
        }
        // Past the per-address allowance the answer stays the same;
        // only the mail is not sent again.
        if api_keys::hit(conn, &format!("signup-email:{}", self.email), hour)? > MAILS_PER_ADDRESS {
            return Ok(());
        }
        match existing {
            None => {
                newsletters::insert_pending(
                    conn,
                    newsletter.id,
                    &self.email,
                    &self.hash,
                    &self.unsubscribe_hash,
                    self.now,
                )?;
            }
            Some(signup) => {
                newsletters::renew_pending(conn, signup.id, &self.hash, self.now)?;
            }
        }
        queue_confirmation(
            conn,
            &newsletter,
            &self.email,
            &self.token,
            &self.base,
            self.now,
        )?;
        Ok(())
    }
}

fn token_hash(token: &str) -> Result<String, ApiError> {
    let token = token.trim();
    if token.is_empty() || token.len() > 100 {
        return Err(ApiError::field(
            "token",
            "is unknown, already used or expired",
        ));
    }
    Ok(tokens::hash(token))
}

fn slug_of(conn: &mut DbConnection, newsletter_id: i64) -> Result<String, ApiError> {
    Ok(newsletters::slug_of(conn, newsletter_id)?)
}

/// Confirm a sign-up
///
/// Spends the token from the confirmation mail: the address is subscribed,
/// and a welcome mail with a one-click unsubscribe link (RFC 8058
/// `List-Unsubscribe`) is queued. A used, unknown or expired token is a 400.
#[utoipa::path(
    operation_id = "confirm_signup",
    tag = "newsletters",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Subscribed.", body = SignupStatus),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[post("/newsletters/confirm")]
pub async fn confirm(
    state: web::Data<AppState>,
    body: Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let hash = token_hash(&body.token)?;
    let (unsubscribe_token, unsubscribe_hash) = new_token()?;
    let base = state.config.public_base_url.clone();
    let now = state.clock.now();
    let status = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                let signup = newsletters::confirm(conn, &hash, now - CONFIRM_TTL, now)?
                    .ok_or_else(|| {
                        ApiError::field("token", "is unknown, already used or expired")
                    })?;
                newsletters::set_unsubscribe_hash(conn, signup.id, &unsubscribe_hash)?;
                let slug = slug_of(conn, signup.newsletter_id)?;
                let url = format!(
                    "{base}/api/v1/newsletters/unsubscribe/one-click?token={unsubscribe_token}"
                );
                let body = format!(
                    "You are subscribed. The first issue comes tomorrow morning.\n\n\
                     To stop at any time, open or POST to:\n{url}\n"
                );
                outbox::enqueue(
                    conn,
                    &signup.email,
                    "Welcome to the newsletter",
                    &body,
                    Some(&url),
                    now,
                )?;
                Ok(SignupStatus {
                    newsletter: slug,
                    status: "confirmed".into(),
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(status))
}

async fn unsubscribe_with(state: &AppState, token: &str) -> Result<HttpResponse, ApiError> {
    let hash = token_hash(token)?;
    let now = state.clock.now();
    let status = state
        .db
        .run(move |conn| {
            let signup = newsletters::unsubscribe(conn, &hash, now)?
                .ok_or_else(|| ApiError::field("token", "is unknown, already used or expired"))?;
            Ok(SignupStatus {
                newsletter: slug_of(conn, signup.newsletter_id)?,
                status: signup.status,
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(status))
}

/// Unsubscribe
///
/// With the token from a newsletter mail's unsubscribe link. Unsubscribing
/// twice is harmless.
#[utoipa::path(
    operation_id = "unsubscribe_signup",
    tag = "newsletters",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Unsubscribed.", body = SignupStatus),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[post("/newsletters/unsubscribe")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    body: Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    unsubscribe_with(&state, &body.token).await
}

/// Unsubscribe in one click (RFC 8058)
///
/// The target of a mail's `List-Unsubscribe` header: mail clients POST
/// `List-Unsubscribe=One-Click` here, with the token in the URL. The body is
/// not needed.
#[utoipa::path(
    operation_id = "unsubscribe_signup_one_click",
    tag = "newsletters",
    params(OneClickParams),
    responses(
        (status = 200, description = "Unsubscribed.", body = SignupStatus),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
#[post("/newsletters/unsubscribe/one-click")]
pub(crate) async fn unsubscribe_one_click(
    state: web::Data<AppState>,
    Query(params): Query<OneClickParams>,
) -> Result<HttpResponse, ApiError> {
    unsubscribe_with(&state, &params.token).await
}
