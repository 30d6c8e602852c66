//! Third-party API keys and the shared per-minute counters that limit them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use super::DbConnection;
use super::schema::api_keys;

/// A key row (with the hash of its secret, never the secret).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: String,
    pub rate_limit_per_minute: i32,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A key to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub scopes: &'a str,
    pub rate_limit_per_minute: i32,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// Inserts a key and returns it.
pub fn insert(conn: &mut DbConnection, new: &NewApiKey<'_>) -> QueryResult<ApiKey> {
    diesel::insert_into(api_keys::table)
        .values(new)
        .execute(conn)?;
    api_keys::table
        .filter(api_keys::secret_hash.eq(new.secret_hash))
        .select(ApiKey::as_select())
        .first(conn)
}

/// Keys by id, newest first, after the id `before` (exclusive).
pub fn list(conn: &mut DbConnection, before: Option<i64>, limit: i64) -> QueryResult<Vec<ApiKey>> {
    let mut query = api_keys::table
        .select(ApiKey::as_select())
        .order(api_keys::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(id) = before {
        query = query.filter(api_keys::id.lt(id));
    }
    query.load(conn)
}

/// The key whose secret hashes to `hash`, unless it is revoked.
pub(crate) fn find_live(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<ApiKey>> {
    api_keys::table
        .filter(api_keys::secret_hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKey::as_select())
        .first(conn)
        .optional()
}

/// Revokes key `id`; `false` when no such key exists.
pub fn revoke(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let found = api_keys::table
        .find(id)
        .select(api_keys::id)
        .first::<i64>(conn)
        .optional()?;
    if found.is_none() {
        return Ok(false);
    }
    diesel::update(api_keys::table.find(id))
        .filter(api_keys::revoked_at.is_null())
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)?;
    Ok(true)
}

/// Records a use, at most once a minute per key (a write per request would
/// cost more than the request).
pub fn touch(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    let stale = now - chrono::Duration::seconds(60);
    diesel::update(api_keys::table.find(id))
        .filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(stale)),
        )
        .set(api_keys::last_used_at.eq(now))
        .execute(conn)
}

#[derive(QueryableByName)]
struct Hits {
    #[diesel(sql_type = Integer)]
    hits: i32,
}

/// Counts one request in `bucket`'s window starting at `window`, and
/// returns the count so far, atomically across connections and nodes.
pub fn hit(conn: &mut DbConnection, bucket: &str, window: NaiveDateTime) -> QueryResult<i32> {
    let counted: Hits = diesel::sql_query(
        "INSERT INTO rate_limit_windows (bucket, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1 \
         RETURNING hits",
    )
    .bind::<Text, _>(bucket)
    .bind::<Timestamp, _>(window)
    .get_result(conn)?;
    Ok(counted.hits)
}

/// Forgets windows that ended before `before`.
pub(crate) fn prune_windows(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM rate_limit_windows WHERE window_start < $1")
        .bind::<Timestamp, _>(before)
        .execute(conn)
}
