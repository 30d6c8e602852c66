//! Configuration, read once from the environment at start-up and validated.
//!
//! Every variable is documented in `.env.example`. A bad value stops start-up
//! with a message that names the variable; secrets never reach `Debug` output.

use std::net::SocketAddr;
use std::time::Duration;

use crate::client::{Cidr, ForwardedHeader, TrustedProxies};

/// Largest JSON body accepted, in bytes.
pub(crate) const MAX_JSON_BODY: usize = 256 * 1024;

/// The most header bytes (names and values) a request may carry: room for
/// long tokens and cookies, not for a client trying to exhaust memory.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Which database the service runs on, chosen by the URL's scheme.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite database file (`sqlite://path`, `sqlite:path` or a bare path).
    Sqlite(String),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a `DATABASE_URL` value; anything but SQLite or PostgreSQL is refused.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("must not be empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            return if path.is_empty() {
                Err("the sqlite URL names no file".into())
            } else {
                Ok(Self::Sqlite(path.to_owned()))
            };
        }
        if raw.starts_with("file:") {
            return Ok(Self::Sqlite(raw.to_owned()));
        }
        match raw.split_once("://") {
            Some((scheme, _)) => Err(format!(
                "unsupported scheme `{scheme}`: use sqlite://PATH, postgres:// or postgresql://"
            )),
            None => Ok(Self::Sqlite(raw.to_owned())),
        }
    }

    /// The backend's name as used in logs and metrics.
    pub(crate) fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "Sqlite({path:?})"),
            Self::Postgres(url) => write!(f, "Postgres({:?})", redact_url(url)),
        }
    }
}

/// Hides the password of a `scheme://user:password@host` URL. The host
/// follows the last `@`, so a password holding an unescaped `@` is hidden
/// whole.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// `SMTP_URL`: `smtp://` or `smtps://`, possibly with a user and password,
/// which `Debug` and error messages never show.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    /// Checks the scheme of `raw`; the error names only the scheme.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("smtp://") || raw.starts_with("smtps://") {
            Ok(Self(raw.to_owned()))
        } else {
            let scheme = raw.split_once("://").map_or("none", |(scheme, _)| scheme);
            Err(format!(
                "expected smtp:// or smtps://, got a URL whose scheme is `{scheme}`"
            ))
        }
    }

    /// The whole URL, password included, for the mail transport only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpUrl({:?})", redact_url(&self.0))
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for development.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Where the service runs: development relaxes what production must set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// A developer's machine: a missing `JWT_SECRET` gets a random one per process.
    Development,
    /// Anything real: every secret must be set, and set well.
    Production,
}

/// Who takes the money for subscriptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentProvider {
    /// Activates at once and charges nothing: development and the demo.
    Test,
    /// A payment processor that confirms payments through `POST /webhooks/payments`.
    Webhook,
}

impl PaymentProvider {
    /// The name stored with subscriptions and shown to readers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Webhook => "webhook",
        }
    }
}

/// The example `JWT_SECRET` from `.env.example`, refused in every mode: a
/// deployment copied from the example file must not let anyone sign tokens.
pub(crate) const EXAMPLE_JWT_SECRET: &str = "change-me-to-at-least-32-random-bytes-of-secret";

