//! What the handlers share: extractors that name the bad field (`Json`,
//! `Query`), pagination and cursors, and cacheable JSON responses with their
//! validators.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use chrono::NaiveDateTime;

use crate::clock::Clock;
use crate::config::MAX_JSON_BODY;
use crate::db::articles::ArticleFilter;
use crate::db::{Db, DbConnection, QueryResult};
use crate::domain::cursor::Cursor;
use crate::error::{ApiError, FieldError};
use crate::surrogate::{SurrogateKeys, Tagged};
use crate::views::{ListMeta, Listed};

/// Longest slug accepted in a filter or a path: the one limit of `domain::slug`.
pub(crate) use crate::domain::slug::MAX_SLUG_LEN;

/// Answers with one page of a catalogue list ordered by slug. `load` runs on
/// a pooled connection and returns the page's items and, when more follow,
/// the last slug.
pub(crate) async fn slug_list<V, F>(
    db: &Db,
    clock: Clock,
    req: &HttpRequest,
    params: &SlugListParams,
    load: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(
            &mut DbConnection,
            Option<&str>,
            i64,
            NaiveDateTime,
        ) -> QueryResult<(Vec<V>, Option<String>)>
        + Send
        + 'static,
    V: Listed + Send + 'static,
    V::Page: Serialize + Tagged,
{
    let (limit, after) = params.page()?;
    let now = clock.now();
    let (items, last) = db
        .run(move |conn| Ok(load(conn, after.as_deref(), limit, now)?))
        .await?;
    let next_cursor = next_slug_cursor(last);
    let list = V::page(
        items,
        ListMeta {
            limit,
            next_cursor: next_cursor.clone(),
        },
    );
    public_list(req, &list, next_cursor.as_deref())
}

/// Answers with one catalogue item found by slug, or a 404 naming it.
pub(crate) async fn slug_item<R, V, F>(
    db: &Db,
    clock: Clock,
    req: &HttpRequest,
    slug: Slug<R>,
    load: F,
) -> Result<HttpResponse, ApiError>
where
    R: SlugOf,
    F: FnOnce(&mut DbConnection, &str, NaiveDateTime) -> QueryResult<Option<V>> + Send + 'static,
    V: Serialize + Tagged + Send + 'static,
{
    let slug = slug.into_inner()?;
    let now = clock.now();
    let item = db
        .run(move |conn| Ok(load(conn, &slug, now)?))
        .await?
        .ok_or(ApiError::NotFound(R::WHAT))?;
    public_json(req, &item, ITEM_FRESHNESS)
}

/// One page of a list ordered by id, from `rows` fetched one past `limit`
/// (the extra row, dropped here, says that another page follows; the
/// cursor is the last kept row's id).
pub(crate) fn id_page<R, V>(mut rows: Vec<R>, limit: i64, id: fn(&R) -> i64) -> V::Page
where
    V: Listed + From<R>,
{
    let more = rows.len() > usize::try_from(limit).unwrap_or(0);
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = rows
        .last()
        .filter(|_| more)
        .map(|row| Cursor::Id(id(row)).encode());
    let data = rows.into_iter().map(V::from).collect();
    V::page(data, ListMeta { limit, next_cursor })
}

/// A resource's slug from the path (`{slug}`), typed by what it names
/// (`ArticleSlug`, `TopicSlug`, ...). Only lowercase letters and digits in
/// words joined by single hyphens, at most `MAX_SLUG_LEN`, can name
/// anything; any other text is a 404 naming the resource. The check is made
/// when the handler takes the slug (`into_inner`), after every extractor has
/// run: who may ask is decided first (an extractor that fails at once would
/// otherwise beat a role check still waiting on the database). Its OpenAPI
/// parameter, pattern and length included, is written once, here.
pub(crate) struct Slug<R> {
    text: String,
    of: PhantomData<R>,
}

/// What a `{slug}` names: the resource its 404 speaks of and how the
/// parameter is documented.
pub(crate) trait SlugOf {
    /// The resource, as a 404 names it.
    const WHAT: &'static str;
    /// The parameter's description.
    const DESCRIPTION: &'static str;
    /// A slug from the demo data.
    const EXAMPLE: &'static str;
}

impl<R: SlugOf> Slug<R> {
    /// The slug, or a 404 when the path holds text no slug can be.
    pub(crate) fn into_inner(self) -> Result<String, ApiError> {
        if self.text.len() <= MAX_SLUG_LEN && crate::domain::slug::is_valid(&self.text) {
            Ok(self.text)
        } else {
            Err(ApiError::NotFound(R::WHAT))
        }
    }
}

impl<R> FromRequest for Slug<R> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Ok(Self {
            text: req.match_info().get("slug").unwrap_or_default().to_owned(),
            of: PhantomData,
        }))
    }
}

