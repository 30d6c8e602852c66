//! Subscriptions and the payment processor's webhook, through the API.

use awc::http::Method;
use chrono::Duration;
use diesel::prelude::*;
use newsdesk::auth::webhook_signature::sign;
use newsdesk::clock::Clock;
use newsdesk::config::{PaymentProvider, Secret};
use newsdesk::db::schema::subscriptions;
use newsdesk::domain::article::AccessLevel;
use serde_json::{Value, json};

use crate::builders::ArticleBuilder;
use crate::harness::{TestApp, TestResponse};

const WEBHOOK_SECRET: &str = "whsec-test-secret-0123456789";

impl TestApp {
    /// The app with the `webhook` payment provider.
    async fn spawn_with_processor() -> Self {
        Self::spawn_with(|config| {
            config.payment_provider = PaymentProvider::Webhook;
            config.payment_webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
        })
        .await
    }

    /// A registered reader's access token.
    pub async fn reader(&self, email: &str) -> String {
        self.register(email).await["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// POST `path` as `token` with `headers`.
    pub async fn post_as(
        &self,
        path: &str,
        body: &Value,
        token: &str,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let auth = format!("Bearer {token}");
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        self.json(Method::POST, path, body, &all).await
    }

    pub async fn subscribe(&self, token: &str, plan: &str, key: &str) -> TestResponse {
        self.post_as(
            "/api/v1/me/subscription",
            &json!({ "plan": plan }),
            token,
            &[("idempotency-key", key)],
        )
        .await
    }

    /// A signed-in reader with an active subscription (test payments).
    pub async fn subscriber(&self, email: &str) -> String {
        let token = self.reader(email).await;
        let response = self.subscribe(&token, "monthly", email).await;
        assert_eq!(response.status, 201, "{}", response.text());
        token
    }

    /// Delivers a payment event signed with `secret` at Unix time `t`.
    async fn deliver_signed(&self, event: &Value, secret: &str, t: i64) -> TestResponse {
        let body = event.to_string();
        let signature = sign(secret.as_bytes(), t, body.as_bytes());
        self.deliver_raw(body, &signature).await
    }

    async fn deliver(&self, event: &Value) -> TestResponse {
        self.deliver_signed(event, WEBHOOK_SECRET, unix_now()).await
    }

    async fn deliver_raw(&self, body: String, signature: &str) -> TestResponse {
        self.json_raw(body, &[("webhook-signature", signature)])
            .await
    }

    async fn json_raw(&self, body: String, headers: &[(&str, &str)]) -> TestResponse {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send_body_with(Method::POST, "/api/v1/webhooks/payments", body, &all)
            .await
    }

    /// Moves a subscription's clock-dependent dates `days` into the past.
    fn age_subscription(&self, public_id: &str, days: i64) {
        self.db(|conn| {
            let shift = Duration::days(days);
            let row: (
                Option<chrono::NaiveDateTime>,
                Option<chrono::NaiveDateTime>,
                Option<chrono::NaiveDateTime>,
                chrono::NaiveDateTime,
            ) = subscriptions::table
                .filter(subscriptions::public_id.eq(public_id))
                .select((
                    subscriptions::current_period_start,
                    subscriptions::current_period_end,
                    subscriptions::grace_until,
                    subscriptions::created_at,
                ))
                .first(conn)
                .expect("the test database");
            diesel::update(subscriptions::table.filter(subscriptions::public_id.eq(public_id)))
                .set((
                    subscriptions::current_period_start.eq(row.0.map(|t| t - shift)),
                    subscriptions::current_period_end.eq(row.1.map(|t| t - shift)),
                    subscriptions::grace_until.eq(row.2.map(|t| t - shift)),
                    subscriptions::created_at.eq(row.3 - shift),
                ))
                .execute(conn)
                .expect("the test database");
        });
    }

    fn subscriptions_of(&self, email: &str) -> i64 {
        use newsdesk::db::schema::users;
        self.db(|conn| {
            subscriptions::table
                .inner_join(users::table)
                .filter(users::email.eq(email))
                .count()
                .get_result(conn)
                .expect("the test database")
        })
    }
}

fn unix_now() -> i64 {
    Clock::System.now().and_utc().timestamp()
}

fn rfc3339(days_from_now: i64) -> String {
    (Clock::System.now() + Duration::days(days_from_now))
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn event(id: &str, kind: &str, subscription: &str, created: &str) -> Value {
    json!({"id": id, "type": kind, "created": created, "data": {"subscription": subscription}})
}

fn paid(id: &str, subscription: &str, from_day: i64, to_day: i64) -> Value {
    json!({
        "id": id,
        "type": "payment.succeeded",
        "created": rfc3339(from_day),
        "data": {
            "subscription": subscription,
            "period_start": rfc3339(from_day),
            "period_end": rfc3339(to_day),
            "amount_minor": 290,
            "currency": "USD"
        }
    })
}

fn premium_and_metered(app: &TestApp) {
    ArticleBuilder::new("premium-one")
        .access(AccessLevel::Premium)
        .insert(app);
    ArticleBuilder::new("metered-one")
        .access(AccessLevel::Metered)
        .insert(app);
}

async fn access_to(app: &TestApp, slug: &str, token: &str) -> Value {
    let response = app.get_as(&format!("/api/v1/articles/{slug}"), token).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let article = response.json();
    assert_eq!(
        article["access"]["full"].as_bool().expect("access.full"),
        article["body"]["html"]
            .as_str()
            .expect("body.html")
            .contains("SECRET-ENDING"),
        "the body is whole exactly when access says so"
    );
    article["access"].clone()
}

async fn my_subscription(app: &TestApp, token: &str) -> Value {
    let response = app.get_as("/api/v1/me/subscription", token).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("cache-control"), Some("no-store"));
    response.json()
}

#[actix_web::test]
async fn subscribing_in_test_mode_activates_at_once_and_lifts_the_paywall() {
    let app = TestApp::spawn().await;
    premium_and_metered(&app);
    let reader = app.reader("ana@example.com").await;
    assert_eq!(
        access_to(&app, "premium-one", &reader).await["reason"],
        "premium"
    );
    app.get_as("/api/v1/me/subscription", &reader)
        .await
        .assert_problem(404, "not_found");

    let started = app.subscribe(&reader, "monthly", "key-1").await;
    assert_eq!(started.status, 201, "{}", started.text());
    assert_eq!(started.header("location"), Some("/api/v1/me/subscription"));
    let sub = started.json();
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["provider"], "test");
    assert_eq!(sub["full_access"], true);
    assert_eq!(sub["payment"]["charged"], false);
    assert_eq!(sub["plan"]["code"], "monthly");
    assert!(sub["id"].as_str().unwrap().starts_with("sub_"));
    let start = chrono::DateTime::parse_from_rfc3339(sub["current_period_start"].as_str().unwrap())
        .unwrap();
    let end =
        chrono::DateTime::parse_from_rfc3339(sub["current_period_end"].as_str().unwrap()).unwrap();
    assert!((28..=31).contains(&(end - start).num_days()), "a month");

    for slug in ["premium-one", "metered-one"] {
        let access = access_to(&app, slug, &reader).await;
        assert_eq!(access["reason"], "subscriber", "{slug}");
        assert!(access.get("meter").is_none(), "no meter for subscribers");
    }
    let meter = app.get_as("/api/v1/me/meter", &reader).await.json();
    assert_eq!(
        meter["used"], 0,
        "subscribers' reads do not touch the meter"
    );

    let shown = my_subscription(&app, &reader).await;
    assert_eq!(shown["id"], sub["id"]);
    assert!(shown.get("payment").is_none());
}

#[actix_web::test]
async fn subscribing_is_idempotent_per_key() {
    let app = TestApp::spawn().await;
    let reader = app.reader("ana@example.com").await;

    let missing = app
        .post_as(
            "/api/v1/me/subscription",
            &json!({"plan": "monthly"}),
            &reader,
            &[],
        )
        .await;
    let problem = missing.assert_problem(400, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    for bad in ["", &"k".repeat(256), "has space"] {
        app.subscribe(&reader, "monthly", bad)
            .await
            .assert_problem(400, "validation_failed");
    }
    // A refused request stores nothing: the key stays free.
    app.subscribe(&reader, "no-such-plan", "key-1")
        .await
        .assert_problem(400, "validation_failed");

    let first = app.subscribe(&reader, "monthly", "key-1").await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = app.subscribe(&reader, "monthly", "key-1").await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json(), "the same answer, byte for byte");
    assert_eq!(app.subscriptions_of("ana@example.com"), 1);

    app.subscribe(&reader, "yearly", "key-1")
        .await
        .assert_problem(422, "idempotency_key_reused");
    app.subscribe(&reader, "yearly", "key-2")
        .await
        .assert_problem(409, "subscription_exists");

    // Keys belong to their user: another reader's identical key is theirs.
    let other = app.reader("ben@example.com").await;
    let theirs = app.subscribe(&other, "yearly", "key-1").await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.json()["id"], first.json()["id"]);

