//! Readership: views counted in memory and flushed, most read, trending
//! topics, and the front page.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use newsdesk::clock::Clock;
use newsdesk::db::schema::article_views;
use newsdesk::domain::article::AccessLevel;
use newsdesk::domain::readership::hour_of;
use serde_json::Value;

use crate::builders::ArticleBuilder;
use crate::harness::TestApp;

impl TestApp {
    /// Views stored for `article_id`, all hours together.
    fn stored_views(&self, article_id: i64) -> i64 {
        self.db(|conn| {
            article_views::table
                .filter(article_views::article_id.eq(article_id))
                .select(article_views::views)
                .load::<i32>(conn)
                .expect("views")
                .into_iter()
                .map(i64::from)
                .sum()
        })
    }

    /// Stores `views` for `article_id` in the hour `hours_ago` hours back.
    fn add_views(&self, article_id: i64, hours_ago: i64, views: i32) {
        let hour: NaiveDateTime = hour_of(Clock::System.now() - Duration::hours(hours_ago));
        self.db(|conn| {
            diesel::insert_into(article_views::table)
                .values((
                    article_views::article_id.eq(article_id),
                    article_views::hour.eq(hour),
                    article_views::views.eq(views),
                ))
                .execute(conn)
                .expect("insert views")
        });
    }

    async fn slugs(&self, path: &str) -> Vec<String> {
        let response = self.get(path).await;
        assert_eq!(response.status, 200, "{path}: {}", response.text());
        slugs_of(&response.json()["data"])
    }
}

fn slugs_of(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|a| a["slug"].as_str().expect("a slug").to_owned())
        .collect()
}

#[actix_web::test]
async fn views_are_counted_in_memory_and_written_by_a_flush() {
    let app = TestApp::spawn_behind_proxy().await;
    let id = ArticleBuilder::new("read-me").insert(&app);
    for reader in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        let read = app.get_from("/api/v1/articles/read-me", reader).await;
        assert_eq!(read.status, 200);
    }
    app.get("/api/v1/articles/no-such-article").await;
    assert_eq!(app.stored_views(id), 0, "no write per read");
    assert_eq!(app.state.views.pending_total(), 3);

    app.flush_views().await;
    assert_eq!(app.stored_views(id), 3);
    assert_eq!(app.state.views.pending_total(), 0);
    app.get_from("/api/v1/articles/read-me", "192.0.2.4").await;
    app.flush_views().await;
    assert_eq!(app.stored_views(id), 4, "added to the hour's counter");
}

#[actix_web::test]
async fn a_graceful_shutdown_loses_no_view() {
    let app = TestApp::spawn_behind_proxy().await;
    let id = ArticleBuilder::new("read-me").insert(&app);
    for reader in 1..=5 {
        app.get_from("/api/v1/articles/read-me", &format!("198.51.100.{reader}"))
            .await;
    }
    app.shut_down().await;
    assert_eq!(app.stored_views(id), 5);
}

#[actix_web::test]
async fn one_reader_counts_once_an_hour_however_often_they_read() {
    use newsdesk::domain::article::AccessLevel;
    let app = TestApp::spawn_behind_proxy().await;
    let free = ArticleBuilder::new("free-read").insert(&app);
    let metered = ArticleBuilder::new("metered-read")
        .access(AccessLevel::Metered)
        .insert(&app);
    let reader = app
        .token_with_role("loyal@example.com", newsdesk::domain::account::Role::Reader)
        .await;
    let auth = format!("Bearer {reader}");
    for _ in 0..20 {
        app.get_with("/api/v1/articles/free-read", &[("authorization", &auth)])
            .await;
        app.get_with("/api/v1/articles/metered-read", &[("authorization", &auth)])
            .await;
        // Anonymous, dropping the meter token each time: one address.
        app.get_from("/api/v1/articles/metered-read", "203.0.113.7")
            .await;
        app.get_from("/api/v1/articles/free-read", "203.0.113.7")
            .await;
    }
    app.flush_views().await;
    assert_eq!(app.stored_views(free), 2, "the account and the address");
    assert_eq!(app.stored_views(metered), 2, "the account and the address");
    // An IPv6 client is one reader across its /64.
    for host in ["2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6:ffff::9"] {
        app.get_from("/api/v1/articles/free-read", host).await;
    }
    app.flush_views().await;
    assert_eq!(app.stored_views(free), 3);
}

#[actix_web::test]
async fn most_read_ranks_by_views_in_the_window() {
    let app = TestApp::spawn().await;
    let energy = app.topic("energy", "Energy");
    let today = ArticleBuilder::new("today").topics(&[energy]).insert(&app);
    let this_week = ArticleBuilder::new("this-week").insert(&app);
    let this_month = ArticleBuilder::new("this-month")
        .topics(&[energy])
        .insert(&app);
    ArticleBuilder::new("never-read").insert(&app);
    app.add_views(today, 2, 10);
    app.add_views(this_week, 72, 50);
    app.add_views(this_month, 1, 5);
    app.add_views(this_month, 20 * 24, 100);

    let most_read = |window: &str| format!("/api/v1/articles?sort=most_read&window={window}");
    assert_eq!(app.slugs(&most_read("24h")).await, ["today", "this-month"]);
    assert_eq!(
        app.slugs("/api/v1/articles?sort=most_read").await,
        ["today", "this-month"],
        "24 hours by default"
    );
    assert_eq!(
        app.slugs(&most_read("7d")).await,
        ["this-week", "today", "this-month"]
    );
    assert_eq!(
        app.slugs(&most_read("30d")).await,
        ["this-month", "this-week", "today"]
    );
    assert_eq!(
        app.slugs(&format!("{}&topic=energy", most_read("30d")))
            .await,
        ["this-month", "today"]
    );
    assert_eq!(
        app.slugs(&format!("{}&limit=1", most_read("30d"))).await,
        ["this-month"]
    );

    for bad in [
        "/api/v1/articles?sort=most_read&window=1y",
        "/api/v1/articles?sort=popular",
        "/api/v1/articles?window=7d",
        "/api/v1/articles?sort=most_read&cursor=abc",
    ] {
        app.get(bad).await.assert_problem(400, "validation_failed");
    }
}

