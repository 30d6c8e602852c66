//! The bypass hunt: every way we could think of to read a paywalled body
//! without the right to, each asserted to fail. The marker `SECRET-ENDING`
//! sits after the preview cut of every article body the builders make.

use awc::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use newsdesk::domain::article::{AccessLevel, ArticleStatus};
use serde_json::json;

use crate::builders::ArticleBuilder;
use crate::harness::TestApp;

const MARKER: &str = "SECRET-ENDING";

/// A token claiming to be an admin, with no signature at all.
fn unsigned_admin_token() -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"sub": "1", "role": "admin", "sid": "x", "exp": 4_102_444_800_u64, "iat": 0})
            .to_string(),
    );
    format!("{header}.{claims}.")
}

#[actix_web::test]
async fn no_request_shape_reveals_a_paywalled_body() {
    let app = TestApp::spawn_with(|config| {
        config.free_articles = 0;
        config.free_articles_anonymous = 0;
    })
    .await;
    ArticleBuilder::new("premium-one")
        .access(AccessLevel::Premium)
        .insert(&app);
    ArticleBuilder::new("metered-one")
        .access(AccessLevel::Metered)
        .insert(&app);
    ArticleBuilder::new("premium-draft")
        .access(AccessLevel::Premium)
        .status(ArticleStatus::Draft)
        .insert(&app);
    ArticleBuilder::new("premium-scheduled")
        .access(AccessLevel::Premium)
        .status(ArticleStatus::Scheduled)
        .insert(&app);
    let reader = app.register("ana@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let fresh_meter = app
        .get("/api/v1/articles/metered-one")
        .await
        .header("x-meter-token")
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {reader}");
    let unsigned = format!("Bearer {}", unsigned_admin_token());

    let identities: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("anonymous", vec![]),
        (
            "anonymous with a fresh meter",
            vec![("x-meter-token", &fresh_meter)],
        ),
        (
            "a forged meter token",
            vec![(
                "x-meter-token",
                "m1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
            )],
        ),
        ("a reader", vec![("authorization", &bearer)]),
        (
            "a reader with a fresh anonymous meter",
            vec![("authorization", &bearer), ("x-meter-token", &fresh_meter)],
        ),
        (
            "an unsigned admin token",
            vec![("authorization", &unsigned)],
        ),
        ("a garbage token", vec![("authorization", "Bearer garbage")]),
        (
            "basic auth",
            vec![("authorization", "Basic YWRtaW46YWRtaW4=")],
        ),
        (
            "an unknown API key",
            vec![("x-api-key", "nd_live_0000000000000000")],
        ),
        (
            "a forwarded admin",
            vec![("x-forwarded-for", "127.0.0.1"), ("x-user-role", "admin")],
        ),
        ("a conditional request", vec![("if-none-match", "*")]),
    ];
    let paths = [
        "/api/v1/articles/premium-one",
        "/api/v1/articles/metered-one",
        "/api/v1/articles/premium-one?full=true&preview=false&access=free&status=draft",
        "/api/v1/articles/PREMIUM-ONE",
        "/api/v1/articles/premium-one/",
        "/api/v1/articles/premium-one%20",
        "/api/v1/articles/premium-one%2F..",
        "/api/v1/articles/%70remium-one",
        "/api/v1/articles/premium-draft",
        "/api/v1/articles/premium-scheduled",
        "/api/v1/articles?limit=100",
        "/api/v1/articles?status=draft",
        "/api/v1/articles?status=scheduled",
        "/api/v1/articles?access=premium&fields=body",
        "/api/v1/topics",
        "/api/v1/authors",
        "/api/v1/sources",
        "/api/v1/plans",
        "/api/v1/openapi.json",
        "/api/v1/home",
        "/api/v1/articles?q=secret",
        "/api/v1/articles?q=secret&sort=latest",
        "/api/v1/articles?q=%22secret%20ending%22",
        "/api/v1/articles?sort=most_read&window=30d",
        "/api/v1/topics/trending",
        "/api/v1/feeds/rss",
        "/api/v1/feeds/atom",
        "/api/v1/feeds/json?limit=50",
        "/api/v1/newsletters",
    ];
    for (who, headers) in &identities {
        for path in paths {
            let response = app.get_with(path, headers).await;
            assert!(
                response.status.as_u16() < 500,
                "{who} {path}: {}",
                response.status
            );
            assert!(
                !response.text().contains(MARKER),
                "{who} reads a paywalled body at {path}"
            );
        }
        // Not quoting the hidden text is not enough: a hit alone says the
        // hidden part contains the words. Every way of asking must miss.
        for query in [
            "secret",
            "%22secret%20ending%22",
            "secret-ending",
            "secr*",
            "secret&sort=latest",
            "ending%20-nothing",
        ] {
            let path = format!("/api/v1/articles?q={query}");
            let response = app.get_with(&path, headers).await;
            if response.status.as_u16() != 200 {
                continue;
            }
            let hits: Vec<String> = response.json()["data"]
                .as_array()
                .expect("a list")
                .iter()
                .map(|hit| hit["slug"].as_str().unwrap_or_default().to_owned())
                .collect();
            for hidden in ["premium-one", "metered-one"] {
                assert!(
                    !hits.iter().any(|h| h == hidden),
                    "{who} learns that {hidden}'s hidden text matches {path}"
                );
            }
        }
        let head = app
            .request(Method::HEAD, "/api/v1/articles/premium-one", headers)
            .await;
        assert!(head.status.as_u16() < 500, "{who} HEAD");
        assert!(head.body.is_empty(), "{who}: a HEAD answer has no body");
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let response = app
                .request(method.clone(), "/api/v1/articles/premium-one", headers)
                .await;
            assert!(response.status.is_client_error(), "{who} {method}");
            assert!(!response.text().contains(MARKER), "{who} {method}");
        }
    }
}

