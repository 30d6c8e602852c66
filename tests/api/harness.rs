//! Starts the app on a free port over a fresh database and talks to it.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{HttpServer, web};
use diesel::{Connection, PgConnection, RunQueryDsl};
use newsdesk::app::build_app;
use newsdesk::client::{ForwardedHeader, TrustedProxies};
use newsdesk::clock::Clock;
use newsdesk::config::{Config, DatabaseUrl};
use newsdesk::db::{self, DbConnection, DbPool};
use newsdesk::state::AppState;
use serde_json::Value;

/// A database that exists for one test and is removed afterwards.
enum TestDatabase {
    Sqlite(
        #[expect(dead_code, reason = "held so the directory outlives the test")] tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        name: String,
    },
    Unreachable,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// Which backend this run tests.
pub fn backend() -> &'static str {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        "postgres"
    } else {
        "sqlite"
    }
}

fn fresh_database() -> (DatabaseUrl, TestDatabase) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let admin_url = without_tls(&admin_url);
            let name = format!("newsdesk_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unreachable: {e}"));
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .expect("create the test database");
            let url = with_database_name(&admin_url, &name);
            (
                DatabaseUrl::Postgres(url),
                TestDatabase::Postgres { admin_url, name },
            )
        }
        _ => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let path = dir.path().join("newsdesk.db");
            (
                DatabaseUrl::Sqlite(path.to_string_lossy().into_owned()),
                TestDatabase::Sqlite(dir),
            )
        }
    }
}

/// The URL with `sslmode=disable` unless it chooses a mode. Tests talk to a
/// local server; with TLS, libpq's OpenSSL cleanup at process exit raced
/// connections still open in other test threads ("munmap_chunk(): invalid
/// pointer", SIGABRT after every test had passed).
fn without_tls(url: &str) -> String {
    if url.contains("sslmode=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

/// `postgres://user@host:port/db?params` with `db` replaced.
fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A running app and the database behind it.
pub struct TestApp {
    pub address: String,
    pub pool: DbPool,
    /// The state the server runs with (its view counter, its clock).
    pub state: web::Data<AppState>,
    handle: actix_web::dev::ServerHandle,
    running: std::sync::Mutex<Option<actix_web::rt::task::JoinHandle<std::io::Result<()>>>>,
    client: awc::Client,
    _database: TestDatabase,
}

/// A response, read whole.
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: web::Bytes,
}

impl TestResponse {
    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a problem+json error with this status and code; returns the problem.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        let problem = self.json();
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["status"], status, "{problem}");
        problem
    }

    /// Asserts a 400 validation_failed problem; returns the fields it names, in order.
    #[track_caller]
    pub fn invalid_fields(&self) -> Vec<String> {
        let problem = self.assert_problem(400, "validation_failed");
        problem["errors"]
            .as_array()
            .expect("a list of errors")
            .iter()
            .map(|e| e["field"].as_str().expect("a field name").to_owned())
            .collect()
    }
}

/// The JWT secret of test servers, so that tests can forge tokens.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// A configuration for tests: nothing from the environment.
pub fn test_config(database_url: DatabaseUrl) -> Config {
    let mut config =
        Config::from_lookup(|name| (name == "JWT_SECRET").then(|| TEST_JWT_SECRET.to_owned()))
            .expect("defaults are valid");
    config.database_url = database_url;
    config.pool_size = 4;
    config.pool_timeout = Duration::from_secs(2);
    config.seed_demo = false;
    // Tests change the database behind the server's back; the response
    // cache has tests of its own.
    config.response_cache_ttl = Duration::ZERO;
    config
}

impl TestApp {
    /// Moves the app's clock `by` into the future, without waiting.
    pub fn advance(&self, by: chrono::Duration) {
        self.state.clock.advance(by);
    }

