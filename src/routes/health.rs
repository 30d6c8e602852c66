//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{HttpResponse, get, web};
use diesel::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;
use crate::openapi::Unavailable;

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
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
    state
        .db
        .run(|conn| Ok(diesel::sql_query("SELECT 1").execute(conn)?))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(HealthStatus { status: "ok" }))
}
