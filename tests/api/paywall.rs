//! The metered paywall, through the API.

use awc::http::Method;
use newsdesk::domain::account::Role;
use newsdesk::domain::article::AccessLevel;
use serde_json::{Value, json};

use crate::builders::ArticleBuilder;
use crate::harness::{TestApp, TestResponse};

impl TestApp {
    /// `count` published metered articles, `metered-0` ... newest first.
    fn metered_articles(&self, count: usize) {
        for i in 0..count {
            ArticleBuilder::new(&format!("metered-{i}"))
                .access(AccessLevel::Metered)
                .minutes_ago(i as i64 + 1)
                .insert(self);
        }
    }

    /// Reads an article as an anonymous reader carrying `token` (if any).
    async fn read_anonymously(&self, slug: &str, token: Option<&str>) -> TestResponse {
        let path = format!("/api/v1/articles/{slug}");
        match token {
            Some(token) => self.get_with(&path, &[("x-meter-token", token)]).await,
            None => self.get(&path).await,
        }
    }
}

fn access(response: &TestResponse) -> Value {
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["access"].clone()
}

#[actix_web::test]
async fn anonymous_readers_get_three_metered_articles_a_month() {
    let app = TestApp::spawn().await;
    app.metered_articles(5);

    let first = app.read_anonymously("metered-0", None).await;
    let token = first
        .header("x-meter-token")
        .expect("a meter token is minted")
        .to_owned();
    assert_eq!(first.header("cache-control"), Some("private, no-cache"));
    assert!(first.header("vary").unwrap().contains("X-Meter-Token"));
    let a = access(&first);
    assert_eq!(a["full"], true);
    assert_eq!(a["reason"], "meter");
    assert_eq!(a["meter"]["limit"], 3);
    assert_eq!(a["meter"]["used"], 1);
    assert_eq!(a["meter"]["remaining"], 2);

    for slug in ["metered-1", "metered-2"] {
        let response = app.read_anonymously(slug, Some(&token)).await;
        assert_eq!(
            response.header("x-meter-token"),
            Some(token.as_str()),
            "the same token comes back"
        );
        assert_eq!(access(&response)["full"], true);
    }
    let fourth = app.read_anonymously("metered-3", Some(&token)).await;
    assert!(
        !fourth.text().contains("SECRET-ENDING"),
        "no body past the limit"
    );
    let a = access(&fourth);
    assert_eq!(a["full"], false);
    assert_eq!(a["reason"], "limit_reached");
    assert_eq!(a["meter"]["remaining"], 0);

    let reread = app.read_anonymously("metered-0", Some(&token)).await;
    assert_eq!(
        access(&reread)["full"],
        true,
        "re-reading a counted article is free"
    );
    assert_eq!(access(&reread)["meter"]["used"], 3);

    let fresh = app.read_anonymously("metered-3", None).await;
    assert_eq!(
        access(&fresh)["full"],
        true,
        "clearing the token starts a new meter"
    );
    let forged = app
        .read_anonymously(
            "metered-4",
            Some("m1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"),
        )
        .await;
    assert_ne!(
        forged.header("x-meter-token"),
        Some("m1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA")
    );

    // Longer than any token could be: a client's mistake, said so, counted nowhere.
    let overlong = "m".repeat(101);
    let refused = app.read_anonymously("metered-4", Some(&overlong)).await;
    assert_eq!(refused.invalid_fields(), ["X-Meter-Token"]);
    let registration = json!({
        "email": "late@example.com",
        "password": "correct horse battery",
        "display_name": "Late Reader"
    });
    let headers = [("x-meter-token", overlong.as_str())];
    let register = app
        .json(
            Method::POST,
            "/api/v1/auth/register",
            &registration,
            &headers,
        )
        .await;
    assert_eq!(register.invalid_fields(), ["X-Meter-Token"]);
    let register = app.post("/api/v1/auth/register", &registration).await;
    assert_eq!(register.status, 201, "the refused request created nothing");
}