    app.post_as(
        "/api/v1/me/subscription",
        &json!({"plan": "monthly", "status": "active", "provider": "test"}),
        &reader,
        &[("idempotency-key", "key-3")],
    )
    .await
    .assert_problem(400, "malformed_body");
    app.json(
        Method::POST,
        "/api/v1/me/subscription",
        &json!({"plan": "monthly"}),
        &[("idempotency-key", "key-4")],
    )
    .await
    .assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn an_inactive_plan_cannot_be_chosen() {
    let app = TestApp::spawn().await;
    app.db(|conn| {
        use newsdesk::db::schema::plans;
        diesel::update(plans::table.filter(plans::code.eq("yearly")))
            .set(plans::active.eq(false))
            .execute(conn)
            .unwrap();
    });
    let reader = app.reader("ana@example.com").await;
    app.subscribe(&reader, "yearly", "key-1")
        .await
        .assert_problem(400, "validation_failed");
}

#[actix_web::test]
async fn concurrent_subscribes_start_exactly_one_subscription() {
    let app = TestApp::spawn().await;
    let reader = app.reader("ana@example.com").await;
    let attempts = (0..10).map(|i| {
        let (app, reader) = (&app, &reader);
        async move {
            app.subscribe(reader, "monthly", &format!("key-{i}"))
                .await
                .status
                .as_u16()
        }
    });
    let mut statuses = futures_util::future::join_all(attempts).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(app.subscriptions_of("ana@example.com"), 1);
}

#[actix_web::test]
async fn a_canceled_subscription_reads_until_the_period_ends_then_expires() {
    let app = TestApp::spawn().await;
    premium_and_metered(&app);
    let reader = app.reader("ana@example.com").await;
    let id = app.subscribe(&reader, "monthly", "key-1").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let canceled = app
        .post_as("/api/v1/me/subscription/cancel", &json!({}), &reader, &[])
        .await;
    assert_eq!(canceled.status, 200, "{}", canceled.text());
    let canceled = canceled.json();
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["cancel_at_period_end"], true);
    assert_eq!(canceled["full_access"], true);
    assert!(canceled["canceled_at"].is_string());
    assert_eq!(
        access_to(&app, "premium-one", &reader).await["reason"],
        "subscriber"
    );
    app.post_as("/api/v1/me/subscription/cancel", &json!({}), &reader, &[])
        .await
        .assert_problem(409, "subscription_not_cancelable");

