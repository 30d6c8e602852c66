//! Articles, their bylines and their topics.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl;
use diesel::prelude::*;

use super::DbConnection;
use super::catalogue::{Source, sources_by_id};
use super::schema::{
    article_authors, article_bodies, article_redirects, article_topics, articles, authors, sources,
    topics,
};
pub(crate) use super::visibility::is_public;
use crate::domain::article::{AccessLevel, ArticleKind, ArticleStatus};
use crate::domain::id::ArticleId;
use crate::domain::markdown::RenderedBody;

/// What lists show of an article: everything but the body.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleSummaryRow {
    #[diesel(deserialize_as = i64)]
    pub id: ArticleId,
    pub slug: String,
    pub headline: String,
    pub dek: String,
    pub dateline: Option<String>,
    pub hero_image_url: Option<String>,
    pub hero_image_alt: Option<String>,
    pub hero_image_caption: Option<String>,
    pub hero_image_credit: Option<String>,
    #[diesel(deserialize_as = String)]
    pub kind: ArticleKind,
    pub video_url: Option<String>,
    pub original_source_id: Option<i64>,
    pub original_language: Option<String>,
    pub original_title: Option<String>,
    pub original_url: Option<String>,
    pub translator: Option<String>,
    #[diesel(deserialize_as = String)]
    pub access_level: AccessLevel,
    pub featured: bool,
    pub featured_rank: Option<i32>,
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    #[diesel(deserialize_as = String)]
    pub status: ArticleStatus,
    pub created_at: NaiveDateTime,
    pub revision: i32,
}

/// An article's rendered body and preview, as readers get them.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = article_bodies)]
pub struct ArticleBodyRow {
    pub body_markdown: String,
    pub body_html: String,
    pub body_text: String,
    pub preview_html: String,
    pub preview_text: String,
}

/// An article with its rendered body and preview.
#[derive(Clone, Debug)]
pub struct ArticleRow {
    pub summary: ArticleSummaryRow,
    pub body: ArticleBodyRow,
}

/// A body to store beside its article: the editor's Markdown and its renderings.
#[derive(Clone, Copy, Debug)]
pub struct NewBody<'a> {
    pub markdown: &'a str,
    pub rendered: &'a RenderedBody,
}

/// An article to insert. Enum columns are their text form.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = articles, treat_none_as_default_value = false)]
pub struct NewArticle<'a> {
    pub slug: &'a str,
    pub headline: &'a str,
    pub dek: &'a str,
    pub dateline: Option<&'a str>,
    pub hero_image_url: Option<&'a str>,
    pub hero_image_alt: Option<&'a str>,
    pub hero_image_caption: Option<&'a str>,
    pub hero_image_credit: Option<&'a str>,
    pub kind: &'static str,
    pub video_url: Option<&'a str>,
    pub original_source_id: Option<i64>,
    pub original_language: Option<&'a str>,
    pub original_title: Option<&'a str>,
    pub original_url: Option<&'a str>,
    pub translator: Option<&'a str>,
    pub status: &'static str,
    pub access_level: &'static str,
    pub featured: bool,
    pub featured_rank: Option<i32>,
    pub publish_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An article inserted with a chosen id, for bulk loads.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = articles)]
pub(crate) struct NewArticleWithId<'a> {
    pub id: i64,
    #[diesel(embed)]
    pub article: NewArticle<'a>,
}

/// A byline or topic reference: what a summary shows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedRef {
    pub slug: String,
    pub name: String,
}

/// A summary with everything it refers to.
#[derive(Clone, Debug)]
pub struct ArticleCard {
    pub row: ArticleSummaryRow,
    /// Bylines in order.
    pub authors: Vec<NamedRef>,
    /// The primary topic, if the article has one.
    pub primary_topic: Option<NamedRef>,
    /// Every topic, the primary one first.
    pub topics: Vec<NamedRef>,
    /// The outlet of the original.
    pub source: Option<Source>,
}

