//! Subscriptions, idempotency keys and processed payment events.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::DbConnection;
use super::plans::Plan;
use super::schema::{idempotency_keys, payment_events, plans, subscriptions, users};
use crate::domain::id::UserId;
use crate::domain::subscription::{SubscriptionStatus, Terms};

/// A subscription row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
pub struct Subscription {
    pub id: i64,
    pub public_id: String,
    #[diesel(deserialize_as = i64)]
    pub user_id: UserId,
    pub plan_id: i64,
    pub provider: String,
    #[diesel(deserialize_as = String)]
    pub status: SubscriptionStatus,
    pub current_period_start: Option<NaiveDateTime>,
    pub current_period_end: Option<NaiveDateTime>,
    pub cancel_at_period_end: bool,
    pub grace_until: Option<NaiveDateTime>,
    pub last_payment_at: Option<NaiveDateTime>,
    pub canceled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Subscription {
    /// The state the domain rules work on.
    pub(crate) fn terms(&self) -> Terms {
        Terms {
            status: self.status,
            period: self.current_period_start.zip(self.current_period_end),
            cancel_at_period_end: self.cancel_at_period_end,
            grace_until: self.grace_until,
            last_payment_at: self.last_payment_at,
            created_at: self.created_at,
        }
    }
}

/// A subscription to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = subscriptions)]
pub struct NewSubscription<'a> {
    pub public_id: &'a str,
    pub user_id: i64,
    pub plan_id: i64,
    pub provider: &'a str,
    pub status: &'static str,
    pub current_period_start: Option<NaiveDateTime>,
    pub current_period_end: Option<NaiveDateTime>,
    pub cancel_at_period_end: bool,
    pub grace_until: Option<NaiveDateTime>,
    pub last_payment_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl<'a> NewSubscription<'a> {
    /// A row holding `terms`.
    pub fn new(
        public_id: &'a str,
        user_id: UserId,
        plan_id: i64,
        provider: &'a str,
        terms: &Terms,
    ) -> Self {
        Self {
            public_id,
            user_id: user_id.get(),
            plan_id,
            provider,
            status: terms.status.as_str(),
            current_period_start: terms.period.map(|(start, _)| start),
            current_period_end: terms.period_end(),
            cancel_at_period_end: terms.cancel_at_period_end,
            grace_until: terms.grace_until,
            last_payment_at: terms.last_payment_at,
            created_at: terms.created_at,
            updated_at: terms.created_at,
        }
    }
}

/// Takes the user's row lock for the rest of the transaction, so that one
/// user's subscription changes happen one at a time (on SQLite, it also
/// makes the transaction a writer from its first statement).
pub(crate) fn lock_user(conn: &mut DbConnection, user_id: UserId) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id.get()))
        .set(users::updated_at.eq(users::updated_at))
        .execute(conn)
}

/// The user's latest subscription (the one that counts) and its plan.
pub(crate) fn latest_for_user(
    conn: &mut DbConnection,
    user_id: UserId,
) -> QueryResult<Option<(Subscription, Plan)>> {
    subscriptions::table
        .inner_join(plans::table)
        .filter(subscriptions::user_id.eq(user_id.get()))
        .order(subscriptions::id.desc())
        .select((Subscription::as_select(), Plan::as_select()))
        .first(conn)
        .optional()
}

/// The terms of the user's latest subscription, for the paywall.
pub(crate) fn latest_terms(conn: &mut DbConnection, user_id: UserId) -> QueryResult<Option<Terms>> {
    let row: Option<Subscription> = subscriptions::table
        .filter(subscriptions::user_id.eq(user_id.get()))
        .order(subscriptions::id.desc())
        .select(Subscription::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|row| row.terms()))
}

/// The subscription with this public id, locked for the rest of the transaction.
pub(crate) fn lock_by_public_id(
    conn: &mut DbConnection,
    public_id: &str,
) -> QueryResult<Option<(Subscription, Plan)>> {
    let touched = diesel::update(subscriptions::table)
        .filter(subscriptions::public_id.eq(public_id))
        .set(subscriptions::updated_at.eq(subscriptions::updated_at))
        .execute(conn)?;
    if touched == 0 {
        return Ok(None);
    }
    subscriptions::table
        .inner_join(plans::table)
        .filter(subscriptions::public_id.eq(public_id))
        .select((Subscription::as_select(), Plan::as_select()))
        .first(conn)
        .optional()
}

/// Inserts a subscription and returns it.
pub fn insert(conn: &mut DbConnection, new: &NewSubscription<'_>) -> QueryResult<Subscription> {
    diesel::insert_into(subscriptions::table)
        .values(new)
        .execute(conn)?;
    subscriptions::table
        .filter(subscriptions::public_id.eq(new.public_id))
        .select(Subscription::as_select())
        .first(conn)
}

/// Stores new terms for subscription `id`; `canceled_at` is set the first
/// time it is given.
pub(crate) fn save(
    conn: &mut DbConnection,
    id: i64,
    terms: &Terms,
    canceled_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<Subscription> {
    diesel::update(subscriptions::table.find(id))
        .set((
            subscriptions::status.eq(terms.status.as_str()),
            subscriptions::current_period_start.eq(terms.period.map(|(start, _)| start)),
            subscriptions::current_period_end.eq(terms.period_end()),
            subscriptions::cancel_at_period_end.eq(terms.cancel_at_period_end),
            subscriptions::grace_until.eq(terms.grace_until),
            subscriptions::last_payment_at.eq(terms.last_payment_at),
            subscriptions::updated_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(at) = canceled_at {
        diesel::update(subscriptions::table.find(id))
            .filter(subscriptions::canceled_at.is_null())
            .set(subscriptions::canceled_at.eq(at))
            .execute(conn)?;
    }
    subscriptions::table
        .find(id)
        .select(Subscription::as_select())
        .first(conn)
}

/// An answer kept for an idempotency key.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub(crate) struct StoredAnswer {
    pub request_hash: String,
    pub response_status: i32,
    pub response_body: String,
}

/// The answer kept for `key` of this user, if any.
pub(crate) fn stored_answer(
    conn: &mut DbConnection,
    user_id: UserId,
    key: &str,
) -> QueryResult<Option<StoredAnswer>> {
    idempotency_keys::table
        .find((user_id.get(), key))
        .select(StoredAnswer::as_select())
        .first(conn)
        .optional()
}

/// Keeps the answer to a request made with `key`.
pub(crate) fn store_answer(
    conn: &mut DbConnection,
    user_id: UserId,
    key: &str,
    answer: &StoredAnswer,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id.get()),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(&answer.request_hash),
            idempotency_keys::response_status.eq(answer.response_status),
            idempotency_keys::response_body.eq(&answer.response_body),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(conn)
}

/// Claims a payment event for processing; `false` when it was seen before
/// (a concurrent delivery of the same event waits here for the first).
pub(crate) fn claim_event(
    conn: &mut DbConnection,
    event_id: &str,
    event_type: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let inserted = diesel::sql_query(
        "INSERT INTO payment_events (event_id, event_type, outcome, received_at) \
         VALUES ($1, $2, 'pending', $3) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(event_id)
    .bind::<Text, _>(event_type)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(inserted == 1)
}

/// Records what processing a claimed event did.
pub(crate) fn record_outcome(
    conn: &mut DbConnection,
    event_id: &str,
    outcome: &str,
) -> QueryResult<usize> {
    diesel::update(payment_events::table.find(event_id))
        .set(payment_events::outcome.eq(outcome))
        .execute(conn)
}