#[actix_web::test]
async fn a_subscription_that_is_not_paid_or_is_over_opens_nothing() {
    let app = TestApp::spawn_with(|config| {
        config.payment_provider = newsdesk::config::PaymentProvider::Webhook;
        config.payment_webhook_secret = Some(newsdesk::config::Secret::new(
            "whsec-test-secret-0123456789",
        ));
        config.free_articles = 0;
    })
    .await;
    ArticleBuilder::new("premium-one")
        .access(AccessLevel::Premium)
        .insert(&app);
    let reader = app.register("ana@example.com").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {reader}");
    let started = app
        .json(
            Method::POST,
            "/api/v1/me/subscription",
            &json!({"plan": "monthly"}),
            &[("authorization", &bearer), ("idempotency-key", "k1")],
        )
        .await;
    assert_eq!(started.json()["status"], "incomplete");
    let read = app.get_as("/api/v1/articles/premium-one", &reader).await;
    assert_eq!(read.json()["access"]["reason"], "premium");
    assert!(!read.text().contains(MARKER));

    // Forging the processor's confirmation without the secret does nothing.
    let id = started.json()["id"].as_str().unwrap().to_owned();
    let now = newsdesk::clock::Clock::System.now();
    let body = json!({
        "id": "evt_forged",
        "type": "payment.succeeded",
        "created": now.and_utc().to_rfc3339(),
        "data": {"subscription": id, "period_start": now.and_utc().to_rfc3339(),
                 "period_end": (now + chrono::Duration::days(30)).and_utc().to_rfc3339()}
    })
    .to_string();
    let forged = newsdesk::auth::webhook_signature::sign(
        b"a guessed secret",
        now.and_utc().timestamp(),
        body.as_bytes(),
    );
    app.send_body_with(
        Method::POST,
        "/api/v1/webhooks/payments",
        body,
        &[
            ("content-type", "application/json"),
            ("webhook-signature", &forged),
        ],
    )
    .await
    .assert_problem(401, "invalid_signature");
    let read = app.get_as("/api/v1/articles/premium-one", &reader).await;
    assert!(!read.text().contains(MARKER));
}