/// Bytes of a secret, never shown in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret holding `bytes`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The secret's bytes.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The service's whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// `APP_ENV`: `development` (the default) or `production`.
    pub environment: Environment,
    /// `JWT_SECRET`: signs access tokens; at least 32 bytes.
    pub jwt_secret: Secret,
    /// `ACCESS_TOKEN_TTL`: seconds an access token lives.
    pub access_token_ttl: i64,
    /// `REFRESH_TOKEN_TTL`: seconds a refresh token lives.
    pub refresh_token_ttl: i64,
    /// `FREE_ARTICLES_PER_MONTH`: metered articles a signed-in reader may read whole each month.
    pub free_articles: u32,
    /// `FREE_ARTICLES_PER_MONTH_ANONYMOUS`: the same for anonymous readers.
    pub free_articles_anonymous: u32,
    /// `DATABASE_URL`.
    pub database_url: DatabaseUrl,
    /// `DATABASE_POOL_SIZE`: connections kept per process (defaults to eight
    /// per core: most requests wait on a commit, not on a core).
    pub pool_size: u32,
    /// `DATABASE_TIMEOUT_MS`: how long a request waits for a connection before a 503
    /// (1.5 s by default, so a database that is down is a 503 within 2 s).
    pub pool_timeout: Duration,
    /// `BIND_ADDR`.
    pub bind_addr: SocketAddr,
    /// `WORKERS`: HTTP worker threads (defaults to the number of cores).
    pub workers: Option<usize>,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `SEED_DEMO`: fill an empty database with demo content on `serve`.
    pub seed_demo: bool,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins allowed to call the API from a browser.
    pub cors_allowed_origins: Vec<String>,
    /// `SHUTDOWN_TIMEOUT_SECS`: how long in-flight requests may finish after SIGTERM.
    pub shutdown_timeout: Duration,
    /// `PAYMENT_PROVIDER`: `test` or `webhook`.
    pub payment_provider: PaymentProvider,
    /// `PAYMENT_WEBHOOK_SECRET`: verifies the processor's webhook signatures.
    pub payment_webhook_secret: Option<Secret>,
    /// `PAST_DUE_GRACE_DAYS`: access kept after a failed or overdue payment.
    pub past_due_grace_days: u32,
    /// `RATE_LIMIT_ANONYMOUS_PER_MINUTE`: API requests per minute per client
    /// address without credentials, on each node; 0 turns the limit off.
    pub rate_limit_anonymous_per_minute: u32,
    /// `SMTP_URL`: where mail goes; unset writes mail to the log.
    pub smtp_url: Option<SmtpUrl>,
    /// `MAIL_FROM`: the sender of every mail.
    pub mail_from: String,
    /// `RESPONSE_CACHE_TTL_MS`: how long public responses are served from
    /// memory; 0 turns the cache off.
    pub response_cache_ttl: Duration,
    /// `RATE_LIMIT_USER_PER_MINUTE`: requests per minute per signed-in
    /// account, on each node; 0 turns the limit off.
    pub rate_limit_user_per_minute: u32,
    /// `TRUSTED_PROXIES` (comma-separated addresses or CIDR networks) and
    /// `TRUSTED_PROXY_HEADER` (`x-forwarded-for` or `forwarded`): whose
    /// forwarding header names the client.
    pub trusted_proxies: TrustedProxies,
    /// `PUBLIC_BASE_URL`: the API's public origin (`https://api.example.com`),
    /// from which every absolute link is built; never from request headers.
    pub public_base_url: String,
    /// `REGISTRATIONS_PER_ADDRESS_PER_HOUR`: accounts one client address may
    /// register an hour; 0 turns the limit off.
    pub registrations_per_address_per_hour: u32,
    /// `BODY_TIMEOUT_MS`: how long a client may take to send a request's
    /// body, from the end of its head (then 408 and the connection closes).
    pub body_timeout: Duration,
    /// `ANONYMOUS_METERS_PER_ADDRESS`: anonymous meters one client address
    /// (an IPv6 /64) may start in a month before its readers without a
    /// meter token share one meter.
    pub anonymous_meters_per_address: u32,
}

