//! `/articles`: the public catalogue of published journalism.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{AuthUser, MaybeAuthUser, meter_token};
use crate::cache::PublicArticle;
use crate::cache::WasHead;
use crate::client::ClientAddr;
use crate::db::articles::{self as article_db, ArticleFilter, PublishedKey, Shelf};
use crate::db::search::{self, SearchOrder, SearchScope};
use crate::db::{DbConnection, plans, readership, subscriptions};
use crate::domain::account::Role;
use crate::domain::article::AccessLevel;
use crate::domain::article::{ArticleKind, ArticleStatus};
use crate::domain::cursor::{Cursor, MAX_OFFSET};
use crate::domain::id::UserId;
use crate::domain::paywall::{AccessReason, Reader};
use crate::domain::search::{SearchQuery, highlight};
use crate::error::responses::{BadRequest, Forbidden, InvalidToken, NotFound, Unavailable};
use crate::error::{ApiError, FieldError};
use crate::http::{
    ArticleSlug, ITEM_FRESHNESS, Query, article_filter, decode_cursor, page_limit, private_json,
    public_json, public_list,
};
use crate::limits::ApiClient;
use crate::metering::{self, Step, Whose};
use crate::readership::ArticleRead;
use crate::state::AppState;
use crate::views::{self, Article, ArticleList, ArticleSummary, EditorArticle, ListMeta, Paywall};

/// Filters and pagination for the article list; filters combine with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ArticleListParams {
    /// Only articles filed under this topic (slug), as primary or secondary
    /// topic, e.g. `energy`.
    #[param(min_length = 1, max_length = 120)]
    pub topic: Option<String>,
    /// Only articles with this author (slug) in the byline, e.g. `irina-volkova`.
    #[param(min_length = 1, max_length = 120)]
    pub author: Option<String>,
    /// Only translations from this source (slug), e.g. `vedomosti-vostoka`.
    #[param(min_length = 1, max_length = 120)]
    pub source: Option<String>,
    /// Only translations from this original language (ISO 639-1), e.g. `ru`.
    #[param(max_length = 2, pattern = "^[a-z]{2}$")]
    pub language: Option<String>,
    /// Only articles of this kind.
    #[param(inline)]
    pub kind: Option<ArticleKind>,
    /// Only articles that are (`true`) or are not (`false`) in the FOCUS rail.
    pub featured: Option<bool>,
    /// Only articles published strictly after this instant (RFC 3339), e.g.
    /// `2026-11-01T00:00:00Z`.
    #[param(max_length = 35)]
    pub published_after: Option<DateTime<Utc>>,
    /// Only articles published strictly before this instant (RFC 3339), e.g.
    /// `2026-12-01T00:00:00Z`.
    #[param(max_length = 35)]
    pub published_before: Option<DateTime<Utc>>,
    /// Page size.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// `meta.next_cursor` of the previous page; omit for the first page.
    #[param(max_length = 512)]
    pub cursor: Option<String>,
    /// Editors only: list articles in this state instead of the published
    /// ones (`scheduled` means published with a time still to come).
    #[param(inline)]
    pub status: Option<ArticleStatus>,
    /// Search headline, dek and body: words (all must match), `"a phrase"`,
    /// `-excluded` words or phrases, and `prefix*`, e.g. `"air defense" -drill`. Results carry a
    /// `highlight`. At most 200 characters; malformed syntax is a 400.
    // No example: Swagger UI would fill it into every "Try it out".
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `latest` (newest first; the default without `q`), `relevance` (best
    /// match first; the default with `q`, which it needs) or `most_read`
    /// (most views in `window` first; one page of up to `limit`, no cursor, no `q`).
    #[param(inline)]
    pub sort: Option<ArticleSort>,
    /// With `sort=most_read`: the readership window, `24h` (default), `7d` or `30d`.
    #[param(inline)]
    pub window: Option<ReadWindow>,
}

/// The order of the article list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ArticleSort {
    /// Newest first.
    Latest,
    /// Most views in the window first.
    MostRead,
    /// Best search match first.
    Relevance,
}

/// How far back `most_read` counts views.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub(crate) enum ReadWindow {
    /// The last 24 hours.
    #[serde(rename = "24h")]
    Day,
    /// The last 7 days.
    #[serde(rename = "7d")]
    Week,
    /// The last 30 days.
    #[serde(rename = "30d")]
    Month,
}

