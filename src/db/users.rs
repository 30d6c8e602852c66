//! User accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::users;
use crate::domain::account::Role;
use crate::domain::id::UserId;

/// A user account row. Never serialised: views pick what clients may see.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    #[diesel(deserialize_as = i64)]
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    #[diesel(deserialize_as = String)]
    pub role: Role,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An account to insert.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: &'static str,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts an account; a duplicate email is a `UniqueViolation`.
pub fn insert(conn: &mut DbConnection, new: &NewUser<'_>) -> QueryResult<User> {
    let id: i64 = diesel::insert_into(users::table)
        .values(new)
        .returning(users::id)
        .get_result(conn)?;
    users::table.find(id).select(User::as_select()).first(conn)
}

/// The account with this (normalised) email.
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The account with this id.
pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<User>> {
    users::table
        .find(id.get())
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Changes a display name.
pub(crate) fn set_display_name(
    conn: &mut DbConnection,
    id: UserId,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id.get()))
        .set((users::display_name.eq(name), users::updated_at.eq(now)))
        .execute(conn)
}

/// Replaces a password hash.
pub(crate) fn set_password_hash(
    conn: &mut DbConnection,
    id: UserId,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id.get()))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)
}

/// Changes a role.
pub fn set_role(
    conn: &mut DbConnection,
    id: UserId,
    role: Role,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id.get()))
        .set((users::role.eq(role.as_str()), users::updated_at.eq(now)))
        .execute(conn)
}

/// Accounts by id, optionally only those whose email contains `search`,
/// starting after id `after`.
pub fn list(
    conn: &mut DbConnection,
    search: Option<&str>,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut query = users::table
        .select(User::as_select())
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(search) = search {
        let escaped = search
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(users::email.like(format!("%{escaped}%")).escape('\\'));
    }
    if let Some(after) = after {
        query = query.filter(users::id.gt(after));
    }
    query.load(conn)
}

/// Enables or disables an account.
pub(crate) fn set_disabled(
    conn: &mut DbConnection,
    id: UserId,
    disabled: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id.get()))
        .set((users::disabled.eq(disabled), users::updated_at.eq(now)))
        .execute(conn)
}

/// Inside a transaction: waits until no other transaction is changing this
/// user's sessions (rotating a refresh token, revoking logins), so that a
/// rotation and a revocation cannot interleave. PostgreSQL locks the user's
/// row to the end of the transaction; SQLite's IMMEDIATE transactions
/// already run one writer at a time.
pub(crate) fn lock_sessions(conn: &mut DbConnection, id: UserId) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::BigInt, _>(id.get())
            .execute(pg)?;
    }
    Ok(())
}