/// A configuration variable that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl Config {
    /// How long a subscriber keeps access after a failed or overdue payment.
    pub(crate) fn past_due_grace(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.past_due_grace_days))
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &'static str| lookup(var).filter(|v| !v.trim().is_empty());
        let fail = |var: &'static str, message: String| ConfigError { var, message };

        let database_url = DatabaseUrl::parse(
            get("DATABASE_URL")
                .as_deref()
                .unwrap_or("sqlite://newsdesk.db"),
        )
        .map_err(|m| fail("DATABASE_URL", m))?;
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let default_pool = u32::try_from(cores * 8).unwrap_or(512).clamp(8, 64);
        let pool_size = parse_in_range(get("DATABASE_POOL_SIZE"), default_pool, 1..=512)
            .map_err(|m| fail("DATABASE_POOL_SIZE", m))?;
        let pool_timeout_ms = parse_in_range(get("DATABASE_TIMEOUT_MS"), 1_500, 50..=60_000)
            .map_err(|m| fail("DATABASE_TIMEOUT_MS", m))?;
        let bind_addr = get("BIND_ADDR")
            .as_deref()
            .unwrap_or("127.0.0.1:8080")
            .trim()
            .parse()
            .map_err(|e| {
                fail(
                    "BIND_ADDR",
                    format!("expected HOST:PORT, e.g. 127.0.0.1:8080 ({e})"),
                )
            })?;
        let workers = match get("WORKERS") {
            None => None,
            Some(v) => Some(parse_in_range(Some(v), 1, 1..=1024).map_err(|m| fail("WORKERS", m))?),
        };
        let log_format = match get("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(fail(
                    "LOG_FORMAT",
                    format!("expected `text` or `json`, got `{other}`"),
                ));
            }
        };
        let seed_demo = parse_bool(get("SEED_DEMO"), true).map_err(|m| fail("SEED_DEMO", m))?;
        let cors_allowed_origins = parse_origins(get("CORS_ALLOWED_ORIGINS").as_deref())
            .map_err(|m| fail("CORS_ALLOWED_ORIGINS", m))?;
        let shutdown_secs = parse_in_range(get("SHUTDOWN_TIMEOUT_SECS"), 10, 0..=300)
            .map_err(|m| fail("SHUTDOWN_TIMEOUT_SECS", m))?;

        let environment = match get("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(fail(
                    "APP_ENV",
                    format!("expected `development` or `production`, got `{other}`"),
                ));
            }
        };
        let jwt_secret =
            jwt_secret(get("JWT_SECRET"), environment).map_err(|m| fail("JWT_SECRET", m))?;
        let access_token_ttl = parse_in_range(get("ACCESS_TOKEN_TTL"), 900, 60..=86_400)
            .map_err(|m| fail("ACCESS_TOKEN_TTL", m))?;
        let refresh_token_ttl =
            parse_in_range(get("REFRESH_TOKEN_TTL"), 30 * 86_400, 3_600..=365 * 86_400)
                .map_err(|m| fail("REFRESH_TOKEN_TTL", m))?;

        let free_articles = parse_in_range(get("FREE_ARTICLES_PER_MONTH"), 5, 0..=1000)
            .map_err(|m| fail("FREE_ARTICLES_PER_MONTH", m))?;
        let free_articles_anonymous =
            parse_in_range(get("FREE_ARTICLES_PER_MONTH_ANONYMOUS"), 3, 0..=1000)
                .map_err(|m| fail("FREE_ARTICLES_PER_MONTH_ANONYMOUS", m))?;

        let payment_provider = match (
            get("PAYMENT_PROVIDER").as_deref().map(str::trim),
            environment,
        ) {
            (Some("test"), Environment::Production) => {
                return Err(fail(
                    "PAYMENT_PROVIDER",
                    "`test` gives subscriptions away and is refused in production; use `webhook`"
                        .into(),
                ));
            }
            (Some("test"), _) | (None, Environment::Development) => PaymentProvider::Test,
            (Some("webhook"), _) => PaymentProvider::Webhook,
            (None, Environment::Production) => {
                return Err(fail(
                    "PAYMENT_PROVIDER",
                    "must be set in production: `webhook`".into(),
                ));
            }
            (Some(other), _) => {
                return Err(fail(
                    "PAYMENT_PROVIDER",
                    format!("expected `test` or `webhook`, got `{other}`"),
                ));
            }
        };
        let payment_webhook_secret = match get("PAYMENT_WEBHOOK_SECRET") {
            Some(secret) if secret.len() < 16 => {
                return Err(fail(
                    "PAYMENT_WEBHOOK_SECRET",
                    format!("must be at least 16 bytes, got {}", secret.len()),
                ));
            }
            Some(secret) => Some(Secret(secret.into_bytes())),
            None if payment_provider == PaymentProvider::Webhook => {
                return Err(fail(
                    "PAYMENT_WEBHOOK_SECRET",
                    "must be set when PAYMENT_PROVIDER=webhook".into(),
                ));
            }
            None => None,
        };
        let past_due_grace_days = parse_in_range(get("PAST_DUE_GRACE_DAYS"), 7, 0..=60)
            .map_err(|m| fail("PAST_DUE_GRACE_DAYS", m))?;

        let rate_limit_anonymous_per_minute =
            parse_in_range(get("RATE_LIMIT_ANONYMOUS_PER_MINUTE"), 600, 0..=1_000_000)
                .map_err(|m| fail("RATE_LIMIT_ANONYMOUS_PER_MINUTE", m))?;

        let smtp_url = get("SMTP_URL")
            .map(|raw| SmtpUrl::parse(&raw))
            .transpose()
            .map_err(|m| fail("SMTP_URL", m))?;
        let mail_from = get("MAIL_FROM")
            .unwrap_or_else(|| "newsdesk <newsletter@newsdesk.example>".into())
            .trim()
            .to_owned();
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(fail("MAIL_FROM", format!("not a mailbox: `{mail_from}`")));
        }

        let cache_ms = parse_in_range(get("RESPONSE_CACHE_TTL_MS"), 2_000, 0..=60_000)
            .map_err(|m| fail("RESPONSE_CACHE_TTL_MS", m))?;
        let rate_limit_user_per_minute =
            parse_in_range(get("RATE_LIMIT_USER_PER_MINUTE"), 1_200, 0..=1_000_000)
                .map_err(|m| fail("RATE_LIMIT_USER_PER_MINUTE", m))?;
        let proxy_header = match get("TRUSTED_PROXY_HEADER")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("x-forwarded-for") => ForwardedHeader::XForwardedFor,
            Some("forwarded") => ForwardedHeader::Forwarded,
            Some(other) => {
                return Err(fail(
                    "TRUSTED_PROXY_HEADER",
                    format!("expected `x-forwarded-for` or `forwarded`, got `{other}`"),
                ));
            }
        };
        let networks = get("TRUSTED_PROXIES")
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::parse::<Cidr>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| fail("TRUSTED_PROXIES", m))?;
        let trusted_proxies = TrustedProxies::new(networks, proxy_header);
        let public_base_url = public_base_url(get("PUBLIC_BASE_URL"), environment, bind_addr)
            .map_err(|m| fail("PUBLIC_BASE_URL", m))?;
        let anonymous_meters_per_address =
            parse_in_range(get("ANONYMOUS_METERS_PER_ADDRESS"), 10, 1..=1_000_000)
                .map_err(|m| fail("ANONYMOUS_METERS_PER_ADDRESS", m))?;
        let body_timeout_ms = parse_in_range(get("BODY_TIMEOUT_MS"), 10_000, 100..=300_000)
            .map_err(|m| fail("BODY_TIMEOUT_MS", m))?;
        let registrations_per_address_per_hour =
            parse_in_range(get("REGISTRATIONS_PER_ADDRESS_PER_HOUR"), 10, 0..=1_000_000)
                .map_err(|m| fail("REGISTRATIONS_PER_ADDRESS_PER_HOUR", m))?;

        Ok(Self {
            rate_limit_user_per_minute,
            trusted_proxies,
            public_base_url,
            anonymous_meters_per_address,
            body_timeout: Duration::from_millis(body_timeout_ms),
            registrations_per_address_per_hour,
            response_cache_ttl: Duration::from_millis(cache_ms),
            smtp_url,
            mail_from,
            rate_limit_anonymous_per_minute,
            payment_provider,
            payment_webhook_secret,
            past_due_grace_days,
            environment,
            free_articles,
            free_articles_anonymous,
            jwt_secret,
            access_token_ttl,
            refresh_token_ttl,
            database_url,
            pool_size,
            pool_timeout: Duration::from_millis(pool_timeout_ms),
            bind_addr,
            workers,
            log_format,
            seed_demo,
            cors_allowed_origins,
            shutdown_timeout: Duration::from_secs(shutdown_secs),
        })
    }
}