impl<R: SlugOf> utoipa::IntoParams for Slug<R> {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_SLUG_LEN))
            .pattern(Some(SLUG_PATTERN));
        vec![
            ParameterBuilder::new()
                .name("slug")
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True)
                .description(Some(R::DESCRIPTION))
                .schema(Some(schema))
                .example(Some(R::EXAMPLE.into()))
                .build(),
        ]
    }
}

/// Declares the kinds of slug paths carry, each a marker and an alias.
macro_rules! slug_kinds {
    ($($alias:ident = $marker:ident: $what:literal, $description:literal, $example:literal;)*) => {$(
        #[doc = concat!("Marks a slug that names a ", $what, ".")]
        pub(crate) enum $marker {}

        impl SlugOf for $marker {
            const WHAT: &'static str = $what;
            const DESCRIPTION: &'static str = $description;
            const EXAMPLE: &'static str = $example;
        }

        #[doc = concat!("A ", $what, "'s slug from the path.")]
        pub(crate) type $alias = Slug<$marker>;
    )*};
}

slug_kinds! {
    ArticleSlug = OfArticle: "article", "The article's slug.", "the-port-that-froze-early";
    TopicSlug = OfTopic: "topic", "The topic's slug.", "energy";
    AuthorSlug = OfAuthor: "author", "The author's slug.", "irina-volkova";
    SourceSlug = OfSource: "source", "The source's slug.", "vedomosti-vostoka";
    NewsletterSlug = OfNewsletter: "newsletter", "The newsletter's slug.", "daily";
}

/// `response` marked never to be stored by any cache: it carries a secret
/// or a reader's own account.
pub(crate) fn no_store(
    mut response: actix_web::HttpResponseBuilder,
) -> actix_web::HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

/// For optional body fields that `null` clears: tells a field sent as `null`
/// (`Some(None)`) from a field not sent (`None`, with `#[serde(default)]`).
pub fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Whether `url` is an absolute http(s) URL of sane length.
/// The same rule as `HTTP_URL_PATTERN`, which documents it.
pub(crate) fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| !rest.is_empty())
        && url.len() <= 2048
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\u{feff}')
}

/// The OpenAPI `pattern` of an http(s) URL field (see [`is_http_url`]).
/// (Schemas spell it out, as derive attributes take literals; a test
/// checks each against this.)
#[cfg(test)]
pub(crate) const HTTP_URL_PATTERN: &str = r"^https?://[^\s\x00-\x1f\x7f-\x9f\ufeff]+$";
/// The OpenAPI `pattern` of a slug field (see `domain::slug`).
pub(crate) const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

/// A reference by slug to a topic, author or source, as request bodies name
/// them (documentation only: bodies hold plain strings).
pub(crate) struct SlugRef;

impl utoipa::PartialSchema for SlugRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_SLUG_LEN))
            .pattern(Some(SLUG_PATTERN))
            .examples(["energy"])
            .into()
    }
}

impl utoipa::ToSchema for SlugRef {}

