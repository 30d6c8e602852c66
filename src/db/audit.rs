//! The audit trail: who changed what in the newsroom and administration, and when.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{audit_events, users};
use crate::domain::id::UserId;

/// One recorded change, with the actor's email when the account still exists.
#[derive(Clone, Debug, Queryable)]
pub struct AuditEvent {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor_email: Option<String>,
    pub action: String,
    pub target: String,
    pub details: String,
    pub at: NaiveDateTime,
}

/// Records a change.
pub(crate) fn record(
    conn: &mut DbConnection,
    actor_id: UserId,
    action: &str,
    target: &str,
    details: &serde_json::Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::actor_id.eq(actor_id.get()),
            audit_events::action.eq(action),
            audit_events::target.eq(target),
            audit_events::details.eq(details.to_string()),
            audit_events::at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Events newest first, before event `before` when given.
pub fn list(
    conn: &mut DbConnection,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditEvent>> {
    let mut query = audit_events::table
        .left_join(users::table.on(users::id.nullable().eq(audit_events::actor_id)))
        .select((
            audit_events::id,
            audit_events::actor_id,
            users::email.nullable(),
            audit_events::action,
            audit_events::target,
            audit_events::details,
            audit_events::at,
        ))
        .order(audit_events::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_events::id.lt(before));
    }
    query.load(conn)
}
