//! The public article list and article pages.

use std::collections::HashSet;

use newsdesk::clock::Clock;
use newsdesk::domain::article::{AccessLevel, ArticleKind, ArticleStatus};
use serde_json::Value;

use crate::builders::ArticleBuilder;
use crate::harness::TestApp;

fn slugs(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|a| a["slug"].as_str().expect("slug").to_owned())
        .collect()
}

#[actix_web::test]
async fn the_list_shows_only_published_articles_newest_first() {
    let app = TestApp::spawn().await;
    ArticleBuilder::new("older").minutes_ago(120).insert(&app);
    ArticleBuilder::new("newer").minutes_ago(10).insert(&app);
    ArticleBuilder::new("a-draft")
        .status(ArticleStatus::Draft)
        .insert(&app);
    ArticleBuilder::new("scheduled")
        .status(ArticleStatus::Scheduled)
        .insert(&app);
    ArticleBuilder::new("archived")
        .status(ArticleStatus::Archived)
        .insert(&app);
    ArticleBuilder::new("dated-tomorrow")
        .minutes_ago(-24 * 60)
        .insert(&app);

    let response = app.get("/api/v1/articles").await;

    assert_eq!(response.status, 200);
    let page = response.json();
    assert_eq!(slugs(&page), ["newer", "older"]);
    assert_eq!(page["meta"]["limit"], 20);
    assert_eq!(page["meta"]["next_cursor"], Value::Null);
    assert!(response.header("link").is_none());
}

#[actix_web::test]
async fn articles_the_public_may_not_see_are_not_found() {
    let app = TestApp::spawn().await;
    ArticleBuilder::new("a-draft")
        .status(ArticleStatus::Draft)
        .insert(&app);
    ArticleBuilder::new("scheduled")
        .status(ArticleStatus::Scheduled)
        .insert(&app);
    ArticleBuilder::new("dated-tomorrow")
        .minutes_ago(-24 * 60)
        .insert(&app);

    for slug in [
        "a-draft",
        "scheduled",
        "dated-tomorrow",
        "never-existed",
        &"x".repeat(500),
    ] {
        app.get(&format!("/api/v1/articles/{slug}"))
            .await
            .assert_problem(404, "not_found");
    }
}

#[actix_web::test]
async fn summaries_carry_everything_but_the_body() {
    let app = TestApp::spawn().await;
    let topic = app.topic("energy", "Energy");
    let second = app.topic("europe", "Europe");
    let source = app.source("nordsee", "de");
    let first_author = app.author("henrike", "Henrike", Some(source));
    let second_author = app.author("claire", "Claire", None);
    ArticleBuilder::new("wind")
        .topics(&[topic, second])
        .authors(&[second_author, first_author])
        .source(source, "de")
        .featured(2)
        .insert(&app);

    let page = app.get("/api/v1/articles").await.json();

    let article = &page["data"][0];
    assert!(article.get("body").is_none(), "{article}");
    assert_eq!(article["topic"]["slug"], "energy");
    assert_eq!(article["topics"][0]["slug"], "energy");
    assert_eq!(article["topics"][1]["slug"], "europe");
    assert_eq!(
        article["authors"][0]["slug"], "claire",
        "bylines keep their order"
    );
    assert_eq!(article["authors"][1]["slug"], "henrike");
    assert_eq!(article["original"]["source"]["slug"], "nordsee");
    assert_eq!(article["original"]["language"], "de");
    assert_eq!(article["original"]["translator"], "A. Translator");
    assert_eq!(article["hero_image"]["alt"], "Alt text");
    assert_eq!(article["featured"], true);
    assert_eq!(article["featured_rank"], 2);
    assert_eq!(article["kind"], "news");
    assert_eq!(article["access_level"], "free");
    assert!(article["word_count"].as_i64().unwrap() > 40);
    assert!(article["published_at"].as_str().unwrap().ends_with('Z'));
}

