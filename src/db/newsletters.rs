//! Newsletters and their sign-ups.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{newsletter_signups, newsletters};

/// A newsletter row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = newsletters)]
pub struct Newsletter {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub created_at: NaiveDateTime,
}

/// A sign-up row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = newsletter_signups)]
pub struct Signup {
    pub id: i64,
    pub newsletter_id: i64,
    pub email: String,
    pub status: String,
    pub confirm_token_hash: Option<String>,
    pub confirm_sent_at: Option<NaiveDateTime>,
    pub unsubscribe_token_hash: String,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub unsubscribed_at: Option<NaiveDateTime>,
}

/// The first 100 newsletters by slug (in practice, every one).
pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<Newsletter>> {
    newsletters::table
        .order(newsletters::slug.asc())
        .limit(100)
        .select(Newsletter::as_select())
        .load(conn)
}

/// The newsletter with this slug.
pub fn find(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<Newsletter>> {
    newsletters::table
        .filter(newsletters::slug.eq(slug))
        .select(Newsletter::as_select())
        .first(conn)
        .optional()
}

/// The slug of the newsletter with this id.
pub(crate) fn slug_of(conn: &mut DbConnection, id: i64) -> QueryResult<String> {
    newsletters::table
        .find(id)
        .select(newsletters::slug)
        .first(conn)
}

/// The sign-up of `email` to newsletter `newsletter_id`, if any.
pub(crate) fn find_signup(
    conn: &mut DbConnection,
    newsletter_id: i64,
    email: &str,
) -> QueryResult<Option<Signup>> {
    newsletter_signups::table
        .filter(newsletter_signups::newsletter_id.eq(newsletter_id))
        .filter(newsletter_signups::email.eq(email))
        .select(Signup::as_select())
        .first(conn)
        .optional()
}

/// A new pending sign-up.
pub fn insert_pending(
    conn: &mut DbConnection,
    newsletter_id: i64,
    email: &str,
    confirm_hash: &str,
    unsubscribe_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(newsletter_signups::table)
        .values((
            newsletter_signups::newsletter_id.eq(newsletter_id),
            newsletter_signups::email.eq(email),
            newsletter_signups::status.eq("pending"),
            newsletter_signups::confirm_token_hash.eq(confirm_hash),
            newsletter_signups::confirm_sent_at.eq(now),
            newsletter_signups::unsubscribe_token_hash.eq(unsubscribe_hash),
            newsletter_signups::created_at.eq(now),
        ))
        .execute(conn)
}

/// Puts a sign-up back to pending with a fresh confirmation token.
pub(crate) fn renew_pending(
    conn: &mut DbConnection,
    id: i64,
    confirm_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(newsletter_signups::table.find(id))
        .set((
            newsletter_signups::status.eq("pending"),
            newsletter_signups::confirm_token_hash.eq(confirm_hash),
            newsletter_signups::confirm_sent_at.eq(now),
        ))
        .execute(conn)
}

/// Confirms the pending sign-up whose token hashes to `hash`, if the token
/// was sent after `not_before`; the token is spent (a second use, even a
/// concurrent one, finds nothing).
pub fn confirm(
    conn: &mut DbConnection,
    hash: &str,
    not_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<Option<Signup>> {
    let Some(mut row) = newsletter_signups::table
        .filter(newsletter_signups::confirm_token_hash.eq(hash))
        .filter(newsletter_signups::status.eq("pending"))
        .filter(newsletter_signups::confirm_sent_at.ge(not_before))
        .select(Signup::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let spent = diesel::update(newsletter_signups::table.find(row.id))
        .filter(newsletter_signups::confirm_token_hash.eq(hash))
        .set((
            newsletter_signups::status.eq("confirmed"),
            newsletter_signups::confirm_token_hash.eq(None::<String>),
            newsletter_signups::confirmed_at.eq(now),
        ))
        .execute(conn)?;
    if spent == 0 {
        return Ok(None);
    }
    row.status = "confirmed".into();
    row.confirmed_at = Some(now);
    Ok(Some(row))
}

/// Unsubscribes the sign-up whose unsubscribe token hashes to `hash`.
/// Unsubscribing twice is harmless.
pub fn unsubscribe(
    conn: &mut DbConnection,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Signup>> {
    diesel::update(newsletter_signups::table)
        .filter(newsletter_signups::unsubscribe_token_hash.eq(hash))
        .filter(newsletter_signups::status.ne("unsubscribed"))
        .set((
            newsletter_signups::status.eq("unsubscribed"),
            newsletter_signups::confirm_token_hash.eq(None::<String>),
            newsletter_signups::unsubscribed_at.eq(now),
        ))
        .execute(conn)?;
    newsletter_signups::table
        .filter(newsletter_signups::unsubscribe_token_hash.eq(hash))
        .select(Signup::as_select())
        .first(conn)
        .optional()
}

/// Replaces a sign-up's unsubscribe token.
pub(crate) fn set_unsubscribe_hash(
    conn: &mut DbConnection,
    id: i64,
    hash: &str,
) -> QueryResult<usize> {
    diesel::update(newsletter_signups::table.find(id))
        .set(newsletter_signups::unsubscribe_token_hash.eq(hash))
        .execute(conn)
}
