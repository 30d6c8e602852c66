//! Start-up: logging, the database (pool, migrations, demo content) and the HTTP server.

use std::error::Error;

use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use tracing_subscriber::EnvFilter;

use crate::app::build_app;
use crate::clock::Clock;
use crate::config::{Config, LogFormat};
use crate::db::{self, DbPool};
use crate::seed;
use crate::state::AppState;

/// Installs the global log subscriber: `RUST_LOG` filters, `LOG_FORMAT` shapes.
pub fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Builds the pool and applies pending migrations.
pub fn open_database(config: &Config) -> Result<DbPool, Box<dyn Error + Send + Sync>> {
    let pool = db::build_pool(
        config.database_url.clone(),
        config.pool_size,
        config.pool_timeout,
    );
    let mut conn = pool.get().map_err(|e| {
        format!(
            "cannot connect to the database ({:?}): {e}",
            config.database_url
        )
    })?;
    let applied = db::run_migrations(&mut conn)?;
    tracing::info!(
        backend = config.database_url.backend_name(),
        applied,
        "database migrated"
    );
    let rerendered = db::transaction(&mut conn, |conn| {
        db::lock_for_setup(conn)?;
        db::articles::rerender_previews(conn)
    })?;
    if rerendered > 0 {
        tracing::info!(
            previews = rerendered,
            "stored previews rendered again under the current rule"
        );
    }
    Ok(pool)
}

/// Serves the API until SIGTERM or Ctrl-C; in-flight requests get
/// `SHUTDOWN_TIMEOUT_SECS` to finish.
pub async fn serve(config: Config) -> Result<(), Box<dyn Error + Send + Sync>> {
    let pool = open_database(&config)?;
    if config.seed_demo {
        let mut conn = pool.get()?;
        if let Some(report) = seed::demo_if_empty(&mut conn)? {
            tracing::info!(
                articles = report.articles,
                "the database was empty: demo content added"
            );
        }
    }
    let bind_addr = config.bind_addr;
    if let Some(warning) = exposure_warning(&config) {
        tracing::warn!(%bind_addr, "{warning}");
    }
    let workers = config.workers;
    // Blocking work is database work: more threads than connections only
    // queue on the pool, and on two cores hundreds of them (actix's default
    // is 512 per process) spent more time switching than working.
    let threads_per_worker = workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let blocking_threads = (config.pool_size as usize)
        .div_ceil(threads_per_worker.max(1))
        .max(2);
    let shutdown = config.shutdown_timeout.as_secs();
    let state =
        web::Data::new(crate::app::state(config, pool, Clock::System).map_err(|e| e.to_string())?);
    let state_for_run = state.clone();
    let mut server = HttpServer::new(move || build_app(state.clone()))
        .shutdown_timeout(shutdown)
        // A client has 5 s to send its request head and idles at most 5 s
        // between requests: slow or silent clients cannot hold connections.
        .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
        .keep_alive(KEEP_ALIVE)
        .worker_max_blocking_threads(blocking_threads)
        .bind(bind_addr)?;
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    tracing::info!(%bind_addr, "listening; Swagger UI at http://{bind_addr}/docs/");
    run(server.run(), state_for_run).await?;
    tracing::info!("stopped");
    Ok(())
}

/// What to say loudly at start-up when development settings (a random or
/// weak secret, test payments, links to localhost) listen beyond this
/// machine.
pub(crate) fn exposure_warning(config: &Config) -> Option<&'static str> {
    (config.environment == crate::config::Environment::Development
        && !config.bind_addr.ip().is_loopback())
    .then_some(
        "DEVELOPMENT SETTINGS ON A NETWORK ADDRESS: APP_ENV is development while the server \
         listens beyond this machine. Set APP_ENV=production (which requires a real JWT_SECRET, \
         PUBLIC_BASE_URL and a payment provider) before anyone else can reach it",
    )
}

/// How long a client may take to send a request's head (then 408).
pub(crate) const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle keep-alive connection stays open.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// How often views counted in memory are written to the database.
pub(crate) const VIEW_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// Runs `server` to its end (a graceful stop lets in-flight requests
/// finish), flushing counted views every [`VIEW_FLUSH_INTERVAL`] and once
/// more after the last request, so a graceful shutdown loses no view.
pub async fn run(server: Server, state: web::Data<AppState>) -> std::io::Result<()> {
    let flusher = {
        let state = state.clone();
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(VIEW_FLUSH_INTERVAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                flush_views(&state).await;
                forget_old_windows(&state).await;
                crate::mail::deliver_due(
                    &state.db,
                    &state.mailer,
                    &state.config.mail_from,
                    state.clock,
                )
                .await;
            }
        })
    };
    let sweeper = {
        let state = state.clone();
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(HOUSEKEEPING_INTERVAL);
            loop {
                tick.tick().await;
                keep_house(&state).await;
            }
        })
    };
    let result = server.await;
    flusher.abort();
    sweeper.abort();
    flush_views(&state).await;
    result
}

/// How often what anonymous traffic leaves behind is pruned (once at start).
pub(crate) const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(3600);

/// Prunes what no longer matters (see `db::housekeeping`).
async fn keep_house(state: &AppState) {
    let now = state.clock.now();
    match state
        .db
        .run(move |conn| Ok(crate::db::housekeeping::prune(conn, now)?))
        .await
    {
        Ok(pruned) if pruned.total() > 0 => tracing::info!(?pruned, "housekeeping"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "housekeeping failed; next time"),
    }
}

/// Deletes per-key request counters of minutes long past.
async fn forget_old_windows(state: &AppState) {
    let before = state.clock.now() - chrono::Duration::hours(2);
    if let Err(e) = state
        .db
        .run(move |conn| Ok(crate::db::api_keys::prune_windows(conn, before)?))
        .await
    {
        tracing::warn!(error = %e, "old rate-limit windows not pruned");
    }
}

/// Writes the views counted so far; on failure they stay counted in memory.
pub async fn flush_views(state: &AppState) {
    let views = state.views.clone();
    match state.db.run(move |conn| Ok(views.flush(conn)?)).await {
        Ok(0) => {}
        Ok(written) => tracing::debug!(views = written, "views flushed"),
        Err(e) => tracing::warn!(error = %e, "views not flushed; kept for the next attempt"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    #[test]
    fn development_settings_beyond_loopback_are_announced() {
        assert!(exposure_warning(&config(&[])).is_none(), "loopback");
        assert!(exposure_warning(&config(&[("BIND_ADDR", "[::1]:8080")])).is_none());
        for exposed in ["0.0.0.0:8080", "192.0.2.10:80", "[::]:8080"] {
            assert!(
                exposure_warning(&config(&[("BIND_ADDR", exposed)])).is_some(),
                "{exposed}"
            );
        }
        let production = config(&[
            ("APP_ENV", "production"),
            ("BIND_ADDR", "0.0.0.0:8080"),
            ("JWT_SECRET", "a-real-secret-of-more-than-32-bytes-0123"),
            ("PAYMENT_PROVIDER", "webhook"),
            ("PAYMENT_WEBHOOK_SECRET", "whsec-0123456789abcdef"),
            ("PUBLIC_BASE_URL", "https://api.newsdesk.example"),
        ]);
        assert!(exposure_warning(&production).is_none());
    }
}
