//! Paywall integrity against uncooperative clients: readers who drop the
//! meter token, merge meters, read videos from lists, or fish for the hidden
//! part of an article; payments that do not match; input that is not what
//! it seems.

use awc::http::Method;
use newsdesk::domain::account::Role;
use newsdesk::domain::article::{AccessLevel, ArticleKind};
use serde_json::{Value, json};

use crate::builders::ArticleBuilder;
use crate::harness::TestApp;

fn metered(app: &TestApp, count: usize) {
    for i in 0..count {
        ArticleBuilder::new(&format!("metered-{i}"))
            .access(AccessLevel::Metered)
            .minutes_ago(i as i64 + 1)
            .insert(app);
    }
}

#[actix_web::test]
async fn dropping_the_meter_token_is_not_a_free_pass() {
    let app = TestApp::spawn_with(|config| config.anonymous_meters_per_address = 2).await;
    metered(&app, 12);
    // A reader who never sends the token back: two meters' worth of
    // articles (3 each), then the address's shared meter, which runs out.
    let mut whole = 0;
    let mut tokens = Vec::new();
    for i in 0..12 {
        let response = app.get(&format!("/api/v1/articles/metered-{i}")).await;
        assert_eq!(response.status, 200);
        if response.json()["access"]["full"] == true {
            whole += 1;
        }
        tokens.push(response.header("x-meter-token").unwrap().to_owned());
    }
    assert_eq!(
        whole,
        2 + 3,
        "two fresh meters (one read each), then one shared meter"
    );
    // Tokens handed out once the address is over its allowance name the
    // shared meter: sending them back is no way round it either.
    let late = tokens.last().unwrap();
    let again = app
        .get_with("/api/v1/articles/metered-11", &[("x-meter-token", late)])
        .await;
    assert_eq!(again.json()["access"]["reason"], "limit_reached");
    // Tokens minted in advance (a premium read mints one and counts
    // nothing) start meters too when first used.
    ArticleBuilder::new("premium")
        .access(AccessLevel::Premium)
        .insert(&app);
    let unused = app.get("/api/v1/articles/premium").await;
    let unused = unused.header("x-meter-token").unwrap().to_owned();
    let first_use = app
        .get_with("/api/v1/articles/metered-0", &[("x-meter-token", &unused)])
        .await;
    assert_eq!(first_use.json()["access"]["full"], false);
}

#[actix_web::test]
async fn a_reader_who_keeps_their_token_keeps_their_own_meter() {
    let app = TestApp::spawn_with(|config| config.anonymous_meters_per_address = 1).await;
    metered(&app, 4);
    let first = app.get("/api/v1/articles/metered-0").await;
    let token = first.header("x-meter-token").unwrap().to_owned();
    // Someone else at the address exhausts the address.
    for i in 1..4 {
        app.get(&format!("/api/v1/articles/metered-{i}")).await;
    }
    for i in 1..3 {
        let read = app
            .get_with(
                &format!("/api/v1/articles/metered-{i}"),
                &[("x-meter-token", &token)],
            )
            .await;
        assert_eq!(read.json()["access"]["full"], true, "metered-{i}");
        assert_eq!(read.header("x-meter-token"), Some(token.as_str()));
    }
}

#[actix_web::test]
async fn signing_in_never_grants_more_than_the_accounts_allowance() {
    let app = TestApp::spawn_with(|config| {
        config.free_articles = 2;
        config.free_articles_anonymous = 3;
    })
    .await;
    metered(&app, 6);
    let session = app.register("ana@example.com").await;
    let access_token = session["access_token"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {access_token}");
    app.get_with("/api/v1/articles/metered-5", &[("authorization", &auth)])
        .await;
    // Three anonymous reads, then signing in with that token.
    let first = app.get("/api/v1/articles/metered-0").await;
    let token = first.header("x-meter-token").unwrap().to_owned();
    for slug in ["metered-1", "metered-2"] {
        app.get_with(
            &format!("/api/v1/articles/{slug}"),
            &[("x-meter-token", &token)],
        )
        .await;
    }
    let login = app
        .json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": "correct horse battery"}),
            &[("x-meter-token", &token)],
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let meter = app.get_as("/api/v1/me/meter", &access_token).await.json();
    assert_eq!(
        meter["used"], 2,
        "capped at the account's allowance: {meter}"
    );
    // Of the anonymous reads only the oldest fits; the others stay closed.
    let whole = |slug: &'static str| {
        let auth = auth.clone();
        let app = &app;
        async move {
            app.get_with(
                &format!("/api/v1/articles/{slug}"),
                &[("authorization", &auth)],
            )
            .await
            .json()["access"]["full"]
                == true
        }
    };
    assert!(whole("metered-5").await);
    assert!(whole("metered-0").await);
    assert!(!whole("metered-1").await);
    assert!(!whole("metered-2").await);
}