impl ReadWindow {
    fn length(self) -> chrono::Duration {
        match self {
            Self::Day => chrono::Duration::hours(24),
            Self::Week => chrono::Duration::days(7),
            Self::Month => chrono::Duration::days(30),
        }
    }
}

impl ArticleListParams {
    fn shelf(&self) -> Shelf {
        match self.status {
            None | Some(ArticleStatus::Published) => Shelf::Published,
            Some(ArticleStatus::Scheduled) => Shelf::Scheduled,
            Some(ArticleStatus::Draft) => Shelf::Draft,
            Some(ArticleStatus::Archived) => Shelf::Archived,
        }
    }

    fn into_filter(self) -> Result<(ArticleFilter, Option<Cursor>, i64), ApiError> {
        let mut fields = Vec::new();
        let limit = page_limit(self.limit)
            .map_err(|e| fields.extend(field_errors(e)))
            .ok();
        let filter = article_filter(
            self.topic,
            self.author,
            self.source,
            self.language,
            &mut fields,
        );
        if let (Some(after), Some(before)) = (self.published_after, self.published_before)
            && after >= before
        {
            fields.push(FieldError::new(
                "published_before",
                "must be later than published_after",
            ));
        }
        if !fields.is_empty() {
            return Err(ApiError::Validation(fields));
        }
        let after = match decode_cursor(self.cursor.as_deref())? {
            None => None,
            Some(cursor @ (Cursor::Published { .. } | Cursor::Offset(_))) => Some(cursor),
            Some(Cursor::Slug(_) | Cursor::Id(_)) => return Err(ApiError::InvalidCursor),
        };
        let filter = ArticleFilter {
            kind: self.kind,
            featured: self.featured,
            published_after: self.published_after.map(|t| t.naive_utc()),
            published_before: self.published_before.map(|t| t.naive_utc()),
            ..filter
        };
        Ok((filter, after, limit.unwrap_or_default()))
    }

    /// Which list the request asks for: a search (`q`), the most read
    /// (`sort=most_read`) or the newest of a shelf; combinations that mean
    /// nothing are refused, naming the parameter.
    fn into_query(self) -> Result<(ListQuery, ArticleFilter, i64), ApiError> {
        let shelf = self.shelf();
        let search = self
            .q
            .as_deref()
            .map(SearchQuery::parse)
            .transpose()
            .map_err(|e| ApiError::field("q", e.to_string()))?;
        let refused = match (self.sort, &search) {
            (Some(ArticleSort::Relevance), None) => {
                Some(("sort", "relevance needs a search query in q"))
            }
            (Some(ArticleSort::MostRead), Some(_)) => {
                Some(("sort", "most_read cannot be combined with q"))
            }
            (_, Some(_)) if self.status.is_some() => {
                Some(("q", "search covers published articles only"))
            }
            (Some(ArticleSort::MostRead), None)
                if self.cursor.is_some() || self.status.is_some() =>
            {
                Some((
                    "sort",
                    "most_read is one page of published articles: no cursor, no status",
                ))
            }
            (Some(ArticleSort::MostRead), None) => None,
            _ if self.window.is_some() => Some(("window", "applies only to sort=most_read")),
            _ => None,
        };
        if let Some((field, message)) = refused {
            return Err(ApiError::field(field, message));
        }
        let most_read = (self.sort == Some(ArticleSort::MostRead))
            .then(|| self.window.unwrap_or(ReadWindow::Day));
        let by_date = self.sort == Some(ArticleSort::Latest);
        let (filter, cursor, limit) = self.into_filter()?;
        let query = match (search, most_read) {
            (Some(query), _) => ListQuery::Search {
                query,
                cursor,
                by_date,
            },
            (None, Some(window)) => ListQuery::MostRead(window),
            (None, None) => ListQuery::Latest {
                shelf,
                after: match cursor {
                    None => None,
                    Some(Cursor::Published { at, id }) => Some(PublishedKey {
                        published_at: at,
                        id,
                    }),
                    Some(_) => return Err(ApiError::InvalidCursor),
                },
            },
        };
        Ok((query, filter, limit))
    }
}

