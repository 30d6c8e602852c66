//! The middleware around every handler: HEAD as GET, request hygiene (NUL
//! in paths, oversized heads, slow bodies), caching around compression, and
//! (in its submodules) the response cache, rate limits and metrics, each
//! apart from the store it uses.

pub mod cache;
pub mod limits;
pub mod metrics;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};

use crate::cache::{EtagDecided, WasHead};
use crate::config::MAX_HEADER_BYTES;
use crate::error::ApiError;
use crate::negotiation::{Coding, negotiate, weak};
use crate::state::AppState;

/// Every GET resource answers HEAD (RFC 9110 9.3.2): a HEAD is handled as
/// the GET it stands for, through the same limits, cache and handler
/// (which count no view and spend no meter for it: see `WasHead`), and the
/// connection sends the head alone (actix's HTTP/1 codec remembers the
/// request was a HEAD and writes no body, keeping `Content-Length`; with
/// pipelined requests that memory is the latest request's, an actix-http
/// limitation). Where no GET exists the answer is the GET's: 404, or 405
/// with `Allow`.
pub(crate) async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(WasHead);
    }
    next.call(req).await
}

/// No path names a resource with a NUL character in it (PostgreSQL refuses
/// NUL in any text value: a 500 before this), so a percent-encoded NUL in
/// the path is a 404 before any handler. Queries are checked by
/// `http::Query`, JSON bodies by `http::Json`.
pub(crate) async fn refuse_nul_in_paths(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let encoded_nul = req
        .uri()
        .path()
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0');
    if encoded_nul {
        return Err(ApiError::RouteNotFound.into());
    }
    next.call(req).await
}

/// Gives a request's body `BODY_TIMEOUT_MS` to arrive, counted from the
/// end of its head: actix's own timeout covers the head only, and a client
/// announcing a body and sending a byte every few seconds held a connection
/// (and a worker's attention) forever. Past the deadline, reading the body
/// fails, the handler answers 408 and the connection closes.
pub(crate) async fn bound_body_time(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let has_body = req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if let Some(state) = req.app_data::<web::Data<AppState>>().filter(|_| has_body) {
        let deadline = state.config.body_timeout;
        let payload = req.take_payload();
        let bounded = BodyDeadline {
            inner: payload,
            deadline: Box::pin(actix_web::rt::time::sleep(deadline)),
        };
        let stream: std::pin::Pin<
            Box<dyn futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>,
        > = Box::pin(bounded);
        req.set_payload(actix_web::dev::Payload::from(stream));
    }
    next.call(req).await
}

/// A request body that ends in an error once its deadline has passed.
struct BodyDeadline {
    inner: actix_web::dev::Payload,
    deadline: std::pin::Pin<Box<actix_web::rt::time::Sleep>>,
}

impl futures_util::Stream for BodyDeadline {
    type Item = Result<Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::future::Future as _;
        use std::task::Poll;
        if let Poll::Ready(item) = std::pin::Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            let late = std::io::Error::new(std::io::ErrorKind::TimedOut, BODY_TOO_SLOW);
            return Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(late))));
        }
        Poll::Pending
    }
}

/// What a body that missed its deadline fails with.
pub(crate) const BODY_TOO_SLOW: &str = "the request body did not arrive in time";

pub(crate) async fn refuse_oversized_heads(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge(MAX_HEADER_BYTES).into());
    }
    next.call(req).await
}

/// Keeps caches right around compression. A compressed body is other bytes
/// than the one its strong `ETag` names (RFC 9110, 8.8.3), so an encoded
/// response carries the weak form (our `If-None-Match` compares weakly, so
/// either form revalidates). A 304 carries the form its 200 would have (the
/// weak one whenever the client takes a coding we send). A 200 or 304 says
/// `Vary: Accept-Encoding`, or a shared cache could hand a stored brotli
/// body to a client that cannot read it, or the reverse.
pub(crate) async fn encoding_aware_caching(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // What `Compress` will code a 200 in for this client.
    let coded = negotiate(
        req.headers(),
        &[Coding::Brotli, Coding::Gzip, Coding::Deflate],
    ) != Coding::Identity;
    let mut response = next.call(req).await?;
    let status = response.status();
    let revalidated = status == actix_web::http::StatusCode::NOT_MODIFIED;
    let decided = response
        .response()
        .extensions()
        .get::<EtagDecided>()
        .is_some();
    let headers = response.headers_mut();
    // The cache marks identity answers so that `Compress` passes them by.
    let identity = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes() == b"identity");
    if identity {
        headers.remove(header::CONTENT_ENCODING);
    }
    let weaken =
        !decided && (headers.contains_key(header::CONTENT_ENCODING) || (revalidated && coded));
    if weaken
        && let Some(etag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok())
        && etag.starts_with('"')
        && let Ok(weak) = HeaderValue::from_str(&weak(etag))
    {
        headers.insert(header::ETAG, weak);
    }
    let varies = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("accept-encoding"));
    if (status == actix_web::http::StatusCode::OK || revalidated) && !varies {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    Ok(response)
}
