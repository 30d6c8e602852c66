//! Readership: hourly view counts, and the rankings read from them.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Timestamp};

use super::DbConnection;
use super::articles::{ArticleCard, ArticleFilter, ArticleSummaryRow, filter_sql, load_cards};
use super::schema::{articles as articles_table, topics};
use crate::bind_filter;

/// Adds a batch of counts (article, hour) → views, in one transaction.
/// Views of an article deleted since they were counted are dropped.
pub fn add_views(
    conn: &mut DbConnection,
    batch: &HashMap<(i64, NaiveDateTime), u32>,
) -> QueryResult<()> {
    crate::db::transaction(conn, |conn| {
        for (&(article_id, hour), &views) in batch {
            diesel::sql_query(
                "INSERT INTO article_views (article_id, hour, views) \
                 SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM articles WHERE id = $1) \
                 ON CONFLICT (article_id, hour) DO UPDATE SET views = article_views.views + excluded.views",
            )
            .bind::<BigInt, _>(article_id)
            .bind::<Timestamp, _>(hour)
            .bind::<Integer, _>(i32::try_from(views).unwrap_or(i32::MAX))
            .execute(conn)?;
        }
        Ok(())
    })
}

/// An article id and its views in a window.
#[derive(Debug, QueryableByName)]
struct Ranked {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    views: i64,
}

/// The most-read public articles matching `filter` since `since`, most
/// views first. The filters mean what they mean for the newest-first list.
pub fn most_read(
    conn: &mut DbConnection,
    filter: &ArticleFilter,
    since: NaiveDateTime,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<(ArticleCard, i64)>> {
    let sql = format!(
        "SELECT v.article_id AS id, SUM(v.views) AS views \
         FROM article_views v JOIN articles a ON a.id = v.article_id \
         WHERE v.hour >= $1 AND a.status = 'published' AND a.published_at <= $2 {} \
         GROUP BY v.article_id ORDER BY views DESC, v.article_id DESC LIMIT $11",
        filter_sql(3)
    );
    let query = diesel::sql_query(sql)
        .bind::<Timestamp, _>(since)
        .bind::<Timestamp, _>(now);
    let ranked: Vec<Ranked> = bind_filter!(query, filter)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    let ids: Vec<i64> = ranked.iter().map(|r| r.id).collect();
    let rows: Vec<ArticleSummaryRow> = articles_table::table
        .filter(articles_table::id.eq_any(&ids))
        .select(ArticleSummaryRow::as_select())
        .load(conn)?;
    let mut cards: HashMap<i64, ArticleCard> = load_cards(conn, rows)?
        .into_iter()
        .map(|card| (card.row.id.get(), card))
        .collect();
    Ok(ranked
        .into_iter()
        .filter_map(|r| Some((cards.remove(&r.id)?, r.views)))
        .collect())
}

/// Views of public articles per topic in `from..to`.
pub(crate) fn views_by_topic(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<HashMap<i64, i64>> {
    let rows: Vec<Ranked> = diesel::sql_query(
        "SELECT atp.topic_id AS id, SUM(v.views) AS views \
         FROM article_views v \
         JOIN article_topics atp ON atp.article_id = v.article_id \
         JOIN articles a ON a.id = v.article_id \
         WHERE v.hour >= $1 AND v.hour < $2 AND a.status = 'published' AND a.published_at <= $3 \
         GROUP BY atp.topic_id",
    )
    .bind::<Timestamp, _>(from)
    .bind::<Timestamp, _>(to)
    .bind::<Timestamp, _>(now)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.views)).collect())
}

/// Slugs and names of these topics.
pub(crate) fn topic_names(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<HashMap<i64, (String, String)>> {
    let rows: Vec<(i64, String, String)> = topics::table
        .filter(topics::id.eq_any(ids))
        .select((topics::id, topics::slug, topics::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, name)| (id, (slug, name)))
        .collect())
}
