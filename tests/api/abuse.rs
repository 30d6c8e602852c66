//! Availability and sessions under hostile clients: password guessing and
//! hashing floods, sessions that must end, bodies that never arrive.

use std::io::{Read, Write};
use std::time::Duration;

use awc::http::Method;
use serde_json::json;

use crate::harness::TestApp;

const PASSWORD: &str = "correct horse battery";

impl TestApp {
    async fn login_from(&self, email: &str, password: &str, address: &str) -> u16 {
        self.json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
            &[("x-forwarded-for", address)],
        )
        .await
        .status
        .as_u16()
    }
}

#[actix_web::test]
async fn a_guesser_is_stopped_without_locking_out_the_owner() {
    let app = TestApp::spawn_behind_proxy().await;
    app.register("owner@example.com").await;
    for _ in 0..5 {
        let status = app
            .login_from("owner@example.com", "wrong password!", "192.0.2.66")
            .await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        app.login_from("owner@example.com", "wrong password!", "192.0.2.66")
            .await,
        429
    );
    assert_eq!(
        app.login_from("owner@example.com", PASSWORD, "192.0.2.66")
            .await,
        429,
        "the guesser's address stays throttled even with the right password"
    );
    assert_eq!(
        app.login_from("owner@example.com", PASSWORD, "198.51.100.5")
            .await,
        200,
        "the owner, elsewhere, signs in"
    );
    // The owner's own typos are forgiven by the right password.
    for _ in 0..4 {
        app.login_from("owner@example.com", "a typo in it", "198.51.100.5")
            .await;
    }
    assert_eq!(
        app.login_from("owner@example.com", PASSWORD, "198.51.100.5")
            .await,
        200
    );
    for _ in 0..4 {
        let status = app
            .login_from("owner@example.com", "another typo", "198.51.100.5")
            .await;
        assert_eq!(status, 401, "counted afresh after the success");
    }
}

#[actix_web::test]
async fn a_burst_of_concurrent_guesses_gets_no_more_than_the_limit_checked() {
    let app = TestApp::spawn_behind_proxy().await;
    app.register("target@example.com").await;
    let guesses = (0..20).map(|i| {
        let app = &app;
        async move {
            app.login_from(
                "target@example.com",
                &format!("guess number {i}"),
                "192.0.2.77",
            )
            .await
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + refused, 20, "{statuses:?}");
    assert!(checked <= 5, "{checked} guesses were checked: {statuses:?}");
}

#[actix_web::test]
async fn the_current_password_cannot_be_guessed_with_a_stolen_token() {
    let app = TestApp::spawn().await;
    let session = app.register("stolen@example.com").await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    let attempt = |current: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            app.send_as(
                Method::POST,
                "/api/v1/me/password",
                &json!({"current_password": current, "new_password": "a brand new passphrase"}),
                &token,
            )
            .await
        }
    };
    for _ in 0..5 {
        assert_eq!(
            attempt("not it, sorry").await.invalid_fields(),
            ["current_password"]
        );
    }
    attempt("not it either")
        .await
        .assert_problem(429, "too_many_requests");
}

#[actix_web::test]
async fn one_address_registers_a_bounded_number_of_accounts() {
    let app = TestApp::spawn_behind_proxy().await;
    let register = |n: usize, address: &'static str| {
        let app = &app;
        async move {
            app.json(
                Method::POST,
                "/api/v1/auth/register",
                &json!({"email": format!("bulk{n}@example.com"), "password": PASSWORD, "display_name": "Bulk"}),
                &[("x-forwarded-for", address)],
            )
            .await
        }
    };
    for n in 0..10 {
        assert_eq!(register(n, "192.0.2.9").await.status, 201);
    }
    register(10, "192.0.2.9")
        .await
        .assert_problem(429, "too_many_requests");
    assert_eq!(
        register(11, "192.0.2.10").await.status,
        201,
        "another address"
    );
    // An address that is taken answers before any hashing, as before.
    register(0, "192.0.2.10")
        .await
        .assert_problem(409, "email_taken");
}