/// Longest query string accepted, in bytes.
const MAX_QUERY_LEN: usize = 2048;

/// A JSON request body, which must be an object: every body this API takes
/// is one, and serde would otherwise fill a struct from an array (`[null,
/// null]` was a valid no-op update). Size (`MAX_JSON_BODY`) and content type
/// are checked as `web::Json` does.
pub(crate) struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub(crate) fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let raw = actix_web::web::JsonBody::<Box<serde_json::value::RawValue>>::new(
            req, payload, None, true,
        )
        .limit(MAX_JSON_BODY);
        Box::pin(async move {
            let raw = raw.await.map_err(crate::error::payload_problem)?;
            if !raw.get().trim_start().starts_with('{') {
                return Err(ApiError::MalformedBody(
                    "the body must be a JSON object".into(),
                ));
            }
            if escapes_nul(raw.get()) {
                return Err(ApiError::MalformedBody(
                    "strings must not contain a NUL character (\\u0000)".into(),
                ));
            }
            match serde_json::from_str(raw.get()) {
                Ok(body) => Ok(Json(body)),
                // JSON has one number type: `12.0` is the integer 12 to
                // JSON Schema and to clients that print every number so.
                Err(e) if e.to_string().starts_with("invalid type: floating point") => {
                    let mut value: serde_json::Value = serde_json::from_str(raw.get())
                        .map_err(|e| ApiError::MalformedBody(e.to_string()))?;
                    whole_numbers_as_integers(&mut value);
                    serde_json::from_value(value)
                        .map(Json)
                        .map_err(|e| ApiError::MalformedBody(e.to_string()))
                }
                Err(e) => Err(ApiError::MalformedBody(e.to_string())),
            }
        })
    }
}

/// Whether JSON text holds a `\u0000` escape (a NUL in some string; raw
/// control characters are not valid JSON). A backslash that is itself
/// escaped (`\\u0000`, the six characters) does not count.
fn escapes_nul(json: &str) -> bool {
    let bytes = json.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Rewrites every number with no fractional part (`12.0`) as an integer.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| !n.is_i64() && !n.is_u64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                // Exact: a whole number below 2^53 is an i64.
                let whole = f as i64;
                *value = Value::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// A JSON body whose rejection waits for the handler: role-gated handlers
/// check who asks first, so a reader's invalid body is a 403, not a 400 that
/// tells them how to shape one.
/// The handler takes it with `let Json(body) = body?;` once the role is
/// known.
pub(crate) type Body<T> = Result<Json<T>, ApiError>;

/// Query-string extractor whose errors are problems naming the bad parameter.
pub(crate) struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(ApiError::field(
            "query",
            format!("the query string is longer than {MAX_QUERY_LEN} bytes"),
        ));
    }
    // PostgreSQL refuses NUL in any text value; nothing we look up holds one.
    // A NUL can only arrive percent-encoded, so most queries skip the scan.
    if let Some((name, _)) = query
        .contains("%00")
        .then(|| form_urlencoded::parse(query.as_bytes()))
        .into_iter()
        .flatten()
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Err(ApiError::field(
            name.replace('\0', ""),
            "must not contain a NUL character (%00)",
        ));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let field = err.path().to_string();
        let field = if field == "." {
            "query".to_owned()
        } else {
            field
        };
        ApiError::field(field, err.into_inner().to_string())
    })
}

/// Pagination of the lists ordered by slug (topics, authors, sources).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SlugListParams {
    /// Page size.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// `meta.next_cursor` of the previous page; omit for the first page.
    #[param(max_length = 512)]
    pub cursor: Option<String>,
}

impl SlugListParams {
    /// The validated page size and the slug to start after.
    pub fn page(&self) -> Result<(i64, Option<String>), ApiError> {
        Ok((
            page_limit(self.limit)?,
            slug_cursor(self.cursor.as_deref())?,
        ))
    }
}

