//! Housekeeping: what anonymous traffic leaves in the database is deleted
//! once it can no longer matter, so tables that anyone can fill stay as
//! small as the traffic of their window, not of the service's lifetime.
//!
//! | table | kept while |
//! |---|---|
//! | `meter_reads` of anonymous meters, `meter_starts` | their calendar month |
//! | `anonymous_meters` (meters seen reading) | two months after their last read |
//! | `login_failures` | the longest throttle window (15 minutes) |
//! | `idempotency_keys` | a day (retries come within minutes) |
//! | `refresh_tokens` | until a day after they expire |
//! | `newsletter_signups` never confirmed | a week (their link lives 48 hours) |
//! | `rate_limit_windows` | two hours (pruned every few seconds, see `server`) |

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{
    idempotency_keys, login_failures, meter_reads, newsletter_signups, refresh_tokens,
};
use crate::domain::account::{ACCOUNT_THROTTLE, CLIENT_THROTTLE};
use crate::domain::paywall;

/// Rows deleted by one pass, by table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub anonymous_meter_reads: usize,
    pub meter_starts: usize,
    pub anonymous_meters: usize,
    pub login_failures: usize,
    pub idempotency_keys: usize,
    pub refresh_tokens: usize,
    pub unconfirmed_signups: usize,
}

impl Pruned {
    /// Rows deleted in all.
    pub fn total(&self) -> usize {
        self.anonymous_meter_reads
            + self.meter_starts
            + self.anonymous_meters
            + self.login_failures
            + self.idempotency_keys
            + self.refresh_tokens
            + self.unconfirmed_signups
    }
}

/// Deletes everything that no longer matters at `now`.
pub fn prune(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Pruned> {
    let month = paywall::month_of(now);
    let longest_window = ACCOUNT_THROTTLE.window.max(CLIENT_THROTTLE.window);
    Ok(Pruned {
        anonymous_meter_reads: diesel::delete(
            meter_reads::table
                .filter(meter_reads::reader.like("anon:%"))
                .filter(meter_reads::month.lt(&month)),
        )
        .execute(conn)?,
        meter_starts: diesel::sql_query("DELETE FROM meter_starts WHERE month < $1")
            .bind::<diesel::sql_types::Text, _>(&month)
            .execute(conn)?,
        anonymous_meters: diesel::sql_query("DELETE FROM anonymous_meters WHERE last_month < $1")
            .bind::<diesel::sql_types::Text, _>(paywall::month_of(now - Duration::days(62)))
            .execute(conn)?,
        login_failures: diesel::delete(
            login_failures::table.filter(login_failures::failed_at.lt(now - longest_window)),
        )
        .execute(conn)?,
        idempotency_keys: diesel::delete(
            idempotency_keys::table
                .filter(idempotency_keys::created_at.lt(now - Duration::days(1))),
        )
        .execute(conn)?,
        refresh_tokens: diesel::delete(
            refresh_tokens::table.filter(refresh_tokens::expires_at.lt(now - Duration::days(1))),
        )
        .execute(conn)?,
        unconfirmed_signups: diesel::delete(
            newsletter_signups::table
                .filter(newsletter_signups::status.eq("pending"))
                .filter(newsletter_signups::created_at.lt(now - Duration::days(7))),
        )
        .execute(conn)?,
    })
}