fn jwt_secret(raw: Option<String>, environment: Environment) -> Result<Secret, String> {
    match (raw, environment) {
        (None, Environment::Development) => {
            let mut bytes = vec![0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a secret: {e}"))?;
            Ok(Secret(bytes))
        }
        (None, Environment::Production) => Err("must be set in production".into()),
        (Some(secret), _) if secret.len() < 32 => {
            Err(format!("must be at least 32 bytes, got {}", secret.len()))
        }
        (Some(secret), _) if secret.trim() == EXAMPLE_JWT_SECRET => {
            Err("is the example value from .env.example; generate a real secret".into())
        }
        (Some(secret), _) => Ok(Secret(secret.into_bytes())),
    }
}

/// `PUBLIC_BASE_URL`: required in production; in development the address
/// the server listens on (a wildcard address as `localhost`).
fn public_base_url(
    raw: Option<String>,
    environment: Environment,
    bind_addr: SocketAddr,
) -> Result<String, String> {
    let Some(raw) = raw else {
        return match environment {
            Environment::Production => {
                Err("must be set in production, e.g. https://api.example.com".into())
            }
            Environment::Development if bind_addr.ip().is_unspecified() => {
                Ok(format!("http://localhost:{}", bind_addr.port()))
            }
            Environment::Development => Ok(format!("http://{bind_addr}")),
        };
    };
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.contains(['/', '?', '#', '@', ' '])
                && !host.chars().any(char::is_control) =>
        {
            Ok(url.to_owned())
        }
        _ => Err(format!(
            "`{raw}` is not an origin like https://api.example.com (scheme and host, no path)"
        )),
    }
}

