//! Sources, authors and topics: the catalogue articles hang from.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{article_authors, article_topics, articles, authors, sources, topics};
use super::visibility::is_public;
use crate::domain::id::{AuthorId, SourceId, TopicId};

/// A foreign outlet whose journalism we translate.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = sources)]
pub struct Source {
    #[diesel(deserialize_as = i64)]
    pub id: SourceId,
    pub slug: String,
    pub name: String,
    pub country: String,
    pub language: String,
    pub homepage_url: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A source to insert.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = sources)]
pub struct NewSource<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub country: &'a str,
    pub language: &'a str,
    pub homepage_url: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A journalist or translator with a byline.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = authors)]
pub struct Author {
    #[diesel(deserialize_as = i64)]
    pub id: AuthorId,
    pub slug: String,
    pub name: String,
    pub bio: String,
    pub avatar_url: Option<String>,
    pub affiliation_source_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An author to insert.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = authors)]
pub struct NewAuthor<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub bio: &'a str,
    pub avatar_url: Option<&'a str>,
    pub affiliation_source_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A subject articles are filed under.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = topics)]
pub struct Topic {
    #[diesel(deserialize_as = i64)]
    pub id: TopicId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A topic to insert.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = topics)]
pub struct NewTopic<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One page of a list ordered by slug, and whether another follows.
#[derive(Debug)]
pub struct SlugPage<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The slug of the last row when more rows follow.
    pub next_after: Option<String>,
}

impl<T> SlugPage<T> {
    fn from_rows(mut rows: Vec<T>, limit: i64, slug: impl Fn(&T) -> &str) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next_after = if more {
            rows.last().map(|row| slug(row).to_owned())
        } else {
            None
        };
        Self {
            items: rows,
            next_after,
        }
    }
}

/// The queries every slug-identified catalogue table shares: insert, a page
/// ordered by slug, and lookup by slug.
macro_rules! slug_table_queries {
    ($table:ident, $row:ident, $new:ident, $insert:ident, $list:ident, $find:ident, $what:literal) => {
        #[doc = concat!("Inserts ", $what, " and returns its id.")]
        pub fn $insert(conn: &mut DbConnection, new: &$new<'_>) -> QueryResult<i64> {
            diesel::insert_into($table::table)
                .values(new)
                .returning($table::id)
                .get_result(conn)
        }

        #[doc = concat!("A page of ", stringify!($table), " ordered by slug, starting after `after`.")]
        pub fn $list(
            conn: &mut DbConnection,
            after: Option<&str>,
            limit: i64,
        ) -> QueryResult<SlugPage<$row>> {
            let mut query = $table::table
                .select($row::as_select())
                .order($table::slug.asc())
                .limit(limit + 1)
                .into_boxed();
            if let Some(after) = after {
                query = query.filter($table::slug.gt(after.to_owned()));
            }
            Ok(SlugPage::from_rows(query.load(conn)?, limit, |row| &row.slug))
        }

        #[doc = concat!("The ", stringify!($row), " with this slug.")]
        pub fn $find(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<$row>> {
            $table::table
                .filter($table::slug.eq(slug))
                .select($row::as_select())
                .first(conn)
                .optional()
        }
    };
}

slug_table_queries!(
    sources,
    Source,
    NewSource,
    insert_source,
    list_sources,
    find_source,
    "a source"
);
slug_table_queries!(
    authors,
    Author,
    NewAuthor,
    insert_author,
    list_authors,
    find_author,
    "an author"
);
slug_table_queries!(
    topics,
    Topic,
    NewTopic,
    insert_topic,
    list_topics,
    find_topic,
    "a topic"
);

/// The id of the topic with this slug.
pub(crate) fn topic_id(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<i64>> {
    topics::table
        .filter(topics::slug.eq(slug))
        .select(topics::id)
        .first(conn)
        .optional()
}

/// The id of the author with this slug.
pub(crate) fn author_id(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<i64>> {
    authors::table
        .filter(authors::slug.eq(slug))
        .select(authors::id)
        .first(conn)
        .optional()
}

/// The id and language of the source with this slug.
pub(crate) fn source_id_and_language(
    conn: &mut DbConnection,
    slug: &str,
) -> QueryResult<Option<(i64, String)>> {
    sources::table
        .filter(sources::slug.eq(slug))
        .select((sources::id, sources::language))
        .first(conn)
        .optional()
}

/// The sources with these ids.
pub(crate) fn sources_by_id(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<HashMap<i64, Source>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Source> = sources::table
        .filter(sources::id.eq_any(ids))
        .select(Source::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|s| (s.id.get(), s)).collect())
}

/// Published articles per source, for the given sources.
pub(crate) fn published_counts_by_source(
    conn: &mut DbConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<HashMap<i64, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<i64>, i64)> = articles::table
        .filter(is_public(now))
        .filter(articles::original_source_id.eq_any(ids))
        .group_by(articles::original_source_id)
        .select((articles::original_source_id, count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, n)))
        .collect())
}