    let resumed = app
        .post_as("/api/v1/me/subscription/resume", &json!({}), &reader, &[])
        .await
        .json();
    assert_eq!(resumed["status"], "active");
    assert_eq!(resumed["cancel_at_period_end"], false);
    app.post_as("/api/v1/me/subscription/resume", &json!({}), &reader, &[])
        .await
        .assert_problem(409, "subscription_not_resumable");
    app.post_as("/api/v1/me/subscription/cancel", &json!({}), &reader, &[])
        .await;

    // The period ends; nobody calls anything.
    app.age_subscription(&id, 32);
    let over = my_subscription(&app, &reader).await;
    assert_eq!(over["status"], "expired");
    assert_eq!(over["full_access"], false);
    assert_eq!(
        access_to(&app, "premium-one", &reader).await["reason"],
        "premium"
    );
    assert_eq!(
        access_to(&app, "metered-one", &reader).await["reason"],
        "meter"
    );
    app.post_as("/api/v1/me/subscription/resume", &json!({}), &reader, &[])
        .await
        .assert_problem(409, "subscription_not_resumable");

    let again = app.subscribe(&reader, "yearly", "key-2").await;
    assert_eq!(
        again.status, 201,
        "an expired subscription does not block a new one"
    );
    assert_ne!(again.json()["id"], id.as_str());
}

