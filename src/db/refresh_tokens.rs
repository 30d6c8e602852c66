//! Refresh-token sessions: stored as hashes, single-use, rotating in families.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::refresh_tokens;
use crate::domain::id::UserId;

/// A stored refresh token (its hash, never the token).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub(crate) struct RefreshToken {
    pub id: i64,
    #[diesel(deserialize_as = i64)]
    pub user_id: UserId,
    pub family: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A refresh token to store.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub user_id: i64,
    pub family: &'a str,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Stores a newly issued token.
pub fn insert(conn: &mut DbConnection, new: &NewRefreshToken<'_>) -> QueryResult<usize> {
    diesel::insert_into(refresh_tokens::table)
        .values(new)
        .execute(conn)
}

/// The token with this hash.
pub(crate) fn find_by_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()
}

/// Marks a token used, only if it still is unused and unrevoked; returns
/// whether this call was the one that used it (so two concurrent refreshes
/// with one token cannot both succeed).
pub(crate) fn mark_used(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes every token of a login family.
pub(crate) fn revoke_family(
    conn: &mut DbConnection,
    family: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Revokes every live session of a user but `except_family`, in one
/// transaction under the user's session lock (`users::lock_sessions`), so
/// no refresh in flight can mint a token that outlives the revocation.
pub(crate) fn end_sessions(
    conn: &mut DbConnection,
    user_id: UserId,
    except_family: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    super::transaction(conn, |conn| {
        super::users::lock_sessions(conn, user_id)?;
        revoke_user(conn, user_id, except_family, now)
    })
}

/// Revokes every token of a user, optionally sparing one family (the session
/// that asked).
pub(crate) fn revoke_user(
    conn: &mut DbConnection,
    user_id: UserId,
    except_family: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut query = diesel::update(refresh_tokens::table)
        .filter(refresh_tokens::user_id.eq(user_id.get()))
        .filter(refresh_tokens::revoked_at.is_null())
        .into_boxed();
    if let Some(family) = except_family {
        query = query.filter(refresh_tokens::family.ne(family.to_owned()));
    }
    query.set(refresh_tokens::revoked_at.eq(now)).execute(conn)
}

/// Whether the login `family` has been ended (logout, logout everywhere, a
/// password change or a reused refresh token revoke its tokens).
pub(crate) fn family_revoked(conn: &mut DbConnection, family: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        refresh_tokens::table
            .filter(refresh_tokens::family.eq(family))
            .filter(refresh_tokens::revoked_at.is_not_null()),
    ))
    .get_result(conn)
}