/// The cursor of the page after one whose last slug is `last`.
pub(crate) fn next_slug_cursor(last: Option<String>) -> Option<String> {
    last.map(|slug| Cursor::Slug(slug).encode())
}

/// Checks a page size against the documented range.
pub(crate) fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// Page size when none is asked for.
pub(crate) const DEFAULT_LIMIT: i64 = 20;
/// Largest page size.
pub(crate) const MAX_LIMIT: i64 = 100;

/// Decodes a `cursor` parameter.
pub(crate) fn decode_cursor(cursor: Option<&str>) -> Result<Option<Cursor>, ApiError> {
    cursor
        .map(|text| Cursor::decode(text).map_err(|_| ApiError::InvalidCursor))
        .transpose()
}

/// Decodes a `cursor` parameter of a list ordered by id.
pub(crate) fn id_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    match decode_cursor(cursor)? {
        None => Ok(None),
        Some(Cursor::Id(id)) => Ok(Some(id)),
        Some(_) => Err(ApiError::InvalidCursor),
    }
}

/// Decodes a `cursor` parameter of a list ordered by slug.
pub(crate) fn slug_cursor(cursor: Option<&str>) -> Result<Option<String>, ApiError> {
    match decode_cursor(cursor)? {
        None => Ok(None),
        Some(Cursor::Slug(slug)) => Ok(Some(slug)),
        Some(_) => Err(ApiError::InvalidCursor),
    }
}

/// The filters article lists and feeds share, checked: a topic, author or
/// source slug of 1 to `MAX_SLUG_LEN` characters and a two-letter original
/// language. Each fault is pushed to `errors`, named after its parameter.
pub(crate) fn article_filter(
    topic: Option<String>,
    author: Option<String>,
    source: Option<String>,
    language: Option<String>,
    errors: &mut Vec<FieldError>,
) -> ArticleFilter {
    for (field, value) in [("topic", &topic), ("author", &author), ("source", &source)] {
        if value
            .as_ref()
            .is_some_and(|v| v.is_empty() || v.chars().count() > MAX_SLUG_LEN)
        {
            errors.push(FieldError::new(
                field,
                format!("must be 1 to {MAX_SLUG_LEN} characters"),
            ));
        }
    }
    if let Some(language) = &language
        && !(language.len() == 2 && language.bytes().all(|b| b.is_ascii_lowercase()))
    {
        errors.push(FieldError::new(
            "language",
            "must be a two-letter ISO 639-1 code such as `ru`",
        ));
    }
    ArticleFilter {
        topic,
        author,
        source,
        language,
        ..ArticleFilter::default()
    }
}

/// How long shared caches may keep a public response.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Freshness {
    /// Seconds a browser may reuse it.
    pub max_age: u32,
    /// Seconds a CDN may reuse it.
    pub s_maxage: u32,
}

/// Lists change whenever something is published.
pub(crate) const LIST_FRESHNESS: Freshness = Freshness {
    max_age: 30,
    s_maxage: 60,
};
/// Single resources change less often.
pub(crate) const ITEM_FRESHNESS: Freshness = Freshness {
    max_age: 60,
    s_maxage: 300,
};

/// A public JSON response with a strong `ETag`; answers 304 when the client's
/// `If-None-Match` already names it.
/// It carries the `Surrogate-Key`s of what it shows, for CDN purges.
pub(crate) fn public_json<T: Serialize + Tagged>(
    req: &HttpRequest,
    value: &T,
    freshness: Freshness,
) -> Result<HttpResponse, ApiError> {
    let cache_control = format!(
        "public, max-age={}, s-maxage={}, stale-while-revalidate=300",
        freshness.max_age, freshness.s_maxage
    );
    let mut response = validated_json(req, value, &cache_control, None)?;
    let mut keys = SurrogateKeys::default();
    value.tag(&mut keys);
    keys.apply(&mut response);
    Ok(response)
}

