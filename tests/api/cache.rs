//! The in-process response cache: what it serves, what it never keeps, and
//! when it forgets.

use std::time::Duration;

use awc::http::Method;
use newsdesk::domain::account::Role;
use newsdesk::domain::article::AccessLevel;
use serde_json::json;

use crate::builders::ArticleBuilder;
use crate::harness::TestApp;

async fn cached_app(ttl: Duration) -> TestApp {
    TestApp::spawn_with(move |config| config.response_cache_ttl = ttl).await
}

async fn slugs(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Vec<String> {
    let response = app.get_with(path, headers).await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["slug"].as_str().expect("a slug").to_owned())
        .collect()
}

#[actix_web::test]
async fn public_lists_come_from_memory_until_a_write() {
    let app = cached_app(Duration::from_secs(60)).await;
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    ArticleBuilder::new("first").minutes_ago(10).insert(&app);
    assert_eq!(slugs(&app, "/api/v1/articles", &[]).await, ["first"]);

    // Written behind the server's back: the cached page is still served.
    ArticleBuilder::new("second").minutes_ago(5).insert(&app);
    let cached = app.get("/api/v1/articles").await;
    assert_eq!(cached.json()["data"].as_array().unwrap().len(), 1);
    let etag = cached.header("etag").unwrap().to_owned();
    let revalidated = app
        .get_with("/api/v1/articles", &[("if-none-match", &etag)])
        .await;
    assert_eq!(revalidated.status, 304, "conditional requests too");
    // Valid credentials bypass the cache.
    let bearer = format!("Bearer {editor}");
    assert_eq!(
        slugs(&app, "/api/v1/articles", &[("authorization", &bearer)]).await,
        ["second", "first"]
    );
    // Junk credentials do not: where a token is taken it is refused before
    // any work, and where none is taken it is ignored.
    let junk = app
        .get_with("/api/v1/articles", &[("authorization", "Bearer junk")])
        .await;
    junk.assert_problem(401, "invalid_token");
    assert_eq!(
        slugs(&app, "/api/v1/topics", &[("authorization", "anything")]).await,
        Vec::<String>::new()
    );

    // Writes that change no public output empty nothing: a logout with a
    // junk token, a topic (which no cached article list shows).
    let logout = app
        .post("/api/v1/auth/logout", &json!({"refresh_token": "junk"}))
        .await;
    assert_eq!(logout.status, 204);
    let created = app
        .send_as(
            Method::POST,
            "/api/v1/topics",
            &json!({"name": "Energy"}),
            &editor,
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(slugs(&app, "/api/v1/articles", &[]).await, ["first"]);
    let topics = app.get("/api/v1/topics").await.json();
    assert_eq!(
        topics["data"][0]["slug"], "energy",
        "the topic list was purged"
    );

    // An article write purges the article lists.
    edit(&app, &editor, "first", json!({"headline": "First, edited"})).await;
    assert_eq!(
        slugs(&app, "/api/v1/articles", &[]).await,
        ["second", "first"]
    );
}

#[actix_web::test]
async fn entries_expire_after_their_time() {
    let app = cached_app(Duration::from_millis(200)).await;
    ArticleBuilder::new("first").insert(&app);
    assert_eq!(slugs(&app, "/api/v1/articles", &[]).await.len(), 1);
    ArticleBuilder::new("second").insert(&app);
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(slugs(&app, "/api/v1/articles", &[]).await.len(), 2);
}

#[actix_web::test]
async fn reader_dependent_answers_are_never_kept() {
    let app = cached_app(Duration::from_secs(60)).await;
    ArticleBuilder::new("premium-one")
        .access(AccessLevel::Premium)
        .insert(&app);
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let whole = app.get_as("/api/v1/articles/premium-one", &editor).await;
    assert!(whole.text().contains("SECRET-ENDING"));
    for _ in 0..2 {
        let anonymous = app.get("/api/v1/articles/premium-one").await;
        assert_eq!(anonymous.status, 200);
        assert!(
            !anonymous.text().contains("SECRET-ENDING"),
            "a staff read is never served to anyone else"
        );
        assert!(
            anonymous.header("x-meter-token").is_some(),
            "not a stored answer"
        );
    }
}

#[actix_web::test]
async fn cached_free_articles_still_count_as_views() {
    use diesel::prelude::*;
    use newsdesk::db::schema::article_views;

    let app = TestApp::spawn_with(|config| {
        config.response_cache_ttl = Duration::from_secs(60);
        config.trusted_proxies = newsdesk::client::TrustedProxies::new(
            vec!["127.0.0.1".parse().unwrap()],
            newsdesk::client::ForwardedHeader::XForwardedFor,
        );
    })
    .await;
    let id = ArticleBuilder::new("free-one").insert(&app);
    let first = app
        .get_from("/api/v1/articles/free-one", "192.0.2.10")
        .await;
    assert!(first.header("cache-control").unwrap().starts_with("public"));
    for reader in ["192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.11"] {
        let again = app
            .get_with(
                "/api/v1/articles/free-one",
                &[
                    ("x-meter-token", "m1.whatever.x"),
                    ("x-forwarded-for", reader),
                ],
            )
            .await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body, first.body, "served from memory");
    }
    app.flush_views().await;
    let views: i32 = app.db(|conn| {
        article_views::table
            .filter(article_views::article_id.eq(id))
            .select(article_views::views)
            .first(conn)
            .unwrap()
    });
    assert_eq!(
        views, 4,
        "every reader counts, cached or not; a reader counts once an hour"
    );
}

