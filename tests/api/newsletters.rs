//! The newsletter: double opt-in and one-click unsubscribe, with the mail
//! received by a real SMTP listener on 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::web;
use awc::http::Method;
use diesel::prelude::*;
use newsdesk::clock::Clock;
use newsdesk::config::SmtpUrl;
use newsdesk::db::schema::mail_outbox;
use serde_json::json;

use crate::harness::{TestApp, TestResponse};

/// A minimal SMTP server that accepts every message and keeps it.
struct SmtpListener {
    url: String,
    received: Arc<Mutex<Vec<String>>>,
}

impl SmtpListener {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("smtp://{}", listener.local_addr().expect("address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().expect("clone");
                    let mut reader = BufReader::new(stream);
                    let _ = writer.write_all(b"220 sink ESMTP\r\n");
                    let mut line = String::new();
                    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                        let command = line.to_ascii_uppercase();
                        let reply: &[u8] = if command.starts_with("DATA") {
                            let _ = writer.write_all(b"354 go ahead\r\n");
                            let mut message = String::new();
                            let mut data = String::new();
                            while reader.read_line(&mut data).map(|n| n > 0).unwrap_or(false) {
                                if data == ".\r\n" {
                                    break;
                                }
                                message.push_str(&data);
                                data.clear();
                            }
                            store.lock().expect("lock").push(message);
                            b"250 queued\r\n"
                        } else if command.starts_with("QUIT") {
                            let _ = writer.write_all(b"221 bye\r\n");
                            break;
                        } else if command.starts_with("EHLO") || command.starts_with("HELO") {
                            b"250 sink\r\n"
                        } else {
                            b"250 OK\r\n"
                        };
                        let _ = writer.write_all(reply);
                        line.clear();
                    }
                });
            }
        });
        Self { url, received }
    }

    /// Messages received so far, with quoted-printable soft breaks undone.
    fn messages(&self) -> Vec<String> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .map(|m| m.replace("=\r\n", "").replace("=3D", "="))
            .collect()
    }
}

impl TestApp {
    async fn with_smtp() -> (Self, SmtpListener) {
        let smtp = SmtpListener::start();
        let Ok(url) = SmtpUrl::parse(&smtp.url) else {
            panic!("the listener's URL {} is an SMTP URL", smtp.url);
        };
        let app = Self::spawn_with(move |config| config.smtp_url = Some(url)).await;
        (app, smtp)
    }

    async fn sign_up(&self, email: &str) -> TestResponse {
        self.post(
            "/api/v1/newsletters/daily/signups",
            &json!({ "email": email }),
        )
        .await
    }

    async fn send_mail(&self) -> usize {
        newsdesk::mail::deliver_due(
            &self.state.db,
            &self.state.mailer,
            &self.state.config.mail_from,
            self.state.clock,
        )
        .await
    }
}

