//! The problems an operation can answer with, as OpenAPI response
//! components that operations list in `responses(...)`. Each example is
//! the problem `ApiError` itself renders, so the document cannot drift from
//! what the API sends.

use utoipa::ToResponse;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

use super::{ApiError, ConflictCode};
use crate::config::{MAX_HEADER_BYTES, MAX_JSON_BODY};

/// The media type of every problem.
const PROBLEM_JSON: &str = "application/problem+json";

/// Declares a response component per problem: its doc comment is the
/// description, then the headers it carries, then the error it shows.
macro_rules! problem_responses {
    ($(
        $(#[doc = $doc:literal])+
        $name:ident $([$(($header:literal, $about:literal)),+ $(,)?])? => $example:expr;
    )+) => {
        $(
            $(#[doc = $doc])+
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    let description = [$($doc),+].map(str::trim).join("\n");
                    let headers: &[(&str, &str)] = &[$($(($header, $about)),+)?];
                    (stringify!($name), problem(&description, headers, $example))
                }
            }
        )+
    };
}

/// A problem response with its headers and the problem `example` renders.
fn problem(description: &str, headers: &[(&str, &str)], example: ApiError) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .example(serde_json::to_value(example.problem()).ok())
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content);
    for (name, about) in headers {
        response = response.header(
            *name,
            HeaderBuilder::new().description(Some(*about)).build(),
        );
    }
    response.build().into()
}

problem_responses! {
    /// The request conflicts with what exists (for example, the email is taken).
    Conflict => ApiError::Conflict(
        ConflictCode::EmailTaken,
        "An account with this email already exists; log in instead.".into(),
    );

    /// The email or the password is wrong (the same answer for unknown emails).
    InvalidCredentials => ApiError::InvalidCredentials;

    /// No valid credentials: missing (`unauthenticated`), or a token that is
    /// invalid, expired or revoked (`invalid_token`, with `WWW-Authenticate`).
    InvalidToken [
        ("WWW-Authenticate", "`Bearer`, with `error=\"invalid_token\"` when a token was refused."),
    ] => ApiError::InvalidToken("expired".into());

    /// Signed in, but the role does not allow this.
    Forbidden => ApiError::Forbidden;

    /// Too many attempts, or over an allowance (an API key's requests per
    /// minute, or an address's without credentials); wait `Retry-After` seconds.
    TooManyRequests [
        ("Retry-After", "Seconds to wait before trying again."),
        ("RateLimit-Policy", "Over an allowance: the allowance, e.g. `\"per-key\";q=600;w=60`."),
        ("RateLimit", "Over an allowance: what remains and when it resets, e.g. `\"per-key\";r=0;t=42`."),
    ] => ApiError::TooManyRequests(840);

    /// Some inputs were not acceptable; `errors` names each field.
    BadRequest => ApiError::field("limit", "must be between 1 and 100");

    /// Nothing public has this identifier.
    NotFound => ApiError::NotFound("article");

    /// The database cannot be reached right now; retry after `Retry-After` seconds.
    Unavailable [
        ("Retry-After", "Seconds to wait before retrying."),
    ] => ApiError::Unavailable("the database is not answering".into());

    /// The body is larger than the 256 KiB limit.
    PayloadTooLarge => ApiError::PayloadTooLarge(MAX_JSON_BODY);

    /// The body must be `application/json`.
    UnsupportedMediaType => ApiError::UnsupportedMediaType;

    /// `If-Match` named an older version: someone changed the article meanwhile.
    PreconditionFailed => ApiError::PreconditionFailed;

    /// The request is well-formed but cannot be processed as sent: an
    /// `Idempotency-Key` already used with a different body
    /// (`idempotency_key_reused`).
    Unprocessable => ApiError::Unprocessable(
        ConflictCode::IdempotencyKeyReused,
        "This Idempotency-Key was used with a different request; use a new key for a new request."
            .into(),
    );

    /// The `Webhook-Signature` header is missing, malformed, more than five
    /// minutes old, or matches no signature of the body.
    InvalidSignature => ApiError::InvalidSignature("no signature matches the body".into());

    /// The `X-API-Key` is unknown, malformed or revoked.
    InvalidApiKey => ApiError::InvalidApiKey;

    /// The request's headers are larger than 16 KiB in all.
    HeadersTooLarge => ApiError::HeadersTooLarge(MAX_HEADER_BYTES);

    /// Something failed on our side; it is logged with the request id, and the
    /// body never says what.
    InternalError => ApiError::Internal("a bug".into());
}
