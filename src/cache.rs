//! An in-process cache of public responses.
//!
//! A GET from an anonymous client (see `limits::Identity`: no valid access
//! token, no API key) whose response was `Cache-Control: public` is kept for
//! a short time (`RESPONSE_CACHE_TTL_MS`) and served again without touching
//! the database, `If-None-Match` included. Anything that depends on the
//! reader is `private` and is never stored. Only a write that changes public
//! output empties anything, and only what it changed: such a handler says so
//! with [`Purge`], naming `Surrogate-Key`s, and the entries carrying any of
//! them go (a login, a logout with a junk token or a newsletter sign-up
//! purges nothing). Other nodes converge within the TTL. The cache is
//! bounded by entries and by bytes.
//!
//! Each response is kept in every coding clients ask for: identity, gzip and
//! brotli, compressed once when it is stored, and a hit is answered in the
//! coding `Accept-Encoding` prefers, with the weak `ETag` a coded body
//! carries and `Vary: Accept-Encoding`, without compressing anything again.
//! `HEAD` is a `GET` by then (see `middleware::head_as_get`), so it is answered from here too.
//!
//! Beside whole responses it keeps published articles as loaded from the
//! database, by slug, for reads whose response is per reader (metered and
//! premium articles): the article is the same for everyone even when the
//! answer is not, so such a read only asks the database about the reader.
//! They follow the same TTL and are forgotten by the same purges.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse};

use crate::client::ClientAddr;
use crate::clock::Clock;
use crate::db::articles::{ArticleCard, ArticleRow};
use crate::domain::id::ArticleId;
use crate::limits::Identity;
use crate::metrics::Metrics;
use crate::negotiation::{Coding, negotiate, parse_http_date, still_fresh, weak};
use crate::readership::{ArticleRead, ViewCounter};
use crate::surrogate::SURROGATE_KEY;

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
/// Most articles kept: the articles read in the last few seconds of a busy
/// site (an article and its cards are about 10 KB, so at most about 40 MB).
const MAX_ARTICLES: usize = 4_096;
/// Purges remembered, to refuse copies loaded before one of them.
const PURGE_LOG: usize = 256;
/// Longest a request waits for another to fill the copy it also needs.
const FILL_WAIT: Duration = Duration::from_secs(5);
/// Smallest body worth compressing: below this, headers outweigh savings.
const MIN_COMPRESSED: usize = 256;
/// gzip level of stored variants (flate2's default; level 9 saved about 1%
/// more on article lists for twice the time).
const GZIP_LEVEL: u32 = 6;
/// Brotli quality of stored variants: 5 compresses a 22 KB article list in
/// about a millisecond, once per copy; 11 took tens of milliseconds.
const BROTLI_QUALITY: u32 = 5;
/// Longest request target kept: the query itself is refused past 2 KiB.
const MAX_KEY: usize = 4096;

/// A published article as readers' requests load it.
pub(crate) type PublicArticle = Arc<(ArticleRow, ArticleCard)>;

/// What the cache holds for a key.
enum Lookup {
    /// A copy to serve.
    Hit(Arc<Kept>),
    /// An expired copy, which this request is to refresh (the others are
    /// served the old copy meanwhile).
    Refresh,
    /// Nothing usable.
    Missing,
}

/// A claim to fill a missing copy, released when dropped, however the
/// request ends (a panic or a dropped connection included).
struct Filling<'a> {
    cache: &'a ResponseCache,
    key: u64,
    ttl: Duration,
    /// The answer was computed and will not be kept (it depends on the
    /// reader, or the cache refused it): the key's misses stop waiting.
    unkept: bool,
}

impl Drop for Filling<'_> {
    fn drop(&mut self) {
        self.cache.release(self.key, self.unkept, self.ttl);
    }
}

/// A kept copy and how old it is.
struct Entry {
    /// Since when a request has been fetching a fresh copy.
    refreshing: Option<Instant>,
    stored: Instant,
    kept: Arc<Kept>,
}