/// Published articles per author, for the given authors.
pub(crate) fn published_counts_by_author(
    conn: &mut DbConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<HashMap<i64, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = article_authors::table
        .filter(article_authors::published_at.le(now))
        .filter(article_authors::author_id.eq_any(ids))
        .group_by(article_authors::author_id)
        .select((article_authors::author_id, count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Published articles per topic (primary or secondary), for the given topics.
pub(crate) fn published_counts_by_topic(
    conn: &mut DbConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<HashMap<i64, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = article_topics::table
        .filter(article_topics::published_at.le(now))
        .filter(article_topics::topic_id.eq_any(ids))
        .group_by(article_topics::topic_id)
        .select((article_topics::topic_id, count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Every topic, author and source id, for bulk loads.
#[derive(Debug, Default)]
pub(crate) struct CatalogueIdLists {
    pub topics: Vec<i64>,
    pub authors: Vec<i64>,
    /// Source ids with each source's language.
    pub sources: Vec<(i64, String)>,
}

/// Every topic, author and source id, ordered by id.
pub(crate) fn all_ids(conn: &mut DbConnection) -> QueryResult<CatalogueIdLists> {
    Ok(CatalogueIdLists {
        topics: topics::table
            .select(topics::id)
            .order(topics::id)
            .load(conn)?,
        authors: authors::table
            .select(authors::id)
            .order(authors::id)
            .load(conn)?,
        sources: sources::table
            .select((sources::id, sources::language))
            .order(sources::id)
            .load(conn)?,
    })
}

/// Changes to a topic; `None` leaves a column as it is.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = topics)]
pub(crate) struct TopicChanges<'a> {
    pub slug: Option<&'a str>,
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Changes to an author; `Some(None)` clears an optional column.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = authors)]
pub(crate) struct AuthorChanges<'a> {
    pub slug: Option<&'a str>,
    pub name: Option<&'a str>,
    pub bio: Option<&'a str>,
    pub avatar_url: Option<Option<&'a str>>,
    pub affiliation_source_id: Option<Option<i64>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Changes to a source; `Some(None)` clears an optional column.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = sources)]
pub(crate) struct SourceChanges<'a> {
    pub slug: Option<&'a str>,
    pub name: Option<&'a str>,
    pub country: Option<&'a str>,
    pub language: Option<&'a str>,
    pub homepage_url: Option<Option<&'a str>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies changes to the topic with this id.
pub(crate) fn update_topic(
    conn: &mut DbConnection,
    id: TopicId,
    changes: &TopicChanges<'_>,
) -> QueryResult<usize> {
    diesel::update(topics::table.find(id.get()))
        .set(changes)
        .execute(conn)
}

/// Applies changes to the author with this id.
pub(crate) fn update_author(
    conn: &mut DbConnection,
    id: AuthorId,
    changes: &AuthorChanges<'_>,
) -> QueryResult<usize> {
    diesel::update(authors::table.find(id.get()))
        .set(changes)
        .execute(conn)
}

/// Applies changes to the source with this id.
pub(crate) fn update_source(
    conn: &mut DbConnection,
    id: SourceId,
    changes: &SourceChanges<'_>,
) -> QueryResult<usize> {
    diesel::update(sources::table.find(id.get()))
        .set(changes)
        .execute(conn)
}

/// Articles (of any status) filed under a topic.
pub(crate) fn topic_usage(conn: &mut DbConnection, id: TopicId) -> QueryResult<i64> {
    article_topics::table
        .filter(article_topics::topic_id.eq(id.get()))
        .count()
        .get_result(conn)
}

/// Articles (of any status) bylined to an author.
pub(crate) fn author_usage(conn: &mut DbConnection, id: AuthorId) -> QueryResult<i64> {
    article_authors::table
        .filter(article_authors::author_id.eq(id.get()))
        .count()
        .get_result(conn)
}

/// Articles (of any status) translated from a source.
pub(crate) fn source_usage(conn: &mut DbConnection, id: SourceId) -> QueryResult<i64> {
    articles::table
        .filter(articles::original_source_id.eq(id.get()))
        .count()
        .get_result(conn)
}

/// Deletes the topic with this id.
pub(crate) fn delete_topic(conn: &mut DbConnection, id: TopicId) -> QueryResult<usize> {
    diesel::delete(topics::table.find(id.get())).execute(conn)
}

/// Deletes the author with this id.
pub(crate) fn delete_author(conn: &mut DbConnection, id: AuthorId) -> QueryResult<usize> {
    diesel::delete(authors::table.find(id.get())).execute(conn)
}

/// Deletes the source with this id; authors affiliated with it lose the affiliation.
pub(crate) fn delete_source(conn: &mut DbConnection, id: SourceId) -> QueryResult<usize> {
    diesel::delete(sources::table.find(id.get())).execute(conn)
}
