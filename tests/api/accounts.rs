//! Registration, login, tokens and one's own account.

use awc::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::builders::ArticleBuilder;
use crate::harness::{TEST_JWT_SECRET, TestApp, TestResponse};

const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Registers an account; returns the session.
    pub async fn register(&self, email: &str) -> Value {
        let response = self
            .post(
                "/api/v1/auth/register",
                &json!({"email": email, "password": PASSWORD, "display_name": "Test Reader"}),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.text());
        response.json()
    }

    /// Logs in; returns the response.
    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// GET with a bearer token.
    pub async fn get_as(&self, path: &str, token: &str) -> TestResponse {
        let auth = format!("Bearer {token}");
        self.get_with(path, &[("authorization", &auth)]).await
    }

    /// Sends JSON with a bearer token.
    pub async fn send_as(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        token: &str,
    ) -> TestResponse {
        let auth = format!("Bearer {token}");
        self.json(method, path, body, &[("authorization", &auth)])
            .await
    }

    pub async fn refresh(&self, token: &str) -> TestResponse {
        self.post("/api/v1/auth/refresh", &json!({"refresh_token": token}))
            .await
    }
}

fn token(session: &Value, which: &str) -> String {
    session[which].as_str().expect("a token").to_owned()
}

#[actix_web::test]
async fn registering_signs_in_with_a_normalised_email() {
    let app = TestApp::spawn().await;

    let session = app.register("  Ana.Lopez@Example.COM ").await;

    assert_eq!(session["user"]["email"], "ana.lopez@example.com");
    assert_eq!(session["user"]["role"], "reader");
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 900);
    assert!(session["user"].get("password_hash").is_none());
    let me = app
        .get_as("/api/v1/me", &token(&session, "access_token"))
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["email"], "ana.lopez@example.com");
    assert_eq!(me.header("cache-control"), Some("no-store"));
    assert!(!me.text().contains("argon2"));

    let again = app
        .post(
            "/api/v1/auth/register",
            &json!({"email": "ANA.LOPEZ@example.com", "password": PASSWORD, "display_name": "Other"}),
        )
        .await;
    again.assert_problem(409, "email_taken");
}

#[actix_web::test]
async fn registration_names_every_bad_field() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/v1/auth/register",
            &json!({"email": "not-an-email", "password": "short", "display_name": "  "}),
        )
        .await;
    let fields = response.invalid_fields();
    assert_eq!(fields, ["email", "password", "display_name"]);

    let long = "x".repeat(1025);
    app.post(
        "/api/v1/auth/register",
        &json!({"email": "a@example.com", "password": long, "display_name": "A"}),
    )
    .await
    .assert_problem(400, "validation_failed");
    app.send_body(
        Method::POST,
        "/api/v1/auth/register",
        "application/json",
        "{\"email\":",
    )
    .await
    .assert_problem(400, "malformed_body");
    app.send_body(Method::POST, "/api/v1/auth/register", "text/plain", "hello")
        .await
        .assert_problem(415, "unsupported_media_type");
    let huge = format!("{{\"email\":\"{}\"}}", "a".repeat(300 * 1024));
    app.send_body(
        Method::POST,
        "/api/v1/auth/register",
        "application/json",
        huge,
    )
    .await
    .assert_problem(413, "payload_too_large");
}