/// A kept response, shared by every hit (a hit copies a pointer, not the
/// headers), with what a hit needs to know read off it once.
struct Kept {
    /// The article this response is a read of, to count cached reads as views.
    article: Option<ArticleId>,
    /// Its `Surrogate-Key`s: a purge of any of them removes it.
    keys: Vec<String>,
    headers: HeaderMap,
    /// Its `ETag` as kept (strong), and the weak form a coded body carries.
    etag: Option<(String, HeaderValue)>,
    /// Its `Last-Modified`, in Unix seconds.
    last_modified: Option<i64>,
    body: Bytes,
    /// The body gzip-compressed, made by the first hit that asks for it
    /// (`None` inside when that is not smaller), then shared by every hit.
    gzip: Arc<std::sync::OnceLock<Option<Bytes>>>,
    /// The same for brotli.
    brotli: Arc<std::sync::OnceLock<Option<Bytes>>>,
}

impl Kept {
    /// Bytes charged to the cache: the key, the body and room for its
    /// compressed variants (each smaller than the body, usually far smaller).
    fn size(&self, key: &str) -> usize {
        key.len() + self.body.len() + self.body.len() / 2
    }

    /// The codings a client may be sent this copy in.
    fn codings(&self) -> &'static [Coding] {
        if self.body.len() < MIN_COMPRESSED {
            &[]
        } else {
            &[Coding::Brotli, Coding::Gzip]
        }
    }

    /// The body in `coding`, compressing it the first time it is wanted
    /// (not when the copy is stored: a key asked for once, such as a query
    /// string made up to miss the cache, never pays for a compression at
    /// these levels). `None` when that coding is not smaller.
    fn coded(&self, coding: Coding) -> Option<Bytes> {
        use std::io::Write as _;
        let body = &self.body;
        let smaller = |coded: Vec<u8>| (coded.len() < body.len()).then(|| Bytes::from(coded));
        match coding {
            Coding::Identity | Coding::Deflate => None,
            Coding::Gzip => self
                .gzip
                .get_or_init(|| {
                    let level = flate2::Compression::new(GZIP_LEVEL);
                    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), level);
                    gzip.write_all(body)
                        .ok()
                        .and_then(|()| gzip.finish().ok())
                        .and_then(smaller)
                })
                .clone(),
            Coding::Brotli => self
                .brotli
                .get_or_init(|| {
                    let mut brotli = Vec::with_capacity(body.len() / 4);
                    let written = {
                        let mut writer =
                            brotli::CompressorWriter::new(&mut brotli, 4096, BROTLI_QUALITY, 22);
                        writer.write_all(body).and_then(|()| writer.flush())
                    };
                    written.ok().and_then(|()| smaller(brotli))
                })
                .clone(),
        }
    }
}

/// A request target as the claim maps key it: a keyed hash, so that long
/// made-up targets cost those maps eight bytes each.
fn claim_key(cache: &ResponseCache, key: &str) -> u64 {
    use std::hash::BuildHasher as _;
    cache.hasher.hash_one(key)
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Keys whose first copy one request is computing; the others wait on
    /// the channel, which closes when it is done (stored or not).
    filling: HashMap<u64, tokio::sync::watch::Sender<()>>,
    /// Keys whose last fill stored nothing (a private or failed answer),
    /// until when: their misses do not wait for one another.
    unstored: HashMap<u64, Instant>,
    articles: HashMap<String, (Instant, Vec<String>, PublicArticle)>,
    bytes: usize,
    /// Counts purges; what was loaded at an older one may be stale.
    generation: u64,
    /// The keys of the last purges, by generation (empty: everything).
    purges: VecDeque<(u64, Vec<String>)>,
}

impl Inner {
    /// Whether a purge since `generation` touched any of `keys` (or
    /// everything, or happened too long ago to tell).
    fn purged_since(&self, generation: u64, keys: &[String]) -> bool {
        if generation == self.generation {
            return false;
        }
        let remembered = self
            .purges
            .front()
            .is_some_and(|(oldest, _)| *oldest <= generation + 1);
        !remembered
            || keys.is_empty()
            || self
                .purges
                .iter()
                .filter(|(at, _)| *at > generation)
                .any(|(_, purged)| purged.is_empty() || purged.iter().any(|k| keys.contains(k)))
    }
}

