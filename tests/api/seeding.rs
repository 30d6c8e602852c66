//! Demo and synthetic content, through the API.

use newsdesk::seed;

use crate::harness::TestApp;

#[actix_web::test]
async fn the_demo_publication_is_browsable_and_hides_its_drafts() {
    let app = TestApp::spawn().await;
    let report = app.db(seed::demo).expect("seed the demo");
    assert!(report.articles >= 64);

    let mut published = 0;
    let mut url = "/api/v1/articles?limit=100".to_owned();
    loop {
        let page = app.get(&url).await.json();
        for article in page["data"].as_array().unwrap() {
            published += 1;
            let slug = article["slug"].as_str().unwrap();
            assert!(
                !slug.starts_with("draft-") && !slug.starts_with("scheduled-"),
                "{slug}"
            );
        }
        match page["meta"]["next_cursor"].as_str() {
            Some(cursor) => url = format!("/api/v1/articles?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    assert!(published >= 60, "{published}");
    app.get("/api/v1/articles/draft-embargoed-budget-leak")
        .await
        .assert_problem(404, "not_found");
    let topics = app.get("/api/v1/topics").await.json();
    assert!(topics["data"].as_array().unwrap().len() >= 8);
    let videos = app.get("/api/v1/articles?kind=video").await.json();
    assert!(videos["data"].as_array().unwrap().len() >= 2);
    assert!(videos["data"][0]["video_url"].is_string());

    assert!(matches!(app.db(seed::demo), Err(seed::SeedError::NotEmpty)));
    assert_eq!(app.db(seed::demo_if_empty).unwrap(), None);
}

#[actix_web::test]
async fn synthetic_articles_are_generated_in_bulk_and_paginate() {
    let app = TestApp::spawn().await;
    let report = app
        .db(|conn| seed::synthetic(conn, 1_234))
        .expect("seed synthetic");
    assert_eq!(report.articles, 1_234);

    let first = app.get("/api/v1/articles?limit=100").await.json();
    assert_eq!(first["data"].as_array().unwrap().len(), 100);
    assert_eq!(first["data"][0]["featured_rank"], 1);
    let article = &first["data"][0];
    let full = app
        .get(&format!(
            "/api/v1/articles/{}",
            article["slug"].as_str().unwrap()
        ))
        .await
        .json();
    assert!(full["word_count"].as_i64().unwrap() > 300);

    // A second run adds more after the first, with fresh ids.
    app.db(|conn| seed::synthetic(conn, 10)).expect("seed more");
    let topic = app.get("/api/v1/topics?limit=100").await.json();
    let total: i64 = topic["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["article_count"].as_i64().unwrap())
        .sum();
    assert!(total >= 1_244, "{total}");
}