/// Filters for the public article list; all optional and combined with AND.
#[derive(Clone, Debug, Default)]
pub struct ArticleFilter {
    pub topic: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
    pub language: Option<String>,
    pub kind: Option<ArticleKind>,
    pub featured: Option<bool>,
    pub published_after: Option<NaiveDateTime>,
    pub published_before: Option<NaiveDateTime>,
}

/// Where a page of the newest-first list starts: after this article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishedKey {
    pub published_at: NaiveDateTime,
    pub id: i64,
}

/// One page of the newest-first list.
#[derive(Debug)]
pub struct ArticlePage {
    pub cards: Vec<ArticleCard>,
    /// The key of the last card when more follow.
    pub next_after: Option<PublishedKey>,
}

/// What an editor may list: each status, and scheduled articles (published
/// with a time still in the future).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shelf {
    /// Visible to the public now.
    Published,
    /// Published with a time in the future: they appear on their own then.
    Scheduled,
    /// Being written.
    Draft,
    /// Withdrawn.
    Archived,
}

/// The filters of [`ArticleFilter`] as SQL over `articles a`, for raw
/// statements: eight parameters numbered from `$first`, each clause
/// `($n IS NULL OR ...)` so one statement serves every combination. Bind
/// them with [`bind_filter!`]. Parameters must first appear in ascending
/// order (SQLite numbers them by first appearance).
pub(crate) fn filter_sql(first: usize) -> String {
    let n = |k: usize| first + k;
    format!(
        "AND (${0} IS NULL OR EXISTS (SELECT 1 FROM article_topics atp JOIN topics t ON t.id = atp.topic_id \
              WHERE atp.article_id = a.id AND t.slug = ${0})) \
         AND (${1} IS NULL OR EXISTS (SELECT 1 FROM article_authors aa JOIN authors au ON au.id = aa.author_id \
              WHERE aa.article_id = a.id AND au.slug = ${1})) \
         AND (${2} IS NULL OR a.original_source_id IN (SELECT id FROM sources WHERE slug = ${2})) \
         AND (${3} IS NULL OR a.original_language = ${3}) \
         AND (${4} IS NULL OR a.kind = ${4}) \
         AND (${5} IS NULL OR a.featured = ${5}) \
         AND (${6} IS NULL OR a.published_at > ${6}) \
         AND (${7} IS NULL OR a.published_at < ${7})",
        n(0),
        n(1),
        n(2),
        n(3),
        n(4),
        n(5),
        n(6),
        n(7)
    )
}

/// Binds the eight parameters of [`filter_sql`] to a raw query, in order.
#[macro_export]
macro_rules! bind_filter {
    ($query:expr, $filter:expr) => {{
        use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
        let filter: &$crate::db::articles::ArticleFilter = $filter;
        $query
            .bind::<Nullable<Text>, _>(filter.topic.as_deref())
            .bind::<Nullable<Text>, _>(filter.author.as_deref())
            .bind::<Nullable<Text>, _>(filter.source.as_deref())
            .bind::<Nullable<Text>, _>(filter.language.as_deref())
            .bind::<Nullable<Text>, _>(filter.kind.map(|k| k.as_str()))
            .bind::<Nullable<Bool>, _>(filter.featured)
            .bind::<Nullable<Timestamp>, _>(filter.published_after)
            .bind::<Nullable<Timestamp>, _>(filter.published_before)
    }};
}

/// The backend type of our combined connection.
type Backend = <DbConnection as Connection>::Backend;

