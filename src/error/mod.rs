//! The one error type of the API, rendered as RFC 9457 `application/problem+json`.
//!
//! Every problem carries a stable snake_case `code` that clients can switch on.
//! 5xx bodies say nothing internal: the cause goes to the log instead.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub mod responses;

/// The media type of every error body.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// One field of the request that was not acceptable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field (query parameter, path segment or body property) at fault.
    #[schema(example = "limit", max_length = 128)]
    pub field: String,
    /// What is wrong with it, for people.
    #[schema(example = "must be between 1 and 100", max_length = 256)]
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The named resource does not exist (or is not visible to this reader).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No route has this path.
    #[error("no route matches this path")]
    RouteNotFound,
    /// The path exists, but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed(Vec<Method>),
    /// Some inputs were not acceptable; each is listed.
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    /// A pagination cursor that this API did not issue.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The body could not be read as the documented JSON.
    #[error("malformed body: {0}")]
    MalformedBody(String),
    /// The body did not arrive within `BODY_TIMEOUT_MS`.
    #[error("the body arrived too slowly")]
    BodyTimeout,
    /// The body is larger than the limit.
    #[error("the body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The request's headers together are larger than the limit.
    #[error("the headers are larger than {0} bytes")]
    HeadersTooLarge(usize),
    /// The body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// No credentials were sent where they are needed.
    #[error("authentication required")]
    Unauthenticated,
    /// Credentials were sent but are not valid (bad, expired or revoked token).
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// Email and password do not match an account.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The account exists but has been disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// Authenticated, but this role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The request conflicts with the current state; the code says how.
    #[error("conflict: {1}")]
    Conflict(ConflictCode, String),
    /// The request is well-formed but cannot be processed as sent; the code says why.
    #[error("unprocessable: {1}")]
    Unprocessable(ConflictCode, String),
    /// An `X-API-Key` that is unknown, malformed or revoked.
    #[error("invalid API key")]
    InvalidApiKey,
    /// A webhook whose signature is missing, malformed, stale or wrong.
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// `If-Match` named a representation that is no longer current.
    #[error("precondition failed")]
    PreconditionFailed,
    /// Too many attempts; retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// Too much work of one kind is queued (password hashing); retry shortly.
    #[error("overloaded")]
    Overloaded,
    /// A search ran past its deadline.
    #[error("search timed out")]
    SearchTimeout,
    /// A dependency (the database) is unreachable or overloaded; retry later.
    #[error("service unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// A bug or an unexpected failure; the cause (with its sources) is for the log only.
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
}

/// The body of every error response (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "about:blank",
    "title": "Bad Request",
    "status": 400,
    "detail": "The request has invalid fields.",
    "code": "validation_failed",
    "errors": [{"field": "limit", "message": "must be between 1 and 100"}]
}))]
pub struct Problem {
    /// Always `about:blank`: the `code` identifies the problem.
    #[serde(rename = "type")]
    #[schema(example = "about:blank", max_length = 64)]
    pub problem_type: &'static str,
    /// The HTTP status phrase.
    #[schema(example = "Not Found", max_length = 64)]
    pub title: &'static str,
    /// The HTTP status code.
    #[schema(example = 404, minimum = 400, maximum = 599)]
    pub status: u16,
    /// What happened, for people.
    #[schema(example = "No article has this slug.", max_length = 1024)]
    pub detail: String,
    /// A stable machine-readable code: one of those listed.
    #[schema(schema_with = code_schema)]
    pub code: &'static str,
    /// The fields at fault, for `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 64)]
    pub errors: Option<Vec<FieldError>>,
}

/// The schema of `Problem.code`: every code a problem can carry, so that
/// clients (and generated SDKs) can switch on them.
#[expect(
    deprecated,
    reason = "`example`, as every other property of the document has it, for OpenAPI 3.0 tools"
)]
fn code_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("A stable machine-readable code: one of those listed."))
        .enum_values(Some(ApiError::codes()))
        .example(Some("not_found".into()))
        .max_length(Some(64))
        .build()
}

