//! Administration: accounts, roles and the audit trail.

use awc::http::Method;
use newsdesk::domain::account::Role;
use serde_json::{Value, json};

use crate::harness::TestApp;

fn emails(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|u| u["email"].as_str().expect("an email").to_owned())
        .collect()
}

#[actix_web::test]
async fn admins_list_and_search_accounts() {
    let app = TestApp::spawn().await;
    let admin = app
        .token_with_role("root@newsdesk.example", Role::Admin)
        .await;
    for name in ["ana", "ben", "cleo", "dan_x", "dan%y"] {
        app.register(&format!("{name}@example.com")).await;
    }

    let first = app.get_as("/api/v1/admin/users?limit=4", &admin).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("cache-control"), Some("private, no-store"));
    let first = first.json();
    assert_eq!(emails(&first).len(), 4);
    assert!(first["data"][0].get("password_hash").is_none());
    let cursor = first["meta"]["next_cursor"].as_str().unwrap();
    let rest = app
        .get_as(
            &format!("/api/v1/admin/users?limit=4&cursor={cursor}"),
            &admin,
        )
        .await
        .json();
    assert_eq!(emails(&rest).len(), 2);
    assert_eq!(rest["meta"]["next_cursor"], Value::Null);

    let found = app
        .get_as("/api/v1/admin/users?q=BEN@", &admin)
        .await
        .json();
    assert_eq!(emails(&found), ["ben@example.com"]);
    let literal = app
        .get_as("/api/v1/admin/users?q=dan_", &admin)
        .await
        .json();
    assert_eq!(
        emails(&literal),
        ["dan_x@example.com"],
        "_ is not a wildcard"
    );
    let percent = app.get_as("/api/v1/admin/users?q=%25", &admin).await.json();
    assert_eq!(
        emails(&percent),
        ["dan%y@example.com"],
        "% is not a wildcard"
    );
}

#[actix_web::test]
async fn roles_and_disabling_take_effect_at_once() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let admin = app
        .token_with_role("root@newsdesk.example", Role::Admin)
        .await;
    let session = app.register("ana@example.com").await;
    let ana = session["access_token"].as_str().unwrap().to_owned();
    let id = session["user"]["id"].as_i64().unwrap();
    let article = json!({"headline": "First", "body_markdown": "Text.", "access_level": "free", "topic": "russia", "authors": ["irina"]});

    app.send_as(Method::POST, "/api/v1/articles", &article, &ana)
        .await
        .assert_problem(403, "forbidden");
    let promoted = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}"),
            &json!({"role": "editor"}),
            &admin,
        )
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.text());
    assert_eq!(promoted.json()["role"], "editor");
    let created = app
        .send_as(Method::POST, "/api/v1/articles", &article, &ana)
        .await;
    assert_eq!(
        created.status, 201,
        "the same token now carries the new role"
    );

    let disabled = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}"),
            &json!({"disabled": true}),
            &admin,
        )
        .await;
    assert_eq!(disabled.json()["disabled"], true);
    app.get_as("/api/v1/me", &ana)
        .await
        .assert_problem(401, "invalid_token");
    app.login("ana@example.com", "correct horse battery")
        .await
        .assert_problem(403, "account_disabled");

    app.send_as(
        Method::PATCH,
        &format!("/api/v1/admin/users/{id}"),
        &json!({"disabled": false}),
        &admin,
    )
    .await;
    assert_eq!(
        app.login("ana@example.com", "correct horse battery")
            .await
            .status,
        200
    );

    app.send_as(
        Method::PATCH,
        "/api/v1/admin/users/999999",
        &json!({"role": "editor"}),
        &admin,
    )
    .await
    .assert_problem(404, "not_found");
    app.send_as(
        Method::PATCH,
        &format!("/api/v1/admin/users/{id}"),
        &json!({"role": "owner"}),
        &admin,
    )
    .await
    .assert_problem(400, "malformed_body");
}

#[actix_web::test]
async fn admins_cannot_lock_themselves_out() {
    let app = TestApp::spawn().await;
    let session = app.register("root@newsdesk.example").await;
    let id = session["user"]["id"].as_i64().unwrap();
    let admin = app
        .token_with_role("other-admin@newsdesk.example", Role::Admin)
        .await;
    app.send_as(
        Method::PATCH,
        &format!("/api/v1/admin/users/{id}"),
        &json!({"role": "admin"}),
        &admin,
    )
    .await;
    let root = session["access_token"].as_str().unwrap();
    for body in [json!({"role": "reader"}), json!({"disabled": true})] {
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/admin/users/{id}"),
            &body,
            root,
        )
        .await
        .assert_problem(409, "self_lockout");
    }
}

#[actix_web::test]
async fn only_admins_administer() {
    let app = TestApp::spawn().await;
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let reader = app
        .token_with_role("reader@example.com", Role::Reader)
        .await;
    for (method, path) in [
        (Method::GET, "/api/v1/admin/users"),
        (Method::PATCH, "/api/v1/admin/users/1"),
        (Method::GET, "/api/v1/admin/audit"),
    ] {
        let body = json!({"role": "admin"});
        app.json(method.clone(), path, &body, &[])
            .await
            .assert_problem(401, "unauthenticated");
        app.send_as(method.clone(), path, &body, &reader)
            .await
            .assert_problem(403, "forbidden");
        app.send_as(method.clone(), path, &body, &editor)
            .await
            .assert_problem(403, "forbidden");
    }
}

#[actix_web::test]
async fn the_audit_trail_says_who_did_what() {
    let app = TestApp::spawn().await;
    app.newsroom_catalogue();
    let admin = app
        .token_with_role("root@newsdesk.example", Role::Admin)
        .await;
    let editor = app.token_with_role("ed@example.com", Role::Editor).await;
    let article = json!({"headline": "Audited", "body_markdown": "Text.", "access_level": "free", "topic": "russia", "authors": ["irina"]});
    app.send_as(Method::POST, "/api/v1/articles", &article, &editor)
        .await;
    app.send_as(
        Method::POST,
        "/api/v1/articles/audited/publish",
        &json!({}),
        &editor,
    )
    .await;
    app.send_as(Method::DELETE, "/api/v1/topics/energy", &json!({}), &editor)
        .await;

    let trail = app.get_as("/api/v1/admin/audit?limit=2", &admin).await;
    assert_eq!(trail.status, 200, "{}", trail.text());
    let trail = trail.json();
    let actions: Vec<&str> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["topic.delete", "article.publish"]);
    assert_eq!(trail["data"][1]["actor"]["email"], "ed@example.com");
    assert_eq!(trail["data"][1]["target"], "article:audited");
    let cursor = trail["meta"]["next_cursor"].as_str().unwrap();
    let older = app
        .get_as(
            &format!("/api/v1/admin/audit?limit=2&cursor={cursor}"),
            &admin,
        )
        .await
        .json();
    assert_eq!(older["data"][0]["action"], "article.create");
}
