//! Curating the catalogue: editors create, change and delete topics,
//! authors and sources. Deleting one that articles still use is refused.

use crate::http::{AuthorSlug, Body, Json, SourceSlug, TopicSlug};
use actix_web::{HttpResponse, delete, patch, post, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Editor;
use crate::cache::Purge;
use crate::db::catalogue::{
    self, AuthorChanges, NewAuthor, NewSource, NewTopic, SourceChanges, TopicChanges,
};
use crate::db::{DbConnection, QueryError, QueryResult, audit};
use crate::domain::id::UserId;
use crate::domain::slug;
use crate::error::responses::{
    BadRequest, Conflict, Forbidden, InvalidToken, NotFound, PayloadTooLarge, Unavailable,
    UnsupportedMediaType,
};
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::http::{is_http_url, present};
use crate::state::AppState;
use crate::views::{Author, Source, Topic};

/// A topic's fields; on create `name` is required and `slug` defaults to one made from it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Arctic", "description": "The far north: shipping, climate and security."}))]
pub(crate) struct TopicInput {
    #[schema(max_length = 120, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

/// An author's fields; on create `name` is required.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Irina Volkova", "bio": "Covers shipping.", "affiliation": "vedomosti-vostoka"}))]
pub(crate) struct AuthorInput {
    #[schema(max_length = 120, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 2000)]
    pub bio: Option<String>,
    /// An http(s) URL; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f\ufeff]+$"
    )]
    pub avatar_url: Option<Option<String>>,
    /// The slug of the source the author writes for; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 120, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub affiliation: Option<Option<String>>,
}

/// A source's fields; on create `name`, `country` and `language` are required.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Le Courrier du Rhône", "country": "FR", "language": "fr", "homepage_url": "https://courrier-du-rhone.example"}))]
pub(crate) struct SourceInput {
    #[schema(max_length = 120, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[schema(pattern = "^[A-Z]{2}$", max_length = 2)]
    pub country: Option<String>,
    /// ISO 639-1, lower case.
    #[schema(pattern = "^[a-z]{2}$", max_length = 2)]
    pub language: Option<String>,
    /// An http(s) URL; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f\ufeff]+$"
    )]
    pub homepage_url: Option<Option<String>>,
}

