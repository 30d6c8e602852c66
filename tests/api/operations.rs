//! Health, metrics, errors for unknown routes, CORS, request ids and the OpenAPI document.

use awc::http::Method;

use crate::builders::ArticleBuilder;
use crate::harness::TestApp;

#[actix_web::test]
async fn probes_report_health() {
    let app = TestApp::spawn().await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.json()["status"], "ok");
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["status"], "ok");
}

#[actix_web::test]
async fn without_a_database_readiness_and_data_answer_503() {
    let app = TestApp::spawn_without_database().await;

    assert_eq!(
        app.get("/health/live").await.status,
        200,
        "liveness needs no database"
    );
    for path in ["/health/ready", "/api/v1/articles", "/api/v1/topics/energy"] {
        let response = app.get(path).await;
        let problem = response.assert_problem(503, "service_unavailable");
        assert_eq!(response.header("retry-after"), Some("2"));
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            !detail.contains("127.0.0.1") && !detail.contains("nonexistent"),
            "{detail}"
        );
    }
}

#[actix_web::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = TestApp::spawn().await;

    app.get("/api/v1/nothing-here")
        .await
        .assert_problem(404, "route_not_found");
    app.get("/").await.assert_problem(404, "route_not_found");

    let response = app.request(Method::DELETE, "/api/v1/articles", &[]).await;
    response.assert_problem(405, "method_not_allowed");
    assert_eq!(response.header("allow"), Some("GET, HEAD, POST"));
    let response = app
        .request(Method::PUT, "/api/v1/articles/some-slug", &[])
        .await;
    response.assert_problem(405, "method_not_allowed");
    assert_eq!(response.header("allow"), Some("GET, HEAD, PATCH, DELETE"));
    app.request(Method::POST, "/health/live", &[])
        .await
        .assert_problem(405, "method_not_allowed");
    // A literal path beside a parameter one (/topics/{slug}) is its own resource.
    let response = app
        .request(Method::OPTIONS, "/api/v1/topics/trending", &[])
        .await;
    response.assert_problem(405, "method_not_allowed");
    assert_eq!(response.header("allow"), Some("GET, HEAD"));
}