/// What a list request asks for, parsed once.
enum ListQuery {
    /// The newest of a shelf (published, or an editor's drafts, ...).
    Latest {
        shelf: Shelf,
        after: Option<PublishedKey>,
    },
    /// Articles matching a search, ranked or newest first.
    Search {
        query: SearchQuery,
        cursor: Option<Cursor>,
        by_date: bool,
    },
    /// One page of the most read in a window.
    MostRead(ReadWindow),
}

/// The fields a validation problem names.
fn field_errors(error: ApiError) -> Vec<FieldError> {
    match error {
        ApiError::Validation(fields) => fields,
        other => vec![FieldError::new("query", other.to_string())],
    }
}

/// List published articles
///
/// Published articles, newest first, as summaries (never a body). Filters
/// combine with AND. Pagination is by keyset: pass `meta.next_cursor` back as
/// `cursor` (the `Link: rel="next"` header carries the same URL). A walk stays
/// free of duplicates and gaps while new articles are published.
///
/// `q` searches headline, dek and body (SQLite FTS5, PostgreSQL tsvector;
/// the same syntax and results on both): words must all match, `"a
/// phrase"` matches adjacent words, `-word` and `-"a phrase"` exclude,
/// `prefix*` matches word beginnings. Results are ranked by relevance (a
/// headline match weighs most, then the dek, then the body) unless
/// `sort=latest`; each carries a `highlight` taken only from text everyone
/// may read. Every filter combines with `q`.
///
/// `sort=most_read` ranks by views in `window` instead (every read of a
/// published article counts; counts reach the ranking within seconds), with
/// the same filters, as one page of up to `limit`.
#[utoipa::path(
    tag = "articles",
    params(ArticleListParams),
    responses(
        (status = 200, description = "A page of article summaries, newest first.", body = ArticleList,
            headers(
                ("ETag" = String, description = "Strong validator of this page."),
                ("Link" = String, description = "`<...>; rel=\"next\"` when another page follows."),
                ("Cache-Control" = String, description = "Public, short-lived.")
            )),
        (status = 304, description = "The page is unchanged since the `If-None-Match` ETag."),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
#[get("/articles")]
pub(crate) async fn list_articles(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: MaybeAuthUser,
    Query(params): Query<ArticleListParams>,
) -> Result<HttpResponse, ApiError> {
    if params.status.is_some() {
        reader
            .0
            .as_ref()
            .ok_or(ApiError::Unauthenticated)?
            .require(Role::Editor)?;
    }
    let (query, filter, limit) = params.into_query()?;
    let now = state.clock.now();
    match query {
        ListQuery::Search {
            query,
            cursor,
            by_date,
        } => {
            let scope = search_scope(&state, &req, reader.0.as_ref(), now).await?;
            let page = Page {
                cursor,
                by_date,
                limit,
            };
            search_articles(&state, &req, query, filter, scope, page, now).await
        }
        ListQuery::MostRead(window) => {
            let since = now - window.length();
            let ranked = state
                .db
                .run(move |conn| Ok(readership::most_read(conn, &filter, since, limit, now)?))
                .await?;
            let data = ranked.into_iter().map(|(card, _)| card.into()).collect();
            let meta = ListMeta {
                limit,
                next_cursor: None,
            };
            public_list(&req, &ArticleList { data, meta }, None)
        }
        ListQuery::Latest { shelf, after } => {
            latest(&state, &req, filter, shelf, after, limit, now).await
        }
    }
}

/// One page of a shelf, newest first. Only the published shelf is public.
async fn latest(
    state: &AppState,
    req: &HttpRequest,
    filter: ArticleFilter,
    shelf: Shelf,
    after: Option<PublishedKey>,
    limit: i64,
    now: NaiveDateTime,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .db
        .run(move |conn| Ok(article_db::list(conn, &filter, shelf, after, limit, now)?))
        .await?;
    let next_cursor = page.next_after.map(|key| {
        Cursor::Published {
            at: key.published_at,
            id: key.id,
        }
        .encode()
    });
    let list = ArticleList {
        data: page.cards.into_iter().map(ArticleSummary::from).collect(),
        meta: ListMeta {
            limit,
            next_cursor: next_cursor.clone(),
        },
    };
    let mut response = public_list(req, &list, next_cursor.as_deref())?;
    if shelf != Shelf::Published {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("private, no-store"),
        );
    }
    Ok(response)
}

