//! Topics, authors and sources.

use newsdesk::domain::article::ArticleStatus;
use serde_json::Value;

use crate::builders::ArticleBuilder;
use crate::harness::TestApp;

fn field(page: &Value, name: &str) -> Vec<Value> {
    page["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|item| item[name].clone())
        .collect()
}

#[actix_web::test]
async fn topics_count_only_published_articles() {
    let app = TestApp::spawn().await;
    let energy = app.topic("energy", "Energy");
    let china = app.topic("china", "China");
    app.topic("empty", "Empty");
    ArticleBuilder::new("a").topics(&[energy]).insert(&app);
    ArticleBuilder::new("b")
        .topics(&[china, energy])
        .insert(&app);
    ArticleBuilder::new("draft")
        .topics(&[energy])
        .status(ArticleStatus::Draft)
        .insert(&app);

    let page = app.get("/api/v1/topics").await.json();
    assert_eq!(field(&page, "slug"), ["china", "empty", "energy"]);
    assert_eq!(field(&page, "article_count"), [1, 0, 2]);

    let topic = app.get("/api/v1/topics/energy").await.json();
    assert_eq!(topic["name"], "Energy");
    assert_eq!(topic["article_count"], 2);
    assert_eq!(topic["description"], "A topic for tests.");
    app.get("/api/v1/topics/nothing")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn authors_show_their_affiliation_and_bylines() {
    let app = TestApp::spawn().await;
    let source = app.source("vedomosti", "ru");
    let irina = app.author("irina", "Irina", Some(source));
    let staff = app.author("staff", "Staff Writer", None);
    ArticleBuilder::new("a")
        .authors(&[irina, staff])
        .insert(&app);
    ArticleBuilder::new("b").authors(&[irina]).insert(&app);

    let page = app.get("/api/v1/authors").await.json();
    assert_eq!(field(&page, "slug"), ["irina", "staff"]);
    assert_eq!(field(&page, "article_count"), [2, 1]);

    let irina = app.get("/api/v1/authors/irina").await.json();
    assert_eq!(irina["affiliation"]["slug"], "vedomosti");
    assert_eq!(irina["affiliation"]["language"], "ru");
    let staff = app.get("/api/v1/authors/staff").await.json();
    assert_eq!(staff["affiliation"], Value::Null);
    app.get("/api/v1/authors/nobody")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn sources_count_their_translations() {
    let app = TestApp::spawn().await;
    let fr = app.source("courrier", "fr");
    app.source("silent", "pt");
    ArticleBuilder::new("a").source(fr, "fr").insert(&app);
    ArticleBuilder::new("b").source(fr, "fr").insert(&app);

    let page = app.get("/api/v1/sources").await.json();
    assert_eq!(field(&page, "slug"), ["courrier", "silent"]);
    assert_eq!(field(&page, "article_count"), [2, 0]);
    let courrier = app.get("/api/v1/sources/courrier").await.json();
    assert_eq!(courrier["language"], "fr");
    assert_eq!(courrier["homepage_url"], "https://source.example");
    app.get("/api/v1/sources/none")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn catalogue_lists_paginate_by_slug_without_gaps() {
    let app = TestApp::spawn().await;
    let mut expected = Vec::new();
    // Hyphens and digits sort byte by byte on both backends.
    for slug in ["a-b", "ab", "a1", "b", "c-d-e", "zz", "m", "n-1"] {
        app.topic(slug, slug);
        expected.push(slug.to_owned());
    }
    expected.sort();

    for path in ["/api/v1/topics", "/api/v1/authors", "/api/v1/sources"] {
        if path != "/api/v1/topics" {
            for slug in &expected {
                if path == "/api/v1/authors" {
                    app.author(slug, slug, None);
                } else {
                    app.source(slug, "en");
                }
            }
        }
        let mut seen = Vec::new();
        let mut url = format!("{path}?limit=3");
        loop {
            let response = app.get(&url).await;
            assert_eq!(response.status, 200, "{}", response.text());
            let page = response.json();
            seen.extend(
                field(&page, "slug")
                    .into_iter()
                    .map(|s| s.as_str().unwrap().to_owned()),
            );
            match page["meta"]["next_cursor"].as_str() {
                Some(cursor) => {
                    assert!(response.header("link").unwrap().contains(cursor));
                    url = format!("{path}?limit=3&cursor={cursor}");
                }
                None => break,
            }
        }
        assert_eq!(seen, expected, "{path}");
    }
}

#[actix_web::test]
async fn catalogue_lists_refuse_bad_pagination() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/topics", "/api/v1/authors", "/api/v1/sources"] {
        app.get(&format!("{path}?limit=0"))
            .await
            .assert_problem(400, "validation_failed");
        app.get(&format!("{path}?cursor=%%%"))
            .await
            .assert_problem(400, "invalid_cursor");
    }
}

/// Moves an article in or out of publication the way any write path would.
fn set_publication(app: &TestApp, slug: &str, status: ArticleStatus, minutes_ago: Option<i64>) {
    use diesel::prelude::*;
    use newsdesk::db::schema::articles;
    let published_at =
        minutes_ago.map(|m| newsdesk::clock::Clock::System.now() - chrono::Duration::minutes(m));
    let updated = app.db(|conn| {
        diesel::update(articles::table.filter(articles::slug.eq(slug)))
            .set((
                articles::status.eq(status.as_str()),
                articles::published_at.eq(published_at),
            ))
            .execute(conn)
    });
    assert_eq!(updated.expect("update the article"), 1);
}

#[actix_web::test]
async fn counts_follow_articles_in_and_out_of_publication() {
    let app = TestApp::spawn().await;
    let energy = app.topic("energy", "Energy");
    let ana = app.author("ana", "Ana", None);
    ArticleBuilder::new("live")
        .topics(&[energy])
        .authors(&[ana])
        .insert(&app);
    ArticleBuilder::new("draft")
        .topics(&[energy])
        .authors(&[ana])
        .status(ArticleStatus::Draft)
        .insert(&app);
    assert_eq!(counts(&app, "energy", "ana").await, (1, 1));

    set_publication(&app, "draft", ArticleStatus::Published, Some(5));
    assert_eq!(counts(&app, "energy", "ana").await, (2, 2));

    set_publication(&app, "live", ArticleStatus::Archived, None);
    assert_eq!(counts(&app, "energy", "ana").await, (1, 1));

    set_publication(&app, "draft", ArticleStatus::Published, Some(-60));
    assert_eq!(
        counts(&app, "energy", "ana").await,
        (0, 0),
        "an article dated in the future is not counted yet"
    );
}

/// The article counts of a topic and an author.
async fn counts(app: &TestApp, topic: &str, author: &str) -> (i64, i64) {
    let topic = app.get(&format!("/api/v1/topics/{topic}")).await.json();
    let author = app.get(&format!("/api/v1/authors/{author}")).await.json();
    (
        topic["article_count"].as_i64().expect("a count"),
        author["article_count"].as_i64().expect("a count"),
    )
}