/// A JSON response that depends on who asks (their credentials or meter
/// token): only the client may keep it, and must revalidate it.
pub(crate) fn private_json<T: Serialize>(
    req: &HttpRequest,
    value: &T,
) -> Result<HttpResponse, ApiError> {
    validated_json(
        req,
        value,
        "private, no-cache",
        Some("Authorization, X-Meter-Token, X-API-Key"),
    )
}

fn validated_json<T: Serialize>(
    req: &HttpRequest,
    value: &T,
    cache_control: &str,
    vary: Option<&'static str>,
) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.into()))?;
    let etag = strong_etag(&body);
    let not_modified = if_none_match(req, &etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control.to_owned()));
    if let Some(vary) = vary {
        response.insert_header((header::VARY, vary));
    }
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response.content_type("application/json").body(body))
}

/// A page of a public list: the JSON plus a `Link: rel="next"` header when
/// another page follows.
pub(crate) fn public_list<T: Serialize + Tagged>(
    req: &HttpRequest,
    value: &T,
    next_cursor: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let mut response = public_json(req, value, LIST_FRESHNESS)?;
    if let Some(cursor) = next_cursor {
        let link = format!("<{}>; rel=\"next\"", next_page_url(req, cursor));
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

/// The request's own path and query with `cursor` replaced.
fn next_page_url(req: &HttpRequest, cursor: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if key != "cursor" {
            query.append_pair(&key, &value);
        }
    }
    query.append_pair("cursor", cursor);
    format!("{}?{}", req.path(), query.finish())
}

pub(crate) fn strong_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]))
}

/// Weak comparison, as RFC 9110 asks for `If-None-Match`.
pub(crate) fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers().contains_key(header::IF_NONE_MATCH)
        && crate::negotiation::still_fresh(req.headers(), Some(etag), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_real_nul_escape_counts() {
        assert!(escapes_nul(r#"{"a":"x\u0000y"}"#));
        assert!(
            escapes_nul(r#"{"a":"\\\u0000"}"#),
            "escaped backslash, then a NUL"
        );
        assert!(
            !escapes_nul(r#"{"a":"\\u0000"}"#),
            "a backslash and the text u0000"
        );
        assert!(!escapes_nul(r#"{"a":"\u0041"}"#));
        assert!(!escapes_nul(r#"{"a":"ends with \\"}"#));
    }

    use actix_web::test::TestRequest;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "only the parse errors matter here")]
    struct Params {
        limit: Option<i64>,
        featured: Option<bool>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let Err(ApiError::Validation(errors)) = parse_query::<Params>("limit=ten") else {
            panic!("expected a validation error");
        };
        assert_eq!(errors[0].field, "limit");
        let Err(ApiError::Validation(errors)) = parse_query::<Params>("featured=perhaps") else {
            panic!("expected a validation error");
        };
        assert_eq!(errors[0].field, "featured");
    }

    #[test]
    fn limits_outside_the_range_are_refused() {
        assert_eq!(page_limit(None).unwrap(), 20);
        assert_eq!(page_limit(Some(100)).unwrap(), 100);
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(101)).is_err());
    }

    #[test]
    fn the_next_link_keeps_the_filters_and_replaces_the_cursor() {
        let req = TestRequest::get()
            .uri("/api/v1/articles?topic=energy&cursor=old&limit=5")
            .to_http_request();
        assert_eq!(
            next_page_url(&req, "NEW"),
            "/api/v1/articles?topic=energy&limit=5&cursor=NEW"
        );
    }

    #[test]
    fn if_none_match_accepts_lists_and_weak_tags() {
        let etag = "\"abc\"";
        let req = TestRequest::get()
            .insert_header((header::IF_NONE_MATCH, "\"x\", W/\"abc\""))
            .to_http_request();
        assert!(if_none_match(&req, etag));
        let req = TestRequest::get()
            .insert_header((header::IF_NONE_MATCH, "\"x\""))
            .to_http_request();
        assert!(!if_none_match(&req, etag));
    }
}
