//! HTTP as real clients use it: compressed answers from memory, HEAD on
//! every GET resource, conditional requests on every public read.

use std::io::Read;
use std::time::Duration;

use awc::http::Method;

use crate::builders::ArticleBuilder;
use crate::harness::{TestApp, TestResponse};

const BROWSER: &str = "gzip, deflate, br";

async fn cached_app() -> TestApp {
    TestApp::spawn_with(|config| config.response_cache_ttl = Duration::from_secs(60)).await
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

fn unbrotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(body, 4096)
        .read_to_end(&mut out)
        .expect("brotli");
    out
}

impl TestApp {
    /// GET without awc decoding the body, so the coded bytes can be checked.
    async fn raw(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut request = awc::Client::builder()
            .disable_redirects()
            .finish()
            .request(method, format!("{}{path}", self.address))
            .no_decompress();
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let mut response = request.send().await.expect("a response");
        let body = response.body().limit(16 << 20).await.expect("a body");
        TestResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body,
        }
    }
}

#[actix_web::test]
async fn cached_answers_come_in_the_coding_asked_for() {
    let app = cached_app().await;
    for i in 0..20 {
        ArticleBuilder::new(&format!("story-{i}")).insert(&app);
    }
    let plain = app.raw(Method::GET, "/api/v1/articles", &[]).await;
    assert_eq!(plain.status, 200);
    assert!(plain.header("content-encoding").is_none());
    let strong = plain.header("etag").unwrap().to_owned();
    assert!(strong.starts_with('"'));
    for (asked, coding) in [
        (BROWSER, "br"),
        ("gzip", "gzip"),
        ("br;q=0.2, gzip;q=0.9", "gzip"),
    ] {
        // Twice: the second is certainly a hit.
        for _ in 0..2 {
            let coded = app
                .raw(
                    Method::GET,
                    "/api/v1/articles",
                    &[("accept-encoding", asked)],
                )
                .await;
            assert_eq!(coded.status, 200);
            assert_eq!(coded.header("content-encoding"), Some(coding), "{asked}");
            assert_eq!(coded.header("etag"), Some(format!("W/{strong}").as_str()));
            assert!(
                coded
                    .header("vary")
                    .unwrap()
                    .to_ascii_lowercase()
                    .contains("accept-encoding")
            );
            let decoded = match coding {
                "br" => unbrotli(&coded.body),
                _ => gunzip(&coded.body),
            };
            assert_eq!(decoded, plain.body.to_vec(), "{asked}");
            assert!(coded.body.len() < plain.body.len());
        }
    }
    let identity = app
        .raw(
            Method::GET,
            "/api/v1/articles",
            &[("accept-encoding", "identity")],
        )
        .await;
    assert!(identity.header("content-encoding").is_none());
    assert_eq!(identity.body, plain.body);
    // A 304 carries the ETag form and Vary of its 200.
    for (asked, etag) in [
        (BROWSER, format!("W/{strong}")),
        ("identity", strong.clone()),
    ] {
        let revalidated = app
            .raw(
                Method::GET,
                "/api/v1/articles",
                &[("accept-encoding", asked), ("if-none-match", &strong)],
            )
            .await;
        assert_eq!(revalidated.status, 304, "{asked}");
        assert_eq!(revalidated.header("etag"), Some(etag.as_str()), "{asked}");
        assert!(
            revalidated
                .header("vary")
                .is_some_and(|v| v.contains("accept-encoding"))
        );
    }
}

#[actix_web::test]
async fn every_get_resource_answers_head() {
    let app = cached_app().await;
    ArticleBuilder::new("free-story").insert(&app);
    for path in [
        "/api/v1/articles",
        "/api/v1/articles/free-story",
        "/api/v1/home",
        "/api/v1/topics",
        "/api/v1/feeds/rss",
        "/api/v1/openapi.json",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/docs/",
    ] {
        let get = app
            .raw(Method::GET, path, &[("accept-encoding", BROWSER)])
            .await;
        let head = app
            .raw(Method::HEAD, path, &[("accept-encoding", BROWSER)])
            .await;
        assert_eq!(head.status, get.status, "{path}");
        assert_eq!(head.status, 200, "{path}");
        assert!(head.body.is_empty(), "{path}");
        for name in ["content-type", "cache-control", "content-encoding"] {
            assert_eq!(head.header(name), get.header(name), "{path} {name}");
        }
        if path.starts_with("/api/v1/") {
            assert_eq!(head.header("etag"), get.header("etag"), "{path}");
        }
    }
    let missing = app
        .raw(Method::HEAD, "/api/v1/articles/no-such-story", &[])
        .await;
    assert_eq!(missing.status, 404);
    let post_only = app.raw(Method::HEAD, "/api/v1/auth/login", &[]).await;
    assert_eq!(post_only.status, 405);
}

#[actix_web::test]
async fn cached_feeds_and_the_document_answer_conditional_requests() {
    let app = cached_app().await;
    ArticleBuilder::new("dated").insert(&app);
    let first = app.get("/api/v1/feeds/atom").await;
    let modified = first.header("last-modified").unwrap().to_owned();
    // Asked twice: the first fills the cache, the second is a hit.
    for _ in 0..2 {
        let again = app
            .get_with("/api/v1/feeds/atom", &[("if-modified-since", &modified)])
            .await;
        assert_eq!(again.status, 304, "If-Modified-Since from memory too");
    }
    let document = app.get("/api/v1/openapi.json").await;
    let etag = document
        .header("etag")
        .expect("the document has an ETag")
        .to_owned();
    for _ in 0..2 {
        let again = app
            .get_with("/api/v1/openapi.json", &[("if-none-match", &etag)])
            .await;
        assert_eq!(again.status, 304);
    }
}