impl ApiError {
    /// Every `code` a problem can carry, in the order of the variants, then
    /// the conflict codes.
    pub(crate) fn codes() -> Vec<&'static str> {
        let conflicts = ConflictCode::ALL.map(ConflictCode::as_str);
        Self::one_of_each()
            .iter()
            .map(Self::code)
            .chain(conflicts)
            .collect()
    }

    /// One error of every variant, in their order (a test holds the list
    /// to the enum).
    fn one_of_each() -> [Self; 23] {
        [
            Self::NotFound("article"),
            Self::RouteNotFound,
            Self::MethodNotAllowed(Vec::new()),
            Self::Validation(Vec::new()),
            Self::InvalidCursor,
            Self::MalformedBody(String::new()),
            Self::BodyTimeout,
            Self::PayloadTooLarge(0),
            Self::HeadersTooLarge(0),
            Self::UnsupportedMediaType,
            Self::Unauthenticated,
            Self::InvalidToken(String::new()),
            Self::InvalidCredentials,
            Self::AccountDisabled,
            Self::Forbidden,
            Self::InvalidApiKey,
            Self::InvalidSignature(String::new()),
            Self::PreconditionFailed,
            Self::TooManyRequests(0),
            Self::Overloaded,
            Self::SearchTimeout,
            Self::Unavailable("".into()),
            Self::Internal("".into()),
        ]
    }

    /// A single invalid field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Validation(_) => "validation_failed",
            Self::InvalidCursor => "invalid_cursor",
            Self::MalformedBody(_) => "malformed_body",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::BodyTimeout => "body_timeout",
            Self::HeadersTooLarge(_) => "headers_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidToken(_) => "invalid_token",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccountDisabled => "account_disabled",
            Self::Forbidden => "forbidden",
            Self::Conflict(code, _) | Self::Unprocessable(code, _) => code.as_str(),
            Self::InvalidSignature(_) => "invalid_signature",
            Self::InvalidApiKey => "invalid_api_key",
            Self::TooManyRequests(_) => "too_many_requests",
            Self::PreconditionFailed => "precondition_failed",
            Self::SearchTimeout => "search_timeout",
            Self::Overloaded => "overloaded",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::NotFound(what) => format!("No {what} matches this request."),
            Self::RouteNotFound => "No endpoint has this path; see /api/v1/openapi.json.".into(),
            Self::MethodNotAllowed(allowed) => format!(
                "This endpoint does not accept this method; it accepts {}.",
                method_list(allowed)
            ),
            Self::Validation(errors) if errors.len() == 1 => {
                format!("Invalid `{}`: {}.", errors[0].field, errors[0].message)
            }
            Self::Validation(_) => "The request has invalid fields; each is listed.".into(),
            Self::InvalidCursor => {
                "The cursor is not one this list issued; start again without it.".into()
            }
            Self::MalformedBody(why) => format!("The body could not be read: {why}."),
            Self::PayloadTooLarge(limit) => format!("The body is larger than {limit} bytes."),
            Self::BodyTimeout => "The request body did not arrive in time.".into(),
            Self::HeadersTooLarge(limit) => {
                format!("The request's headers are larger than {limit} bytes in all.")
            }
            Self::UnsupportedMediaType => "Send the body as application/json.".into(),
            Self::Unauthenticated => {
                "This endpoint needs `Authorization: Bearer <access token>`.".into()
            }
            Self::InvalidToken(_) => {
                "The token is invalid, expired or revoked; log in or refresh.".into()
            }
            Self::InvalidCredentials => "The email or the password is wrong.".into(),
            Self::AccountDisabled => "This account has been disabled.".into(),
            Self::Forbidden => "Your role does not allow this.".into(),
            Self::Conflict(_, detail) | Self::Unprocessable(_, detail) => detail.clone(),
            Self::InvalidSignature(why) => format!("The webhook signature was refused: {why}."),
            Self::InvalidApiKey => "The X-API-Key is unknown or revoked; ask for a new key.".into(),
            Self::TooManyRequests(secs) => {
                format!("Too many attempts; retry in {secs} seconds.")
            }
            Self::PreconditionFailed => {
                "Someone changed this since your copy (If-Match); fetch it again and reapply."
                    .into()
            }
            Self::SearchTimeout => {
                "The search took too long; use fewer words or longer prefixes.".into()
            }
            Self::Overloaded => {
                "Too many sign-ins are being checked right now; retry shortly.".into()
            }
            Self::Unavailable(_) => {
                "The service cannot reach its database right now; retry shortly.".into()
            }
            Self::Internal(_) => "Something went wrong on our side; it has been logged.".into(),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            problem_type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code(),
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

