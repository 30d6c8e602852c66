//! Failed logins, counted per account and per client within a window.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::login_failures;

/// Records one failure for each scope.
pub fn record(conn: &mut DbConnection, scopes: &[&str], now: NaiveDateTime) -> QueryResult<()> {
    for scope in scopes {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::scope.eq(*scope),
                login_failures::failed_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

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

/// Forgets the failures of `scope` (after a successful login).
pub fn clear(conn: &mut DbConnection, scope: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::scope.eq(scope))).execute(conn)
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