/// Edits `slug` through the API as `editor`, with the `If-Match` it needs.
async fn edit(app: &TestApp, editor: &str, slug: &str, patch: serde_json::Value) {
    let current = app
        .get_as(&format!("/api/v1/articles/{slug}"), editor)
        .await;
    let tag = current.header("etag").expect("an editor ETag").to_owned();
    let auth = format!("Bearer {editor}");
    let edited = app
        .json(
            Method::PATCH,
            &format!("/api/v1/articles/{slug}"),
            &patch,
            &[("authorization", &auth), ("if-match", &tag)],
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text());
}

#[actix_web::test]
async fn an_edit_reaches_every_reader_at_once_and_paywalling_beats_the_cache() {
    let app = cached_app(Duration::from_secs(60)).await;
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    ArticleBuilder::new("open-story").insert(&app);
    let before = app.get("/api/v1/articles/open-story").await;
    assert!(before.text().contains("SECRET-ENDING"), "free: whole");
    assert_eq!(slugs(&app, "/api/v1/articles", &[]).await, ["open-story"]);

    edit(
        &app,
        &editor,
        "open-story",
        json!({"headline": "Corrected"}),
    )
    .await;
    let after = app.get("/api/v1/articles/open-story").await;
    assert_eq!(after.json()["headline"], "Corrected");
    assert_ne!(after.header("etag"), before.header("etag"));
    let list = app.get("/api/v1/articles").await.json();
    assert_eq!(list["data"][0]["headline"], "Corrected", "lists too");

    edit(
        &app,
        &editor,
        "open-story",
        json!({"access_level": "premium"}),
    )
    .await;
    for _ in 0..2 {
        let anonymous = app.get("/api/v1/articles/open-story").await;
        assert_eq!(anonymous.status, 200);
        assert!(!anonymous.text().contains("SECRET-ENDING"));
        assert_eq!(anonymous.json()["access"]["full"], false);
        assert_eq!(anonymous.header("cache-control"), Some("private, no-cache"));
        assert!(anonymous.header("surrogate-key").is_none());
        let vary = anonymous.header("vary").unwrap().to_ascii_lowercase();
        for name in ["authorization", "x-meter-token", "x-api-key"] {
            assert!(vary.contains(name), "{vary}");
        }
    }
}

#[actix_web::test]
async fn metered_reads_keep_counting_while_the_article_is_in_memory() {
    let app = cached_app(Duration::from_secs(60)).await;
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    for slug in ["m1", "m2", "m3", "m4"] {
        ArticleBuilder::new(slug)
            .access(AccessLevel::Metered)
            .insert(&app);
    }
    // Distinct new readers of one article, each whole, each with a meter of one.
    for _ in 0..3 {
        let read = app.get("/api/v1/articles/m1").await;
        assert_eq!(read.json()["access"]["full"], true);
        assert_eq!(read.json()["access"]["meter"]["used"], 1);
        assert!(read.header("x-meter-token").is_some());
    }
    // One reader through the allowance (3 for anonymous readers).
    let first = app.get("/api/v1/articles/m1").await;
    let token = first.header("x-meter-token").unwrap().to_owned();
    let mut used = Vec::new();
    for slug in ["m1", "m2", "m3", "m4"] {
        let read = app
            .get_with(
                &format!("/api/v1/articles/{slug}"),
                &[("x-meter-token", &token)],
            )
            .await
            .json();
        used.push((
            read["access"]["full"].as_bool().unwrap(),
            read["access"]["meter"]["used"].as_i64().unwrap(),
        ));
    }
    assert_eq!(used, [(true, 1), (true, 2), (true, 3), (false, 3)]);

    // An edit to the body reaches metered readers at once.
    edit(
        &app,
        &editor,
        "m1",
        json!({"body_markdown": "A rewritten body that says NEW-TEXT plainly."}),
    )
    .await;
    let read = app.get("/api/v1/articles/m1").await;
    assert!(read.text().contains("NEW-TEXT"), "{}", read.text());
}

#[actix_web::test]
async fn renaming_an_author_reaches_cached_feeds_and_lists() {
    let app = cached_app(Duration::from_secs(60)).await;
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let author = app.author("irina-volkova", "Irina Volkova", None);
    ArticleBuilder::new("bylined")
        .authors(&[author])
        .insert(&app);
    let feed = app.get("/api/v1/feeds/rss").await.text();
    assert!(feed.contains("Irina Volkova"), "{feed}");
    let renamed = app
        .send_as(
            Method::PATCH,
            "/api/v1/authors/irina-volkova",
            &json!({"name": "Irina Volkova-Hart"}),
            &editor,
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let feed = app.get("/api/v1/feeds/rss").await.text();
    assert!(
        feed.contains("Irina Volkova-Hart"),
        "the byline is current: {feed}"
    );
    let list = app.get("/api/v1/articles").await.json();
    assert_eq!(list["data"][0]["authors"][0]["name"], "Irina Volkova-Hart");
}