#[actix_web::test]
async fn bodies_sent_where_none_is_expected_lose_nothing_and_crash_nothing() {
    let app = TestApp::spawn().await;
    ArticleBuilder::new("a").insert(&app);

    let response = app
        .send_body(
            Method::PUT,
            "/api/v1/articles",
            "application/json",
            "{not json",
        )
        .await;
    response.assert_problem(405, "method_not_allowed");
    // NUL characters: PostgreSQL refuses them in text, so nothing takes them.
    for path in [
        "/api/v1/articles?topic=ice%00",
        "/api/v1/feeds/rss?source=x%00",
    ] {
        app.get(path).await.assert_problem(400, "validation_failed");
    }
    app.get("/api/v1/articles/a%00b")
        .await
        .assert_problem(404, "route_not_found");
    let response = app
        .send_body(
            Method::POST,
            "/api/v1/auth/register",
            "application/json",
            r#"{"email":"nul@example.com","password":"long enough pass","display_name":"a\u0000b"}"#,
        )
        .await;
    response.assert_problem(400, "malformed_body");

    // serde fills a struct from an array; the API takes objects only.
    for body in [
        r#"["ana@example.com", "secret passphrase"]"#,
        "[null, null]",
        "null",
        "7",
    ] {
        let response = app
            .send_body(Method::POST, "/api/v1/auth/login", "application/json", body)
            .await;
        response.assert_problem(400, "malformed_body");
    }
    let big = vec![b'x'; 3 * 1024 * 1024];
    let response = app
        .send_body(Method::POST, "/api/v1/topics", "application/json", big)
        .await;
    assert!(response.status.is_client_error(), "{}", response.status);
    assert_eq!(
        app.get("/api/v1/articles").await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn every_response_has_a_request_id() {
    let app = TestApp::spawn().await;

    let generated = app.get("/health/live").await;
    let id = generated.header("x-request-id").expect("a request id");
    assert_eq!(id.len(), 36, "{id}");
    let ids: std::collections::HashSet<String> =
        futures_util::future::join_all((0..50).map(|_| app.get("/health/live")))
            .await
            .iter()
            .filter_map(|r| r.header("x-request-id").map(str::to_owned))
            .chain([id.to_owned()])
            .collect();
    assert_eq!(ids.len(), 51, "every request gets its own id");

    let echoed = app
        .get_with("/api/v1/nothing", &[("x-request-id", "client-42.abc")])
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("client-42.abc"));

    let unsafe_id = app
        .get_with(
            "/health/live",
            &[("x-request-id", "<script>alert(1)</script>")],
        )
        .await;
    assert_ne!(
        unsafe_id.header("x-request-id"),
        Some("<script>alert(1)</script>")
    );
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/articles").await;
    app.get("/api/v1/articles?limit=0").await;
    app.get("/api/v1/articles/missing").await;

    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text();
    for line in [
        r#"newsdesk_http_requests_total{method="GET",route="/api/v1/articles",status="200"} 1"#,
        r#"newsdesk_http_requests_total{method="GET",route="/api/v1/articles",status="400"} 1"#,
        r#"newsdesk_http_requests_total{method="GET",route="/api/v1/articles/{slug}",status="404"} 1"#,
        "newsdesk_http_request_duration_seconds_bucket",
        "newsdesk_db_pool_connections",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

#[actix_web::test]
async fn browsers_from_allowed_origins_may_call_the_api() {
    let app = TestApp::spawn_with(|config| {
        config.cors_allowed_origins = vec!["https://www.newsdesk.example".into()];
    })
    .await;

    let preflight = app
        .request(
            Method::OPTIONS,
            "/api/v1/articles",
            &[
                ("origin", "https://www.newsdesk.example"),
                ("access-control-request-method", "GET"),
                (
                    "access-control-request-headers",
                    "authorization, if-none-match",
                ),
            ],
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://www.newsdesk.example")
    );
    assert_eq!(
        preflight.header("access-control-allow-credentials"),
        Some("true")
    );

    let simple = app
        .get_with(
            "/api/v1/articles",
            &[("origin", "https://www.newsdesk.example")],
        )
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://www.newsdesk.example")
    );

    let stranger = app
        .get_with("/api/v1/articles", &[("origin", "https://evil.example")])
        .await;
    assert!(stranger.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn security_headers_are_set_and_no_version_is_announced() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/articles").await;
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("referrer-policy"), Some("no-referrer"));
    assert!(response.header("server").is_none());

    let big = "t".repeat(newsdesk::config::MAX_HEADER_BYTES);
    app.get_with("/api/v1/articles", &[("x-padding", &big)])
        .await
        .assert_problem(431, "headers_too_large");
}

#[actix_web::test]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = TestApp::spawn().await;
    let served = app.get("/api/v1/openapi.json").await;
    assert_eq!(served.status, 200);
    let served = served.json();

    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap_or_default();
    assert!(
        served == committed,
        "openapi/openapi.json is out of date; regenerate it with\n    cargo run -- openapi > openapi/openapi.json"
    );
    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(served["info"]["title"], "newsdesk");
}

#[actix_web::test]
async fn every_documented_operation_declares_its_responses_with_descriptions() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/api/v1/articles",
        "/api/v1/articles/{slug}",
        "/api/v1/topics",
        "/api/v1/topics/{slug}",
        "/api/v1/authors",
        "/api/v1/authors/{slug}",
        "/api/v1/sources",
        "/api/v1/sources/{slug}",
        "/api/v1/openapi.json",
        "/health/live",
        "/health/ready",
        "/metrics",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    const VERBS: [&str; 17] = [
        "get",
        "list",
        "create",
        "update",
        "delete",
        "publish",
        "unpublish",
        "archive",
        "revoke",
        "cancel",
        "resume",
        "change",
        "confirm",
        "unsubscribe",
        "refresh",
        "register",
        "receive",
    ];
    let mut ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            // `<verb>_<resource>`: these names become method names in every
            // generated SDK, so they say what is done to what.
            let id = operation["operationId"].as_str().unwrap_or_default();
            let (verb, resource) = id.split_once('_').unwrap_or_default();
            assert!(
                VERBS.contains(&verb) && !resource.is_empty(),
                "{method} {path}: operationId `{id}` is not <verb>_<resource>"
            );
            assert!(
                ids.insert(id.to_owned()),
                "operationId `{id}` is used twice"
            );
            assert!(
                operation["summary"].is_string(),
                "{method} {path} has no summary"
            );
            for (status, response) in operation["responses"].as_object().unwrap() {
                let described = response["description"].is_string() || response["$ref"].is_string();
                assert!(described, "{method} {path} {status} has no description");
            }
        }
    }
}

#[actix_web::test]
async fn swagger_ui_is_served() {
    let app = TestApp::spawn().await;
    let redirect = app.get("/docs").await;
    assert!(redirect.status.is_redirection());
    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("swagger"), "{}", page.text());
    let config = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(config.status, 200);
    assert!(config.text().contains("/api/v1/openapi.json"));
}