/// What a search may match for this reader: everything for those who read
/// every article whole (staff, `content:full` keys, subscribers), only what
/// everyone may read for the rest.
async fn search_scope(
    state: &AppState,
    req: &HttpRequest,
    reader: Option<&AuthUser>,
    now: NaiveDateTime,
) -> Result<SearchScope, ApiError> {
    if req
        .extensions()
        .get::<ApiClient>()
        .is_some_and(|client| client.full_licence)
    {
        return Ok(SearchScope::Everything);
    }
    let Some(user) = reader else {
        return Ok(SearchScope::Visible);
    };
    if user.role.includes(Role::Editor) {
        return Ok(SearchScope::Everything);
    }
    let (id, grace) = (user.id, state.config.past_due_grace());
    let subscribed = state
        .db
        .run(move |conn| {
            Ok(subscriptions::latest_terms(conn, id)?
                .is_some_and(|terms| terms.gives_access_at(now, grace)))
        })
        .await?;
    Ok(if subscribed {
        SearchScope::Everything
    } else {
        SearchScope::Visible
    })
}

/// Where a page of results starts and how long it is.
struct Page {
    cursor: Option<Cursor>,
    by_date: bool,
    limit: i64,
}

/// One page of search results, ranked or newest first. Results that may
/// include hidden text (scope `Everything`) depend on who asks: `private`.
async fn search_articles(
    state: &AppState,
    req: &HttpRequest,
    query: SearchQuery,
    filter: ArticleFilter,
    scope: SearchScope,
    Page {
        cursor,
        by_date,
        limit,
    }: Page,
    now: NaiveDateTime,
) -> Result<HttpResponse, ApiError> {
    let order = match (by_date, cursor) {
        (true, None) => SearchOrder::Latest { after: None },
        (true, Some(Cursor::Published { at, id })) => SearchOrder::Latest {
            after: Some(PublishedKey {
                published_at: at,
                id,
            }),
        },
        (false, None) => SearchOrder::Relevance { offset: 0 },
        (false, Some(Cursor::Offset(n))) => SearchOrder::Relevance {
            offset: i64::from(n),
        },
        _ => return Err(ApiError::InvalidCursor),
    };
    let shared = query.clone();
    let page = state
        .db
        .run(move |conn| {
            search::search(conn, &shared, &filter, scope, order, limit, now).map_err(|e| {
                if search::is_timeout(&e) {
                    ApiError::SearchTimeout
                } else {
                    e.into()
                }
            })
        })
        .await?;
    let next_cursor = match order {
        _ if !page.more => None,
        SearchOrder::Relevance { offset } => u32::try_from(offset + limit)
            .ok()
            .filter(|n| *n <= MAX_OFFSET)
            .map(|n| Cursor::Offset(n).encode()),
        SearchOrder::Latest { .. } => page.hits.last().and_then(|(card, _)| {
            Some(
                Cursor::Published {
                    at: card.row.published_at?,
                    id: card.row.id.get(),
                }
                .encode(),
            )
        }),
    };
    let data = page
        .hits
        .into_iter()
        .map(|(card, body)| {
            let highlight = [
                card.row.headline.as_str(),
                card.row.dek.as_str(),
                body.as_str(),
            ]
            .into_iter()
            .find_map(|text| highlight(text, &query));
            ArticleSummary {
                highlight,
                ..ArticleSummary::from(card)
            }
        })
        .collect();
    let list = ArticleList {
        data,
        meta: ListMeta {
            limit,
            next_cursor: next_cursor.clone(),
        },
    };
    let mut response = public_list(req, &list, next_cursor.as_deref())?;
    if scope == SearchScope::Everything {
        let headers = response.headers_mut();
        headers.remove(crate::surrogate::SURROGATE_KEY.clone());
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("private, no-cache"),
        );
        headers.insert(
            header::VARY,
            header::HeaderValue::from_static("Authorization, X-API-Key"),
        );
    }
    Ok(response)
}

