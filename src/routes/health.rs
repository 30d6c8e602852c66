//! Liveness and readiness probes for load balancers and orchestrators, and
//! the Prometheus metrics.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::error::responses::Unavailable;
use crate::state::AppState;

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HealthStatus {
    /// `ok` when healthy.
    #[schema(example = "ok", max_length = 16)]
    pub status: &'static str,
}

/// Liveness
///
/// The process is up and serving HTTP. Does not touch the database.
#[utoipa::path(
    operation_id = "get_liveness",
    tag = "operations",
    responses((status = 200, description = "The process is alive.", body = HealthStatus))
)]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(HealthStatus { status: "ok" })
}

/// Readiness
///
/// The process can serve requests: a database connection was obtained and
/// answered a query within the pool timeout (a few seconds at most).
#[utoipa::path(
    operation_id = "get_readiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve.", body = HealthStatus),
        (status = 503, response = Unavailable),
    )
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.run(|conn| Ok(crate::db::ping(conn)?)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(HealthStatus { status: "ok" }))
}

/// Prometheus metrics
///
/// Request counts and latency histograms by route and status, and database
/// pool usage, in the Prometheus text exposition format.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Metrics in the Prometheus text format.", content_type = "text/plain; version=0.0.4", body = String,
        example = "newsdesk_http_requests_total{method=\"GET\",route=\"/api/v1/articles\",status=\"200\"} 42\n"))
)]
#[get("/metrics")]
pub(crate) async fn get_metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let pool = state.db.pool().state();
    let metrics = state
        .metrics
        .render(
            (pool.connections, pool.idle_connections),
            state.ledger.counts(),
        )
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .insert_header(("Cache-Control", "no-store"))
        .body(metrics))
}
