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
    /// The matching articles, in order, each with the body text everyone
    /// may read (whole for free articles, the preview otherwise).
    pub hits: Vec<(ArticleCard, String)>,
    /// Whether more results follow.
    pub more: bool,
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Published articles matching `query` and `filter`, one page of `limit`.
pub fn search(
    conn: &mut DbConnection,
    query: &SearchQuery,
    filter: &ArticleFilter,
    order: SearchOrder,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<SearchPage> {
    let (matches, expression, rank) = match conn {
        DbConnection::Sqlite(_) => (
            // CROSS JOIN keeps SQLite from walking every published article
            // and probing the index for each (seconds at 100,000 articles):
            // the matches come first, then their articles.
            "FROM article_search CROSS JOIN articles a ON a.id = article_search.rowid \
             WHERE article_search MATCH $1",
            query.to_fts5(),
            "bm25(article_search, 10.0, 4.0, 1.0) ASC",
        ),
        DbConnection::Postgres(_) => (
            "FROM article_search s JOIN articles a ON a.id = s.article_id \
             WHERE s.document @@ to_tsquery('simple', $1)",
            query.to_tsquery(),
            // The heading alone: ranking by the whole document read every
            // match's body vector (see migration 000011).
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
        .filter(|r| r.access_level == AccessLevel::Free)
        .map(|r| r.id)
        .collect();
    // The body as everyone may read it: whole for free articles, the
    // preview for the rest. Nothing else is ever loaded for a highlight.
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
        .map(|card| (card.row.id, card))
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