#[actix_web::test]
async fn every_filter_narrows_the_list() {
    let app = TestApp::spawn().await;
    let energy = app.topic("energy", "Energy");
    let china = app.topic("china", "China");
    let le_monde = app.source("courrier", "fr");
    let caixin = app.source("huanan", "zh");
    let ana = app.author("ana", "Ana", None);
    let ben = app.author("ben", "Ben", None);
    ArticleBuilder::new("a")
        .topics(&[energy])
        .authors(&[ana])
        .source(le_monde, "fr")
        .kind(ArticleKind::Analysis)
        .minutes_ago(30)
        .insert(&app);
    ArticleBuilder::new("b")
        .topics(&[china, energy])
        .authors(&[ben, ana])
        .source(caixin, "zh")
        .kind(ArticleKind::Video)
        .featured(1)
        .minutes_ago(20)
        .insert(&app);
    ArticleBuilder::new("c")
        .topics(&[china])
        .authors(&[ben])
        .minutes_ago(10)
        .insert(&app);

    let cases: &[(&str, &[&str])] = &[
        ("topic=energy", &["b", "a"]),
        ("topic=china", &["c", "b"]),
        ("topic=unknown", &[]),
        ("author=ana", &["b", "a"]),
        ("author=ben", &["c", "b"]),
        ("source=courrier", &["a"]),
        ("source=huanan", &["b"]),
        ("language=zh", &["b"]),
        ("language=fr", &["a"]),
        ("kind=video", &["b"]),
        ("kind=news", &["c"]),
        ("featured=true", &["b"]),
        ("featured=false", &["c", "a"]),
        ("topic=energy&author=ben", &["b"]),
        ("topic=china&kind=news&author=ben", &["c"]),
    ];
    for (query, expected) in cases {
        let page = app.get(&format!("/api/v1/articles?{query}")).await.json();
        assert_eq!(slugs(&page), *expected, "{query}");
    }
}

#[actix_web::test]
async fn published_after_and_before_bound_the_window() {
    let app = TestApp::spawn().await;
    let base = chrono::NaiveDate::from_ymd_opt(2026, 1, 10)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    for (slug, day) in [("jan-9", -1), ("jan-10", 0), ("jan-11", 1)] {
        ArticleBuilder::new(slug)
            .published_at(base + chrono::Duration::days(day))
            .insert(&app);
    }

    let page = app
        .get("/api/v1/articles?published_after=2026-01-09T12:00:00Z&published_before=2026-01-11T12:00:00Z")
        .await
        .json();
    assert_eq!(slugs(&page), ["jan-10"]);

    let page = app
        .get("/api/v1/articles?published_after=2026-01-10T00:00:00%2B02:00")
        .await
        .json();
    assert_eq!(slugs(&page), ["jan-11", "jan-10"], "offsets are honoured");
}

/// Walks every page with `limit`, following `next_cursor`; returns the slugs in order.
async fn walk(
    app: &TestApp,
    query: &str,
    limit: usize,
    mut between_pages: impl FnMut(usize),
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut url = format!("/api/v1/articles?limit={limit}&{query}");
    for page_number in 0.. {
        let response = app.get(&url).await;
        assert_eq!(response.status, 200, "{}", response.text());
        let page = response.json();
        let page_slugs = slugs(&page);
        assert!(page_slugs.len() <= limit);
        seen.extend(page_slugs);
        let Some(cursor) = page["meta"]["next_cursor"].as_str() else {
            assert!(response.header("link").is_none());
            break;
        };
        let link = response
            .header("link")
            .expect("a Link header with the next page");
        assert!(
            link.contains(cursor) && link.ends_with("rel=\"next\""),
            "{link}"
        );
        between_pages(page_number);
        url = format!("/api/v1/articles?limit={limit}&{query}&cursor={cursor}");
    }
    seen
}

#[actix_web::test]
async fn walking_every_page_sees_each_article_exactly_once() {
    let app = TestApp::spawn().await;
    let topic = app.topic("energy", "Energy");
    let same_instant = Clock::System.now() - chrono::Duration::minutes(90);
    let mut expected = Vec::new();
    for i in 0..23 {
        let slug = format!("article-{i:02}");
        let builder = ArticleBuilder::new(&slug).topics(&[topic]);
        // Several articles share one instant: the id breaks the tie.
        let builder = if i % 3 == 0 {
            builder.published_at(same_instant)
        } else {
            builder.minutes_ago(i)
        };
        builder.insert(&app);
        expected.push(slug);
    }

    for (query, limit) in [("", 5), ("topic=energy", 4), ("", 1), ("", 100)] {
        let seen = walk(&app, query, limit, |_| {}).await;
        assert_eq!(seen.len(), 23, "{query} limit {limit}: {seen:?}");
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), 23, "no duplicates");
        let mut sorted = expected.clone();
        sorted.sort();
        let mut seen_sorted = seen.clone();
        seen_sorted.sort();
        assert_eq!(seen_sorted, sorted, "no gaps");
    }
}

#[actix_web::test]
async fn articles_published_mid_walk_cause_no_duplicates_or_gaps() {
    let app = TestApp::spawn().await;
    for i in 0..12 {
        ArticleBuilder::new(&format!("before-{i:02}"))
            .minutes_ago(100 + i)
            .insert(&app);
    }

    let mut published = 0;
    let seen = walk(&app, "", 4, |_| {
        ArticleBuilder::new(&format!("breaking-{published}"))
            .minutes_ago(0)
            .insert(&app);
        published += 1;
    })
    .await;

    assert!(published >= 2);
    let expected: Vec<String> = (0..12).map(|i| format!("before-{i:02}")).collect();
    assert_eq!(seen, expected, "the walk continues where it left off");
}

