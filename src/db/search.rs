//! Full-text search: FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL.
//! The query arrives parsed (see `domain::search`), so both backends get an
//! expression in their own syntax built from the same clauses.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::DbConnection;
use super::articles::{
    ArticleCard, ArticleFilter, ArticleSummaryRow, PublishedKey, filter_sql, load_cards,
};
use super::schema::{article_bodies, articles};
use crate::bind_filter;
use crate::domain::article::AccessLevel;
use crate::domain::search::SearchQuery;

/// What a reader's search may match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchScope {
    /// Headline, dek and the body as far as everyone may read it (whole for
    /// free articles, the preview otherwise): readers without access to
    /// every article, so hidden text never decides a match.
    Visible,
    /// Everything, bodies whole: subscribers, staff and `content:full` keys.
    Everything,
}

/// How long one search may run before it is given up (503 `search_timeout`).
pub(crate) const SEARCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

diesel::define_sql_function! {
    /// SQLite only: whether the running search is past its deadline. Each
    /// search's SQL asks it for every candidate row, so that once the
    /// deadline has passed no row costs more work (SQLite's progress handler
    /// is out of reach without `unsafe`; this bounds the per-row work, which
    /// is where a search spends its time once the index has answered).
    fn search_deadline_passed() -> diesel::sql_types::Bool;
}

thread_local! {
    static DEADLINE: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
}

/// Registers [`search_deadline_passed`] on a new SQLite connection. It reads
/// the deadline of the thread running the query (each query runs on the
/// blocking thread that set it).
pub(crate) fn register_deadline(conn: &diesel::SqliteConnection) -> QueryResult<()> {
    search_deadline_passed_utils::register_nondeterministic_impl(conn, || {
        DEADLINE.with(|d| d.get().is_some_and(|at| std::time::Instant::now() >= at))
    })
}

/// The error a search past its deadline ends with, on both backends.
fn timed_out() -> diesel::result::Error {
    diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new("canceling statement due to statement timeout".to_owned()),
    )
}

/// Whether `error` is a search past its deadline.
pub fn is_timeout(error: &diesel::result::Error) -> bool {
    error.to_string().contains("statement timeout")
}

/// Runs `work` with a deadline of `timeout`: PostgreSQL cancels the
/// statement (`statement_timeout`, for this transaction only); on SQLite
/// the search SQL stops taking rows once [`search_deadline_passed`] says so,
/// and the result is then refused. Either way the error is [`is_timeout`].
pub fn with_deadline<T>(
    conn: &mut DbConnection,
    timeout: std::time::Duration,
    work: impl FnOnce(&mut DbConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    if matches!(conn, DbConnection::Postgres(_)) {
        let ms = timeout.as_millis().max(1);
        return crate::db::transaction(conn, |conn| {
            diesel::sql_query(format!("SET LOCAL statement_timeout = {ms}")).execute(conn)?;
            work(conn)
        });
    }
    let deadline = std::time::Instant::now() + timeout;
    DEADLINE.with(|d| d.set(Some(deadline)));
    let result = work(conn);
    DEADLINE.with(|d| d.set(None));
    if std::time::Instant::now() >= deadline {
        return Err(timed_out());
    }
    result
}

/// How results are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchOrder {
    /// Best match first (headline weighs most, then dek, then body; on
    /// PostgreSQL body-only matches rank equal, newest first), from this many
    /// results in.
    Relevance { offset: i64 },
    /// Newest first, after this key.
    Latest { after: Option<PublishedKey> },
}