/// What a write changed, in `Surrogate-Key`s: a handler puts it in its
/// response's extensions, and on success the cache forgets every entry
/// carrying one of the keys.
#[derive(Clone, Debug, Default)]
pub(crate) struct Purge(pub Vec<String>);

impl Purge {
    /// Marks `response` as having changed what these keys tag.
    pub(crate) fn attach(response: &mut HttpResponse, keys: impl IntoIterator<Item = String>) {
        response
            .extensions_mut()
            .insert(Self(keys.into_iter().collect()));
    }
}

/// The keys of what a loaded article shows.
fn article_keys(article: &PublicArticle) -> Vec<String> {
    let card = &article.1;
    let mut keys = vec![format!("article-{}", card.row.id)];
    keys.extend(card.topics.iter().map(|t| format!("topic-{}", t.slug)));
    keys.extend(card.authors.iter().map(|a| format!("author-{}", a.slug)));
    keys.extend(card.source.iter().map(|s| format!("source-{}", s.slug)));
    keys
}

/// The cache; one per process.
#[derive(Default)]
pub struct ResponseCache {
    inner: Mutex<Inner>,
    hasher: std::collections::hash_map::RandomState,
}

impl ResponseCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets every response and article tagged with one of `keys`;
    /// no keys means everything.
    pub fn purge(&self, keys: &[String]) {
        let mut inner = self.lock();
        inner.generation += 1;
        let generation = inner.generation;
        inner.purges.push_back((generation, keys.to_vec()));
        if inner.purges.len() > PURGE_LOG {
            inner.purges.pop_front();
        }
        let hit = |tags: &[String]| keys.is_empty() || tags.iter().any(|t| keys.contains(t));
        let mut freed = 0;
        inner.entries.retain(|key, entry| {
            let gone = hit(&entry.kept.keys);
            if gone {
                freed += entry.kept.size(key);
            }
            !gone
        });
        inner.bytes -= freed;
        inner.articles.retain(|_, (_, tags, _)| !hit(tags));
    }

    /// The published article `slug`, if it was loaded less than `ttl` ago.
    pub fn article(&self, slug: &str, ttl: Duration) -> Option<PublicArticle> {
        if ttl.is_zero() {
            return None;
        }
        let inner = self.lock();
        let (stored, _, article) = inner.articles.get(slug)?;
        (stored.elapsed() < ttl).then(|| Arc::clone(article))
    }

    /// Keeps a published article loaded while the cache was at `generation`.
    /// When full, the copies older than `ttl` go first, and only if none
    /// is that old, all of them.
    pub(crate) fn put_article(
        &self,
        slug: String,
        generation: u64,
        article: PublicArticle,
        ttl: Duration,
    ) {
        let keys = article_keys(&article);
        let mut inner = self.lock();
        if inner.purged_since(generation, &keys) {
            return;
        }
        if inner.articles.len() >= MAX_ARTICLES {
            inner
                .articles
                .retain(|_, (stored, _, _)| stored.elapsed() < ttl);
        }
        if inner.articles.len() >= MAX_ARTICLES {
            inner.articles.clear();
        }
        inner.articles.insert(slug, (Instant::now(), keys, article));
    }

    /// A usable copy for `key`. Once a copy is older than `ttl`, the first
    /// request to ask gets `None` and refreshes it, while the others keep
    /// getting the old copy, so an expiry under load sends one request to the
    /// database instead of all of them. A refresh that has not come back
    /// within `REFRESH_TIMEOUT` is handed to the next request, and no copy is
    /// served more than `MAX_STALE` past its time.
    fn get(&self, key: &str, ttl: Duration) -> Option<Arc<Kept>> {
        match self.lookup(key, ttl) {
            Lookup::Hit(kept) => Some(kept),
            Lookup::Refresh | Lookup::Missing => None,
        }
    }

    /// Like [`ResponseCache::get`], telling a missing copy from one this
    /// request is to refresh.
    fn lookup(&self, key: &str, ttl: Duration) -> Lookup {
        let mut inner = self.lock();
        let Some(entry) = inner.entries.get_mut(key) else {
            return Lookup::Missing;
        };
        let age = entry.stored.elapsed();
        if age < ttl {
            return Lookup::Hit(Arc::clone(&entry.kept));
        }
        if age >= ttl + MAX_STALE {
            return Lookup::Missing;
        }
        if entry
            .refreshing
            .is_some_and(|since| since.elapsed() < REFRESH_TIMEOUT)
        {
            return Lookup::Hit(Arc::clone(&entry.kept));
        }
        entry.refreshing = Some(Instant::now());
        Lookup::Refresh
    }

    /// For a missing copy: this request fills it (`Ok`, holding the claim
    /// until the guard drops), or waits for the request already filling it
    /// (`Err` with a receiver). Keys whose answers are not kept (private,
    /// failed) are filled by everyone at once, as before.
    fn claim(&self, key: &str) -> Option<Result<u64, tokio::sync::watch::Receiver<()>>> {
        let hashed = claim_key(self, key);
        let mut inner = self.lock();
        if inner
            .unstored
            .get(&hashed)
            .is_some_and(|until| *until > Instant::now())
        {
            return None;
        }
        if let Some(filling) = inner.filling.get(&hashed) {
            return Some(Err(filling.subscribe()));
        }
        if inner.entries.contains_key(key) {
            // Filled between the lookup and now: look again at once.
            let (_, done) = tokio::sync::watch::channel(());
            return Some(Err(done));
        }
        if inner.filling.len() >= MAX_ENTRIES {
            return None;
        }
        let (sender, _) = tokio::sync::watch::channel(());
        inner.filling.insert(hashed, sender);
        Some(Ok(hashed))
    }

    /// Ends a claim: waiters wake and look again. When the answer will not
    /// be kept (`unkept`), the key's misses stop waiting for a while.
    fn release(&self, key: u64, unkept: bool, ttl: Duration) {
        let mut inner = self.lock();
        inner.filling.remove(&key);
        if unkept {
            if inner.unstored.len() >= MAX_ENTRIES {
                let now = Instant::now();
                inner.unstored.retain(|_, until| *until > now);
                if inner.unstored.len() >= MAX_ENTRIES {
                    inner.unstored.clear();
                }
            }
            inner.unstored.insert(key, Instant::now() + ttl);
        }
    }

    /// Keeps a copy loaded at `generation`; whether it was kept.
    fn put(
        &self,
        key: String,
        generation: u64,
        entry: (HeaderMap, Bytes, Option<ArticleId>),
    ) -> bool {
        let (headers, body, article) = entry;
        if body.len() > MAX_BODY || key.len() > MAX_KEY {
            return false;
        }
        let keys: Vec<String> = headers
            .get(&SURROGATE_KEY)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(' ').map(str::to_owned).collect())
            .unwrap_or_default();
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let etag = text(header::ETAG).and_then(|strong| {
            let weak = HeaderValue::from_str(&weak(strong)).ok()?;
            Some((strong.to_owned(), weak))
        });
        let last_modified = text(header::LAST_MODIFIED).and_then(parse_http_date);
        let kept = Kept {
            article,
            keys,
            etag,
            last_modified,
            headers,
            body,
            gzip: Arc::default(),
            brotli: Arc::default(),
        };
        let size = kept.size(&key);
        let entry = Entry {
            refreshing: None,
            stored: Instant::now(),
            kept: Arc::new(kept),
        };
        let mut inner = self.lock();
        if inner.purged_since(generation, &entry.kept.keys) {
            return false;
        }
        if inner.entries.len() >= MAX_ENTRIES || inner.bytes + size > MAX_TOTAL {
            inner.entries.clear();
            inner.bytes = 0;
        }
        inner.bytes += size;
        let old = inner.entries.insert(key.clone(), entry);
        if let Some(old) = old {
            inner.bytes -= old.kept.size(&key);
        }
        true
    }

    /// Changes with every purge: what was loaded before a purge of its keys
    /// must not be stored after it.
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }
}