#[actix_web::test]
async fn signed_in_readers_get_five_and_staff_are_not_metered() {
    let app = TestApp::spawn().await;
    app.metered_articles(7);
    ArticleBuilder::new("premium-one")
        .access(AccessLevel::Premium)
        .insert(&app);
    ArticleBuilder::new("free-one").insert(&app);
    let session = app.register("ana@example.com").await;
    let reader = session["access_token"].as_str().unwrap().to_owned();

    for i in 0..5 {
        let a = access(
            &app.get_as(&format!("/api/v1/articles/metered-{i}"), &reader)
                .await,
        );
        assert_eq!(a["full"], true, "article {i}");
    }
    let sixth = access(&app.get_as("/api/v1/articles/metered-5", &reader).await);
    assert_eq!(
        (sixth["full"].clone(), sixth["reason"].clone()),
        (json!(false), json!("limit_reached"))
    );
    let premium = access(&app.get_as("/api/v1/articles/premium-one", &reader).await);
    assert_eq!(
        (premium["full"].clone(), premium["reason"].clone()),
        (json!(false), json!("premium"))
    );
    let free = access(&app.get_as("/api/v1/articles/free-one", &reader).await);
    assert_eq!(
        (free["full"].clone(), free["reason"].clone()),
        (json!(true), json!("free"))
    );

    let meter = app.get_as("/api/v1/me/meter", &reader).await.json();
    assert_eq!(meter["used"], 5);
    assert_eq!(meter["remaining"], 0);
    assert!(
        meter["resets_at"]
            .as_str()
            .unwrap()
            .ends_with("01T00:00:00Z")
    );

    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    for slug in ["metered-6", "premium-one"] {
        let article = app
            .get_as(&format!("/api/v1/articles/{slug}"), &editor)
            .await
            .json();
        assert_eq!(article["access"]["reason"], "staff");
        assert!(article["access"].get("meter").is_none());
    }
    assert_eq!(
        app.get_as("/api/v1/me/meter", &editor).await.json()["used"],
        0
    );
}

#[actix_web::test]
async fn last_months_reads_do_not_count() {
    use diesel::prelude::*;
    use newsdesk::db::schema::meter_reads;

    let app = TestApp::spawn().await;
    app.metered_articles(4);
    let session = app.register("ana@example.com").await;
    let reader = session["access_token"].as_str().unwrap().to_owned();
    let id = session["user"]["id"].as_i64().unwrap();
    let last_month = newsdesk::clock::Clock::System.now() - chrono::Duration::days(40);
    let month = newsdesk::domain::paywall::month_of(last_month);
    app.db(|conn| {
        for article in 1..=4_i64 {
            diesel::insert_into(meter_reads::table)
                .values((
                    meter_reads::reader.eq(format!("user:{id}")),
                    meter_reads::month.eq(&month),
                    meter_reads::article_id.eq(article),
                    meter_reads::read_at.eq(last_month),
                ))
                .execute(conn)
                .unwrap();
        }
    });

    assert_eq!(
        app.get_as("/api/v1/me/meter", &reader).await.json()["used"],
        0
    );
    assert_eq!(
        access(&app.get_as("/api/v1/articles/metered-0", &reader).await)["full"],
        true
    );
}

#[actix_web::test]
async fn signing_in_merges_the_anonymous_meter() {
    let app = TestApp::spawn().await;
    app.metered_articles(3);
    let first = app.read_anonymously("metered-0", None).await;
    let token = first.header("x-meter-token").unwrap().to_owned();
    app.read_anonymously("metered-1", Some(&token)).await;

    let registered = app
        .json(
            Method::POST,
            "/api/v1/auth/register",
            &json!({"email": "ana@example.com", "password": "correct horse battery", "display_name": "Ana"}),
            &[("x-meter-token", &token)],
        )
        .await;
    assert_eq!(registered.status, 201);
    let access_token = registered.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get_as("/api/v1/me/meter", &access_token).await.json()["used"],
        2
    );

    app.read_anonymously("metered-2", Some(&token)).await;
    let login = app
        .json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": "correct horse battery"}),
            &[("x-meter-token", &token)],
        )
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(
        app.get_as("/api/v1/me/meter", &access_token).await.json()["used"],
        3
    );
}

#[actix_web::test]
async fn concurrent_reads_at_the_limit_grant_exactly_the_allowance() {
    let app = TestApp::spawn().await;
    app.metered_articles(20);
    let token = app
        .read_anonymously("metered-19", None)
        .await
        .header("x-meter-token")
        .unwrap()
        .to_owned();

    let reads = (0..19).map(|i| {
        let (app, token) = (&app, token.clone());
        async move {
            app.read_anonymously(&format!("metered-{i}"), Some(&token))
                .await
        }
    });
    let responses = futures_util::future::join_all(reads).await;
    let whole = responses
        .iter()
        .filter(|r| access(r)["full"] == json!(true))
        .count();
    assert_eq!(
        whole, 2,
        "one of three was spent before; exactly two more are granted"
    );
}