#[actix_web::test]
async fn an_empty_feed_does_not_date_itself_to_1970() {
    let app = TestApp::spawn().await;
    let feed = app.get("/api/v1/feeds/rss?topic=nothing-here").await;
    assert_eq!(feed.status, 200);
    let modified = feed.header("last-modified").unwrap_or_default().to_owned();
    assert!(!modified.contains("1970"), "{modified}");
    assert!(!feed.text().contains("1970"), "{}", feed.text());
}

/// The count of one outcome of the response cache, from `/metrics`.
async fn cache_outcome(app: &TestApp, outcome: &str) -> u64 {
    let metrics = app.get("/metrics").await.text();
    let line = format!("newsdesk_response_cache_total{{outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&line))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

#[actix_web::test]
async fn a_cold_copy_is_computed_once_however_many_ask_at_once() {
    let app = cached_app().await;
    for i in 0..30 {
        ArticleBuilder::new(&format!("story-{i}")).insert(&app);
    }
    let requests = (0..32).map(|_| app.get("/api/v1/home"));
    let answers = futures_util::future::join_all(requests).await;
    assert!(answers.iter().all(|a| a.status == 200));
    let first = answers[0].body.clone();
    assert!(
        answers.iter().all(|a| a.body == first),
        "one answer for all"
    );
    assert_eq!(cache_outcome(&app, "fill").await, 1, "computed once");
    assert_eq!(
        cache_outcome(&app, "waited").await + cache_outcome(&app, "hit").await,
        31
    );
    // Answers nobody keeps (per reader) are not held up behind each other.
    ArticleBuilder::new("metered")
        .access(newsdesk::domain::article::AccessLevel::Metered)
        .insert(&app);
    let metered = (0..8).map(|_| app.get("/api/v1/articles/metered"));
    for answer in futures_util::future::join_all(metered).await {
        assert_eq!(answer.status, 200);
        assert!(
            answer
                .header("cache-control")
                .unwrap()
                .starts_with("private")
        );
    }
}

#[actix_web::test]
async fn a_revalidation_fills_a_cold_copy_for_everyone() {
    let app = cached_app().await;
    for i in 0..10 {
        ArticleBuilder::new(&format!("story-{i}")).insert(&app);
    }
    // The validator, learnt without the cache (a cookie bypasses it).
    let etag = app
        .get_with("/api/v1/home", &[("cookie", "x=1")])
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let condition = [("if-none-match", etag.as_str())];
    let revalidations = (0..16).map(|_| app.get_with("/api/v1/home", &condition));
    let answers = futures_util::future::join_all(revalidations).await;
    assert!(answers.iter().all(|a| a.status == 304));
    assert_eq!(
        cache_outcome(&app, "fill").await,
        1,
        "a 304 stored the copy"
    );
    // The revalidations either waited for the fill or, arriving after it,
    // hit the copy: whichever, a plain GET now is one more hit.
    let hits = cache_outcome(&app, "hit").await;
    let plain = app.get("/api/v1/home").await;
    assert_eq!(plain.status, 200);
    assert_eq!(cache_outcome(&app, "hit").await, hits + 1);
}

#[actix_web::test]
async fn a_head_spends_no_meter_and_counts_no_view() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        ArticleBuilder::new(&format!("metered-{i}"))
            .access(newsdesk::domain::article::AccessLevel::Metered)
            .insert(&app);
    }
    let first = app.get("/api/v1/articles/metered-0").await;
    let token = first.header("x-meter-token").unwrap().to_owned();
    for slug in ["metered-1", "metered-2"] {
        let head = app
            .raw(
                Method::HEAD,
                &format!("/api/v1/articles/{slug}"),
                &[("x-meter-token", &token)],
            )
            .await;
        assert_eq!(head.status, 200);
    }
    let read = app
        .get_with("/api/v1/articles/metered-1", &[("x-meter-token", &token)])
        .await
        .json();
    assert_eq!(read["access"]["meter"]["used"], 2, "{read}");
    app.flush_views().await;
    assert_eq!(app.state.views.pending_total(), 0);
}

#[actix_web::test]
async fn small_cached_answers_are_not_compressed_again_on_every_hit() {
    let app = cached_app().await;
    for _ in 0..2 {
        let empty = app
            .raw(
                Method::GET,
                "/api/v1/topics",
                &[("accept-encoding", BROWSER)],
            )
            .await;
        assert_eq!(empty.status, 200);
        assert!(empty.header("content-encoding").is_none() || empty.body.len() >= 256);
    }
    let hit = app
        .raw(
            Method::GET,
            "/api/v1/topics",
            &[("accept-encoding", BROWSER)],
        )
        .await;
    assert!(
        hit.header("content-encoding").is_none(),
        "identity, as stored"
    );
    assert!(
        hit.header("etag").unwrap().starts_with('"'),
        "and its strong tag"
    );
    let revalidated = app
        .raw(
            Method::GET,
            "/api/v1/topics",
            &[
                ("accept-encoding", BROWSER),
                ("if-none-match", hit.header("etag").unwrap()),
            ],
        )
        .await;
    assert_eq!(revalidated.status, 304);
    assert_eq!(
        revalidated.header("etag"),
        hit.header("etag"),
        "the same form as its 200"
    );
}