/// Whether a request may be answered from, and stored into, the cache: an
/// anonymous GET (an `Authorization` header that did not make the request
/// signed in does not count, so junk credentials cannot bypass the cache). A
/// meter token does not stop it: only public answers are ever stored, and
/// those are the same with or without one (a metered article is private).
fn cacheable(req: &ServiceRequest) -> bool {
    req.method() == Method::GET
        && req.path().starts_with("/api/v1/")
        && req.extensions().get::<Identity>() == Some(&Identity::Anonymous)
        && !req.headers().contains_key("cookie")
}

/// Tells `middleware::encoding_aware_caching` that a response's `ETag` form is
/// already the one its coding calls for (the cache decided it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct EtagDecided;

/// Whether the request was a HEAD (answered as a GET; see `middleware::head_as_get`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct WasHead;

/// Answers from a kept copy, in the coding the client prefers, or 304 when
/// its copy is current (by `If-None-Match`, else `If-Modified-Since`). A
/// 304 carries the same `ETag` form and `Vary` as the 200 would. An answer
/// in identity says `Content-Encoding: identity` on its way out, so that
/// `Compress` leaves it alone (the header is dropped again outside it).
fn replay(req: ServiceRequest, kept: &Kept) -> ServiceResponse<BoxBody> {
    let coding = negotiate(req.headers(), kept.codings());
    let coded = kept.coded(coding);
    let strong = kept.etag.as_ref().map(|(strong, _)| strong.as_str());
    let fresh = still_fresh(req.headers(), strong, kept.last_modified);
    let mut response = HttpResponse::new(if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    });
    let headers = response.headers_mut();
    for (name, value) in &kept.headers {
        headers.append(name.clone(), value.clone());
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let token = coded.as_ref().and(coding.token()).unwrap_or("identity");
    if coded.is_some()
        && let Some((_, weak)) = &kept.etag
    {
        headers.insert(header::ETAG, weak.clone());
    }
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
    response.extensions_mut().insert(EtagDecided);
    let response = if fresh {
        response.set_body(BoxBody::new(()))
    } else {
        response.set_body(BoxBody::new(coded.unwrap_or_else(|| kept.body.clone())))
    };
    req.into_response(response)
}

