//! The paywall's meter: distinct metered articles per reader per month.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::DbConnection;
use super::schema::meter_reads;

#[derive(QueryableByName)]
struct MeterRow {
    #[diesel(sql_type = BigInt)]
    used: i64,
    #[diesel(sql_type = BigInt)]
    already: i64,
}

/// Metered articles `reader` has read in `month`, and whether `article_id`
/// is one: one query.
pub fn state(
    conn: &mut DbConnection,
    reader: &str,
    month: &str,
    article_id: i64,
) -> QueryResult<(i64, bool)> {
    // SQLite numbers `$n` parameters in the order they first appear, so
    // they are numbered here in that order.
    let row: MeterRow = diesel::sql_query(
        "SELECT COUNT(*) AS used, \
         CAST(COALESCE(MAX(CASE WHEN article_id = $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS already \
         FROM meter_reads WHERE reader = $2 AND month = $3",
    )
    .bind::<BigInt, _>(article_id)
    .bind::<Text, _>(reader)
    .bind::<Text, _>(month)
    .get_result(conn)?;
    Ok((row.used, row.already > 0))
}

/// Metered articles `reader` has read in `month`.
pub fn used(conn: &mut DbConnection, reader: &str, month: &str) -> QueryResult<i64> {
    meter_reads::table
        .filter(meter_reads::reader.eq(reader))
        .filter(meter_reads::month.eq(month))
        .count()
        .get_result(conn)
}

/// Counts `article_id` on `reader`'s meter for `month`. The caller has
/// checked the allowance while holding the reader's lock (the ledger's
/// batch does); a read already counted stays counted once. Returns whether
/// a row was added.
pub fn count(
    conn: &mut DbConnection,
    reader: &str,
    month: &str,
    article_id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let added = diesel::sql_query(
        "INSERT INTO meter_reads (reader, month, article_id, read_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(reader)
    .bind::<Text, _>(month)
    .bind::<BigInt, _>(article_id)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(added > 0)
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
pub fn returning(conn: &mut DbConnection, reader: &str, month: &str) -> QueryResult<bool> {
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
