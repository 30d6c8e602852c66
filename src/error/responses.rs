//! The problems an operation can answer with, as OpenAPI response
//! components that operations list in `responses(...)`.

use utoipa::ToResponse;

use super::Problem;

/// The request conflicts with what exists (for example, the email is taken).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "An account with this email already exists; log in instead.",
        "code": "email_taken"
    })
)]
pub struct Conflict(#[allow(dead_code)] Problem);

/// The email or the password is wrong (the same answer for unknown emails).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The email or the password is wrong.",
        "code": "invalid_credentials"
    })
)]
pub struct InvalidCredentials(#[allow(dead_code)] Problem);

/// No valid credentials: missing (`unauthenticated`), or a token that is
/// invalid, expired or revoked (`invalid_token`, with `WWW-Authenticate`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer`, with `error=\"invalid_token\"` when a token was refused.")),
    example = json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The token is invalid, expired or revoked; log in or refresh.",
        "code": "invalid_token"
    })
)]
pub struct InvalidToken(#[allow(dead_code)] Problem);

/// Signed in, but the role does not allow this.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "Your role does not allow this.",
        "code": "forbidden"
    })
)]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// Too many attempts, or over an allowance (an API key's requests per
/// minute, or an address's without credentials); wait `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = String, description = "Seconds to wait before trying again."),
        ("RateLimit-Policy" = String, description = "Over an allowance: the allowance, e.g. `\"per-key\";q=600;w=60`."),
        ("RateLimit" = String, description = "Over an allowance: what remains and when it resets, e.g. `\"per-key\";r=0;t=42`.")
    ),
    example = json!({
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Too many attempts; retry in 840 seconds.",
        "code": "too_many_requests"
    })
)]
pub struct TooManyRequests(#[allow(dead_code)] Problem);

/// Some inputs were not acceptable; `errors` names each field.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "Invalid `limit`: must be between 1 and 100.",
        "code": "validation_failed",
        "errors": [{"field": "limit", "message": "must be between 1 and 100"}]
    })
)]
pub struct BadRequest(#[allow(dead_code)] Problem);

/// Nothing public has this identifier.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No article matches this request.",
        "code": "not_found"
    })
)]
pub struct NotFound(#[allow(dead_code)] Problem);

/// The database cannot be reached right now; retry after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = String, description = "Seconds to wait before retrying.")),
    example = json!({
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The service cannot reach its database right now; retry shortly.",
        "code": "service_unavailable"
    })
)]
pub struct Unavailable(#[allow(dead_code)] Problem);

/// The body is larger than the 256 KiB limit.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Payload Too Large",
        "status": 413,
        "detail": "The body is larger than 262144 bytes.",
        "code": "payload_too_large"
    })
)]
pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

/// The body must be `application/json`.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unsupported Media Type",
        "status": 415,
        "detail": "Send the body as application/json.",
        "code": "unsupported_media_type"
    })
)]
pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

/// `If-Match` named an older version: someone changed the article meanwhile.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Precondition Failed",
        "status": 412,
        "detail": "Someone changed this since your copy (If-Match); fetch it again and reapply.",
        "code": "precondition_failed"
    })
)]
pub struct PreconditionFailed(#[allow(dead_code)] Problem);

/// The request is well-formed but cannot be processed as sent: an
/// `Idempotency-Key` already used with a different body
/// (`idempotency_key_reused`).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "This Idempotency-Key was used with a different request; use a new key for a new request.",
        "code": "idempotency_key_reused"
    })
)]
pub struct Unprocessable(#[allow(dead_code)] Problem);

/// The `Webhook-Signature` header is missing, malformed, more than five
/// minutes old, or matches no signature of the body.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The webhook signature was refused: no signature matches the body.",
        "code": "invalid_signature"
    })
)]
pub struct InvalidSignature(#[allow(dead_code)] Problem);

/// The `X-API-Key` is unknown, malformed or revoked.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "The X-API-Key is unknown or revoked; ask for a new key.",
        "code": "invalid_api_key"
    })
)]
pub struct InvalidApiKey(#[allow(dead_code)] Problem);

/// The request's headers are larger than 16 KiB in all.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Request Header Fields Too Large",
        "status": 431,
        "detail": "The request's headers are larger than 16384 bytes in all.",
        "code": "headers_too_large"
    })
)]
pub struct HeadersTooLarge(#[allow(dead_code)] Problem);

/// Something failed on our side; it is logged with the request id, and the
/// body never says what.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "Something went wrong on our side; it has been logged.",
        "code": "internal_error"
    })
)]
pub struct InternalError(#[allow(dead_code)] Problem);
