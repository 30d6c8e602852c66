//! Third-party API keys: made by admins, scoped, rate-limited, revocable.

use awc::http::Method;
use newsdesk::domain::account::Role;
use newsdesk::domain::article::AccessLevel;
use serde_json::{Value, json};

use crate::builders::ArticleBuilder;
use crate::harness::{TestApp, TestResponse};

impl TestApp {
    /// Creates a key as `admin`; returns (id, secret).
    async fn api_key(&self, admin: &str, scopes: &[&str], per_minute: i32) -> (i64, String) {
        let created = self
            .send_as(
                Method::POST,
                "/api/v1/admin/api-keys",
                &json!({"name": "Partner", "scopes": scopes, "rate_limit_per_minute": per_minute}),
                admin,
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        let body = created.json();
        (
            body["key"]["id"].as_i64().expect("an id"),
            body["secret"].as_str().expect("a secret").to_owned(),
        )
    }

    async fn get_keyed(&self, path: &str, secret: &str) -> TestResponse {
        self.get_with(path, &[("x-api-key", secret)]).await
    }
}

fn access(article: &Value) -> (bool, String) {
    (
        article["access"]["full"].as_bool().unwrap_or_default(),
        article["access"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

fn articles(app: &TestApp) {
    for (slug, level) in [
        ("free-one", AccessLevel::Free),
        ("metered-one", AccessLevel::Metered),
        ("premium-one", AccessLevel::Premium),
    ] {
        ArticleBuilder::new(slug).access(level).insert(app);
    }
}

#[actix_web::test]
async fn only_admins_make_keys_and_the_secret_is_shown_once() {
    let app = TestApp::spawn().await;
    let admin = app.token_with_role("admin@example.com", Role::Admin).await;
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let body = json!({"name": "Partner", "scopes": ["content:read"]});
    app.send_as(Method::POST, "/api/v1/admin/api-keys", &body, &editor)
        .await
        .assert_problem(403, "forbidden");
    app.get_as("/api/v1/admin/api-keys", &editor)
        .await
        .assert_problem(403, "forbidden");

    let (id, secret) = app
        .api_key(&admin, &["content:read", "content:read"], 600)
        .await;
    assert!(secret.starts_with("nd_"));
    let list = app.get_as("/api/v1/admin/api-keys", &admin).await;
    assert_eq!(list.status, 200);
    assert!(!list.text().contains(&secret), "never the secret again");
    let key = &list.json()["data"][0];
    assert_eq!(key["id"], id);
    assert_eq!(key["scopes"], json!(["content:read"]));
    assert_eq!(key["prefix"], secret[..9]);
    assert!(key["last_used_at"].is_null());

    for bad in [
        json!({"name": "", "scopes": ["content:read"]}),
        json!({"name": "P", "scopes": []}),
        json!({"name": "P", "scopes": ["content:read"], "rate_limit_per_minute": 0}),
        json!({"name": "P", "scopes": ["content:full", "content:full", "content:full"]}),
    ] {
        app.send_as(Method::POST, "/api/v1/admin/api-keys", &bad, &admin)
            .await
            .assert_problem(400, "validation_failed");
    }
    // JSON has one number type: 120.0 is the integer 120; 120.5 is not one.
    let whole = app
        .send_as(
            Method::POST,
            "/api/v1/admin/api-keys",
            &json!({"name": "Float", "scopes": ["content:read"], "rate_limit_per_minute": 120.0}),
            &admin,
        )
        .await;
    assert_eq!(whole.status, 201, "{}", whole.text());
    assert_eq!(whole.json()["key"]["rate_limit_per_minute"], 120);
    for bad in [
        json!({"name": "P", "scopes": ["content:read"], "rate_limit_per_minute": 120.5}),
        json!({"name": "P", "scopes": ["admin"]}),
        json!({"name": "P", "scopes": ["content:read"], "secret_hash": "x"}),
    ] {
        app.send_as(Method::POST, "/api/v1/admin/api-keys", &bad, &admin)
            .await
            .assert_problem(400, "malformed_body");
    }
}

#[actix_web::test]
async fn scopes_decide_what_a_partner_reads() {
    let app = TestApp::spawn().await;
    articles(&app);
    let admin = app.token_with_role("admin@example.com", Role::Admin).await;
    let (_, reader_key) = app.api_key(&admin, &["content:read"], 600).await;
    let (_, licence_key) = app.api_key(&admin, &["content:full"], 600).await;

    for (slug, read, full) in [
        ("free-one", (true, "free"), (true, "free")),
        ("metered-one", (false, "licence"), (true, "licence")),
        ("premium-one", (false, "licence"), (true, "licence")),
    ] {
        let path = format!("/api/v1/articles/{slug}");
        let with_read = app.get_keyed(&path, &reader_key).await;
        assert_eq!(with_read.status, 200, "{}", with_read.text());
        assert_eq!(
            with_read.header("x-meter-token"),
            None,
            "partners are not metered"
        );
        if slug != "free-one" {
            assert!(with_read.header("vary").unwrap().contains("X-API-Key"));
        }
        let article = with_read.json();
        assert_eq!(access(&article), (read.0, read.1.to_owned()), "{slug}");
        assert!(article["access"].get("meter").is_none());
        assert!(article.get("paywall").is_none());
        assert_eq!(
            with_read.text().contains("SECRET-ENDING"),
            read.0,
            "{slug}: body whole exactly when access says so"
        );
        let with_licence = app.get_keyed(&path, &licence_key).await.json();
        assert_eq!(access(&with_licence), (full.0, full.1.to_owned()), "{slug}");
    }
    // Reading a hundred metered articles would not exhaust anything.
    for _ in 0..5 {
        let again = app
            .get_keyed("/api/v1/articles/metered-one", &reader_key)
            .await;
        assert_eq!(access(&again.json()).1, "licence");
    }
}

#[actix_web::test]
async fn keys_have_a_per_minute_allowance_with_headers() {
    let app = TestApp::spawn().await;
    articles(&app);
    let admin = app.token_with_role("admin@example.com", Role::Admin).await;
    let (id, secret) = app.api_key(&admin, &["content:read"], 3).await;

    for remaining in [2, 1, 0] {
        let response = app.get_keyed("/api/v1/articles", &secret).await;
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("ratelimit-policy"),
            Some("\"per-key\";q=3;w=60")
        );
        let limit = response.header("ratelimit").unwrap();
        assert!(
            limit.starts_with(&format!("\"per-key\";r={remaining};t=")),
            "{limit}"
        );
    }
    let refused = app.get_keyed("/api/v1/articles/free-one", &secret).await;
    refused.assert_problem(429, "too_many_requests");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    assert!(refused.header("ratelimit").unwrap().contains(";r=0;"));

    let listed = app.get_as("/api/v1/admin/api-keys", &admin).await.json();
    let key = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap()
        .clone();
    assert!(key["last_used_at"].is_string(), "uses are recorded");
}

#[actix_web::test]
async fn a_revoked_or_unknown_key_is_refused_at_once() {
    let app = TestApp::spawn().await;
    articles(&app);
    let admin = app.token_with_role("admin@example.com", Role::Admin).await;
    let (id, secret) = app.api_key(&admin, &["content:full"], 600).await;
    assert_eq!(
        app.get_keyed("/api/v1/articles/premium-one", &secret)
            .await
            .status,
        200
    );

    let revoked = app
        .request(
            Method::DELETE,
            &format!("/api/v1/admin/api-keys/{id}"),
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await;
    assert_eq!(revoked.status, 204);
    let refused = app.get_keyed("/api/v1/articles/premium-one", &secret).await;
    refused.assert_problem(401, "invalid_api_key");
    assert!(!refused.text().contains("SECRET-ENDING"));
    let listed = app.get_as("/api/v1/admin/api-keys", &admin).await.json();
    assert!(listed["data"][0]["revoked_at"].is_string());
    app.request(
        Method::DELETE,
        "/api/v1/admin/api-keys/999999",
        &[("authorization", &format!("Bearer {admin}"))],
    )
    .await
    .assert_problem(404, "not_found");
    app.request(
        Method::DELETE,
        "/api/v1/admin/api-keys/9223372036854775808",
        &[("authorization", &format!("Bearer {admin}"))],
    )
    .await
    .assert_problem(400, "validation_failed");

    for bad in ["nd_not-a-key", "", &"x".repeat(500)] {
        app.get_keyed("/api/v1/articles", bad)
            .await
            .assert_problem(401, "invalid_api_key");
    }
}

#[actix_web::test]
async fn anonymous_clients_are_limited_per_address() {
    let app = TestApp::spawn_with(|config| config.rate_limit_anonymous_per_minute = 5).await;
    let reader = app.register("ana@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut statuses = Vec::new();
    let mut remaining = Vec::new();
    for _ in 0..6 {
        let response = app.get("/api/v1/articles").await;
        statuses.push(response.status.as_u16());
        let left = response.header("ratelimit").unwrap_or_default();
        remaining.push(left.split(';').nth(1).unwrap_or_default().to_owned());
    }
    // Registering was one anonymous request too.
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
    assert_eq!(remaining, ["r=3", "r=2", "r=1", "r=0", "r=0", "r=0"]);
    let refused = app.get("/api/v1/topics").await;
    refused.assert_problem(429, "too_many_requests");
    assert_eq!(
        refused.header("ratelimit-policy"),
        Some("\"per-address\";q=5;w=60")
    );
    assert!(refused.header("retry-after").is_some());
    assert_eq!(
        app.get_as("/api/v1/articles", &reader).await.status,
        200,
        "signed-in readers are not"
    );
    // Nothing that fails to authenticate escapes the address's allowance.
    for (path, headers) in [
        ("/health/live", vec![]),
        ("/metrics", vec![]),
        ("/no/such/path", vec![]),
        ("/api/v1/topics", vec![("authorization", "Bearer junk")]),
        ("/api/v1/articles", vec![("authorization", "Bearer junk")]),
        ("/api/v1/topics", vec![("x-api-key", "nd_not-a-real-key")]),
    ] {
        let response = app.get_with(path, &headers).await;
        assert_eq!(response.status, 429, "{path} {headers:?}");
    }
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_allowance() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_anonymous_per_minute = 3;
        config.trusted_proxies = newsdesk::client::TrustedProxies::new(
            vec!["127.0.0.0/8".parse().unwrap()],
            newsdesk::client::ForwardedHeader::XForwardedFor,
        );
    })
    .await;
    // A client that forges an entry gets its own address all the same.
    let a = [("x-forwarded-for", "6.6.6.6, 192.0.2.1")];
    for _ in 0..3 {
        assert_eq!(app.get_with("/api/v1/topics", &a).await.status, 200);
    }
    app.get_with("/api/v1/topics", &a)
        .await
        .assert_problem(429, "too_many_requests");
    let b = [("x-forwarded-for", "6.6.6.6, 192.0.2.2")];
    assert_eq!(app.get_with("/api/v1/topics", &b).await.status, 200);
}

#[actix_web::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let app = TestApp::spawn_with(|config| config.rate_limit_anonymous_per_minute = 3).await;
    for n in 0..3 {
        let forged = format!("192.0.2.{n}");
        let headers = [
            ("x-forwarded-for", forged.as_str()),
            ("forwarded", "for=192.0.2.99"),
        ];
        assert_eq!(app.get_with("/api/v1/topics", &headers).await.status, 200);
    }
    let fresh = [("x-forwarded-for", "198.51.100.77")];
    app.get_with("/api/v1/topics", &fresh)
        .await
        .assert_problem(429, "too_many_requests");
}

#[actix_web::test]
async fn signed_in_readers_have_an_allowance_of_their_own() {
    let app = TestApp::spawn_with(|config| {
        config.rate_limit_anonymous_per_minute = 1_000;
        config.rate_limit_user_per_minute = 3;
    })
    .await;
    let reader = app.register("busy@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = format!("Bearer {reader}");
    for _ in 0..3 {
        let ok = app
            .get_with("/api/v1/articles", &[("authorization", &auth)])
            .await;
        assert_eq!(ok.status, 200);
        assert_eq!(
            ok.header("ratelimit-policy"),
            Some("\"per-account\";q=3;w=60")
        );
    }
    app.get_with("/api/v1/articles", &[("authorization", &auth)])
        .await
        .assert_problem(429, "too_many_requests");
    assert_eq!(
        app.get("/api/v1/articles").await.status,
        200,
        "anonymous is another bucket"
    );
}