/// Get one article
///
/// One published article with as much of its body as the reader may see,
/// and `access` saying why. `free` articles are whole for everyone.
/// Subscribers, editors and admins read everything whole. `premium`
/// articles are otherwise a preview (the body cut at a block boundary).
/// `metered` articles are whole while the reader's monthly meter allows:
/// each distinct metered article counts once per calendar month (UTC);
/// re-reads are free; signed-in readers get `FREE_ARTICLES_PER_MONTH`
/// (default 5), anonymous readers `FREE_ARTICLES_PER_MONTH_ANONYMOUS`
/// (default 3). Anonymous readers carry their meter in `X-Meter-Token`: the
/// API returns one in the response header when the request has none, and
/// the client sends it back. The status stays 200 either way.
///
/// Editors get any article, in any state, whole, with its Markdown source
/// and the `ETag` that `PATCH` needs in `If-Match`. An old slug of a
/// renamed article answers 301 with the new URL.
#[utoipa::path(
    tag = "articles",
    params(
        ArticleSlug,
        ("X-Meter-Token" = Option<String>, Header, description = "An anonymous reader's meter token, as returned by an earlier response.", max_length = 100),
        ("X-API-Key" = Option<String>, Header, description = "A third party's key: `content:read` reads like an anonymous reader without a meter, `content:full` reads every article whole.", max_length = 100)
    ),
    responses(
        (status = 200, description = "The article (editors get `EditorArticle`).", body = Article,
            headers(
                ("ETag" = String, description = "Validator of this representation, for this reader."),
                ("Cache-Control" = String, description = "`public` for a free article (the same for everyone); `private, no-cache` otherwise, as the answer depends on the reader."),
                ("Vary" = String, description = "`Authorization, X-Meter-Token, X-API-Key`."),
                ("X-Meter-Token" = String, description = "For anonymous readers of metered and premium articles: the meter token to send back next time.")
            )),
        (status = 301, description = "The article was renamed; `Location` has its new URL.",
            headers(("Location" = String, description = "The article's current URL."))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security((), ("bearer" = []), ("api_key" = []))
)]
#[get("/articles/{slug}")]
pub(crate) async fn get_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: MaybeAuthUser,
    slug: ArticleSlug,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner()?;
    meter_token::presented(&req)?;
    let now = state.clock.now();
    let user = reader.0.as_ref();
    if user.is_some_and(|user| user.role.includes(Role::Editor)) {
        return editor_read(&state, slug, now).await;
    }
    let read = Read::new(&state, &req, user, now)?;
    match read.find(&state, &slug).await? {
        Ok(found) => read.answer(&state, &req, slug, found).await,
        Err(Some(new_slug)) => Ok(HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, format!("/api/v1/articles/{new_slug}")))
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .finish()),
        Err(None) => Err(ApiError::NotFound("article")),
    }
}

/// An editor reads any article, in the editor view, never cached.
async fn editor_read(
    state: &AppState,
    slug: String,
    now: NaiveDateTime,
) -> Result<HttpResponse, ApiError> {
    let article = state
        .db
        .run(move |conn| EditorArticle::load(conn, &slug, now))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, article.etag()))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(article))
}

/// A reader's read of one article, as far as it is known before the article
/// is found: whose meter it goes through and on what terms.
struct Read {
    meter: MeterIdentity,
    whose: Whose,
    /// The id of the address's shared meter, whose token a moved read gets.
    shared: String,
    /// Who a view is counted for.
    viewer: String,
    grace: chrono::Duration,
    limit: i64,
    ttl: std::time::Duration,
    now: NaiveDateTime,
}

/// A public article found, with what the paywall made of the read so far.
struct Found {
    article: PublicArticle,
    /// The reader, a subscriber once their terms were checked.
    reader: Reader,
    step: Step,
    /// The plans, when the paywall already knows the read is a preview.
    offer: Option<Vec<plans::Plan>>,
    /// Read from the article cache rather than the database.
    from_memory: bool,
    /// The cache generation before the database was asked.
    loaded_at: u64,
}