#[actix_web::test]
async fn the_video_is_only_for_readers_with_access() {
    let app = TestApp::spawn().await;
    ArticleBuilder::new("premium-video")
        .kind(ArticleKind::Video)
        .access(AccessLevel::Premium)
        .insert(&app);
    ArticleBuilder::new("free-video")
        .kind(ArticleKind::Video)
        .insert(&app);
    let list = app.get("/api/v1/articles?kind=video").await.json();
    for summary in list["data"].as_array().unwrap() {
        let expected = (summary["slug"] == "free-video").then_some("https://video.example/v.mp4");
        assert_eq!(summary["video_url"].as_str(), expected, "{summary}");
    }
    let home = app.get("/api/v1/home").await.json();
    for summary in home["latest"].as_array().unwrap() {
        let expected = (summary["slug"] == "free-video").then_some("https://video.example/v.mp4");
        assert_eq!(summary["video_url"].as_str(), expected, "{summary}");
    }
    let search = app.get("/api/v1/articles?q=headline").await.json();
    for summary in search["data"].as_array().unwrap() {
        let expected = (summary["slug"] == "free-video").then_some("https://video.example/v.mp4");
        assert_eq!(summary["video_url"].as_str(), expected, "{summary}");
    }
    let preview = app.get("/api/v1/articles/premium-video").await.json();
    assert_eq!(preview["access"]["full"], false);
    assert_eq!(
        preview["video_url"],
        Value::Null,
        "a preview withholds the video"
    );
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let whole = app
        .get_as("/api/v1/articles/premium-video", &editor)
        .await
        .json();
    assert_eq!(whole["video_url"], "https://video.example/v.mp4");
    let subscriber = app.subscriber("sub@example.com").await;
    let whole = app
        .get_as("/api/v1/articles/premium-video", &subscriber)
        .await
        .json();
    assert_eq!(whole["access"]["full"], true);
    assert_eq!(whole["video_url"], "https://video.example/v.mp4");
}