/// `query` narrowed by every filter that is set.
fn with_filter<'a, ST: 'a>(
    mut query: articles::BoxedQuery<'a, Backend, ST>,
    filter: &ArticleFilter,
) -> articles::BoxedQuery<'a, Backend, ST> {
    if let Some(slug) = &filter.topic {
        query = query.filter(dsl::exists(
            article_topics::table
                .inner_join(topics::table)
                .filter(article_topics::article_id.eq(articles::id))
                .filter(topics::slug.eq(slug.clone())),
        ));
    }
    if let Some(slug) = &filter.author {
        query = query.filter(dsl::exists(
            article_authors::table
                .inner_join(authors::table)
                .filter(article_authors::article_id.eq(articles::id))
                .filter(authors::slug.eq(slug.clone())),
        ));
    }
    if let Some(slug) = &filter.source {
        let source = sources::table
            .filter(sources::slug.eq(slug.clone()))
            .select(sources::id.nullable());
        query = query.filter(articles::original_source_id.eq_any(source));
    }
    if let Some(language) = &filter.language {
        query = query.filter(articles::original_language.eq(language.clone()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(articles::kind.eq(kind.as_str()));
    }
    if let Some(featured) = filter.featured {
        query = query.filter(articles::featured.eq(featured));
    }
    if let Some(at) = filter.published_after {
        query = query.filter(articles::published_at.gt(at));
    }
    if let Some(at) = filter.published_before {
        query = query.filter(articles::published_at.lt(at));
    }
    query
}

/// Articles on `shelf` matching `filter`, newest first (by publication time
/// for published and scheduled ones, by creation time for the rest), after `after`.
pub fn list(
    conn: &mut DbConnection,
    filter: &ArticleFilter,
    shelf: Shelf,
    after: Option<PublishedKey>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<ArticlePage> {
    let mut query = articles::table
        .select(ArticleSummaryRow::as_select())
        .limit(limit + 1)
        .into_boxed();
    query = match shelf {
        Shelf::Published => query.filter(is_public(now)),
        Shelf::Scheduled => query
            .filter(articles::status.eq(ArticleStatus::Published.as_str()))
            .filter(articles::published_at.gt(now)),
        Shelf::Draft => query.filter(articles::status.eq(ArticleStatus::Draft.as_str())),
        Shelf::Archived => query.filter(articles::status.eq(ArticleStatus::Archived.as_str())),
    };
    let by_publication = matches!(shelf, Shelf::Published | Shelf::Scheduled);
    query = with_filter(query, filter);
    if by_publication {
        query = query.order((articles::published_at.desc(), articles::id.desc()));
        if let Some(key) = after {
            query = query.filter(
                articles::published_at
                    .lt(key.published_at)
                    .or(articles::published_at
                        .eq(key.published_at)
                        .and(articles::id.lt(key.id))),
            );
        }
    } else {
        query = query.order((articles::created_at.desc(), articles::id.desc()));
        if let Some(key) = after {
            query = query.filter(
                articles::created_at
                    .lt(key.published_at)
                    .or(articles::created_at
                        .eq(key.published_at)
                        .and(articles::id.lt(key.id))),
            );
        }
    }
    let mut rows: Vec<ArticleSummaryRow> = query.load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let next_after = match rows.last() {
        Some(last) if more => Some(PublishedKey {
            published_at: match (by_publication, last.published_at) {
                (true, Some(at)) => at,
                _ => last.created_at,
            },
            id: last.id.get(),
        }),
        _ => None,
    };
    Ok(ArticlePage {
        cards: load_cards(conn, rows)?,
        next_after,
    })
}

/// The published article with this slug, with its card.
pub(crate) fn find_public(
    conn: &mut DbConnection,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(ArticleRow, ArticleCard)>> {
    let row: Option<(ArticleSummaryRow, ArticleBodyRow)> = articles::table
        .inner_join(article_bodies::table)
        .filter(articles::slug.eq(slug))
        .filter(is_public(now))
        .select((ArticleSummaryRow::as_select(), ArticleBodyRow::as_select()))
        .first(conn)
        .optional()?;
    let Some((summary, body)) = row else {
        return Ok(None);
    };
    let card = load_cards(conn, vec![summary.clone()])?.pop();
    Ok(card.map(|card| (ArticleRow { summary, body }, card)))
}

/// Attaches bylines, topics and sources to summaries: three queries for a whole page.
pub(crate) fn load_cards(
    conn: &mut DbConnection,
    rows: Vec<ArticleSummaryRow>,
) -> QueryResult<Vec<ArticleCard>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id.get()).collect();

    let bylines: Vec<(i64, String, String)> = article_authors::table
        .inner_join(authors::table)
        .filter(article_authors::article_id.eq_any(&ids))
        .order((article_authors::article_id, article_authors::position))
        .select((article_authors::article_id, authors::slug, authors::name))
        .load(conn)?;
    let mut authors_of: HashMap<i64, Vec<NamedRef>> = HashMap::new();
    for (article_id, slug, name) in bylines {
        authors_of
            .entry(article_id)
            .or_default()
            .push(NamedRef { slug, name });
    }

    let tags: Vec<(i64, String, String, bool)> = article_topics::table
        .inner_join(topics::table)
        .filter(article_topics::article_id.eq_any(&ids))
        .order((
            article_topics::article_id,
            article_topics::is_primary.desc(),
            topics::slug,
        ))
        .select((
            article_topics::article_id,
            topics::slug,
            topics::name,
            article_topics::is_primary,
        ))
        .load(conn)?;
    let mut topics_of: HashMap<i64, (Option<NamedRef>, Vec<NamedRef>)> = HashMap::new();
    for (article_id, slug, name, primary) in tags {
        let entry = topics_of.entry(article_id).or_default();
        let topic = NamedRef { slug, name };
        if primary {
            entry.0 = Some(topic.clone());
        }
        entry.1.push(topic);
    }

    let mut source_ids: Vec<i64> = rows.iter().filter_map(|r| r.original_source_id).collect();
    source_ids.sort_unstable();
    source_ids.dedup();
    let sources = sources_by_id(conn, &source_ids)?;

    Ok(rows
        .into_iter()
        .map(|row| {
            let (primary_topic, topics) = topics_of.remove(&row.id.get()).unwrap_or_default();
            ArticleCard {
                authors: authors_of.remove(&row.id.get()).unwrap_or_default(),
                primary_topic,
                topics,
                source: row
                    .original_source_id
                    .and_then(|id| sources.get(&id).cloned()),
                row,
            }
        })
        .collect())
}

/// Inserts an article with its body, bylines (in order) and topics (the
/// first is primary), in one transaction; returns its id.
pub fn insert_article(
    conn: &mut DbConnection,
    new: &NewArticle<'_>,
    body: NewBody<'_>,
    author_ids: &[i64],
    topic_ids: &[i64],
) -> QueryResult<i64> {
    crate::db::transaction(conn, |conn| {
        let id: i64 = diesel::insert_into(articles::table)
            .values(new)
            .returning(articles::id)
            .get_result(conn)?;
        diesel::insert_into(article_bodies::table)
            .values(body_values(id, body))
            .execute(conn)?;
        link_article(conn, id, author_ids, topic_ids)?;
        Ok(id)
    })
}

type BodyValues<'a> = (
    dsl::Eq<article_bodies::article_id, i64>,
    dsl::Eq<article_bodies::body_markdown, &'a str>,
    dsl::Eq<article_bodies::body_html, &'a str>,
    dsl::Eq<article_bodies::body_text, &'a str>,
    dsl::Eq<article_bodies::preview_html, &'a str>,
    dsl::Eq<article_bodies::preview_text, &'a str>,
);