#[actix_web::test]
async fn nobody_acts_on_another_readers_subscription() {
    let app = TestApp::spawn().await;
    let ana = app.reader("ana@example.com").await;
    let ben = app.reader("ben@example.com").await;
    app.subscribe(&ana, "monthly", "key-1").await;
    app.get_as("/api/v1/me/subscription", &ben)
        .await
        .assert_problem(404, "not_found");
    app.post_as("/api/v1/me/subscription/cancel", &json!({}), &ben, &[])
        .await
        .assert_problem(404, "not_found");
    assert_eq!(my_subscription(&app, &ana).await["status"], "active");
}

#[actix_web::test]
async fn with_a_processor_a_subscription_waits_for_its_payment() {
    let app = TestApp::spawn_with_processor().await;
    premium_and_metered(&app);
    let reader = app.reader("ana@example.com").await;
    let sub = app.subscribe(&reader, "monthly", "key-1").await.json();
    assert_eq!(sub["status"], "incomplete");
    assert_eq!(sub["provider"], "webhook");
    assert_eq!(sub["full_access"], false);
    let id = sub["id"].as_str().unwrap();
    assert_eq!(
        access_to(&app, "premium-one", &reader).await["reason"],
        "premium"
    );

    let receipt = app.deliver(&paid("evt_1", id, 0, 30)).await;
    assert_eq!(receipt.status, 200, "{}", receipt.text());
    assert_eq!(receipt.json()["outcome"], "applied");
    let active = my_subscription(&app, &reader).await;
    assert_eq!(active["status"], "active");
    assert_eq!(
        access_to(&app, "premium-one", &reader).await["reason"],
        "subscriber"
    );

    let replay = app.deliver(&paid("evt_1", id, 0, 30)).await;
    assert_eq!(replay.json()["outcome"], "duplicate");
}

#[actix_web::test]
async fn an_unpaid_subscription_lapses_and_can_be_abandoned() {
    let app = TestApp::spawn_with_processor().await;
    let reader = app.reader("ana@example.com").await;
    let id = app.subscribe(&reader, "monthly", "key-1").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.subscribe(&reader, "monthly", "key-2")
        .await
        .assert_problem(409, "subscription_exists");
    let abandoned = app
        .post_as("/api/v1/me/subscription/cancel", &json!({}), &reader, &[])
        .await
        .json();
    assert_eq!(abandoned["status"], "expired");
    let second = app.subscribe(&reader, "monthly", "key-2").await.json();
    assert_eq!(second["status"], "incomplete");
    app.age_subscription(second["id"].as_str().unwrap(), 2);
    assert_eq!(my_subscription(&app, &reader).await["status"], "expired");
    assert_ne!(second["id"], id.as_str());
}

#[actix_web::test]
async fn webhook_signatures_are_checked() {
    let app = TestApp::spawn_with_processor().await;
    let reader = app.reader("ana@example.com").await;
    let id = app.subscribe(&reader, "monthly", "key-1").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = paid("evt_sig", &id, 0, 30);
    let body = event.to_string();
    let now = unix_now();

    let tampered = body.replace("\"amount_minor\":290", "\"amount_minor\":1");
    assert_ne!(tampered, body);
    let signature = sign(WEBHOOK_SECRET.as_bytes(), now, body.as_bytes());
    app.deliver_raw(tampered, &signature)
        .await
        .assert_problem(401, "invalid_signature");
    for stale in [now - 301, now + 301] {
        app.deliver_signed(&event, WEBHOOK_SECRET, stale)
            .await
            .assert_problem(401, "invalid_signature");
    }
    app.deliver_signed(&event, "the wrong secret entirely", now)
        .await
        .assert_problem(401, "invalid_signature");
    for header in ["", "t=abc,v1=00", "v1=deadbeef", &format!("t={now}")] {
        app.deliver_raw(body.clone(), header)
            .await
            .assert_problem(401, "invalid_signature");
    }
    app.json_raw(body.clone(), &[])
        .await
        .assert_problem(401, "invalid_signature");
    // A reader's own credentials are no substitute for the signature.
    app.json_raw(
        body.clone(),
        &[("authorization", &format!("Bearer {reader}"))],
    )
    .await
    .assert_problem(401, "invalid_signature");
    assert_eq!(my_subscription(&app, &reader).await["status"], "incomplete");

    // During a rotation the processor signs with both secrets.
    let old = sign(b"the previous webhook secret", now, body.as_bytes());
    let new = sign(WEBHOOK_SECRET.as_bytes(), now, body.as_bytes());
    let only_old = app.deliver_raw(body.clone(), &old).await;
    only_old.assert_problem(401, "invalid_signature");
    let both = format!("{old},{}", new.split_once(',').unwrap().1);
    let accepted = app.deliver_raw(body.clone(), &both).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.json()["outcome"], "applied");
    assert_eq!(my_subscription(&app, &reader).await["status"], "active");

    // Signed but not JSON: a clear 400, and the event is not consumed.
    let garbage = "{not json".to_owned();
    let signature = sign(WEBHOOK_SECRET.as_bytes(), now, garbage.as_bytes());
    app.deliver_raw(garbage, &signature)
        .await
        .assert_problem(400, "malformed_body");
}