fn parse_in_range<T>(
    raw: Option<String>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = raw else { return Ok(default) };
    let value: T = raw
        .trim()
        .parse()
        .map_err(|_| format!("expected a whole number, got `{raw}`"))?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "must be between {} and {}, got {value}",
            range.start(),
            range.end()
        ))
    }
}

fn parse_bool(raw: Option<String>, default: bool) -> Result<bool, String> {
    match raw.as_deref().map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(format!("expected true or false, got `{v}`")),
    }
}

fn parse_origins(raw: Option<&str>) -> Result<Vec<String>, String> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.ends_with('/')
                && !origin.contains(['*', ' ']);
            if valid {
                Ok(origin.to_owned())
            } else {
                Err(format!(
                    "`{origin}` is not an origin like https://www.example.com (scheme and host, no path, no wildcard)"
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_serve_sqlite_on_localhost() {
        let cfg = config(&[]).unwrap();
        assert_eq!(cfg.database_url, DatabaseUrl::Sqlite("newsdesk.db".into()));
        assert_eq!(cfg.bind_addr.to_string(), "127.0.0.1:8080");
        assert!(cfg.seed_demo);
        assert!(cfg.cors_allowed_origins.is_empty());
    }

    #[test]
    fn database_is_chosen_by_scheme() {
        let parse = |s| DatabaseUrl::parse(s).unwrap();
        assert_eq!(
            parse("sqlite://data/news.db"),
            DatabaseUrl::Sqlite("data/news.db".into())
        );
        assert_eq!(
            parse("sqlite:news.db"),
            DatabaseUrl::Sqlite("news.db".into())
        );
        assert_eq!(
            parse("/var/lib/news.db"),
            DatabaseUrl::Sqlite("/var/lib/news.db".into())
        );
        assert!(matches!(
            parse("postgres://u@h/db"),
            DatabaseUrl::Postgres(_)
        ));
        assert!(matches!(
            parse("postgresql://u@h/db"),
            DatabaseUrl::Postgres(_)
        ));
    }

    #[test]
    fn an_unknown_scheme_is_an_error_naming_the_variable() {
        let err = config(&[("DATABASE_URL", "mysql://root@localhost/news")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
        assert!(err.to_string().contains("mysql"), "{err}");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("BIND_ADDR", "localhost"),
            ("DATABASE_POOL_SIZE", "0"),
            ("DATABASE_TIMEOUT_MS", "soon"),
            ("LOG_FORMAT", "xml"),
            ("SEED_DEMO", "maybe"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("WORKERS", "-1"),
            ("APP_ENV", "staging"),
            ("ACCESS_TOKEN_TTL", "5"),
            ("REFRESH_TOKEN_TTL", "forever"),
            ("FREE_ARTICLES_PER_MONTH", "many"),
            ("FREE_ARTICLES_PER_MONTH_ANONYMOUS", "-3"),
            ("PAYMENT_PROVIDER", "stripe"),
            ("PAST_DUE_GRACE_DAYS", "365"),
            ("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "lots"),
            ("SMTP_URL", "mail.example:25"),
            ("MAIL_FROM", "not an address"),
            ("RESPONSE_CACHE_TTL_MS", "-1"),
            ("RATE_LIMIT_USER_PER_MINUTE", "x"),
            ("ANONYMOUS_METERS_PER_ADDRESS", "0"),
            ("BODY_TIMEOUT_MS", "5"),
            ("REGISTRATIONS_PER_ADDRESS_PER_HOUR", "many"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{err}");
        }
    }

    #[test]
    fn the_jwt_secret_must_be_long_and_real_in_production() {
        let short = config(&[("JWT_SECRET", "too-short")]).unwrap_err();
        assert_eq!(short.var, "JWT_SECRET");
        let missing = config(&[("APP_ENV", "production")]).unwrap_err();
        assert_eq!(missing.var, "JWT_SECRET");
        let example = config(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", EXAMPLE_JWT_SECRET),
        ])
        .unwrap_err();
        assert_eq!(example.var, "JWT_SECRET");
        let example = config(&[("JWT_SECRET", EXAMPLE_JWT_SECRET)]).unwrap_err();
        assert_eq!(example.var, "JWT_SECRET", "refused in development too");
        let real = "a-real-secret-of-more-than-32-bytes-0123";
        let cfg = config(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", real),
            ("PAYMENT_PROVIDER", "webhook"),
            ("PAYMENT_WEBHOOK_SECRET", "whsec-0123456789abcdef"),
            ("PUBLIC_BASE_URL", "https://api.newsdesk.example"),
        ])
        .unwrap();
        assert_eq!(cfg.jwt_secret.expose(), real.as_bytes());
        assert!(!format!("{cfg:?}").contains(real));
    }

    #[test]
    fn payments_default_to_the_test_provider_only_in_development() {
        let dev = config(&[]).unwrap();
        assert_eq!(dev.payment_provider, PaymentProvider::Test);
        assert_eq!(dev.past_due_grace_days, 7);
        let real = "a-real-secret-of-more-than-32-bytes-0123";
        let prod = config(&[("APP_ENV", "production"), ("JWT_SECRET", real)]).unwrap_err();
        assert_eq!(prod.var, "PAYMENT_PROVIDER");
        let giveaway = config(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", real),
            ("PAYMENT_PROVIDER", "test"),
        ])
        .unwrap_err();
        assert_eq!(
            giveaway.var, "PAYMENT_PROVIDER",
            "test payments in production"
        );
        let no_secret = config(&[("PAYMENT_PROVIDER", "webhook")]).unwrap_err();
        assert_eq!(no_secret.var, "PAYMENT_WEBHOOK_SECRET");
        let short = config(&[
            ("PAYMENT_PROVIDER", "webhook"),
            ("PAYMENT_WEBHOOK_SECRET", "short"),
        ])
        .unwrap_err();
        assert_eq!(short.var, "PAYMENT_WEBHOOK_SECRET");
        let webhook = config(&[
            ("PAYMENT_PROVIDER", "webhook"),
            ("PAYMENT_WEBHOOK_SECRET", "whsec-0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(webhook.payment_provider, PaymentProvider::Webhook);
        assert!(!format!("{webhook:?}").contains("whsec-0123456789abcdef"));
    }

    #[test]
    fn links_come_from_the_configured_origin() {
        assert_eq!(
            config(&[]).unwrap().public_base_url,
            "http://127.0.0.1:8080"
        );
        let wildcard = config(&[("BIND_ADDR", "0.0.0.0:9000")]).unwrap();
        assert_eq!(wildcard.public_base_url, "http://localhost:9000");
        let set = config(&[("PUBLIC_BASE_URL", "https://api.newsdesk.example/")]).unwrap();
        assert_eq!(set.public_base_url, "https://api.newsdesk.example");
        for bad in [
            "api.newsdesk.example",
            "https://a.example/path",
            "ftp://a.example",
        ] {
            let err = config(&[("PUBLIC_BASE_URL", bad)]).unwrap_err();
            assert_eq!(err.var, "PUBLIC_BASE_URL", "{bad}");
        }
        let real = "a-real-secret-of-more-than-32-bytes-0123";
        let missing = config(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", real),
            ("PAYMENT_PROVIDER", "webhook"),
            ("PAYMENT_WEBHOOK_SECRET", "whsec-0123456789abcdef"),
        ])
        .unwrap_err();
        assert_eq!(missing.var, "PUBLIC_BASE_URL", "required in production");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let cfg = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7 ,2001:db8::/32")]).unwrap();
        assert!(!cfg.trusted_proxies.is_empty());
        assert!(config(&[]).unwrap().trusted_proxies.is_empty());
        for (var, value) in [
            ("TRUSTED_PROXIES", "10.0.0.0/40"),
            ("TRUSTED_PROXIES", "proxy.internal"),
            ("TRUSTED_PROXY_HEADER", "x-real-ip"),
        ] {
            assert_eq!(config(&[(var, value)]).unwrap_err().var, var);
        }
    }

    #[test]
    fn development_without_a_secret_gets_a_random_one() {
        let a = config(&[]).unwrap();
        let b = config(&[]).unwrap();
        assert_eq!(a.jwt_secret.expose().len(), 32);
        assert_ne!(a.jwt_secret.expose(), b.jwt_secret.expose());
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let cfg = config(&[("DATABASE_URL", "postgres://news:s3cret@db/news")]).unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("news:***@db/news"), "{shown}");
    }

    #[test]
    fn the_smtp_password_reaches_neither_debug_nor_errors() {
        let cfg = config(&[("SMTP_URL", "smtps://mailer:p@ss:word@mail.example:465")]).unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("ss:word"), "{shown}");
        assert!(
            shown.contains("smtps://mailer:***@mail.example:465"),
            "{shown}"
        );
        assert_eq!(
            cfg.smtp_url.as_ref().map(SmtpUrl::expose),
            Some("smtps://mailer:p@ss:word@mail.example:465")
        );

        let refused = config(&[("SMTP_URL", "https://mailer:hunter2@mail.example")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(refused.contains("SMTP_URL"), "{refused}");
        assert!(refused.contains("`https`"), "{refused}");
        assert!(!refused.contains("hunter2"), "{refused}");
    }

    #[test]
    fn origins_are_a_trimmed_list() {
        let cfg = config(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://www.example.com, http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(
            cfg.cors_allowed_origins,
            ["https://www.example.com", "http://localhost:3000"]
        );
    }
}
