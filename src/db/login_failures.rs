//! Failed logins, counted per scope (an account from one address, an
//! address, an account) within a window.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::login_failures;

/// Failures for `scope` since `since`, and when the oldest of them happened.
pub fn recent(
    conn: &mut DbConnection,
    scope: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    login_failures::table
        .filter(login_failures::scope.eq(scope))
        .filter(login_failures::failed_at.gt(since))
        .select((count_star(), min(login_failures::failed_at)))
        .first(conn)
}

/// Deletes a scope's failures from before `before`, so the table stays small.
pub fn prune(conn: &mut DbConnection, scope: &str, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::scope.eq(scope))
            .filter(login_failures::failed_at.le(before)),
    )
    .execute(conn)
}

/// Reserves one attempt in every scope, atomically: when a scope already
/// holds its limit of recent failures, nothing is reserved and the answer
/// is how many seconds to wait. Otherwise each scope gets a failure row now,
/// before the password is checked, so concurrent guesses cannot all slip
/// under the limit; a successful attempt deletes its rows again
/// ([`release`]). Returns the ids of the rows.
pub(crate) fn reserve(
    conn: &mut DbConnection,
    scopes: &[(&str, crate::domain::account::Throttle)],
    now: NaiveDateTime,
) -> QueryResult<Result<Vec<i64>, u64>> {
    crate::db::transaction(conn, |conn| {
        let mut wait = None;
        for (scope, throttle) in scopes {
            if let DbConnection::Postgres(pg) = conn {
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                    .bind::<diesel::sql_types::Text, _>(*scope)
                    .execute(pg)?;
            }
            let (failures, oldest) = recent(conn, scope, now - throttle.window)?;
            wait = wait.max(throttle.retry_after(failures, oldest, now));
        }
        if let Some(wait) = wait {
            return Ok(Err(wait));
        }
        let mut ids = Vec::with_capacity(scopes.len());
        for (scope, throttle) in scopes {
            prune(conn, scope, now - throttle.window)?;
            let id = diesel::insert_into(login_failures::table)
                .values((
                    login_failures::scope.eq(*scope),
                    login_failures::failed_at.eq(now),
                ))
                .returning(login_failures::id)
                .get_result(conn)?;
            ids.push(id);
        }
        Ok(Ok(ids))
    })
}

/// Forgets every failure of `scope`.
pub fn clear(conn: &mut DbConnection, scope: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::scope.eq(scope))).execute(conn)
}

/// Deletes reserved rows: the attempt succeeded.
pub(crate) fn release(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq_any(ids))).execute(conn)
}
