//! The paywall's meter: distinct metered articles per reader per month.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConnection;
use super::schema::meter_reads;
use crate::domain::id::ArticleId;

/// Metered articles `reader` has read in `month`, and whether `article_id`
/// is one: one query that diesel keeps prepared (a hand-written
/// `sql_query` is parsed again on every call). It reads the meter's rows,
/// which are at most the monthly allowance (at most 1,000, usually 3 to 5).
pub fn state(
    conn: &mut DbConnection,
    reader: &str,
    month: &str,
    article_id: ArticleId,
) -> QueryResult<(i64, bool)> {
    let read: Vec<i64> = meter_reads::table
        .filter(meter_reads::reader.eq(reader))
        .filter(meter_reads::month.eq(month))
        .select(meter_reads::article_id)
        .load(conn)?;
    let used = i64::try_from(read.len()).unwrap_or(i64::MAX);
    Ok((used, read.contains(&article_id.get())))
}

/// Metered articles `reader` has read in `month`.
pub fn used(conn: &mut DbConnection, reader: &str, month: &str) -> QueryResult<i64> {
    meter_reads::table
        .filter(meter_reads::reader.eq(reader))
        .filter(meter_reads::month.eq(month))
        .count()
        .get_result(conn)
}

/// Counts `article_id` on `reader`'s meter for `month`. The caller holds
/// the meter's lock and has checked that the article is not on it yet and
/// that the allowance has room (the ledger's batch does both), so this is a
/// plain insert, which diesel keeps prepared.
pub fn count(
    conn: &mut DbConnection,
    reader: &str,
    month: &str,
    article_id: ArticleId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(meter_reads::table)
        .values((
            meter_reads::reader.eq(reader),
            meter_reads::month.eq(month),
            meter_reads::article_id.eq(article_id.get()),
            meter_reads::read_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Adds what one reader read in `month` to another's meter (an anonymous
/// meter joining the account that just signed in), oldest reads first and
/// never past `limit`: the account ends up with at most its allowance of
/// articles counted, so signing in neither resets the meter nor turns
/// anonymous reads into more than the account may have.
pub fn merge(
    conn: &mut DbConnection,
    from: &str,
    into: &str,
    month: &str,
    limit: i64,
) -> QueryResult<usize> {
    crate::db::transaction(conn, |conn| {
        lock_reader(conn, into)?;
        let room = (limit - used(conn, into, month)?).max(0);
        diesel::sql_query(
            "INSERT INTO meter_reads (reader, month, article_id, read_at) \
             SELECT $1, f.month, f.article_id, f.read_at FROM meter_reads f \
             WHERE f.reader = $2 AND f.month = $3 AND NOT EXISTS ( \
                 SELECT 1 FROM meter_reads u \
                 WHERE u.reader = $1 AND u.month = $3 AND u.article_id = f.article_id) \
             ORDER BY f.read_at, f.article_id LIMIT $4 \
             ON CONFLICT DO NOTHING",
        )
        .bind::<Text, _>(into)
        .bind::<Text, _>(from)
        .bind::<Text, _>(month)
        .bind::<BigInt, _>(room)
        .execute(conn)
    })
}

/// Serialises one reader's meter across connections and nodes on
/// PostgreSQL, to the end of the transaction; SQLite serialises writers.
fn lock_reader(conn: &mut DbConnection, reader: &str) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<Text, _>(reader)
            .execute(pg)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Starts {
    #[diesel(sql_type = BigInt)]
    starts: i64,
}

/// Counts one more anonymous meter started from `address` in `month`;
/// returns how many it has started.
pub fn count_start(conn: &mut DbConnection, address: &str, month: &str) -> QueryResult<i64> {
    let counted: Starts = diesel::sql_query(
        "INSERT INTO meter_starts (address, month, starts) VALUES ($1, $2, 1) \
         ON CONFLICT (address, month) DO UPDATE SET starts = meter_starts.starts + 1 \
         RETURNING starts",
    )
    .bind::<Text, _>(address)
    .bind::<Text, _>(month)
    .get_result(conn)?;
    Ok(counted.starts)
}

/// Whether anonymous meter `reader` has counted a read in an earlier month
/// (a returning reader); if so, notes that it reads in `month` too.
pub(crate) fn returning(conn: &mut DbConnection, reader: &str, month: &str) -> QueryResult<bool> {
    let touched = diesel::sql_query("UPDATE anonymous_meters SET last_month = $1 WHERE meter = $2")
        .bind::<Text, _>(month)
        .bind::<Text, _>(reader)
        .execute(conn)?;
    Ok(touched > 0)
}

/// Notes a new anonymous meter, started in `month`.
pub fn remember(conn: &mut DbConnection, reader: &str, month: &str) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO anonymous_meters (meter, last_month) VALUES ($1, $2) \
         ON CONFLICT (meter) DO NOTHING",
    )
    .bind::<Text, _>(reader)
    .bind::<Text, _>(month)
    .execute(conn)
    .map(drop)
}