#[actix_web::test]
async fn events_out_of_order_do_not_corrupt_the_subscription() {
    let app = TestApp::spawn_with_processor().await;
    premium_and_metered(&app);
    let reader = app.reader("ana@example.com").await;
    let id = app.subscribe(&reader, "monthly", "key-1").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let outcome = |response: TestResponse| {
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()["outcome"].as_str().unwrap().to_owned()
    };

    // The renewal arrives before the first payment.
    let mut renewal = paid("evt_2", &id, 30, 60);
    renewal["created"] = json!(rfc3339(0));
    assert_eq!(outcome(app.deliver(&renewal).await), "applied");
    assert_eq!(
        outcome(app.deliver(&paid("evt_1", &id, -1, 30)).await),
        "ignored"
    );
    let sub = my_subscription(&app, &reader).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(
        sub["current_period_end"].as_str().unwrap()[..10],
        rfc3339(60)[..10]
    );

    // A failure from before the latest payment is stale.
    let old_failure = event("evt_3", "payment.failed", &id, &rfc3339(-1));
    assert_eq!(outcome(app.deliver(&old_failure).await), "ignored");
    assert_eq!(my_subscription(&app, &reader).await["status"], "active");

    // A current failure: past due, with access during the grace period.
    let failure = event(
        "evt_4",
        "payment.failed",
        &id,
        &Clock::System.now().and_utc().to_rfc3339(),
    );
    assert_eq!(outcome(app.deliver(&failure).await), "applied");
    let past_due = my_subscription(&app, &reader).await;
    assert_eq!(past_due["status"], "past_due");
    assert!(past_due["grace_until"].is_string());
    assert_eq!(
        access_to(&app, "premium-one", &reader).await["reason"],
        "subscriber"
    );

    // Unknown types and subscriptions are acknowledged, not retried forever.
    let unknown_type = event("evt_5", "invoice.created", &id, &rfc3339(0));
    assert_eq!(outcome(app.deliver(&unknown_type).await), "ignored");
    let unknown_sub = event("evt_6", "payment.failed", "sub_nobody", &rfc3339(0));
    assert_eq!(outcome(app.deliver(&unknown_sub).await), "ignored");

    // The processor gives up: canceled, with access to the period's end.
    let canceled = event("evt_7", "subscription.canceled", &id, &rfc3339(0));
    assert_eq!(outcome(app.deliver(&canceled).await), "applied");
    let sub = my_subscription(&app, &reader).await;
    assert_eq!(sub["status"], "canceled");
    assert_eq!(sub["full_access"], true);
    app.age_subscription(&id, 61);
    assert_eq!(my_subscription(&app, &reader).await["status"], "expired");
    assert_eq!(
        access_to(&app, "premium-one", &reader).await["reason"],
        "premium"
    );
}

#[actix_web::test]
async fn past_due_access_ends_with_the_grace_period() {
    let app = TestApp::spawn_with(|config| {
        config.payment_provider = PaymentProvider::Webhook;
        config.payment_webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
        config.past_due_grace_days = 3;
    })
    .await;
    premium_and_metered(&app);
    let reader = app.reader("ana@example.com").await;
    let id = app.subscribe(&reader, "monthly", "key-1").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.deliver(&paid("evt_1", &id, 0, 30)).await;
    // The period ends with no renewal: overdue, still reading.
    app.age_subscription(&id, 31);
    let overdue = my_subscription(&app, &reader).await;
    assert_eq!(overdue["status"], "past_due");
    assert_eq!(
        access_to(&app, "premium-one", &reader).await["reason"],
        "subscriber"
    );
    // Three days of grace later, access ends.
    app.age_subscription(&id, 3);
    assert_eq!(my_subscription(&app, &reader).await["status"], "expired");
    assert_eq!(
        access_to(&app, "premium-one", &reader).await["reason"],
        "premium"
    );
    // A late renewal revives it.
    let late = app.deliver(&paid("evt_2", &id, 0, 30)).await;
    assert_eq!(late.json()["outcome"], "applied");
    assert_eq!(my_subscription(&app, &reader).await["status"], "active");
}