#[actix_web::test]
async fn ending_logins_ends_their_access_tokens_at_once() {
    let app = TestApp::spawn().await;
    let first = app.register("ana@example.com").await;
    let first = first["access_token"].as_str().unwrap().to_owned();
    let second = app.login("ana@example.com", PASSWORD).await.json();
    let second_access = second["access_token"].as_str().unwrap().to_owned();
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();

    // A password change ends the other login, not this one.
    let changed = app
        .send_as(
            Method::POST,
            "/api/v1/me/password",
            &json!({"current_password": PASSWORD, "new_password": "another good passphrase"}),
            &second_access,
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.text());
    app.get_as("/api/v1/me", &first)
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(app.get_as("/api/v1/me", &second_access).await.status, 200);

    // Logging out ends this login's access token too.
    let out = app
        .post(
            "/api/v1/auth/logout",
            &json!({"refresh_token": second_refresh}),
        )
        .await;
    assert_eq!(out.status, 204);
    app.get_as("/api/v1/me", &second_access)
        .await
        .assert_problem(401, "invalid_token");

    // Logging out everywhere ends every one.
    let third = app
        .login("ana@example.com", "another good passphrase")
        .await
        .json();
    let fourth = app
        .login("ana@example.com", "another good passphrase")
        .await
        .json();
    let third = third["access_token"].as_str().unwrap().to_owned();
    let fourth = fourth["access_token"].as_str().unwrap().to_owned();
    let all = app
        .send_as(Method::POST, "/api/v1/auth/logout-all", &json!({}), &third)
        .await;
    assert_eq!(all.status, 204);
    for token in [&third, &fourth] {
        app.get_as("/api/v1/me", token)
            .await
            .assert_problem(401, "invalid_token");
    }
}

#[actix_web::test]
async fn no_refresh_in_flight_survives_logging_out_everywhere() {
    let app = TestApp::spawn().await;
    app.register("racer@example.com").await;
    for round in 0..8 {
        let session = app.login("racer@example.com", PASSWORD).await.json();
        let access = session["access_token"].as_str().unwrap().to_owned();
        let refresh = session["refresh_token"].as_str().unwrap().to_owned();
        let rotate = app.refresh(&refresh);
        let empty = json!({});
        let end_all = app.send_as(Method::POST, "/api/v1/auth/logout-all", &empty, &access);
        let (rotated, ended) = futures_util::future::join(rotate, end_all).await;
        assert_eq!(ended.status, 204, "round {round}");
        if rotated.status == 200 {
            let new = rotated.json();
            let token = new["refresh_token"].as_str().unwrap();
            app.refresh(token)
                .await
                .assert_problem(401, "invalid_token");
            let access = new["access_token"].as_str().unwrap();
            app.get_as("/api/v1/me", access)
                .await
                .assert_problem(401, "invalid_token");
        }
    }
}

#[actix_web::test]
async fn a_body_that_trickles_in_is_cut_off() {
    let app = TestApp::spawn_with(|config| config.body_timeout = Duration::from_millis(600)).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let answer = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: test\r\n\
                    Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{";
        stream.write_all(head.as_bytes()).expect("send the head");
        // A byte every 200 ms: never idle long enough for a read timeout,
        // far too slow to finish 200 bytes.
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(200));
            if stream.write_all(b" ").is_err() {
                break;
            }
        }
        let mut answer = String::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buffer) {
            if n == 0 {
                break;
            }
            answer.push_str(&String::from_utf8_lossy(&buffer[..n]));
            if answer.contains("\r\n\r\n") && answer.contains("body_timeout") {
                break;
            }
        }
        answer
    })
    .await
    .expect("the client thread");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
}