#[actix_web::test]
async fn no_list_carries_a_body() {
    let app = TestApp::spawn().await;
    app.metered_articles(2);
    ArticleBuilder::new("premium-one")
        .access(AccessLevel::Premium)
        .insert(&app);
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    for (path, token) in [
        ("/api/v1/articles", None),
        ("/api/v1/articles?limit=100&featured=false", None),
        ("/api/v1/articles?status=published", Some(&editor)),
        ("/api/v1/topics", None),
        ("/api/v1/authors", None),
    ] {
        let response = match token {
            Some(token) => app.get_as(path, token).await,
            None => app.get(path).await,
        };
        assert_eq!(response.status, 200);
        let text = response.text();
        assert!(
            !text.contains("SECRET-ENDING") && !text.contains("opening paragraph"),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn plans_are_data_admins_manage() {
    let app = TestApp::spawn().await;
    let plans = app.get("/api/v1/plans").await;
    assert_eq!(plans.status, 200);
    assert!(plans.header("cache-control").unwrap().starts_with("public"));
    let plans = plans.json();
    let offer: Vec<(String, i64, String, String)> = plans["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["price_minor"].as_i64().unwrap(),
                p["currency"].as_str().unwrap().to_owned(),
                p["interval"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        offer,
        [
            ("monthly".into(), 290, "USD".into(), "month".into()),
            ("yearly".into(), 1990, "USD".into(), "year".into())
        ]
    );

    let admin = app
        .token_with_role("root@newsdesk.example", Role::Admin)
        .await;
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let student = json!({"code": "student", "name": "Student", "price_minor": 99, "currency": "USD", "interval": "month"});
    app.send_as(Method::POST, "/api/v1/admin/plans", &student, &editor)
        .await
        .assert_problem(403, "forbidden");
    let created = app
        .send_as(Method::POST, "/api/v1/admin/plans", &student, &admin)
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    app.send_as(Method::POST, "/api/v1/admin/plans", &student, &admin)
        .await
        .assert_problem(409, "code_taken");
    let bad = json!({"code": "Bad Code", "name": "", "price_minor": -1, "currency": "usd", "interval": "month"});
    let problem = app
        .send_as(Method::POST, "/api/v1/admin/plans", &bad, &admin)
        .await
        .assert_problem(400, "validation_failed");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 4);

    let listed = app.get("/api/v1/plans").await.json();
    assert_eq!(listed["data"][0]["code"], "student", "cheapest first");
    let off = app
        .send_as(
            Method::PATCH,
            "/api/v1/admin/plans/student",
            &json!({"active": false}),
            &admin,
        )
        .await;
    assert_eq!(off.json()["active"], false);
    let listed = app.get("/api/v1/plans").await.json();
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        2,
        "inactive plans are not offered"
    );
}

#[actix_web::test]
async fn a_refused_reader_is_shown_the_plans_and_the_next_steps() {
    let app = TestApp::spawn_with(|config| config.free_articles_anonymous = 0).await;
    ArticleBuilder::new("metered-one")
        .access(AccessLevel::Metered)
        .insert(&app);
    ArticleBuilder::new("free-one").insert(&app);

    let refused = app.read_anonymously("metered-one", None).await.json();
    assert_eq!(refused["access"]["full"], false);
    let paywall = &refused["paywall"];
    assert_eq!(
        paywall["message"],
        "You've reached your monthly limit of free articles."
    );
    assert_eq!(paywall["plans"].as_array().unwrap().len(), 2);
    let steps: Vec<&str> = paywall["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["log_in", "register", "subscribe"]);

    let session = app.register("ana@example.com").await;
    let token = session["access_token"].as_str().unwrap();
    ArticleBuilder::new("premium-one")
        .access(AccessLevel::Premium)
        .insert(&app);
    let premium = app
        .get_as("/api/v1/articles/premium-one", token)
        .await
        .json();
    let steps: Vec<&str> = premium["paywall"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["subscribe"],
        "a signed-in reader only needs to subscribe"
    );

    let free = app.read_anonymously("free-one", None).await.json();
    assert!(free.get("paywall").is_none());
}

#[actix_web::test]
async fn sixty_four_reads_at_once_by_one_reader_never_pass_the_allowance() {
    let app = TestApp::spawn().await;
    app.metered_articles(32);
    let token = app
        .read_anonymously("metered-0", None)
        .await
        .header("x-meter-token")
        .unwrap()
        .to_owned();

    // Every article twice, all at once: the ledger batches them, and two
    // reads of one article may land in one batch.
    let reads = (0..64).map(|i| {
        let (app, token) = (&app, token.clone());
        let slug = format!("metered-{}", i % 32);
        async move {
            (
                slug.clone(),
                app.read_anonymously(&slug, Some(&token)).await,
            )
        }
    });
    let responses = futures_util::future::join_all(reads).await;
    let mut whole = std::collections::BTreeMap::<String, usize>::new();
    for (slug, response) in &responses {
        let access = access(response);
        let used = access["meter"]["used"].as_i64().unwrap();
        assert!(used <= 3, "the meter shows {used} of 3");
        if access["full"] == json!(true) {
            *whole.entry(slug.clone()).or_default() += 1;
        }
    }
    assert_eq!(
        whole.len(),
        3,
        "exactly the allowance of distinct articles: {whole:?}"
    );
    assert!(
        whole.values().all(|&reads| reads == 2),
        "a counted article is whole on every read: {whole:?}"
    );
    assert_eq!(
        app.read_anonymously("metered-31", Some(&token))
            .await
            .json()["access"]["meter"]["used"],
        3
    );
}
