//! Prometheus metrics: request counts and latencies by route and status,
//! and the database pool's state.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServiceRequest;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderName;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::db::ledger::LedgerCounts;

/// The process's metrics, registered once.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    response_cache: IntCounterVec,
    ledger: IntCounterVec,
    /// Held while the ledger's counters catch up, so that two scrapes at
    /// once do not add the same writes twice.
    ledger_sync: Arc<Mutex<()>>,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("newsdesk".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status.",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request head to response, by route and method.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route", "method"],
        )?;
        let response_cache = IntCounterVec::new(
            Opts::new(
                "response_cache_total",
                "Cacheable requests by outcome: hit, waited (for another request's fill), \
                 fill (computed a missing copy) or refresh (recomputed an expired one).",
            ),
            &["outcome"],
        )?;
        let ledger = IntCounterVec::new(
            Opts::new(
                "meter_ledger_total",
                "The meter ledger's group commit: writes answered (jobs), transactions \
                 committed (commits), and batches that failed and ran job by job (retried).",
            ),
            &["event"],
        )?;
        let pool_connections = IntGauge::new("db_pool_connections", "Open database connections.")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections.")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(response_cache.clone()))?;
        registry.register(Box::new(ledger.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            response_cache,
            ledger,
            ledger_sync: Arc::default(),
        })
    }

    /// Counts one cacheable request's outcome (see `cache`).
    pub fn cache(&self, outcome: &str) {
        self.response_cache.with_label_values(&[outcome]).inc();
    }

    /// Brings the ledger's counters up to what it has done.
    fn ledger(&self, counts: &LedgerCounts) {
        let _one_at_a_time = self.ledger_sync.lock().unwrap_or_else(|e| e.into_inner());
        for (event, total) in [
            ("jobs", &counts.jobs),
            ("commits", &counts.commits),
            ("retried", &counts.retried),
        ] {
            let counter = self.ledger.with_label_values(&[event]);
            let total = total.load(Ordering::Relaxed);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
    }

    /// The text exposition of every metric, with the pool's connections
    /// (open, idle) and the ledger's current figures filled in first.
    pub fn render(
        &self,
        (connections, idle): (u32, u32),
        ledger: &LedgerCounts,
    ) -> Result<Vec<u8>, prometheus::Error> {
        self.pool_connections.set(i64::from(connections));
        self.pool_idle.set(i64::from(idle));
        self.ledger(ledger);
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(buffer)
    }

    pub(crate) fn observe(&self, route: &str, method: &str, status: StatusCode, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, status.as_str()])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(seconds);
    }
}

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Accepts a client's request id when it is short and plain, or makes one.
pub(crate) fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(new_request_id, str::to_owned)
}

/// A fresh request id, shaped as a UUID v4: a counter per thread through
/// SipHash under keys the thread draws once (std's `RandomState`), so ids
/// are neither predictable nor a count of traffic, without the `getrandom`
/// system call per request that `Uuid::new_v4` made (it cost more than the
/// rest of the id).
fn new_request_id() -> String {
    use std::cell::Cell;
    use std::hash::BuildHasher as _;
    thread_local! {
        static IDS: (std::collections::hash_map::RandomState, Cell<u64>) =
            (std::collections::hash_map::RandomState::new(), Cell::new(0));
    }
    let bits = IDS.with(|(keys, counter)| {
        let n = counter.get();
        counter.set(n.wrapping_add(1));
        (u128::from(keys.hash_one((n, 0u8))) << 64) | u128::from(keys.hash_one((n, 1u8)))
    });
    uuid::Builder::from_random_bytes(bits.to_le_bytes())
        .into_uuid()
        .to_string()
}

/// The `method` label: the methods HTTP defines, and `other` for anything a
/// client invents, so that invented methods cannot add series without end.
pub(crate) fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method as M;
    match *method {
        M::GET => "GET",
        M::HEAD => "HEAD",
        M::POST => "POST",
        M::PUT => "PUT",
        M::PATCH => "PATCH",
        M::DELETE => "DELETE",
        M::OPTIONS => "OPTIONS",
        M::CONNECT => "CONNECT",
        M::TRACE => "TRACE",
        _ => "other",
    }
}
