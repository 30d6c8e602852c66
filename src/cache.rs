//! An in-process cache of public responses.
//!
//! A GET without credentials whose response was `Cache-Control: public` is
//! kept for a short time (`RESPONSE_CACHE_TTL_MS`) and served again without
//! touching the database, `If-None-Match` included. Anything that depends
//! on the reader is `private` and is never stored, and a request carrying
//! credentials or a meter token never reads the cache. Any successful write
//! on this node empties it at once; other nodes converge within the TTL.
//! The cache is bounded by entries and by bytes.
//!
//! Beside whole responses it keeps published articles as loaded from the
//! database, by slug, for reads whose response is per reader (metered and
//! premium articles): the article is the same for everyone even when the
//! answer is not, so such a read only asks the database about the reader.
//! They follow the same TTL and are forgotten by the same writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};

use crate::app::AppState;
use crate::db::articles::{ArticleCard, ArticleRow};
use crate::routes::articles::ArticleRead;

/// Most responses kept.
const MAX_ENTRIES: usize = 2_048;
/// Largest response kept, in bytes.
const MAX_BODY: usize = 512 * 1024;
/// Most bytes kept in all.
const MAX_TOTAL: usize = 64 * 1024 * 1024;
/// How long one request may take to refresh an expired copy before the
/// next request tries instead (a slow search under load took seconds).
const REFRESH_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest an expired copy is served while a refresh is under way.
const MAX_STALE: Duration = Duration::from_secs(30);
/// Most articles kept.
const MAX_ARTICLES: usize = 1_024;

/// A published article as readers' requests load it.
pub type PublicArticle = Arc<(ArticleRow, ArticleCard)>;

#[derive(Clone)]
struct Entry {
    /// The article this response is a read of, to count cached reads as views.
    article: Option<i64>,
    /// Since when a request has been fetching a fresh copy.
    refreshing: Option<Instant>,
    stored: Instant,
    generation: u64,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    articles: HashMap<String, (Instant, PublicArticle)>,
    bytes: usize,
    generation: u64,
}

/// The cache; one per process.
#[derive(Default)]
pub struct ResponseCache {
    inner: Mutex<Inner>,
}

impl ResponseCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets everything (after a write).
    pub fn invalidate(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.clear();
        inner.articles.clear();
        inner.bytes = 0;
    }

    /// The published article `slug`, if it was loaded less than `ttl` ago.
    pub fn article(&self, slug: &str, ttl: Duration) -> Option<PublicArticle> {
        if ttl.is_zero() {
            return None;
        }
        let inner = self.lock();
        let (stored, article) = inner.articles.get(slug)?;
        (stored.elapsed() < ttl).then(|| Arc::clone(article))
    }

    /// Keeps a published article loaded while the cache was at `generation`.
    pub fn put_article(&self, slug: String, generation: u64, article: PublicArticle) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.articles.len() >= MAX_ARTICLES {
            inner.articles.clear();
        }
        inner.articles.insert(slug, (Instant::now(), article));
    }

    /// A usable copy for `key`. Once a copy is older than `ttl`, the first
    /// request to ask gets `None` and refreshes it, while the others keep
    /// getting the old copy, so an expiry under load sends one request to the
    /// database instead of all of them. A refresh that has not come back
    /// within `REFRESH_TIMEOUT` is handed to the next request, and no copy is
    /// served more than `MAX_STALE` past its time.
    fn get(&self, key: &str, ttl: Duration) -> Option<Entry> {
        let mut inner = self.lock();
        let generation = inner.generation;
        let entry = inner.entries.get_mut(key)?;
        if entry.generation != generation {
            return None;
        }
        let age = entry.stored.elapsed();
        if age < ttl {
            return Some(entry.clone());
        }
        if age >= ttl + MAX_STALE {
            return None;
        }
        if entry
            .refreshing
            .is_some_and(|since| since.elapsed() < REFRESH_TIMEOUT)
        {
            return Some(entry.clone());
        }
        entry.refreshing = Some(Instant::now());
        None
    }

    fn put(&self, key: String, generation: u64, entry: (HeaderMap, Bytes, Option<i64>)) {
        let (headers, body, article) = entry;
        let mut inner = self.lock();
        if inner.generation != generation || body.len() > MAX_BODY {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES || inner.bytes + body.len() > MAX_TOTAL {
            inner.entries.clear();
            inner.bytes = 0;
        }
        inner.bytes += body.len();
        if let Some(old) = inner.entries.insert(
            key,
            Entry {
                article,
                refreshing: None,
                stored: Instant::now(),
                generation,
                headers,
                body,
            },
        ) {
            inner.bytes -= old.body.len();
        }
    }

    /// Changes with every invalidation: what was loaded before a write must
    /// not be stored after it.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }
}