impl Read {
    fn new(
        state: &AppState,
        req: &HttpRequest,
        user: Option<&AuthUser>,
        now: NaiveDateTime,
    ) -> Result<Self, ApiError> {
        let meter = MeterIdentity::of(state, req, user)?;
        let address = ClientAddr::of(req).key();
        let shared = state.meter_keys.shared_id(&address);
        let viewer = match meter.reader {
            Reader::Anonymous => format!("addr:{address}"),
            _ => meter.key.clone(),
        };
        let limit = i64::from(match meter.reader {
            Reader::Anonymous => state.config.free_articles_anonymous,
            _ => state.config.free_articles,
        });
        let whose = Whose {
            reader: meter.reader,
            key: meter.key.clone(),
            fresh: meter.fresh,
            address,
            shared: shared.clone(),
            starts_allowed: i64::from(state.config.anonymous_meters_per_address),
            // A HEAD reads nothing: it spends no meter and counts no view.
            head: req.extensions().get::<WasHead>().is_some(),
        };
        Ok(Self {
            meter,
            whose,
            shared,
            viewer,
            grace: state.config.past_due_grace(),
            limit,
            ttl: state.config.response_cache_ttl,
            now,
        })
    }

    /// Finds the public article, from memory or the database, and lets the
    /// paywall decide; `Err` with the new slug of a renamed article, or
    /// `None` when there is none.
    async fn find(
        &self,
        state: &AppState,
        slug: &str,
    ) -> Result<Result<Found, Option<String>>, ApiError> {
        let cached = state.cache.article(slug, self.ttl);
        let loaded_at = state.cache.generation();
        let from_memory = cached.is_some();
        let (reader, head) = (self.whose.reader, self.whose.head);
        // An anonymous read of a metered or premium article in memory needs
        // nothing from the database but the meter: straight to the ledger,
        // which decides and counts in one visit.
        if let Some(article) = cached.as_ref().filter(|article| {
            reader == Reader::Anonymous
                && !head
                && article.0.summary.access_level != AccessLevel::Free
        }) {
            let summary = &article.0.summary;
            let count = metering::Count::new(
                self.whose.clone(),
                summary.access_level,
                summary.id,
                self.limit,
                self.now,
            );
            return Ok(Ok(Found {
                article: Arc::clone(article),
                reader,
                step: Step::Count(count),
                offer: None,
                from_memory,
                loaded_at,
            }));
        }
        let (wanted, whose) = (slug.to_owned(), self.whose.clone());
        let (user_id, grace, limit, now) = (self.meter.user_id, self.grace, self.limit, self.now);
        let found = state
            .db
            .run(move |conn| {
                let article = match cached {
                    Some(article) => Some(article),
                    None => article_db::find_public(conn, &wanted, now)?.map(Arc::new),
                };
                match article {
                    Some(article) => {
                        decide(conn, article, whose, user_id, grace, limit, now).map(Ok)
                    }
                    None => Ok(Err(article_db::find_redirect(conn, &wanted, now)?)),
                }
            })
            .await?;
        Ok(found.map(|found| Found {
            from_memory,
            loaded_at,
            ..found
        }))
    }

    /// Finishes the read (counting it on the meter when the ledger must),
    /// keeps the article in memory, counts the view and answers.
    async fn answer(
        self,
        state: &AppState,
        req: &HttpRequest,
        slug: String,
        found: Found,
    ) -> Result<HttpResponse, ApiError> {
        let reading = match found.step {
            Step::Decided(reading) => reading,
            Step::Count(count) => {
                state
                    .ledger
                    .write(count.keys(), move |conn| count.run(conn))
                    .await?
            }
        };
        // A read that lost the race for the last free article is a preview
        // after all, and offers the plans.
        let offer = match found.offer {
            None if !reading.access.full => {
                Some(state.db.run(|conn| Ok(plans::list(conn, false)?)).await?)
            }
            offer => offer,
        };
        let token = if reading.moved {
            Some(state.meter_keys.token_for(&self.shared))
        } else {
            self.meter.token_to_return
        };
        if !found.from_memory && !self.ttl.is_zero() {
            let article = Arc::clone(&found.article);
            state
                .cache
                .put_article(slug, found.loaded_at, article, self.ttl);
        }
        let (row, card) = Arc::unwrap_or_clone(found.article);
        let article_id = row.summary.id;
        if !self.whose.head {
            state.views.record(article_id, &self.viewer, self.now);
        }
        let access = reading.access;
        let mut article = Article::new(row, card, access, reading.view);
        let partner = matches!(found.reader, Reader::Partner { .. });
        article.paywall = offer.filter(|_| !partner).map(|plans| {
            let plans = plans.into_iter().map(views::Plan::from).collect();
            Paywall::new(access.reason, found.reader != Reader::Anonymous, plans)
        });
        let mut response = respond(req, &article, access.reason, token)?;
        response.extensions_mut().insert(ArticleRead(article_id));
        Ok(response)
    }
}