/// Why a request clashes with what exists: the `code` of a 409 (and of
/// the one 422), for clients to switch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictCode {
    /// Another article, topic, author or source has this slug.
    SlugTaken,
    /// Another plan has this code.
    CodeTaken,
    /// An account with this email exists.
    EmailTaken,
    /// Articles still use the entry to delete.
    InUse,
    /// An admin tried to demote or disable themselves.
    SelfLockout,
    /// The reader already has a live subscription.
    SubscriptionExists,
    /// The subscription is in no state to cancel.
    SubscriptionNotCancelable,
    /// The subscription is in no state to resume.
    SubscriptionNotResumable,
    /// An `Idempotency-Key` came back with another request (422).
    IdempotencyKeyReused,
}

impl ConflictCode {
    /// Every code.
    pub const ALL: [Self; 9] = [
        Self::SlugTaken,
        Self::CodeTaken,
        Self::EmailTaken,
        Self::InUse,
        Self::SelfLockout,
        Self::SubscriptionExists,
        Self::SubscriptionNotCancelable,
        Self::SubscriptionNotResumable,
        Self::IdempotencyKeyReused,
    ];

    /// The code as problems carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SlugTaken => "slug_taken",
            Self::CodeTaken => "code_taken",
            Self::EmailTaken => "email_taken",
            Self::InUse => "in_use",
            Self::SelfLockout => "self_lockout",
            Self::SubscriptionExists => "subscription_exists",
            Self::SubscriptionNotCancelable => "subscription_not_cancelable",
            Self::SubscriptionNotResumable => "subscription_not_resumable",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
        }
    }
}