/// Whether a request may be answered from, and stored into, the cache.
/// A meter token does not stop it: only public answers are ever stored, and
/// those are the same with or without one (a metered article is private).
fn cacheable(req: &ServiceRequest) -> bool {
    req.method() == Method::GET
        && req.path().starts_with("/api/v1/")
        && !["authorization", "x-api-key", "cookie"]
            .iter()
            .any(|name| req.headers().contains_key(*name))
}

fn not_modified(req: &ServiceRequest, headers: &HeaderMap) -> bool {
    headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|etag| crate::routes::if_none_match(req.request(), etag))
}

fn replay(req: ServiceRequest, entry: Entry) -> ServiceResponse<BoxBody> {
    let status = if not_modified(&req, &entry.headers) {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let mut response = HttpResponse::new(status);
    for (name, value) in &entry.headers {
        response.headers_mut().append(name.clone(), value.clone());
    }
    let response = if status == StatusCode::OK {
        response.set_body(BoxBody::new(entry.body))
    } else {
        response.set_body(BoxBody::new(()))
    };
    req.into_response(response)
}

/// Serves public GETs from the cache and keeps what they return; empties
/// the cache after any successful write.
pub async fn cache<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let ttl = state.config.response_cache_ttl;
    let writing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if ttl.is_zero() || !cacheable(&req) {
        let response = next.call(req).await?;
        if writing && response.status().is_success() {
            state.cache.invalidate();
        }
        return Ok(response.map_into_left_body());
    }
    let key = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
    if let Some(entry) = state.cache.get(&key, ttl) {
        if let Some(article) = entry.article {
            state.views.record(article, state.clock.now());
        }
        return Ok(replay(req, entry).map_into_right_body());
    }
    let generation = state.cache.generation();
    let response = next.call(req).await?;
    let public = response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("public"));
    if response.status() != StatusCode::OK || !public {
        return Ok(response.map_into_left_body());
    }
    let (request, response) = response.into_parts();
    let article = response
        .extensions()
        .get::<ArticleRead>()
        .map(|read| read.0);
    let (head, body) = response.into_parts();
    let body = match actix_web::body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Ok(
                ServiceResponse::new(request, HttpResponse::InternalServerError().finish())
                    .map_into_right_body(),
            );
        }
    };
    state.cache.put(
        key,
        generation,
        (head.headers().clone(), body.clone(), article),
    );
    let response = head.set_body(BoxBody::new(body));
    Ok(ServiceResponse::new(request, response).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(cache: &ResponseCache, key: &str, body: &'static str) {
        let generation = cache.generation();
        cache.put(
            key.to_owned(),
            generation,
            (HeaderMap::new(), Bytes::from_static(body.as_bytes()), None),
        );
    }

    #[test]
    fn one_request_refreshes_an_expired_copy_while_the_others_get_it_stale() {
        let cache = ResponseCache::default();
        let ttl = Duration::from_millis(20);
        stored(&cache, "/a", "old");
        assert_eq!(cache.get("/a", ttl).unwrap().body, "old");
        std::thread::sleep(ttl * 2);
        assert!(cache.get("/a", ttl).is_none(), "the first asker refreshes");
        for _ in 0..3 {
            assert_eq!(cache.get("/a", ttl).unwrap().body, "old", "others wait");
        }
        stored(&cache, "/a", "new");
        assert_eq!(cache.get("/a", ttl).unwrap().body, "new");
    }

    #[test]
    fn a_write_forgets_what_was_kept_and_refuses_late_arrivals() {
        let cache = ResponseCache::default();
        let ttl = Duration::from_secs(60);
        let before = cache.generation();
        stored(&cache, "/a", "old");
        cache.invalidate();
        assert!(cache.get("/a", ttl).is_none());
        // A response computed before the write arrives after it: not kept.
        cache.put(
            "/a".to_owned(),
            before,
            (HeaderMap::new(), Bytes::from_static(b"stale"), None),
        );
        assert!(cache.get("/a", ttl).is_none());
    }
}