/// One page of results, with the text each may be highlighted from.
#[derive(Debug)]
pub struct SearchPage {
    /// The matching articles, in order, each with the body text the
    /// searcher may read (for most readers: whole for free articles, the
    /// preview otherwise).
    pub hits: Vec<(ArticleCard, String)>,
    /// Whether more results follow.
    pub more: bool,
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Published articles matching `query` and `filter` within `scope`, one
/// page of `limit`, within [`SEARCH_TIMEOUT`].
pub fn search(
    conn: &mut DbConnection,
    query: &SearchQuery,
    filter: &ArticleFilter,
    scope: SearchScope,
    order: SearchOrder,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<SearchPage> {
    with_deadline(conn, SEARCH_TIMEOUT, |conn| {
        search_now(conn, query, filter, scope, order, limit, now)
    })
}

fn search_now(
    conn: &mut DbConnection,
    query: &SearchQuery,
    filter: &ArticleFilter,
    scope: SearchScope,
    order: SearchOrder,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<SearchPage> {
    let (matches, expression, rank) = match (&*conn, scope) {
        // CROSS JOIN keeps SQLite from walking every published article and
        // probing the index for each (seconds at 100,000 articles): the
        // matches come first, then their articles.
        (DbConnection::Sqlite(_), SearchScope::Everything) => (
            "FROM article_search CROSS JOIN articles a ON a.id = article_search.rowid \
             WHERE article_search MATCH $1 AND NOT search_deadline_passed()",
            query.to_fts5(),
            "bm25(article_search, 10.0, 4.0, 1.0) ASC",
        ),
        (DbConnection::Sqlite(_), SearchScope::Visible) => (
            "FROM article_search_public CROSS JOIN articles a \
             ON a.id = article_search_public.rowid \
             WHERE article_search_public MATCH $1 AND NOT search_deadline_passed()",
            query.to_fts5(),
            "bm25(article_search_public, 10.0, 4.0, 1.0) ASC",
        ),
        // Ranked by the heading alone: ranking by the whole document read
        // every match's body vector (see migration 000011).
        (DbConnection::Postgres(_), SearchScope::Everything) => (
            "FROM article_search s JOIN articles a ON a.id = s.article_id \
             WHERE s.document @@ to_tsquery('simple', $1)",
            query.to_tsquery(),
            "ts_rank(s.heading, to_tsquery('simple', $1)) DESC",
        ),
        (DbConnection::Postgres(_), SearchScope::Visible) => (
            "FROM article_search s JOIN articles a ON a.id = s.article_id \
             WHERE s.visible @@ to_tsquery('simple', $1)",
            query.to_tsquery(),
            "ts_rank(s.heading, to_tsquery('simple', $1)) DESC",
        ),
    };
    let (order_by, after, offset) = match order {
        SearchOrder::Relevance { offset } => (rank, None, offset),
        SearchOrder::Latest { after } => ("a.published_at DESC", after, 0),
    };
    let sql = format!(
        "SELECT a.id AS id {matches} \
         AND a.status = 'published' AND a.published_at <= $2 {} \
         AND ($11 IS NULL OR a.published_at < $11 OR (a.published_at = $11 AND a.id < $12)) \
         ORDER BY {order_by}, a.id DESC LIMIT $13 OFFSET $14",
        filter_sql(3)
    );
    let statement = diesel::sql_query(sql)
        .bind::<Text, _>(expression)
        .bind::<Timestamp, _>(now);
    let mut hits: Vec<Hit> = bind_filter!(statement, filter)
        .bind::<Nullable<Timestamp>, _>(after.map(|k| k.published_at))
        .bind::<Nullable<BigInt>, _>(after.map(|k| k.id))
        .bind::<BigInt, _>(limit + 1)
        .bind::<BigInt, _>(offset)
        .load(conn)?;
    let more = hits.len() as i64 > limit;
    hits.truncate(usize::try_from(limit).unwrap_or(0));
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();

    let rows: Vec<ArticleSummaryRow> = articles::table
        .filter(articles::id.eq_any(&ids))
        .select(ArticleSummaryRow::as_select())
        .load(conn)?;
    let free: Vec<i64> = rows
        .iter()
        .filter(|r| scope == SearchScope::Everything || r.access_level == AccessLevel::Free)
        .map(|r| r.id.get())
        .collect();
    // The body as the searcher may read it: for most readers whole for free
    // articles and the preview for the rest; whole for those who may read
    // everything. Nothing else is ever loaded for a highlight.
    let mut visible: HashMap<i64, String> = article_bodies::table
        .filter(article_bodies::article_id.eq_any(&ids))
        .select((article_bodies::article_id, article_bodies::preview_text))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let whole: Vec<(i64, String)> = article_bodies::table
        .filter(article_bodies::article_id.eq_any(&free))
        .select((article_bodies::article_id, article_bodies::body_text))
        .load(conn)?;
    visible.extend(whole);
    let mut cards: HashMap<i64, ArticleCard> = load_cards(conn, rows)?
        .into_iter()
        .map(|card| (card.row.id.get(), card))
        .collect();
    let hits = ids
        .into_iter()
        .filter_map(|id| {
            let card = cards.remove(&id)?;
            Some((card, visible.remove(&id).unwrap_or_default()))
        })
        .collect();
    Ok(SearchPage { hits, more })
}