#[actix_web::test]
async fn what_anonymous_traffic_leaves_behind_is_pruned() {
    use chrono::Duration as Span;
    use diesel::prelude::*;
    use newsdesk::db::schema::{
        idempotency_keys, login_failures, meter_reads, newsletter_signups, refresh_tokens,
    };
    use newsdesk::db::{meter, newsletters};

    let app = TestApp::spawn().await;
    let article = crate::builders::ArticleBuilder::new("read").insert(&app);
    let session = app.register("keep@example.com").await;
    let user = session["user"]["id"].as_i64().unwrap();
    let now = newsdesk::clock::Clock::System.now();
    let long_ago = now - Span::days(40);
    let last_month = newsdesk::domain::paywall::month_of(long_ago);
    let this_month = newsdesk::domain::paywall::month_of(now);
    app.db(|conn| {
        for (reader, month) in [
            ("anon:old", &last_month),
            ("anon:new", &this_month),
            ("user:1", &last_month),
        ] {
            diesel::insert_into(meter_reads::table)
                .values((
                    meter_reads::reader.eq(reader),
                    meter_reads::month.eq(month),
                    meter_reads::article_id.eq(article),
                    meter_reads::read_at.eq(long_ago),
                ))
                .execute(conn)
                .unwrap();
        }
        meter::count_start(conn, "192.0.2.1", &last_month).unwrap();
        let long_gone = newsdesk::domain::paywall::month_of(now - Span::days(100));
        meter::remember(conn, "anon:gone", &long_gone).unwrap();
        meter::remember(conn, "anon:recent", &last_month).unwrap();
        meter::count_start(conn, "192.0.2.1", &this_month).unwrap();
        for at in [long_ago, now] {
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::scope.eq("client:x"),
                    login_failures::failed_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::user_id.eq(user),
                    idempotency_keys::idempotency_key.eq(format!("key-{at}")),
                    idempotency_keys::request_hash.eq("h"),
                    idempotency_keys::response_status.eq(201),
                    idempotency_keys::response_body.eq("{}"),
                    idempotency_keys::created_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
        }
        diesel::update(refresh_tokens::table)
            .set(refresh_tokens::expires_at.eq(long_ago))
            .execute(conn)
            .unwrap();
        let daily: i64 = newsdesk::db::schema::newsletters::table
            .select(newsdesk::db::schema::newsletters::id)
            .first(conn)
            .unwrap();
        newsletters::insert_pending(conn, daily, "old@example.com", "h1", "u1", long_ago).unwrap();
        newsletters::insert_pending(conn, daily, "new@example.com", "h2", "u2", now).unwrap();
    });
    let pruned = app
        .db(|conn| newsdesk::db::housekeeping::prune(conn, now))
        .unwrap();
    assert_eq!(pruned.anonymous_meter_reads, 1);
    assert_eq!(pruned.meter_starts, 1);
    assert_eq!(pruned.anonymous_meters, 1, "idle for over two months");
    assert_eq!(pruned.login_failures, 1);
    assert_eq!(pruned.idempotency_keys, 1);
    assert_eq!(pruned.refresh_tokens, 1);
    assert_eq!(pruned.unconfirmed_signups, 1);
    app.db(|conn| {
        let readers: Vec<String> = meter_reads::table
            .select(meter_reads::reader)
            .order(meter_reads::reader)
            .load(conn)
            .unwrap();
        assert_eq!(
            readers,
            ["anon:new", "user:1"],
            "accounts' meters are not traffic"
        );
        let left: i64 = newsletter_signups::table.count().get_result(conn).unwrap();
        assert_eq!(left, 1);
    });
    assert_eq!(
        app.db(|conn| newsdesk::db::housekeeping::prune(conn, now))
            .unwrap()
            .total(),
        0,
        "a second pass finds nothing"
    );
}

#[actix_web::test]
async fn no_login_racing_a_password_change_survives_it() {
    let app = TestApp::spawn().await;
    let owner = app.register("changing@example.com").await;
    let owner = owner["access_token"].as_str().unwrap().to_owned();
    let passwords = [PASSWORD, "the second passphrase"];
    for round in 0..8 {
        let (old, new) = (passwords[round % 2], passwords[(round + 1) % 2]);
        let login = app.login("changing@example.com", old);
        let body = json!({"current_password": old, "new_password": new});
        let change = app.send_as(Method::POST, "/api/v1/me/password", &body, &owner);
        let (login, change) = futures_util::future::join(login, change).await;
        assert_eq!(change.status, 204, "round {round}: {}", change.text());
        if login.status == 200 {
            let token = login.json()["access_token"].as_str().unwrap().to_owned();
            app.get_as("/api/v1/me", &token)
                .await
                .assert_problem(401, "invalid_token");
        }
    }
}