/// The conditional headers of a request, taken off it: the request that
/// fills or refreshes a copy must get the whole answer to store, whatever
/// its own client already holds.
fn take_conditions(req: &mut ServiceRequest) -> Vec<(header::HeaderName, HeaderValue)> {
    let mut taken = Vec::new();
    for name in [header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE] {
        for value in req.headers_mut().remove(&name) {
            taken.push((name.clone(), value));
        }
    }
    taken
}

/// What serving from the cache uses besides the cache itself.
pub struct Serving<'a> {
    /// How long a copy is fresh (`RESPONSE_CACHE_TTL_MS`); zero turns the cache off.
    pub ttl: Duration,
    /// Counts a cached read of an article as a view.
    pub views: &'a ViewCounter,
    /// Counts hits, fills and refreshes.
    pub metrics: &'a Metrics,
    /// The time of a view.
    pub clock: Clock,
}

/// Serves public GETs from `cache` and keeps what they return; on a
/// successful write, forgets what the write says it changed.
pub async fn serve<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
    cache: &ResponseCache,
    serving: Serving<'_>,
) -> Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error> {
    let ttl = serving.ttl;
    if ttl.is_zero() || !cacheable(&req) {
        let response = next.call(req).await?;
        if response.status().is_success()
            && let Some(Purge(keys)) = response.response().extensions().get::<Purge>()
        {
            cache.purge(keys);
        }
        return Ok(response.map_into_left_body());
    }
    let key = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
    let hit = |req: ServiceRequest, kept: Arc<Kept>, outcome: &str| {
        // A HEAD reads nothing: it is no view.
        if let Some(article) = kept
            .article
            .filter(|_| req.extensions().get::<WasHead>().is_none())
        {
            let reader = format!("addr:{}", ClientAddr::of(req.request()).key());
            serving.views.record(article, &reader, serving.clock.now());
        }
        serving.metrics.cache(outcome);
        replay(req, &kept)
    };
    let mut filling = None;
    match cache.lookup(&key, ttl) {
        Lookup::Hit(kept) => return Ok(hit(req, kept, "hit").map_into_right_body()),
        Lookup::Refresh => serving.metrics.cache("refresh"),
        // A cold copy is filled by one request; the others wait for it
        // (bounded), rather than every concurrent miss computing the same
        // answer and draining the pool after a restart.
        Lookup::Missing => match cache.claim(&key) {
            Some(Ok(claimed)) => {
                filling = Some(Filling {
                    cache,
                    key: claimed,
                    ttl,
                    unkept: false,
                });
                serving.metrics.cache("fill");
            }
            Some(Err(mut done)) => {
                let _ = actix_web::rt::time::timeout(FILL_WAIT, done.changed()).await;
                if let Some(kept) = cache.get(&key, ttl) {
                    return Ok(hit(req, kept, "waited").map_into_right_body());
                }
                serving.metrics.cache("fill");
            }
            None => serving.metrics.cache("fill"),
        },
    }
    let conditions = take_conditions(&mut req);
    let generation = cache.generation();
    let response = next.call(req).await?;
    let public = response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("public"));
    if response.status() != StatusCode::OK || !public {
        // Only an answer that depends on the reader is never kept: a failed
        // or missing one may well be kept next time.
        if let Some(filling) = filling.as_mut() {
            filling.unkept = response.status() == StatusCode::OK;
        }
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
    let stored = cache.put(
        key,
        generation,
        (head.headers().clone(), body.clone(), article),
    );
    if let Some(filling) = filling.as_mut() {
        filling.unkept = !stored;
    }
    drop(filling);
    // The filler's own client: its conditions decide between 304 and the
    // body as computed (coded on the fly, at `Compress`'s cheap levels, so
    // that a target asked for once costs no stored-variant compression).
    let mut original = HeaderMap::new();
    for (name, value) in conditions {
        original.append(name, value);
    }
    let validator = |name| head.headers().get(name).and_then(|v| v.to_str().ok());
    let fresh = still_fresh(
        &original,
        validator(header::ETAG),
        validator(header::LAST_MODIFIED).and_then(parse_http_date),
    );
    // Too small to code: sent as every hit will send it, in identity.
    let small = body.len() < MIN_COMPRESSED;
    let mut response = if fresh {
        let mut not_modified = HttpResponse::new(StatusCode::NOT_MODIFIED);
        for (name, value) in head.headers() {
            not_modified
                .headers_mut()
                .append(name.clone(), value.clone());
        }
        not_modified.set_body(BoxBody::new(()))
    } else {
        head.set_body(BoxBody::new(body))
    };
    if small {
        response.headers_mut().insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        response.extensions_mut().insert(EtagDecided);
    }
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

    fn tagged(keys: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            SURROGATE_KEY.clone(),
            actix_web::http::header::HeaderValue::from_static(keys),
        );
        headers
    }

    #[test]
    fn a_write_forgets_what_was_kept_and_refuses_late_arrivals() {
        let cache = ResponseCache::default();
        let ttl = Duration::from_secs(60);
        let before = cache.generation();
        stored(&cache, "/a", "old");
        cache.purge(&[]);
        assert!(cache.get("/a", ttl).is_none());
        // A response computed before the write arrives after it: not kept.
        cache.put(
            "/a".to_owned(),
            before,
            (HeaderMap::new(), Bytes::from_static(b"stale"), None),
        );
        assert!(cache.get("/a", ttl).is_none());
    }

    #[test]
    fn a_purge_forgets_only_what_carries_its_keys() {
        let cache = ResponseCache::default();
        let ttl = Duration::from_secs(60);
        let g = cache.generation();
        let put = |path: &str, keys: &'static str, generation: u64| {
            cache.put(
                path.to_owned(),
                generation,
                (tagged(keys), Bytes::from_static(b"x"), None),
            );
        };
        put("/topics", "topics articles topic-energy", g);
        put("/plans", "plans", g);
        put("/articles", "articles article-7 topic-energy", g);
        cache.purge(&["topic-energy".to_owned()]);
        assert!(cache.get("/topics", ttl).is_none());
        assert!(cache.get("/articles", ttl).is_none());
        assert!(cache.get("/plans", ttl).is_some(), "untouched by the purge");
        // Loaded before the purge: kept only when the purge missed it.
        put("/articles", "articles article-7 topic-energy", g);
        assert!(cache.get("/articles", ttl).is_none());
        put("/newsletters", "newsletters", g);
        assert!(cache.get("/newsletters", ttl).is_some());
    }
}