/// Common checks: slug shape, name present and short, other limits.
fn check(
    slug_value: Option<&str>,
    name: Option<&str>,
    creating: bool,
    extra: impl FnOnce(&mut Vec<FieldError>),
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if slug_value.is_some_and(|s| !slug::is_valid(s)) {
        errors.push(FieldError::new(
            "slug",
            "must be lowercase letters, digits and single hyphens",
        ));
    }
    match name.map(str::trim) {
        None if creating => errors.push(FieldError::new("name", "is required")),
        Some(n) if n.is_empty() || n.chars().count() > 100 => {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        _ => {}
    }
    extra(&mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// `/topics/trending` is a route: no topic may take that slug.
fn refuse_route_name(slug: &str) -> Result<(), ApiError> {
    if slug == "trending" {
        return Err(ApiError::field(
            "slug",
            "`trending` is taken by /topics/trending; choose another",
        ));
    }
    Ok(())
}

/// The slug to use for a new entry: the one given, or one made from the name.
fn new_slug(given: Option<&str>, name: &str) -> Result<String, ApiError> {
    let slug = given
        .map(str::to_owned)
        .unwrap_or_else(|| slug::slugify(name));
    if slug.is_empty() {
        return Err(ApiError::field(
            "slug",
            "cannot be made from this name; give one",
        ));
    }
    Ok(slug)
}

/// A duplicate slug is a 409; anything else keeps its meaning.
fn slug_conflict(err: QueryError) -> ApiError {
    if crate::db::is_unique_violation(&err) {
        ApiError::Conflict(
            ConflictCode::SlugTaken,
            "Another entry already has this slug.".into(),
        )
    } else {
        err.into()
    }
}

/// How to delete one kind of catalogue entry.
struct Remover<Id> {
    what: &'static str,
    find: fn(&mut DbConnection, &str) -> Result<Option<Id>, ApiError>,
    usage: fn(&mut DbConnection, Id) -> QueryResult<i64>,
    delete: fn(&mut DbConnection, Id) -> QueryResult<usize>,
}

/// Deletes an entry no article uses (409 `in_use` otherwise) and audits it.
async fn remove<Id: Copy + Send + 'static>(
    state: &AppState,
    user: &Editor,
    slug: String,
    remover: Remover<Id>,
) -> Result<HttpResponse, ApiError> {
    let what = remover.what;
    let purged = slug.clone();
    as_editor(state, user, move |conn, actor, now| {
        let id = (remover.find)(conn, &slug)?.ok_or(ApiError::NotFound(what))?;
        let used = (remover.usage)(conn, id)?;
        if used > 0 {
            return Err(ApiError::Conflict(
                ConflictCode::InUse,
                format!("{used} article(s) still use this {what}; reassign or delete them first."),
            ));
        }
        (remover.delete)(conn, id)?;
        let target = format!("{what}:{slug}");
        audit::record(
            conn,
            actor,
            &format!("{what}.delete"),
            &target,
            &json!({}),
            now,
        )?;
        Ok(())
    })
    .await?;
    Ok(changed(
        HttpResponse::NoContent().finish(),
        what,
        Some(&purged),
    ))
}

/// Marks a catalogue write for the caches: the `{what}s` lists, and when
/// an existing item changed, the item and everything that shows articles
/// (their cards name it: a feed's bylines, or a long list whose
/// `Surrogate-Key` header had no room for every item's key).
fn changed(mut response: HttpResponse, what: &str, slug: Option<&str>) -> HttpResponse {
    let mut keys = vec![format!("{what}s")];
    if let Some(slug) = slug {
        keys.push(format!("{what}-{slug}"));
        keys.push("articles".to_owned());
    }
    Purge::attach(&mut response, keys);
    response
}

/// Runs `work` for an editor in one transaction.
async fn as_editor<T, F>(state: &AppState, user: &Editor, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection, UserId, NaiveDateTime) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let (actor, now) = (user.id, state.clock.now());
    state
        .db
        .run(move |conn| crate::db::transaction(conn, |conn| work(conn, actor, now)))
        .await
}

/// A topic's fields, each fault named.
fn check_topic(body: &TopicInput, creating: bool) -> Result<(), ApiError> {
    check(
        body.slug.as_deref(),
        body.name.as_deref(),
        creating,
        |errors| {
            if body
                .description
                .as_ref()
                .is_some_and(|d| d.chars().count() > 1000)
            {
                errors.push(FieldError::new(
                    "description",
                    "must be at most 1000 characters",
                ));
            }
        },
    )
}

fn topic_view(conn: &mut DbConnection, slug: &str, now: NaiveDateTime) -> Result<Topic, ApiError> {
    let topic = catalogue::find_topic(conn, slug)?.ok_or(ApiError::NotFound("topic"))?;
    Topic::with_counts(conn, vec![topic], now)?
        .pop()
        .ok_or(ApiError::NotFound("topic"))
}

/// Create a topic
///
/// Role: editor. The slug is made from the name unless given.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    request_body = TopicInput,
    responses(
        (status = 201, description = "The new topic.", body = Topic),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[post("/topics")]
pub(crate) async fn create_topic(
    state: web::Data<AppState>,
    user: Editor,
    body: Body<TopicInput>,
) -> Result<HttpResponse, ApiError> {
    let Json(body) = body?;
    check_topic(&body, true)?;
    let topic = as_editor(&state, &user, move |conn, actor, now| {
        let name = body.name.as_deref().unwrap_or_default().trim();
        let slug = new_slug(body.slug.as_deref(), name)?;
        refuse_route_name(&slug)?;
        let new = NewTopic {
            slug: &slug,
            name,
            description: body.description.as_deref().unwrap_or_default().trim(),
            created_at: now,
            updated_at: now,
        };
        catalogue::insert_topic(conn, &new).map_err(slug_conflict)?;
        audit::record(
            conn,
            actor,
            "topic.create",
            &format!("topic:{slug}"),
            &json!({"name": name}),
            now,
        )?;
        topic_view(conn, &slug, now)
    })
    .await?;
    Ok(changed(HttpResponse::Created().json(topic), "topic", None))
}

/// Update a topic
///
/// Role: editor. Only the fields present change.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(TopicSlug),
    request_body = TopicInput,
    responses(
        (status = 200, description = "The updated topic.", body = Topic),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[patch("/topics/{slug}")]
pub(crate) async fn update_topic(
    state: web::Data<AppState>,
    user: Editor,
    path: TopicSlug,
    body: Body<TopicInput>,
) -> Result<HttpResponse, ApiError> {
    let current = path.into_inner()?;
    let purged = current.clone();
    let Json(body) = body?;
    body.slug.as_deref().map(refuse_route_name).transpose()?;
    check_topic(&body, false)?;
    let topic = as_editor(&state, &user, move |conn, actor, now| {
        update_topic_in(conn, &current, &body, actor, now)
    })
    .await?;
    Ok(changed(
        HttpResponse::Ok().json(topic),
        "topic",
        Some(&purged),
    ))
}

/// Changes the topic now at `current` and audits it.
fn update_topic_in(
    conn: &mut DbConnection,
    current: &str,
    body: &TopicInput,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<Topic, ApiError> {
    let found = catalogue::find_topic(conn, current)?.ok_or(ApiError::NotFound("topic"))?;
    let changes = TopicChanges {
        slug: body.slug.as_deref(),
        name: body.name.as_deref().map(str::trim),
        description: body.description.as_deref().map(str::trim),
        updated_at: Some(now),
    };
    catalogue::update_topic(conn, found.id, &changes).map_err(slug_conflict)?;
    let slug = body.slug.clone().unwrap_or_else(|| current.to_owned());
    audit::record(
        conn,
        actor,
        "topic.update",
        &format!("topic:{slug}"),
        &json!({}),
        now,
    )?;
    topic_view(conn, &slug, now)
}

/// Delete a topic
///
/// Role: editor. A topic that articles (of any status) still use is not
/// deleted: 409 `in_use` says how many.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(TopicSlug),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
#[delete("/topics/{slug}")]
pub(crate) async fn delete_topic(
    state: web::Data<AppState>,
    user: Editor,
    path: TopicSlug,
) -> Result<HttpResponse, ApiError> {
    let remover = Remover {
        what: "topic",
        find: |conn, slug| Ok(catalogue::find_topic(conn, slug)?.map(|entry| entry.id)),
        usage: catalogue::topic_usage,
        delete: catalogue::delete_topic,
    };
    remove(&state, &user, path.into_inner()?, remover).await
}

fn affiliation_id(conn: &mut DbConnection, slug: Option<&str>) -> Result<Option<i64>, ApiError> {
    match slug {
        None => Ok(None),
        Some(slug) => catalogue::find_source(conn, slug)?
            .map(|s| Some(s.id.get()))
            .ok_or_else(|| ApiError::field("affiliation", format!("no source `{slug}`"))),
    }
}

fn author_view(
    conn: &mut DbConnection,
    slug: &str,
    now: NaiveDateTime,
) -> Result<Author, ApiError> {
    let author = catalogue::find_author(conn, slug)?.ok_or(ApiError::NotFound("author"))?;
    Author::with_details(conn, vec![author], now)?
        .pop()
        .ok_or(ApiError::NotFound("author"))
}

fn check_author(body: &AuthorInput, creating: bool) -> Result<(), ApiError> {
    check(
        body.slug.as_deref(),
        body.name.as_deref(),
        creating,
        |errors| {
            if body.bio.as_ref().is_some_and(|b| b.chars().count() > 2000) {
                errors.push(FieldError::new("bio", "must be at most 2000 characters"));
            }
            if let Some(Some(url)) = &body.avatar_url
                && !is_http_url(url)
            {
                errors.push(FieldError::new("avatar_url", "must be an http(s) URL"));
            }
        },
    )
}

/// Create an author
///
/// Role: editor. The slug is made from the name unless given.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    request_body = AuthorInput,
    responses(
        (status = 201, description = "The new author.", body = Author),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[post("/authors")]
pub(crate) async fn create_author(
    state: web::Data<AppState>,
    user: Editor,
    body: Body<AuthorInput>,
) -> Result<HttpResponse, ApiError> {
    let Json(body) = body?;
    check_author(&body, true)?;
    let author = as_editor(&state, &user, move |conn, actor, now| {
        let name = body.name.as_deref().unwrap_or_default().trim();
        let slug = new_slug(body.slug.as_deref(), name)?;
        let affiliation = affiliation_id(conn, body.affiliation.clone().flatten().as_deref())?;
        let new = NewAuthor {
            slug: &slug,
            name,
            bio: body.bio.as_deref().unwrap_or_default().trim(),
            avatar_url: body.avatar_url.as_ref().and_then(|a| a.as_deref()),
            affiliation_source_id: affiliation,
            created_at: now,
            updated_at: now,
        };
        catalogue::insert_author(conn, &new).map_err(slug_conflict)?;
        audit::record(
            conn,
            actor,
            "author.create",
            &format!("author:{slug}"),
            &json!({"name": name}),
            now,
        )?;
        author_view(conn, &slug, now)
    })
    .await?;
    Ok(changed(
        HttpResponse::Created().json(author),
        "author",
        None,
    ))
}

/// Update an author
///
/// Role: editor. Only the fields present change; `null` clears an optional one.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(AuthorSlug),
    request_body = AuthorInput,
    responses(
        (status = 200, description = "The updated author.", body = Author),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[patch("/authors/{slug}")]
pub(crate) async fn update_author(
    state: web::Data<AppState>,
    user: Editor,
    path: AuthorSlug,
    body: Body<AuthorInput>,
) -> Result<HttpResponse, ApiError> {
    let current = path.into_inner()?;
    let purged = current.clone();
    let Json(body) = body?;
    check_author(&body, false)?;
    let author = as_editor(&state, &user, move |conn, actor, now| {
        let found = catalogue::find_author(conn, &current)?.ok_or(ApiError::NotFound("author"))?;
        let affiliation = match &body.affiliation {
            None => None,
            Some(slug) => Some(affiliation_id(conn, slug.as_deref())?),
        };
        let changes = AuthorChanges {
            slug: body.slug.as_deref(),
            name: body.name.as_deref().map(str::trim),
            bio: body.bio.as_deref().map(str::trim),
            avatar_url: body.avatar_url.as_ref().map(|a| a.as_deref()),
            affiliation_source_id: affiliation,
            updated_at: Some(now),
        };
        catalogue::update_author(conn, found.id, &changes).map_err(slug_conflict)?;
        let slug = body.slug.clone().unwrap_or(current);
        audit::record(
            conn,
            actor,
            "author.update",
            &format!("author:{slug}"),
            &json!({}),
            now,
        )?;
        author_view(conn, &slug, now)
    })
    .await?;
    Ok(changed(
        HttpResponse::Ok().json(author),
        "author",
        Some(&purged),
    ))
}

/// Delete an author
///
/// Role: editor. An author still in a byline is not deleted: 409 `in_use`.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(AuthorSlug),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
#[delete("/authors/{slug}")]
pub(crate) async fn delete_author(
    state: web::Data<AppState>,
    user: Editor,
    path: AuthorSlug,
) -> Result<HttpResponse, ApiError> {
    let remover = Remover {
        what: "author",
        find: |conn, slug| Ok(catalogue::find_author(conn, slug)?.map(|entry| entry.id)),
        usage: catalogue::author_usage,
        delete: catalogue::delete_author,
    };
    remove(&state, &user, path.into_inner()?, remover).await
}

fn source_view(
    conn: &mut DbConnection,
    slug: &str,
    now: NaiveDateTime,
) -> Result<Source, ApiError> {
    let source = catalogue::find_source(conn, slug)?.ok_or(ApiError::NotFound("source"))?;
    Source::with_counts(conn, vec![source], now)?
        .pop()
        .ok_or(ApiError::NotFound("source"))
}

fn check_source(body: &SourceInput, creating: bool) -> Result<(), ApiError> {
    check(
        body.slug.as_deref(),
        body.name.as_deref(),
        creating,
        |errors| {
            let two = |s: &str, upper: bool| {
                s.len() == 2
                    && s.bytes().all(|b| {
                        if upper {
                            b.is_ascii_uppercase()
                        } else {
                            b.is_ascii_lowercase()
                        }
                    })
            };
            match body.country.as_deref() {
                None if creating => errors.push(FieldError::new("country", "is required")),
                Some(c) if !two(c, true) => {
                    errors.push(FieldError::new(
                        "country",
                        "must be an ISO 3166-1 code such as `FR`",
                    ));
                }
                _ => {}
            }
            match body.language.as_deref() {
                None if creating => errors.push(FieldError::new("language", "is required")),
                Some(l) if !two(l, false) => {
                    errors.push(FieldError::new(
                        "language",
                        "must be an ISO 639-1 code such as `fr`",
                    ));
                }
                _ => {}
            }
            if let Some(Some(url)) = &body.homepage_url
                && !is_http_url(url)
            {
                errors.push(FieldError::new("homepage_url", "must be an http(s) URL"));
            }
        },
    )
}

/// Create a source
///
/// Role: editor. The slug is made from the name unless given.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    request_body = SourceInput,
    responses(
        (status = 201, description = "The new source.", body = Source),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[post("/sources")]
pub(crate) async fn create_source(
    state: web::Data<AppState>,
    user: Editor,
    body: Body<SourceInput>,
) -> Result<HttpResponse, ApiError> {
    let Json(body) = body?;
    check_source(&body, true)?;
    let source = as_editor(&state, &user, move |conn, actor, now| {
        let name = body.name.as_deref().unwrap_or_default().trim();
        let slug = new_slug(body.slug.as_deref(), name)?;
        let new = NewSource {
            slug: &slug,
            name,
            country: body.country.as_deref().unwrap_or_default(),
            language: body.language.as_deref().unwrap_or_default(),
            homepage_url: body.homepage_url.as_ref().and_then(|h| h.as_deref()),
            created_at: now,
            updated_at: now,
        };
        catalogue::insert_source(conn, &new).map_err(slug_conflict)?;
        audit::record(
            conn,
            actor,
            "source.create",
            &format!("source:{slug}"),
            &json!({"name": name}),
            now,
        )?;
        source_view(conn, &slug, now)
    })
    .await?;
    Ok(changed(
        HttpResponse::Created().json(source),
        "source",
        None,
    ))
}

/// Update a source
///
/// Role: editor. Only the fields present change; `null` clears the home page.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(SourceSlug),
    request_body = SourceInput,
    responses(
        (status = 200, description = "The updated source.", body = Source),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
#[patch("/sources/{slug}")]
pub(crate) async fn update_source(
    state: web::Data<AppState>,
    user: Editor,
    path: SourceSlug,
    body: Body<SourceInput>,
) -> Result<HttpResponse, ApiError> {
    let current = path.into_inner()?;
    let purged = current.clone();
    let Json(body) = body?;
    check_source(&body, false)?;
    let source = as_editor(&state, &user, move |conn, actor, now| {
        let found = catalogue::find_source(conn, &current)?.ok_or(ApiError::NotFound("source"))?;
        let changes = SourceChanges {
            slug: body.slug.as_deref(),
            name: body.name.as_deref().map(str::trim),
            country: body.country.as_deref(),
            language: body.language.as_deref(),
            homepage_url: body.homepage_url.as_ref().map(|h| h.as_deref()),
            updated_at: Some(now),
        };
        catalogue::update_source(conn, found.id, &changes).map_err(slug_conflict)?;
        let slug = body.slug.clone().unwrap_or(current);
        audit::record(
            conn,
            actor,
            "source.update",
            &format!("source:{slug}"),
            &json!({}),
            now,
        )?;
        source_view(conn, &slug, now)
    })
    .await?;
    Ok(changed(
        HttpResponse::Ok().json(source),
        "source",
        Some(&purged),
    ))
}

/// Delete a source
///
/// Role: editor. A source that articles still translate is not deleted:
/// 409 `in_use`. Authors affiliated with it lose the affiliation.
#[utoipa::path(
    tag = "newsroom",
    security(("bearer" = [])),
    params(SourceSlug),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = InvalidToken),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
#[delete("/sources/{slug}")]
pub(crate) async fn delete_source(
    state: web::Data<AppState>,
    user: Editor,
    path: SourceSlug,
) -> Result<HttpResponse, ApiError> {
    let remover = Remover {
        what: "source",
        find: |conn, slug| Ok(catalogue::find_source(conn, slug)?.map(|entry| entry.id)),
        usage: catalogue::source_usage,
        delete: catalogue::delete_source,
    };
    remove(&state, &user, path.into_inner()?, remover).await
}
