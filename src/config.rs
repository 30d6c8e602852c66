//! Configuration, read once from the environment at start-up and validated.
//!
//! Every variable is documented in `.env.example`. A bad value stops start-up
//! with a message that names the variable; secrets never reach `Debug` output.

use std::net::SocketAddr;
use std::time::Duration;

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
    pub fn backend_name(&self) -> &'static str {
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

/// Hides the password of a `scheme://user:password@host` URL.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
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

/// The service's whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`.
    pub database_url: DatabaseUrl,
    /// `DATABASE_POOL_SIZE`: connections kept per process.
    pub pool_size: u32,
    /// `DATABASE_TIMEOUT_MS`: how long a request waits for a connection before a 503.
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
        let pool_size = parse_in_range(get("DATABASE_POOL_SIZE"), 10, 1..=512)
            .map_err(|m| fail("DATABASE_POOL_SIZE", m))?;
        let pool_timeout_ms = parse_in_range(get("DATABASE_TIMEOUT_MS"), 2_000, 50..=60_000)
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

        Ok(Self {
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
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{err}");
        }
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let cfg = config(&[("DATABASE_URL", "postgres://news:s3cret@db/news")]).unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("news:***@db/news"), "{shown}");
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
