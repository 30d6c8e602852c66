//! Serves public GETs from the in-memory response cache (`crate::cache`).

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::cache::{Serving, serve};
use crate::state::AppState;

/// Answers from the cache, or fills it from the handler's answer.
pub async fn cache<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let serving = Serving {
        ttl: state.config.response_cache_ttl,
        views: &state.views,
        metrics: &state.metrics,
        clock: state.clock,
    };
    serve(req, next, &state.cache, serving).await
}