#[actix_web::test]
async fn free_articles_are_whole_and_the_others_only_a_preview() {
    // With no metered articles allowed, only free ones are whole.
    let app = TestApp::spawn_with(|config| config.free_articles_anonymous = 0).await;
    ArticleBuilder::new("free-one")
        .access(AccessLevel::Free)
        .insert(&app);
    ArticleBuilder::new("metered-one")
        .access(AccessLevel::Metered)
        .insert(&app);
    ArticleBuilder::new("premium-one")
        .access(AccessLevel::Premium)
        .insert(&app);

    let free = app.get("/api/v1/articles/free-one").await.json();
    assert_eq!(free["access"]["full"], true);
    assert_eq!(free["access"]["reason"], "free");
    assert!(
        free["body"]["text"]
            .as_str()
            .unwrap()
            .contains("SECRET-ENDING")
    );
    assert!(
        free["body"]["html"]
            .as_str()
            .unwrap()
            .contains("<h2>Bring a flash drive</h2>")
    );

    for (slug, reason) in [("metered-one", "limit_reached"), ("premium-one", "premium")] {
        let response = app.get(&format!("/api/v1/articles/{slug}")).await;
        assert_eq!(response.status, 200);
        assert!(
            !response.text().contains("SECRET-ENDING"),
            "{slug} leaks its body"
        );
        let article = response.json();
        assert_eq!(article["access"]["full"], false);
        assert_eq!(article["access"]["reason"], reason);
        let text = article["body"]["text"].as_str().unwrap();
        assert!(text.starts_with("The opening paragraph"), "{text}");
        assert!(!text.contains("closing paragraph"));
    }

    let list = app.get("/api/v1/articles").await;
    assert!(!list.text().contains("SECRET-ENDING"));
    assert!(
        !list.text().contains("opening paragraph"),
        "lists carry no body at all"
    );
}

#[actix_web::test]
async fn unchanged_responses_are_not_sent_twice() {
    let app = TestApp::spawn().await;
    ArticleBuilder::new("cached").insert(&app);

    for path in ["/api/v1/articles", "/api/v1/articles/cached"] {
        let first = app.get(path).await;
        let etag = first.header("etag").expect("an ETag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "a strong ETag: {etag}"
        );
        // The list and a free article are the same for everyone.
        assert!(
            first.header("cache-control").unwrap().starts_with("public"),
            "{path}"
        );
        assert_eq!(first.header("x-meter-token"), None, "{path}");

        let again = app.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));

        let other = app
            .get_with(path, &[("if-none-match", "\"something-else\"")])
            .await;
        assert_eq!(other.status, 200);
    }

    let before = app.get("/api/v1/articles").await;
    ArticleBuilder::new("new-one").minutes_ago(0).insert(&app);
    let after = app
        .get_with(
            "/api/v1/articles",
            &[("if-none-match", before.header("etag").unwrap())],
        )
        .await;
    assert_eq!(after.status, 200, "a new article changes the list's ETag");
}

#[actix_web::test]
async fn bad_query_values_are_problems_that_name_the_field() {
    let app = TestApp::spawn().await;
    ArticleBuilder::new("a").insert(&app);

    let cases = [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=-5", "limit"),
        ("kind=podcast", "kind"),
        ("featured=perhaps", "featured"),
        ("language=english", "language"),
        ("language=RU", "language"),
        ("published_after=yesterday", "published_after"),
        (
            "published_after=2026-02-01T00:00:00Z&published_before=2026-01-01T00:00:00Z",
            "published_before",
        ),
        ("topic=", "topic"),
        ("limit=5&limit=6", "query"),
    ];
    for (query, field) in cases {
        let response = app.get(&format!("/api/v1/articles?{query}")).await;
        let fields = response.invalid_fields();
        assert!(
            fields.iter().any(|f| f == field) || (field == "query" && !fields.is_empty()),
            "{query}: {fields:?}"
        );
    }

    let long = format!("/api/v1/articles?topic={}", "a".repeat(3000));
    app.get(&long)
        .await
        .assert_problem(400, "validation_failed");
}

#[actix_web::test]
async fn cursors_that_we_did_not_issue_are_refused() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        ArticleBuilder::new(&format!("a{i}"))
            .minutes_ago(i)
            .insert(&app);
    }
    let topics_cursor = {
        for slug in ["t1", "t2"] {
            app.topic(slug, slug);
        }
        let page = app.get("/api/v1/topics?limit=1").await.json();
        page["meta"]["next_cursor"].as_str().unwrap().to_owned()
    };

    for cursor in ["garbage!", "cDE6", "eDE6d2hhdGV2ZXI", &topics_cursor] {
        app.get(&format!("/api/v1/articles?cursor={cursor}"))
            .await
            .assert_problem(400, "invalid_cursor");
    }
}