#[actix_web::test]
async fn trending_topics_follow_the_documented_formula() {
    let app = TestApp::spawn().await;
    let steady = app.topic("steady", "Steady");
    let rising = app.topic("rising", "Rising");
    let tiny = app.topic("tiny", "Tiny");
    let quiet = app.topic("quiet", "Quiet");
    let a = ArticleBuilder::new("a").topics(&[steady]).insert(&app);
    let b = ArticleBuilder::new("b").topics(&[rising]).insert(&app);
    let c = ArticleBuilder::new("c").topics(&[tiny]).insert(&app);
    let d = ArticleBuilder::new("d").topics(&[quiet]).insert(&app);
    // steady: 700 in the week before (100 a day), 100 today: score 1.
    app.add_views(a, 72, 700);
    app.add_views(a, 3, 100);
    // rising: 70 before (10 a day), 40 today: score 4.
    app.add_views(b, 100, 70);
    app.add_views(b, 1, 40);
    // tiny: nothing before, 5 today: the floor of 10 a day makes it 0.5.
    app.add_views(c, 2, 5);
    // quiet: read last week only.
    app.add_views(d, 50, 300);
    // Views older than 8 days are outside both windows.
    app.add_views(a, 24 * 9, 100_000);

    let response = app.get("/api/v1/topics/trending").await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(
        response
            .header("cache-control")
            .unwrap()
            .starts_with("public")
    );
    let data = response.json()["data"].clone();
    let row = |i: usize| {
        (
            data[i]["topic"]["slug"].as_str().unwrap().to_owned(),
            data[i]["views_24h"].as_i64().unwrap(),
            data[i]["views_previous_7d"].as_i64().unwrap(),
            data[i]["score"].as_f64().unwrap(),
        )
    };
    assert_eq!(data.as_array().unwrap().len(), 3);
    assert_eq!(row(0), ("rising".into(), 40, 70, 4.0));
    assert_eq!(row(1), ("steady".into(), 100, 700, 1.0));
    assert_eq!(row(2), ("tiny".into(), 5, 0, 0.5));

    let one = app.get("/api/v1/topics/trending?limit=1").await.json();
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
    app.get("/api/v1/topics/trending?limit=0")
        .await
        .assert_problem(400, "validation_failed");
    // A topic named `trending` would be shadowed by the route: refused.
    let editor = app
        .token_with_role("ed@example.com", newsdesk::domain::account::Role::Editor)
        .await;
    app.send_as(
        awc::http::Method::POST,
        "/api/v1/topics",
        &serde_json::json!({"name": "Trending"}),
        &editor,
    )
    .await
    .assert_problem(400, "validation_failed");
    app.send_as(
        awc::http::Method::PATCH,
        "/api/v1/topics/steady",
        &serde_json::json!({"slug": "trending"}),
        &editor,
    )
    .await
    .assert_problem(400, "validation_failed");
    assert_eq!(app.get("/api/v1/topics/steady").await.status, 200);
}

#[actix_web::test]
async fn the_front_page_has_every_rail_and_never_a_body() {
    let app = TestApp::spawn().await;
    let world = app.topic("world", "World");
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(
            ArticleBuilder::new(&format!("story-{i:02}"))
                .topics(&[world])
                .minutes_ago(i + 1)
                .access(if i % 2 == 0 {
                    AccessLevel::Premium
                } else {
                    AccessLevel::Metered
                })
                .insert(&app),
        );
    }
    ArticleBuilder::new("pick-second")
        .featured(2)
        .minutes_ago(30)
        .insert(&app);
    ArticleBuilder::new("pick-first")
        .featured(1)
        .minutes_ago(40)
        .insert(&app);
    app.add_views(ids[5], 1, 30);
    app.add_views(ids[7], 1, 20);

    let response = app.get("/api/v1/home").await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(
        response
            .header("cache-control")
            .unwrap()
            .starts_with("public")
    );
    assert!(!response.text().contains("SECRET-ENDING"));
    assert!(!response.text().contains("opening paragraph"));
    let home = response.json();
    let latest = slugs_of(&home["latest"]);
    assert_eq!(latest.len(), 10);
    assert_eq!(latest[0], "story-00");
    assert_eq!(slugs_of(&home["focus"]), ["pick-first", "pick-second"]);
    assert_eq!(slugs_of(&home["most_read"]), ["story-05", "story-07"]);
    assert_eq!(home["trending_topics"][0]["topic"]["slug"], "world");

    let etag = response.header("etag").unwrap().to_owned();
    let again = app
        .get_with("/api/v1/home", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, 304);
}

impl TestApp {
    /// The slugs of the first page at `path`.
    pub async fn slugs_of_path(&self, path: &str) -> Vec<String> {
        self.slugs(path).await
    }
}