/// Lets the paywall decide a read of `article` in the database: whether a
/// signed-in reader subscribes, what the meter allows, and (for a preview)
/// the plans to offer. The caller fills in where the article came from.
fn decide(
    conn: &mut DbConnection,
    article: PublicArticle,
    mut whose: Whose,
    user_id: Option<UserId>,
    grace: chrono::Duration,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Found, ApiError> {
    let level = article.0.summary.access_level;
    if let Some(id) = user_id.filter(|_| whose.reader == Reader::Registered)
        && level != AccessLevel::Free
        && subscriptions::latest_terms(conn, id)?
            .is_some_and(|terms| terms.gives_access_at(now, grace))
    {
        whose.reader = Reader::Subscriber;
    }
    let reader = whose.reader;
    let step = metering::decide(conn, level, article.0.summary.id, whose, limit, now)?;
    let offer = match &step {
        Step::Decided(reading) if !reading.access.full => Some(plans::list(conn, false)?),
        _ => None,
    };
    Ok(Found {
        article,
        reader,
        step,
        offer,
        from_memory: false,
        loaded_at: 0,
    })
}

/// A free article is the same for every reader: public, so that caches
/// (ours and a CDN) can keep it, with no meter token. Anything else depends
/// on the reader, and carries their meter token when they have one to keep.
fn respond(
    req: &HttpRequest,
    article: &Article,
    reason: AccessReason,
    token: Option<String>,
) -> Result<HttpResponse, ApiError> {
    if reason == AccessReason::Free {
        return public_json(req, article, ITEM_FRESHNESS);
    }
    let mut response = private_json(req, article)?;
    if let Some(token) = token
        && let Ok(value) = header::HeaderValue::from_str(&token)
    {
        response
            .headers_mut()
            .insert(meter_token::METER_TOKEN.clone(), value);
    }
    Ok(response)
}

/// Whose meter a read goes through.
pub(crate) struct MeterIdentity {
    /// The kind of reader.
    pub reader: Reader,
    /// The meter's key: `user:<id>` or `anon:<token id>`.
    pub key: String,
    /// The token to send back to an anonymous reader (theirs, or a new one).
    pub token_to_return: Option<String>,
    /// The signed-in user, whose subscription may lift the meter.
    pub user_id: Option<UserId>,
    /// The meter was minted for this request, so it has read nothing yet.
    pub fresh: bool,
}

impl MeterIdentity {
    /// The meter of the signed-in user, or of the anonymous reader's token,
    /// minting a token when there is none (or it is not one of ours).
    pub fn of(
        state: &AppState,
        req: &HttpRequest,
        user: Option<&AuthUser>,
    ) -> Result<Self, ApiError> {
        let presented = meter_token::presented(req)?;
        if let Some(client) = req.extensions().get::<ApiClient>() {
            return Ok(Self {
                reader: Reader::Partner {
                    full_licence: client.full_licence,
                },
                key: format!("key:{}", client.key_id),
                token_to_return: None,
                user_id: None,
                fresh: false,
            });
        }
        if let Some(user) = user {
            let reader = if user.role.includes(Role::Editor) {
                Reader::Staff
            } else {
                Reader::Registered
            };
            return Ok(Self {
                reader,
                key: format!("user:{}", user.id),
                token_to_return: None,
                user_id: Some(user.id),
                fresh: false,
            });
        }
        let presented = presented.and_then(|token| {
            state
                .meter_keys
                .verify(token)
                .map(|id| (token.to_owned(), id))
        });
        let fresh = presented.is_none();
        let (token, id) = match presented {
            Some(found) => found,
            None => state.meter_keys.mint()?,
        };
        Ok(Self {
            reader: Reader::Anonymous,
            key: format!("anon:{id}"),
            token_to_return: Some(token),
            user_id: None,
            fresh,
        })
    }
}