/// The confirmation token in a confirmation mail.
fn token_in(message: &str) -> String {
    message
        .lines()
        .find_map(|l| l.strip_prefix("    "))
        .expect("a token line")
        .trim()
        .to_owned()
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|l| {
        let (key, value) = l.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[actix_web::test]
async fn double_opt_in_then_one_click_unsubscribe() {
    let (app, smtp) = TestApp::with_smtp().await;
    let list = app.get("/api/v1/newsletters").await.json();
    assert_eq!(list["data"][0]["slug"], "daily");

    let first = app.sign_up("Ana@Example.com").await;
    assert_eq!(first.status, 202);
    assert_eq!(app.send_mail().await, 1);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("ana@example.com"));
    assert!(
        header(&mails[0], "Subject")
            .unwrap()
            .contains("Confirm your subscription")
    );
    let stale = token_in(&mails[0]);

    // Asking again sends a new token; the old one no longer works.
    let second = app.sign_up("ana@example.com").await;
    assert_eq!(second.json(), first.json(), "the same answer");
    app.send_mail().await;
    let token = token_in(&smtp.messages()[1]);
    assert_ne!(token, stale);
    app.post("/api/v1/newsletters/confirm", &json!({"token": stale}))
        .await
        .assert_problem(400, "validation_failed");
    let confirmed = app
        .post("/api/v1/newsletters/confirm", &json!({"token": token}))
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    assert_eq!(
        confirmed.json(),
        json!({"newsletter": "daily", "status": "confirmed"})
    );
    app.post("/api/v1/newsletters/confirm", &json!({"token": token}))
        .await
        .assert_problem(400, "validation_failed");

    // The welcome mail carries RFC 8058 one-click unsubscribe headers.
    app.send_mail().await;
    let welcome = smtp.messages()[2].clone();
    assert_eq!(
        header(&welcome, "List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let link = header(&welcome, "List-Unsubscribe")
        .unwrap()
        .trim_matches(['<', '>'])
        .to_owned();
    let path = &link[link.find("/api/v1/").unwrap()..];

    // Signing up again while confirmed: the same answer, and no mail.
    assert_eq!(app.sign_up("ana@example.com").await.json(), first.json());
    assert_eq!(app.send_mail().await, 0);

    let gone = app
        .send_body(
            Method::POST,
            path,
            "application/x-www-form-urlencoded",
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(gone.status, 200, "{}", gone.text());
    assert_eq!(gone.json()["status"], "unsubscribed");
    let again = app
        .send_body(
            Method::POST,
            path,
            "application/x-www-form-urlencoded",
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(again.json()["status"], "unsubscribed", "harmless twice");
    app.post(
        "/api/v1/newsletters/unsubscribe",
        &json!({"token": "not-a-token"}),
    )
    .await
    .assert_problem(400, "validation_failed");
}

#[actix_web::test]
async fn bad_sign_ups_are_refused_and_floods_are_limited() {
    let (app, smtp) = TestApp::with_smtp().await;
    app.sign_up("not an address")
        .await
        .assert_problem(400, "validation_failed");
    app.post(
        "/api/v1/newsletters/weekly/signups",
        &json!({"email": "a@example.com"}),
    )
    .await
    .assert_problem(404, "not_found");

    // Three confirmation mails an hour per address, whatever is asked.
    for _ in 0..5 {
        assert_eq!(app.sign_up("bob@example.com").await.status, 202);
    }
    app.send_mail().await;
    assert_eq!(smtp.messages().len(), 3);
    // Ten sign-up requests an hour per client: bob's five count, the two
    // refused before reaching a newsletter do not.
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(
            app.sign_up(&format!("c{i}@example.com"))
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [202, 202, 202, 202, 202, 429]);
}

#[actix_web::test]
async fn queued_mail_survives_a_failing_server_and_a_restart() {
    // SMTP on a port where nothing listens.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("smtp://{}", closed.local_addr().unwrap());
    drop(closed);
    let app =
        TestApp::spawn_with(move |config| config.smtp_url = Some(SmtpUrl::parse(&dead).unwrap()))
            .await;
    assert_eq!(app.sign_up("ana@example.com").await.status, 202);
    assert_eq!(app.send_mail().await, 0);
    let (status, attempts, error): (String, i32, Option<String>) = app.db(|conn| {
        mail_outbox::table
            .select((
                mail_outbox::status,
                mail_outbox::attempts,
                mail_outbox::last_error,
            ))
            .first(conn)
            .unwrap()
    });
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.is_some());

    // Another process over the same database, with a working server, once
    // the retry is due: the mail arrives.
    let smtp = SmtpListener::start();
    let mut config = (*app.state.config).clone();
    config.smtp_url = Some(SmtpUrl::parse(&smtp.url).unwrap());
    let restarted =
        web::Data::new(newsdesk::app::state(config, app.pool.clone(), Clock::System).unwrap());
    app.db(|conn| {
        diesel::update(mail_outbox::table)
            .set(mail_outbox::next_attempt_at.eq(Clock::System.now()))
            .execute(conn)
            .unwrap()
    });
    assert_eq!(
        newsdesk::mail::deliver_due(
            &restarted.db,
            &restarted.mailer,
            &restarted.config.mail_from,
            restarted.clock
        )
        .await,
        1
    );
    assert_eq!(smtp.messages().len(), 1);
    let sent: String = app.db(|conn| {
        mail_outbox::table
            .select(mail_outbox::status)
            .first(conn)
            .unwrap()
    });
    assert_eq!(sent, "sent");
}