#[actix_web::test]
async fn nobody_can_give_themselves_a_role() {
    let app = TestApp::spawn().await;
    app.post(
        "/api/v1/auth/register",
        &json!({"email": "eve@example.com", "password": PASSWORD, "display_name": "Eve", "role": "admin"}),
    )
    .await
    .assert_problem(400, "malformed_body");

    let session = app.register("eve@example.com").await;
    let access = token(&session, "access_token");
    for body in [
        json!({"role": "admin"}),
        json!({"display_name": "Eve", "role": "editor"}),
        json!({"email": "x@example.com"}),
    ] {
        app.send_as(Method::PATCH, "/api/v1/me", &body, &access)
            .await
            .assert_problem(400, "malformed_body");
    }
    let renamed = app
        .send_as(
            Method::PATCH,
            "/api/v1/me",
            &json!({"display_name": "  Eve A.  "}),
            &access,
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.json()["display_name"], "Eve A.");
    assert_eq!(
        app.get_as("/api/v1/me", &access).await.json()["role"],
        "reader"
    );
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    app.register("ana@example.com").await;

    let wrong = app.login("ana@example.com", "not the password").await;
    let unknown = app.login("nobody@example.com", "not the password").await;

    wrong.assert_problem(401, "invalid_credentials");
    unknown.assert_problem(401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
    let ok = app.login(" ANA@example.com", PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
}

#[actix_web::test]
async fn repeated_failures_for_one_account_are_throttled() {
    let app = TestApp::spawn().await;
    app.register("ana@example.com").await;
    app.register("ben@example.com").await;

    for _ in 0..5 {
        app.login("ana@example.com", "wrong password!")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let throttled = app.login("ana@example.com", PASSWORD).await;
    throttled.assert_problem(429, "too_many_requests");
    let wait: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!((800..=900).contains(&wait), "{wait}");

    let other = app.login("ben@example.com", PASSWORD).await;
    assert_eq!(
        other.status, 200,
        "another account from the same client is not locked"
    );
}

#[actix_web::test]
async fn repeated_failures_from_one_client_are_throttled() {
    let app = TestApp::spawn().await;
    app.register("ana@example.com").await;
    for i in 0..20 {
        app.login(&format!("guess{i}@example.com"), "wrong password!")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    app.login("ana@example.com", PASSWORD)
        .await
        .assert_problem(429, "too_many_requests");
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_login() {
    let app = TestApp::spawn().await;
    let first = app.register("ana@example.com").await;
    let r1 = token(&first, "refresh_token");

    let second = app.refresh(&r1).await;
    assert_eq!(second.status, 200, "{}", second.text());
    let second = second.json();
    let r2 = token(&second, "refresh_token");
    assert_ne!(r1, r2);
    assert_eq!(
        app.get_as("/api/v1/me", &token(&second, "access_token"))
            .await
            .status,
        200
    );

    app.refresh(&r1).await.assert_problem(401, "invalid_token");
    app.refresh(&r2).await.assert_problem(401, "invalid_token");

    let other_login = app.login("ana@example.com", PASSWORD).await.json();
    assert_eq!(
        app.refresh(&token(&other_login, "refresh_token"))
            .await
            .status,
        200,
        "other logins live on"
    );
    app.refresh("never-issued")
        .await
        .assert_problem(401, "invalid_token");
}

#[actix_web::test]
async fn logging_out_ends_one_login_or_all_of_them() {
    let app = TestApp::spawn().await;
    let a = app.register("ana@example.com").await;
    let b = app.login("ana@example.com", PASSWORD).await.json();
    let c = app.login("ana@example.com", PASSWORD).await.json();

    let out = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": token(&a, "refresh_token")}),
        )
        .await;
    assert_eq!(out.status, 204);
    app.refresh(&token(&a, "refresh_token"))
        .await
        .assert_problem(401, "invalid_token");
    let unknown = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": "no-such-token"}),
        )
        .await;
    assert_eq!(unknown.status, 204, "unknown tokens are accepted silently");
    app.post(
        "/api/v1/auth/logout",
        &json!({"refresh_token": "x".repeat(129)}),
    )
    .await
    .assert_problem(400, "validation_failed");

    let all = app
        .send_as(
            Method::POST,
            "/api/v1/auth/logout-all",
            &json!({}),
            &token(&b, "access_token"),
        )
        .await;
    assert_eq!(all.status, 204);
    app.refresh(&token(&b, "refresh_token"))
        .await
        .assert_problem(401, "invalid_token");
    app.refresh(&token(&c, "refresh_token"))
        .await
        .assert_problem(401, "invalid_token");
}

fn forge(header: &Value, claims: &Value, key: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let head = URL_SAFE_NO_PAD.encode(header.to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(format!("{head}.{body}").as_bytes());
    format!(
        "{head}.{body}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[actix_web::test]
async fn bad_tokens_are_refused_and_never_taken_for_anonymous() {
    let app = TestApp::spawn().await;
    let session = app.register("ana@example.com").await;
    ArticleBuilder::new("free-one").insert(&app);
    let user_id = session["user"]["id"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": user_id.to_string(), "role": "admin", "iat": now, "exp": now + 600,
        "iss": "newsdesk", "aud": "newsdesk-api", "jti": "forged", "sid": "forged"
    });
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let mut expired = claims.clone();
    expired["exp"] = json!(now - 3600);
    let mut wrong_audience = claims.clone();
    wrong_audience["aud"] = json!("someone-else");
    let mut wrong_issuer = claims.clone();
    wrong_issuer["iss"] = json!("another-issuer");
    let mut no_expiry = claims.clone();
    no_expiry.as_object_mut().unwrap().remove("exp");
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let good = forge(&hs256, &claims, TEST_JWT_SECRET.as_bytes());
    assert_eq!(
        app.get_as("/api/v1/me", &good).await.status,
        200,
        "the forging itself is right"
    );
    let bad = [
        forge(&hs256, &claims, b"a-guessed-secret-that-is-long-enough!"),
        forge(&hs256, &expired, TEST_JWT_SECRET.as_bytes()),
        forge(&hs256, &wrong_audience, TEST_JWT_SECRET.as_bytes()),
        forge(&hs256, &wrong_issuer, TEST_JWT_SECRET.as_bytes()),
        forge(&hs256, &no_expiry, TEST_JWT_SECRET.as_bytes()),
        forge(
            &json!({"alg": "HS384", "typ": "JWT"}),
            &claims,
            TEST_JWT_SECRET.as_bytes(),
        ),
        none,
        "garbage".to_owned(),
        format!("{}x", token(&session, "access_token")),
    ];

    let missing = app.get("/api/v1/me").await;
    missing.assert_problem(401, "unauthenticated");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    let basic = app
        .get_with("/api/v1/me", &[("authorization", "Basic YTpi")])
        .await;
    basic.assert_problem(401, "invalid_token");
    for token in bad.iter() {
        let response = app.get_as("/api/v1/me", token).await;
        response.assert_problem(401, "invalid_token");
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer error=\"invalid_token\"")
        );
        app.get_as("/api/v1/articles/free-one", token)
            .await
            .assert_problem(401, "invalid_token");
    }
}

#[actix_web::test]
async fn changing_the_password_ends_the_other_logins() {
    let app = TestApp::spawn().await;
    let here = app.register("ana@example.com").await;
    let elsewhere = app.login("ana@example.com", PASSWORD).await.json();
    let access = token(&here, "access_token");

    app.send_as(
        Method::POST,
        "/api/v1/me/password",
        &json!({"current_password": "not it at all", "new_password": "a brand new passphrase"}),
        &access,
    )
    .await
    .assert_problem(400, "validation_failed");
    app.send_as(
        Method::POST,
        "/api/v1/me/password",
        &json!({"current_password": PASSWORD, "new_password": "short"}),
        &access,
    )
    .await
    .assert_problem(400, "validation_failed");

    let changed = app
        .send_as(
            Method::POST,
            "/api/v1/me/password",
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
            &access,
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.text());

    app.login("ana@example.com", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    assert_eq!(
        app.login("ana@example.com", "a brand new passphrase")
            .await
            .status,
        200
    );
    app.refresh(&token(&elsewhere, "refresh_token"))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(
        app.refresh(&token(&here, "refresh_token")).await.status,
        200,
        "this login stays"
    );
}

#[actix_web::test]
async fn a_disabled_account_stops_working_at_once() {
    use diesel::prelude::*;
    use newsdesk::db::schema::users;

    let app = TestApp::spawn().await;
    let session = app.register("ana@example.com").await;
    let access = token(&session, "access_token");
    assert_eq!(app.get_as("/api/v1/me", &access).await.status, 200);

    app.db(|conn| {
        diesel::update(users::table.filter(users::email.eq("ana@example.com")))
            .set(users::disabled.eq(true))
            .execute(conn)
    })
    .unwrap();

    app.get_as("/api/v1/me", &access)
        .await
        .assert_problem(401, "invalid_token");
    app.refresh(&token(&session, "refresh_token"))
        .await
        .assert_problem(401, "invalid_token");
    app.login("ana@example.com", PASSWORD)
        .await
        .assert_problem(403, "account_disabled");
}

#[actix_web::test]
async fn create_admin_creates_or_promotes() {
    use newsdesk::admin::{AdminOutcome, create_admin};
    let app = TestApp::spawn().await;
    let now = newsdesk::clock::Clock::System.now();

    let created = app.db(|conn| create_admin(conn, "Boss@Example.com", Some(PASSWORD), now));
    assert_eq!(created.unwrap(), AdminOutcome::Created);
    let boss = app.login("boss@example.com", PASSWORD).await.json();
    assert_eq!(boss["user"]["role"], "admin");

    app.register("ana@example.com").await;
    let promoted = app.db(|conn| create_admin(conn, "ana@example.com", None, now));
    assert_eq!(promoted.unwrap(), AdminOutcome::Promoted);
    let ana = app.login("ana@example.com", PASSWORD).await.json();
    assert_eq!(ana["user"]["role"], "admin", "the password was kept");

    let refused = app.db(|conn| create_admin(conn, "new@example.com", None, now));
    assert!(refused.is_err(), "a new admin needs a password");
    let weak = app.db(|conn| create_admin(conn, "new@example.com", Some("short"), now));
    assert!(weak.is_err());
}
