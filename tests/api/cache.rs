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
    // Credentials bypass the cache.
    let bearer = format!("Bearer {editor}");
    assert_eq!(
        slugs(&app, "/api/v1/articles", &[("authorization", &bearer)]).await,
        ["second", "first"]
    );

    // Any successful write through the API empties it.
    let created = app
        .send_as(
            Method::POST,
            "/api/v1/topics",
            &json!({"name": "Energy"}),
            &editor,
        )
        .await;
    assert_eq!(created.status, 201);
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

    let app = cached_app(Duration::from_secs(60)).await;
    let id = ArticleBuilder::new("free-one").insert(&app);
    let first = app.get("/api/v1/articles/free-one").await;
    assert!(first.header("cache-control").unwrap().starts_with("public"));
    for _ in 0..3 {
        let again = app
            .get_with(
                "/api/v1/articles/free-one",
                &[("x-meter-token", "m1.whatever.x")],
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
    assert_eq!(views, 4, "every read counts, cached or not");
}