/// What a 5xx was caused by: any error, kept whole so that the log shows
/// its chain of sources (strings convert too, for causes with no error).
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error and each of its sources, outermost first, joined by `: `.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn method_list(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Validation(_) | Self::InvalidCursor | Self::MalformedBody(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthenticated
            | Self::InvalidToken(_)
            | Self::InvalidCredentials
            | Self::InvalidSignature(_)
            | Self::InvalidApiKey => StatusCode::UNAUTHORIZED,
            Self::Unprocessable(..) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::AccountDisabled | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Conflict(..) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Unavailable(_) | Self::SearchTimeout | Self::Overloaded => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => {
                tracing::error!(cause = %chain(cause.as_ref()), "request failed");
            }
            Self::Unavailable(cause) => {
                tracing::warn!(cause = %chain(cause.as_ref()), "dependency unavailable");
            }
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response
            .content_type(PROBLEM_JSON)
            .insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::MethodNotAllowed(allowed) => {
                response.insert_header((header::ALLOW, method_list(allowed)));
            }
            Self::BodyTimeout => {
                response.insert_header((header::CONNECTION, "close"));
            }
            Self::Unavailable(_) | Self::SearchTimeout | Self::Overloaded => {
                response.insert_header((header::RETRY_AFTER, "2"));
            }
            Self::TooManyRequests(secs) => {
                response.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            Self::Unauthenticated => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::InvalidToken(cause) => {
                tracing::info!(%cause, "token refused");
                response
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<getrandom::Error> for ApiError {
    fn from(err: getrandom::Error) -> Self {
        Self::Internal(format!("the system's randomness failed: {err}").into())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        Self::Internal("the blocking thread pool is gone".into())
    }
}

/// Turns actix's own JSON body rejections into problems.
pub(crate) fn payload_problem(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::OverflowKnownLength { limit, .. } | E::Overflow { limit } => {
            ApiError::PayloadTooLarge(limit)
        }
        E::ContentType => ApiError::UnsupportedMediaType,
        E::Deserialize(e) => ApiError::MalformedBody(e.to_string()),
        E::Payload(e) if is_body_timeout(&e) => ApiError::BodyTimeout,
        other => ApiError::MalformedBody(other.to_string()),
    }
}

/// Whether reading a body failed because it missed its deadline.
pub(crate) fn is_body_timeout(error: &actix_web::error::PayloadError) -> bool {
    matches!(error, actix_web::error::PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
}

/// Turns actix's own path rejections into problems.
pub(crate) fn path_error(
    err: actix_web::error::PathError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::field("path", err.to_string()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn problems_are_problem_json_with_a_stable_code() {
        let response = ApiError::field("limit", "must be between 1 and 100").error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        let body = to_bytes(response.into_body()).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "validation_failed");
        assert_eq!(json["status"], 400);
        assert_eq!(json["errors"][0]["field"], "limit");
    }

    #[actix_web::test]
    async fn server_errors_reveal_nothing_internal() {
        let response =
            ApiError::Internal("relation \"secret_table\" does not exist".into()).error_response();
        let body = to_bytes(response.into_body()).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("secret_table"), "{text}");
    }

    #[test]
    fn a_logged_cause_keeps_its_sources() {
        #[derive(Debug, thiserror::Error)]
        #[error("the ledger write failed")]
        struct Outer(#[source] std::io::Error);
        let error = ApiError::Internal(Box::new(Outer(std::io::Error::other("disk full"))));
        let ApiError::Internal(cause) = &error else {
            panic!("built as Internal");
        };
        assert_eq!(chain(cause.as_ref()), "the ledger write failed: disk full");
        assert!(std::error::Error::source(&error).is_some());
        assert_eq!(
            error.problem().detail,
            ApiError::Internal("x".into()).detail()
        );
    }

    #[test]
    fn every_code_is_listed_once() {
        let codes = ApiError::codes();
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len(), "{codes:?}");
        assert!(codes.contains(&"slug_taken") && codes.contains(&"internal_error"));
        assert!(codes.iter().all(|c| c.len() <= 64 && !c.is_empty()));
    }

    #[test]
    fn the_code_list_holds_one_error_of_every_variant() {
        // A new variant breaks this match: add it to `one_of_each` as well.
        let order: Vec<usize> = ApiError::one_of_each()
            .iter()
            .map(|error| match error {
                ApiError::NotFound(_) => 0,
                ApiError::RouteNotFound => 1,
                ApiError::MethodNotAllowed(_) => 2,
                ApiError::Validation(_) => 3,
                ApiError::InvalidCursor => 4,
                ApiError::MalformedBody(_) => 5,
                ApiError::BodyTimeout => 6,
                ApiError::PayloadTooLarge(_) => 7,
                ApiError::HeadersTooLarge(_) => 8,
                ApiError::UnsupportedMediaType => 9,
                ApiError::Unauthenticated => 10,
                ApiError::InvalidToken(_) => 11,
                ApiError::InvalidCredentials => 12,
                ApiError::AccountDisabled => 13,
                ApiError::Forbidden => 14,
                ApiError::InvalidApiKey => 15,
                ApiError::InvalidSignature(_) => 16,
                ApiError::PreconditionFailed => 17,
                ApiError::TooManyRequests(_) => 18,
                ApiError::Overloaded => 19,
                ApiError::SearchTimeout => 20,
                ApiError::Unavailable(_) => 21,
                ApiError::Internal(_) => 22,
                ApiError::Conflict(..) | ApiError::Unprocessable(..) => usize::MAX,
            })
            .collect();
        assert_eq!(order, (0..23).collect::<Vec<_>>());
    }
}