    /// The app over a fresh, migrated, empty database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// The same, after `adjust` has changed the configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let (url, database) = fresh_database();
        let mut config = test_config(url);
        adjust(&mut config);
        let pool = newsdesk::server::open_database(&config).expect("migrate the test database");
        Self::start(config, pool, database)
    }

    /// The app as it runs behind a proxy on this machine: 127.0.0.1 is a
    /// trusted proxy, so `X-Forwarded-For` names the client (see `get_from`).
    pub async fn spawn_behind_proxy() -> Self {
        Self::spawn_with(|config| {
            config.trusted_proxies = TrustedProxies::new(
                vec!["127.0.0.1".parse().expect("an address")],
                ForwardedHeader::XForwardedFor,
            );
        })
        .await
    }

    /// GET `path` as the client at `address`, forwarded by the local proxy.
    pub async fn get_from(&self, path: &str, address: &str) -> TestResponse {
        self.get_with(path, &[("x-forwarded-for", address)]).await
    }

    /// The app over a database that cannot be reached at all.
    pub async fn spawn_without_database() -> Self {
        let url = match backend() {
            "postgres" => DatabaseUrl::Postgres("postgres://postgres@127.0.0.1:1/none".into()),
            _ => DatabaseUrl::Sqlite("/nonexistent-directory/newsdesk.db".into()),
        };
        let mut config = test_config(url);
        config.pool_timeout = Duration::from_millis(500);
        let pool = db::build_pool(config.database_url.clone(), 2, config.pool_timeout);
        Self::start(config, pool, TestDatabase::Unreachable)
    }

    fn start(config: Config, pool: DbPool, database: TestDatabase) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let address = format!("http://{}", listener.local_addr().expect("bound address"));
        let state = web::Data::new(
            newsdesk::app::state(config, pool.clone(), Clock::shifted())
                .expect("application state"),
        );
        let app_state = state.clone();
        let server = HttpServer::new(move || build_app(app_state.clone()))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        let handle = server.handle();
        let running = actix_web::rt::spawn(newsdesk::server::run(server, state.clone()));
        Self {
            address,
            pool,
            state,
            handle,
            running: std::sync::Mutex::new(Some(running)),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .disable_redirects()
                .finish(),
            _database: database,
        }
    }

    /// Writes the views the server has counted in memory, as its flusher does.
    pub async fn flush_views(&self) {
        newsdesk::server::flush_views(&self.state).await;
    }

    /// Stops the server gracefully, as SIGTERM does, and waits until it has
    /// finished (including its last flush).
    pub async fn shut_down(&self) {
        self.handle.stop(true).await;
        let running = self.running.lock().expect("not poisoned").take();
        if let Some(running) = running {
            running
                .await
                .expect("the server task ends")
                .expect("the server stops cleanly");
        }
    }

    /// Runs `work` on a connection of the app's own database.
    pub fn db<T>(&self, work: impl FnOnce(&mut DbConnection) -> T) -> T {
        let mut conn = self.pool.get().expect("a test connection");
        work(&mut conn)
    }

    /// GET `path` (with its query string).
    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(awc::http::Method::GET, path, &[]).await
    }

    /// GET `path` with extra headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        self.request(awc::http::Method::GET, path, headers).await
    }

    /// Sends `body` as JSON.
    pub async fn json(
        &self,
        method: awc::http::Method,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send(method, path, &all, Some(body.to_string().into()))
            .await
    }

    /// POSTs `body` as JSON.
    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.json(awc::http::Method::POST, path, body, &[]).await
    }

    /// Any method, no body.
    pub async fn request(
        &self,
        method: awc::http::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        self.send(method, path, headers, None).await
    }

    /// Any method with a raw body.
    pub async fn send_body(
        &self,
        method: awc::http::Method,
        path: &str,
        content_type: &str,
        body: impl Into<web::Bytes>,
    ) -> TestResponse {
        let headers = [("content-type", content_type)];
        self.send(method, path, &headers, Some(body.into())).await
    }

    /// Any method with a raw body and these headers (content type included).
    pub async fn send_body_with(
        &self,
        method: awc::http::Method,
        path: &str,
        body: impl Into<web::Bytes>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        self.send(method, path, headers, Some(body.into())).await
    }

    async fn send(
        &self,
        method: awc::http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<web::Bytes>,
    ) -> TestResponse {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.address));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let sent = match body {
            Some(body) => request.send_body(body).await,
            None => request.send().await,
        };
        let mut response = sent.expect("the request reaches the server");
        let body = response
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .expect("a readable body");
        assert_documented(method, path, response.status());
        TestResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body,
        }
    }
}

/// The OpenAPI document, generated once per test binary.
fn openapi() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::to_value(newsdesk::openapi::openapi()).expect("the document serialises")
    })
}

/// Every response a test sees must be one the OpenAPI document declares for
/// its operation; paths outside the document may only answer 404 or 405.
#[track_caller]
fn assert_documented(method: awc::http::Method, path_and_query: &str, status: StatusCode) {
    let path = path_and_query.split('?').next().unwrap_or_default();
    if path == "/docs" || path.starts_with("/docs/") || method == awc::http::Method::OPTIONS {
        return;
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let template = openapi()["paths"].as_object().and_then(|paths| {
        paths.iter().find(|(template, _)| {
            let segments: Vec<&str> = template.trim_matches('/').split('/').collect();
            segments.len() == parts.len()
                && segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| s.starts_with('{') || s == p)
        })
    });
    let Some((template, item)) = template else {
        // Unknown paths are counted against the client's allowance too.
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::TOO_MANY_REQUESTS,
            "{method} {path} is not documented, yet answered {status}"
        );
        return;
    };
    // HEAD is answered as the GET it stands for, wherever a GET is documented.
    let documented_as = if method == awc::http::Method::HEAD {
        "get".to_owned()
    } else {
        method.as_str().to_ascii_lowercase()
    };
    let Some(operation) = item.get(documented_as) else {
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {template}"
        );
        return;
    };
    let declared = operation["responses"]
        .as_object()
        .is_some_and(|responses| responses.contains_key(status.as_str()));
    assert!(
        declared,
        "{method} {template} answered {status}, which its OpenAPI operation does not declare"
    );
}

#[test]
fn test_connections_do_without_tls() {
    assert_eq!(
        without_tls("postgres://postgres@127.0.0.1:5432/postgres"),
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    );
    assert_eq!(
        without_tls("postgres://h/db?a=1"),
        "postgres://h/db?a=1&sslmode=disable"
    );
    assert_eq!(
        without_tls("postgres://h/db?sslmode=require"),
        "postgres://h/db?sslmode=require"
    );
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database_name("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database_name("postgres://u:p@h/db?sslmode=disable", "t2"),
        "postgres://u:p@h/t2?sslmode=disable"
    );
    assert_eq!(
        with_database_name("postgresql://h", "t3"),
        "postgresql://h/t3"
    );
}