fn body_values(article_id: i64, body: NewBody<'_>) -> BodyValues<'_> {
    (
        article_bodies::article_id.eq(article_id),
        article_bodies::body_markdown.eq(body.markdown),
        article_bodies::body_html.eq(body.rendered.html.as_str()),
        article_bodies::body_text.eq(body.rendered.text.as_str()),
        article_bodies::preview_html.eq(body.rendered.preview_html.as_str()),
        article_bodies::preview_text.eq(body.rendered.preview_text.as_str()),
    )
}

fn link_article(
    conn: &mut DbConnection,
    id: i64,
    author_ids: &[i64],
    topic_ids: &[i64],
) -> QueryResult<()> {
    for (position, author_id) in author_ids.iter().enumerate() {
        diesel::insert_into(article_authors::table)
            .values((
                article_authors::article_id.eq(id),
                article_authors::author_id.eq(author_id),
                article_authors::position.eq(position as i32),
            ))
            .execute(conn)?;
    }
    for (index, topic_id) in topic_ids.iter().enumerate() {
        diesel::insert_into(article_topics::table)
            .values((
                article_topics::article_id.eq(id),
                article_topics::topic_id.eq(topic_id),
                article_topics::is_primary.eq(index == 0),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The rendered bodies of these articles, by id.
pub(crate) fn bodies_html(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = article_bodies::table
        .filter(article_bodies::article_id.eq_any(ids))
        .select((article_bodies::article_id, article_bodies::body_html))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Whether any article exists at all (published or not).
pub(crate) fn any_exist(conn: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(dsl::exists(articles::table.select(articles::id))).get_result(conn)
}

/// The highest article id, or 0 on an empty table.
pub(crate) fn max_id(conn: &mut DbConnection) -> QueryResult<i64> {
    Ok(articles::table
        .select(dsl::max(articles::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Rows for a bulk load: articles with chosen ids plus their links.
pub(crate) struct BulkArticles<'a> {
    pub articles: Vec<NewArticleWithId<'a>>,
    /// (article id, body)
    pub bodies: Vec<(i64, NewBody<'a>)>,
    /// (article id, author id, position)
    pub bylines: Vec<(i64, i64, i32)>,
    /// (article id, topic id, primary)
    pub topics: Vec<(i64, i64, bool)>,
}

/// Inserts many articles at once. Multi-row inserts are not expressible
/// through the combined connection, so this is the per-backend escape hatch.
pub(crate) fn insert_bulk(conn: &mut DbConnection, bulk: &BulkArticles<'_>) -> QueryResult<()> {
    let bylines: Vec<_> = bulk
        .bylines
        .iter()
        .map(|&(article, author, position)| {
            (
                article_authors::article_id.eq(article),
                article_authors::author_id.eq(author),
                article_authors::position.eq(position),
            )
        })
        .collect();
    let bodies: Vec<_> = bulk
        .bodies
        .iter()
        .map(|&(article, body)| body_values(article, body))
        .collect();
    let tags: Vec<_> = bulk
        .topics
        .iter()
        .map(|&(article, topic, primary)| {
            (
                article_topics::article_id.eq(article),
                article_topics::topic_id.eq(topic),
                article_topics::is_primary.eq(primary),
            )
        })
        .collect();
    match conn {
        DbConnection::Sqlite(conn) => {
            diesel::insert_into(articles::table)
                .values(&bulk.articles)
                .execute(conn)?;
            diesel::insert_into(article_bodies::table)
                .values(&bodies)
                .execute(conn)?;
            diesel::insert_into(article_authors::table)
                .values(&bylines)
                .execute(conn)?;
            diesel::insert_into(article_topics::table)
                .values(&tags)
                .execute(conn)?;
        }
        DbConnection::Postgres(conn) => {
            diesel::insert_into(articles::table)
                .values(&bulk.articles)
                .execute(conn)?;
            diesel::insert_into(article_bodies::table)
                .values(&bodies)
                .execute(conn)?;
            diesel::insert_into(article_authors::table)
                .values(&bylines)
                .execute(conn)?;
            diesel::insert_into(article_topics::table)
                .values(&tags)
                .execute(conn)?;
        }
    }
    Ok(())
}

/// After inserting chosen ids on PostgreSQL, moves the id sequences past them.
pub(crate) fn sync_id_sequences(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgres(conn) = conn {
        for table in ["articles", "authors", "topics", "sources"] {
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .execute(conn)?;
        }
    }
    Ok(())
}

/// The FOCUS rail: featured public articles by rank (unranked ones last),
/// then newest first.
pub fn focus(
    conn: &mut DbConnection,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<ArticleCard>> {
    let rows: Vec<ArticleSummaryRow> = articles::table
        .filter(is_public(now))
        .filter(articles::featured.eq(true))
        .order((
            articles::featured_rank.is_null(),
            articles::featured_rank.asc(),
            articles::published_at.desc(),
            articles::id.desc(),
        ))
        .limit(limit)
        .select(ArticleSummaryRow::as_select())
        .load(conn)?;
    load_cards(conn, rows)
}

/// The article with this slug, whatever its status, with its card.
pub(crate) fn find_any(
    conn: &mut DbConnection,
    slug: &str,
) -> QueryResult<Option<(ArticleRow, ArticleCard)>> {
    let row: Option<(ArticleSummaryRow, ArticleBodyRow)> = articles::table
        .inner_join(article_bodies::table)
        .filter(articles::slug.eq(slug))
        .select((ArticleSummaryRow::as_select(), ArticleBodyRow::as_select()))
        .first(conn)
        .optional()?;
    let Some((summary, body)) = row else {
        return Ok(None);
    };
    let card = load_cards(conn, vec![summary.clone()])?.pop();
    Ok(card.map(|card| (ArticleRow { summary, body }, card)))
}

/// The current slug of the article an old slug redirects to, if the public
/// may see that article.
pub(crate) fn find_redirect(
    conn: &mut DbConnection,
    old_slug: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    article_redirects::table
        .inner_join(articles::table)
        .filter(article_redirects::old_slug.eq(old_slug))
        .filter(is_public(now))
        .select(articles::slug)
        .first(conn)
        .optional()
}

/// Whether an article already has this slug.
pub fn slug_taken(conn: &mut DbConnection, slug: &str) -> QueryResult<bool> {
    diesel::select(dsl::exists(articles::table.filter(articles::slug.eq(slug)))).get_result(conn)
}

/// Changes to an article's own columns; `None` leaves a column as it is.
#[derive(Clone, Debug, Default, AsChangeset)]
#[diesel(table_name = articles)]
pub struct ArticleChanges<'a> {
    pub slug: Option<&'a str>,
    pub headline: Option<&'a str>,
    pub dek: Option<&'a str>,
    pub dateline: Option<Option<&'a str>>,
    pub hero_image_url: Option<Option<&'a str>>,
    pub hero_image_alt: Option<Option<&'a str>>,
    pub hero_image_caption: Option<Option<&'a str>>,
    pub hero_image_credit: Option<Option<&'a str>>,
    pub kind: Option<&'static str>,
    pub video_url: Option<Option<&'a str>>,
    pub original_source_id: Option<Option<i64>>,
    pub original_language: Option<Option<&'a str>>,
    pub original_title: Option<Option<&'a str>>,
    pub original_url: Option<Option<&'a str>>,
    pub translator: Option<Option<&'a str>>,
    pub access_level: Option<&'static str>,
    pub featured: Option<bool>,
    pub featured_rank: Option<Option<i32>>,
    pub status: Option<&'static str>,
    pub published_at: Option<Option<NaiveDateTime>>,
    pub word_count: Option<i32>,
    pub reading_time_minutes: Option<i32>,
}

/// Applies `changes` (and a new body and new links when given) if the
/// article is still at `revision`; returns whether it was. The revision and
/// `updated_at` always move on.
pub fn update(
    conn: &mut DbConnection,
    id: i64,
    revision: i32,
    changes: &ArticleChanges<'_>,
    body: Option<NewBody<'_>>,
    links: Option<(&[i64], &[i64])>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    crate::db::transaction(conn, |conn| {
        let updated = diesel::update(
            articles::table
                .filter(articles::id.eq(id))
                .filter(articles::revision.eq(revision)),
        )
        .set((
            changes,
            articles::revision.eq(revision + 1),
            articles::updated_at.eq(now),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Ok(false);
        }
        if let Some(body) = body {
            diesel::delete(article_bodies::table.filter(article_bodies::article_id.eq(id)))
                .execute(conn)?;
            diesel::insert_into(article_bodies::table)
                .values(body_values(id, body))
                .execute(conn)?;
        }
        if let Some((author_ids, topic_ids)) = links {
            diesel::delete(article_authors::table.filter(article_authors::article_id.eq(id)))
                .execute(conn)?;
            diesel::delete(article_topics::table.filter(article_topics::article_id.eq(id)))
                .execute(conn)?;
            link_article(conn, id, author_ids, topic_ids)?;
        }
        Ok(true)
    })
}

/// Keeps `old_slug` leading to the article; a slug given back to a new
/// article stops redirecting.
pub(crate) fn add_redirect(conn: &mut DbConnection, old_slug: &str, id: i64) -> QueryResult<()> {
    diesel::delete(article_redirects::table.filter(article_redirects::old_slug.eq(old_slug)))
        .execute(conn)?;
    diesel::insert_into(article_redirects::table)
        .values((
            article_redirects::old_slug.eq(old_slug),
            article_redirects::article_id.eq(id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Frees a slug from any redirect, when an article takes it.
pub(crate) fn drop_redirect(conn: &mut DbConnection, slug: &str) -> QueryResult<usize> {
    diesel::delete(article_redirects::table.filter(article_redirects::old_slug.eq(slug)))
        .execute(conn)
}

/// Deletes an article with its body, links and redirects.
pub fn delete(conn: &mut DbConnection, id: ArticleId) -> QueryResult<usize> {
    diesel::delete(articles::table.filter(articles::id.eq(id.get()))).execute(conn)
}

/// Inside a transaction: holds the article with this slug until the
/// transaction ends, so an edit reads and writes a version nobody changes in
/// between (on PostgreSQL a row lock; SQLite's IMMEDIATE transaction already
/// excludes other writers). Without it, two edits at once made the second
/// fail its revision check with 412 though it sent no `If-Match`.
pub(crate) fn lock_for_edit(conn: &mut DbConnection, slug: &str) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        articles::table
            .filter(articles::slug.eq(slug))
            .select(articles::id)
            .for_update()
            .load::<i64>(pg)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct RenderVersion {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    version: i32,
}

/// Renders every stored preview again when the code's preview rule is newer
/// than the one they were rendered with (several nodes starting at once do
/// it once: the caller holds the set-up lock). Returns how many changed.
pub(crate) fn rerender_previews(conn: &mut DbConnection) -> QueryResult<usize> {
    use crate::domain::markdown::{PREVIEW_RULE_VERSION, render};
    let stored: Option<RenderVersion> =
        diesel::sql_query("SELECT version FROM render_versions WHERE what = 'preview'")
            .get_result(conn)
            .optional()?;
    if stored.is_some_and(|v| v.version >= PREVIEW_RULE_VERSION) {
        return Ok(0);
    }
    let mut changed = 0;
    let mut after = 0i64;
    loop {
        let batch: Vec<(i64, String, String)> = article_bodies::table
            .filter(article_bodies::article_id.gt(after))
            .order(article_bodies::article_id)
            .select((
                article_bodies::article_id,
                article_bodies::body_markdown,
                article_bodies::preview_html,
            ))
            .limit(500)
            .load(conn)?;
        let Some(&(last, _, _)) = batch.last() else {
            break;
        };
        for (id, markdown, old_preview) in batch {
            let body = render(&markdown);
            if body.preview_html != old_preview {
                diesel::update(article_bodies::table.find(id))
                    .set((
                        article_bodies::preview_html.eq(&body.preview_html),
                        article_bodies::preview_text.eq(&body.preview_text),
                    ))
                    .execute(conn)?;
                changed += 1;
            }
        }
        after = last;
    }
    diesel::sql_query("DELETE FROM render_versions WHERE what = 'preview'").execute(conn)?;
    diesel::sql_query("INSERT INTO render_versions (what, version) VALUES ('preview', $1)")
        .bind::<diesel::sql_types::Integer, _>(PREVIEW_RULE_VERSION)
        .execute(conn)?;
    Ok(changed)
}

/// When public output last changed: the newest `updated_at` (or
/// publication) of an article published by `now`.
pub(crate) fn latest_public_change(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    let (updated, published): (Option<NaiveDateTime>, Option<NaiveDateTime>) = articles::table
        .filter(articles::status.eq(ArticleStatus::Published.as_str()))
        .filter(articles::published_at.le(now))
        .select((
            dsl::max(articles::updated_at),
            dsl::max(articles::published_at),
        ))
        .first(conn)?;
    Ok(updated.max(published))
}
