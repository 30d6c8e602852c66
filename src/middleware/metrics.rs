//! Request ids in and out, one log line per request, and the request metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::metrics::{REQUEST_ID, method_label, request_id};
use crate::state::AppState;

/// Middleware: request id in and out, one log line per request, metrics.
pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = method_label(req.method());
    // Fields are only evaluated when the span is enabled.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path()
    );
    let state = req.app_data::<web::Data<AppState>>().cloned();

    let mut response = next.call(req).instrument(span.clone()).await?;

    let elapsed = started.elapsed();
    let status = response.status();
    let route = response.request().match_pattern();
    let route = route.as_deref().unwrap_or("unmatched");
    if let Some(state) = state {
        state
            .metrics
            .observe(route, method, status, elapsed.as_secs_f64());
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            route = %route,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request served"
        );
    });
    Ok(response)
}