#[actix_web::test]
async fn a_preview_is_at_most_a_third_of_the_article() {
    let app = TestApp::spawn().await;
    let long_opening = "The harbour froze before the ships could leave. ".repeat(30);
    ArticleBuilder::new("long-lede")
        .access(AccessLevel::Premium)
        .opening(long_opening.trim())
        .insert(&app);
    ArticleBuilder::new("usual")
        .access(AccessLevel::Premium)
        .insert(&app);
    for slug in ["long-lede", "usual"] {
        let editor_view = app
            .get_as(
                &format!("/api/v1/articles/{slug}"),
                &app.token_with_role(&format!("{slug}@example.com"), Role::Editor)
                    .await,
            )
            .await
            .json();
        let preview = app.get(&format!("/api/v1/articles/{slug}")).await.json();
        assert_eq!(preview["access"]["full"], false);
        let total = editor_view["body"]["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .count();
        let shown = preview["body"]["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .count();
        assert!(
            shown * 100 <= total * 30,
            "{slug}: {shown} of {total} words"
        );
    }
    let cut = app.get("/api/v1/articles/long-lede").await.json();
    let text = cut["body"]["text"].as_str().unwrap();
    assert!(text.ends_with("leave."), "cut at a sentence: {text}");
}

#[actix_web::test]
async fn a_reader_cannot_probe_newsroom_validation() {
    let app = TestApp::spawn().await;
    let reader = app
        .token_with_role("reader@example.com", Role::Reader)
        .await;
    for (method, path) in [
        (Method::POST, "/api/v1/articles"),
        (Method::POST, "/api/v1/topics"),
        (Method::POST, "/api/v1/admin/plans"),
        (Method::POST, "/api/v1/admin/api-keys"),
    ] {
        let response = app
            .json(
                method.clone(),
                path,
                &json!({"headline": 7, "nonsense": true}),
                &[("authorization", &format!("Bearer {reader}"))],
            )
            .await;
        response.assert_problem(403, "forbidden");
        let unauthenticated = app
            .send_body(method, path, "application/json", "{not json")
            .await;
        unauthenticated.assert_problem(401, "unauthenticated");
    }
}

#[actix_web::test]
async fn addresses_with_a_display_name_are_refused() {
    let app = TestApp::spawn().await;
    for email in [
        "\"x\"<victim@example.com>",
        "Victim <victim@example.com>",
        "ana@[192.0.2.1]",
    ] {
        let response = app
            .post(
                "/api/v1/auth/register",
                &json!({"email": email, "password": "correct horse battery", "display_name": "X"}),
            )
            .await;
        assert_eq!(response.invalid_fields(), ["email"], "{email}");
        let signup = app
            .post(
                "/api/v1/newsletters/daily/signups",
                &json!({"email": email}),
            )
            .await;
        assert_eq!(signup.status.as_u16(), 400, "{email}: {}", signup.text());
    }
}

#[actix_web::test]
async fn slug_filters_count_characters_not_bytes() {
    let app = TestApp::spawn().await;
    let sixty_one = "%C3%A9".repeat(61);
    for filter in ["topic", "author", "source"] {
        let ok = app
            .get(&format!("/api/v1/articles?{filter}={sixty_one}"))
            .await;
        assert_eq!(ok.status, 200, "{filter}: {}", ok.text());
        let long = "%C3%A9".repeat(121);
        let refused = app.get(&format!("/api/v1/articles?{filter}={long}")).await;
        assert_eq!(refused.invalid_fields(), [filter]);
    }
    let feed = app
        .get(&format!("/api/v1/feeds/rss?topic={sixty_one}"))
        .await;
    assert_eq!(feed.status, 200);
}

#[actix_web::test]
async fn invented_methods_share_one_metrics_label() {
    let app = TestApp::spawn().await;
    for method in ["FROBNICATE", "XYZZY", "PLUGH"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        app.request(method, "/api/v1/articles", &[]).await;
    }
    let metrics = app.get("/metrics").await.text();
    assert!(!metrics.contains("FROBNICATE"), "{metrics}");
    assert!(!metrics.contains("XYZZY"));
    assert!(metrics.contains("method=\"other\""), "{metrics}");
}

#[actix_web::test]
async fn a_returning_reader_keeps_their_meter_in_a_new_month() {
    use diesel::prelude::*;
    let app = TestApp::spawn_with(|config| config.anonymous_meters_per_address = 1).await;
    metered(&app, 5);
    ArticleBuilder::new("premium")
        .access(AccessLevel::Premium)
        .insert(&app);
    // A token whose meter counted reads last month, and none yet this one.
    let token = app
        .get("/api/v1/articles/premium")
        .await
        .header("x-meter-token")
        .unwrap()
        .to_owned();
    let meter = format!("anon:{}", token.split('.').nth(1).unwrap());
    let last_month = newsdesk::domain::paywall::month_of(
        newsdesk::clock::Clock::System.now() - chrono::Duration::days(40),
    );
    app.db(|conn| {
        diesel::sql_query("INSERT INTO anonymous_meters (meter, last_month) VALUES ($1, $2)")
            .bind::<diesel::sql_types::Text, _>(&meter)
            .bind::<diesel::sql_types::Text, _>(&last_month)
            .execute(conn)
    })
    .unwrap();
    // Others at the address use up its allowance and its shared meter.
    for i in 0..4 {
        app.get(&format!("/api/v1/articles/metered-{i}")).await;
    }
    let read = app
        .get_with("/api/v1/articles/metered-4", &[("x-meter-token", &token)])
        .await;
    let access = read.json()["access"].clone();
    assert_eq!(access["full"], true, "{access}");
    assert_eq!(access["meter"]["used"], 1, "their own meter: {access}");
    assert_eq!(read.header("x-meter-token"), Some(token.as_str()));
}

#[actix_web::test]
async fn an_encoded_path_is_the_same_route_for_the_limits() {
    let app = TestApp::spawn_with(|config| config.rate_limit_anonymous_per_minute = 2).await;
    // Sent without the harness, which checks responses by their literal path.
    let client = awc::Client::default();
    let encoded = format!("{}/api/v1/%61rticles", app.address);
    let junk = client
        .get(&encoded)
        .insert_header(("authorization", "Bearer junk"))
        .send()
        .await
        .expect("a response");
    assert_eq!(
        junk.status().as_u16(),
        401,
        "a junk token is refused here too"
    );
    for _ in 0..2 {
        client.get(&encoded).send().await.expect("a response");
    }
    let over = client.get(&encoded).send().await.expect("a response");
    assert_eq!(over.status().as_u16(), 429);
}
