//! The mail outbox: mail is written here in the transaction that causes
//! it, and a worker sends it later.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::mail_outbox;

/// A queued mail.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct Mail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub unsubscribe_url: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// Queues a mail, due now.
pub(crate) fn enqueue(
    conn: &mut DbConnection,
    recipient: &str,
    subject: &str,
    body: &str,
    unsubscribe_url: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::recipient.eq(recipient),
            mail_outbox::subject.eq(subject),
            mail_outbox::body.eq(body),
            mail_outbox::unsubscribe_url.eq(unsubscribe_url),
            mail_outbox::status.eq("pending"),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(now),
            mail_outbox::created_at.eq(now),
        ))
        .execute(conn)
}

/// How long a claimed mail is left to its claimant before another node may take it.
const CLAIM: Duration = Duration::seconds(120);

/// Claims up to `limit` due mails for this worker: each is claimed by one
/// worker only, even with several nodes draining the same outbox.
pub(crate) fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Mail>> {
    let due: Vec<Mail> = mail_outbox::table
        .filter(mail_outbox::status.eq("pending"))
        .filter(mail_outbox::next_attempt_at.le(now))
        .filter(
            mail_outbox::claimed_until
                .is_null()
                .or(mail_outbox::claimed_until.lt(now)),
        )
        .order(mail_outbox::id.asc())
        .limit(limit)
        .select(Mail::as_select())
        .load(conn)?;
    let mut claimed = Vec::with_capacity(due.len());
    for mail in due {
        let won = diesel::update(mail_outbox::table.find(mail.id))
            .filter(
                mail_outbox::claimed_until
                    .is_null()
                    .or(mail_outbox::claimed_until.lt(now)),
            )
            .set(mail_outbox::claimed_until.eq(now + CLAIM))
            .execute(conn)?;
        if won == 1 {
            claimed.push(mail);
        }
    }
    Ok(claimed)
}

/// Marks a mail sent.
pub(crate) fn mark_sent(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq("sent"),
            mail_outbox::sent_at.eq(now),
            mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

/// Records a failed attempt: retried at `retry_at`, or given up when `None`.
pub(crate) fn mark_failed(
    conn: &mut DbConnection,
    id: i64,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    let status = if retry_at.is_some() {
        "pending"
    } else {
        "failed"
    };
    let mut changes = diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(status),
            mail_outbox::attempts.eq(mail_outbox::attempts + 1),
            mail_outbox::last_error.eq(error),
            mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    if let Some(at) = retry_at {
        changes = diesel::update(mail_outbox::table.find(id))
            .set(mail_outbox::next_attempt_at.eq(at))
            .execute(conn)?;
    }
    Ok(changes)
}
