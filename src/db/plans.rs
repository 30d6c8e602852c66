//! Subscription plans.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::plans;
use crate::domain::plan::BillingInterval;

/// A plan row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = plans)]
pub struct Plan {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    #[diesel(deserialize_as = String)]
    pub billing_interval: BillingInterval,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A plan to insert.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = plans)]
pub struct NewPlan<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub price_minor: i64,
    pub currency: &'a str,
    pub billing_interval: &'static str,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to a plan; `None` leaves a column as it is.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = plans)]
pub struct PlanChanges<'a> {
    pub name: Option<&'a str>,
    pub price_minor: Option<i64>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

/// The most plans a list holds (as documented): a price list, not a catalogue.
pub(crate) const MAX_LISTED: i64 = 100;

/// The cheapest [`MAX_LISTED`] plans, cheapest first; only the active ones
/// unless `all`.
pub fn list(conn: &mut DbConnection, all: bool) -> QueryResult<Vec<Plan>> {
    let mut query = plans::table
        .select(Plan::as_select())
        .order((plans::price_minor.asc(), plans::id.asc()))
        .limit(MAX_LISTED)
        .into_boxed();
    if !all {
        query = query.filter(plans::active.eq(true));
    }
    query.load(conn)
}

/// The plan with this code.
pub fn find(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Plan>> {
    plans::table
        .filter(plans::code.eq(code))
        .select(Plan::as_select())
        .first(conn)
        .optional()
}

/// Inserts a plan; a duplicate code is a `UniqueViolation`.
pub fn insert(conn: &mut DbConnection, new: &NewPlan<'_>) -> QueryResult<usize> {
    diesel::insert_into(plans::table).values(new).execute(conn)
}

/// Changes the plan with this id.
pub fn update(conn: &mut DbConnection, id: i64, changes: &PlanChanges<'_>) -> QueryResult<usize> {
    diesel::update(plans::table.find(id))
        .set(changes)
        .execute(conn)
}