#[actix_web::test]
async fn the_webhook_leaves_test_mode_subscriptions_alone() {
    let app = TestApp::spawn_with(|config| {
        config.payment_webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
    })
    .await;
    let reader = app.reader("ana@example.com").await;
    let id = app.subscribe(&reader, "monthly", "key-1").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancel = event("evt_1", "subscription.canceled", &id, &rfc3339(0));
    assert_eq!(app.deliver(&cancel).await.json()["outcome"], "ignored");
    assert_eq!(my_subscription(&app, &reader).await["status"], "active");
}

#[actix_web::test]
async fn without_a_secret_no_webhook_is_accepted() {
    let app = TestApp::spawn().await;
    let reader = app.reader("ana@example.com").await;
    let id = app.subscribe(&reader, "monthly", "key-1").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.deliver(&event("evt_1", "subscription.canceled", &id, &rfc3339(0)))
        .await
        .assert_problem(401, "invalid_signature");
}

#[actix_web::test]
async fn a_redelivered_event_is_processed_once_even_in_parallel() {
    let app = TestApp::spawn_with_processor().await;
    let reader = app.reader("ana@example.com").await;
    let id = app.subscribe(&reader, "monthly", "key-1").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = paid("evt_once", &id, 0, 30);
    let deliveries = (0..8).map(|_| {
        let (app, event) = (&app, &event);
        async move {
            let response = app.deliver(event).await;
            assert_eq!(response.status, 200, "{}", response.text());
            response.json()["outcome"].as_str().unwrap().to_owned()
        }
    });
    let mut outcomes = futures_util::future::join_all(deliveries).await;
    outcomes.sort();
    let expected: Vec<&str> = std::iter::once("applied")
        .chain(std::iter::repeat_n("duplicate", 7))
        .collect();
    assert_eq!(outcomes, expected);
    assert_eq!(my_subscription(&app, &reader).await["status"], "active");
}

#[actix_web::test]
async fn a_payment_that_does_not_match_the_plan_activates_nothing() {
    let app = TestApp::spawn_with_processor().await;
    let reader = app.reader("ana@example.com").await;
    let id = app.subscribe(&reader, "monthly", "key-1").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut cheap = paid("evt_cheap", &id, 0, 30);
    cheap["data"]["amount_minor"] = json!(1);
    let mut foreign = paid("evt_foreign", &id, 0, 30);
    foreign["data"]["currency"] = json!("JPY");
    let decade = paid("evt_decade", &id, 0, 3650);
    let mut unpriced = paid("evt_unpriced", &id, 0, 30);
    unpriced["data"]
        .as_object_mut()
        .unwrap()
        .remove("amount_minor");
    for event in [cheap, foreign, decade, unpriced] {
        let receipt = app.deliver(&event).await;
        assert_eq!(receipt.status, 200, "{}", receipt.text());
        let receipt = receipt.json();
        assert_eq!(receipt["outcome"], "rejected", "{receipt}");
        assert!(
            receipt["detail"]
                .as_str()
                .unwrap()
                .contains("does not match")
        );
        assert_ne!(my_subscription(&app, &reader).await["status"], "active");
    }
    // Recorded: the same event again is a duplicate, not a second chance.
    let mut cheap_again = paid("evt_cheap", &id, 0, 30);
    cheap_again["data"]["amount_minor"] = json!(290);
    assert_eq!(
        app.deliver(&cheap_again).await.json()["outcome"],
        "duplicate"
    );
    assert_eq!(
        app.deliver(&paid("evt_real", &id, 0, 30)).await.json()["outcome"],
        "applied"
    );
    assert_eq!(my_subscription(&app, &reader).await["status"], "active");
}
