//! Which articles the public may see: shared by every query that lists,
//! counts or finds published articles.

use chrono::NaiveDateTime;
use diesel::dsl;
use diesel::prelude::*;

use super::schema::articles;
use crate::domain::article::ArticleStatus;

/// The predicate "the public may see this article now".
pub(crate) type IsPublic = dsl::And<
    dsl::Eq<articles::status, &'static str>,
    dsl::LtEq<articles::published_at, NaiveDateTime>,
>;

/// Published, and not dated in the future.
pub fn is_public(now: NaiveDateTime) -> IsPublic {
    articles::status
        .eq(ArticleStatus::Published.as_str())
        .and(articles::published_at.le(now))
}
