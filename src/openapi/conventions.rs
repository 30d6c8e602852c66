//! What holds for every operation because middleware, not a handler, does
//! it: written into the document once here, so no route can forget it.

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Object, Schema, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{OpenApi as OpenApiDoc, Ref, RefOr, Response};

/// The security scheme of operations any signed-in account may call.
pub(crate) const BEARER: &str = "bearer";
/// The security scheme of operations under `/admin`: the same kind of token,
/// but only an admin's is accepted (tests/api/admin.rs tries every lesser role).
pub(crate) const ADMIN_BEARER: &str = "admin_bearer";

/// The longest value each response header can take, and its syntax where
/// that is fixed. Every header a response documents must be listed (a unit
/// test checks), so a client knows how much to expect.
pub(crate) const HEADER_BOUNDS: [(&str, usize, Option<&str>); 15] = [
    // One of CORS_ALLOWED_ORIGINS, echoed.
    ("Access-Control-Allow-Origin", 2048, None),
    ("Cache-Control", 128, None),
    // A quoted base64url digest, weak (`W/`) when the body is compressed.
    ("ETag", 64, Some(r#"^(W/)?"[A-Za-z0-9_-]+"$"#)),
    ("Idempotent-Replayed", 4, Some("^true$")),
    // An IMF-fixdate.
    ("Last-Modified", 29, None),
    // A path and a re-encoded query of at most 2,048 bytes, plus a cursor.
    ("Link", 8192, None),
    // A path of this API.
    ("Location", 256, None),
    ("RateLimit", 128, None),
    ("RateLimit-Policy", 128, None),
    ("Retry-After", 10, Some("^[0-9]+$")),
    // Capped by surrogate::MAX_HEADER.
    ("Surrogate-Key", 8192, None),
    ("Vary", 128, None),
    ("WWW-Authenticate", 256, None),
    ("X-Meter-Token", 100, Some(r"^[A-Za-z0-9_.-]+$")),
    ("X-Request-Id", 64, None),
];

fn operations(doc: &mut OpenApiDoc) -> impl Iterator<Item = (&String, &mut Operation)> {
    doc.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        .map(move |operation| (path, operation))
    })
}

/// Operations that name no security scheme are open to anyone: say so with
/// the empty requirement, so that "no scheme" is never an omission. Those
/// under `/admin` name the admin scheme instead of the general one.
pub(crate) fn declare_security(doc: &mut OpenApiDoc) {
    for (path, operation) in operations(doc) {
        let security = operation.security.get_or_insert_with(Vec::new);
        if security.is_empty() {
            security.push(SecurityRequirement::default());
        }
        if path.starts_with("/api/v1/admin/") {
            *security = vec![SecurityRequirement::new(ADMIN_BEARER, Vec::<String>::new())];
        }
    }
}

/// Every operation, operational ones included, can meet the request
/// limits: 429 when a client is over its allowance, 401 when an `X-API-Key`
/// is unknown or revoked. Operations that document their own 401 or 429
/// keep them.
pub(crate) fn add_limit_responses(doc: &mut OpenApiDoc) {
    for (_, operation) in operations(doc) {
        refer_unless_documented(
            operation,
            [("401", "InvalidApiKey"), ("429", "TooManyRequests")],
        );
    }
}

/// Adds each (status, component response) the operation does not document itself.
fn refer_unless_documented(operation: &mut Operation, responses: [(&str, &str); 2]) {
    for (status, name) in responses {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
}

/// What any operation can answer whatever it does: 431 when the request's
/// headers are over `config::MAX_HEADER_BYTES`, and 500 `internal_error` when
/// something fails on our side (logged with the request id, never with the
/// cause in the body).
pub(crate) fn add_server_wide_errors(doc: &mut OpenApiDoc) {
    for (_, operation) in operations(doc) {
        refer_unless_documented(
            operation,
            [("431", "HeadersTooLarge"), ("500", "InternalError")],
        );
    }
}

fn string_header(description: &str) -> RefOr<Header> {
    RefOr::T(
        HeaderBuilder::new()
            .schema(Some(Schema::Object(Object::with_type(Type::String))))
            .description(Some(description))
            .build(),
    )
}

fn add_common_headers(response: &mut Response, counted: bool) {
    let headers = &mut response.headers;
    headers
        .entry("Access-Control-Allow-Origin".to_owned())
        .or_insert_with(|| {
            string_header(
                "The request's `Origin`, when it is one of the configured origins \
             (`CORS_ALLOWED_ORIGINS`); absent otherwise.",
            )
        });
    if counted {
        headers
            .entry("RateLimit-Policy".to_owned())
            .or_insert_with(|| {
                string_header(
                    "The allowance counting this request, when one does: `\"per-key\"` for an \
                 `X-API-Key`, `\"per-address\"` for a request without credentials when \
                 `RATE_LIMIT_ANONYMOUS_PER_MINUTE` is set; e.g. `\"per-key\";q=600;w=60`.",
                )
            });
        headers.entry("RateLimit".to_owned()).or_insert_with(|| {
            string_header(
                "What remains of that allowance and the seconds until it resets, \
                 e.g. `\"per-key\";r=598;t=42`.",
            )
        });
    }
}

/// CORS and rate-limit headers are added by middleware to every answer
/// (every path is counted); document them on each response.
pub(crate) fn add_common_headers_everywhere(doc: &mut OpenApiDoc) {
    for (_, operation) in operations(doc) {
        for (status, response) in operation.responses.responses.iter_mut() {
            if let RefOr::T(response) = response {
                let counted = status.starts_with('2') || status.starts_with('4');
                add_common_headers(response, counted);
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        for response in components.responses.values_mut() {
            if let RefOr::T(response) = response {
                add_common_headers(response, true);
            }
        }
    }
}

fn bound(header: &mut RefOr<Header>, name: &str) {
    let RefOr::T(header) = header else { return };
    let Some((_, max, pattern)) = HEADER_BOUNDS.iter().find(|(known, ..)| *known == name) else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(schema))) = &mut header.schema {
        schema.max_length = Some(*max);
        if let Some(pattern) = pattern {
            schema.pattern = Some((*pattern).to_owned());
        }
    }
}

/// Gives every documented response header its bound from [`HEADER_BOUNDS`].
pub(crate) fn bound_headers(doc: &mut OpenApiDoc) {
    let bound_all = |response: &mut RefOr<Response>| {
        if let RefOr::T(response) = response {
            for (name, header) in response.headers.iter_mut() {
                bound(header, name);
            }
        }
    };
    for (_, operation) in operations(doc) {
        operation
            .responses
            .responses
            .values_mut()
            .for_each(bound_all);
    }
    if let Some(components) = doc.components.as_mut() {
        components.responses.values_mut().for_each(bound_all);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::HEADER_BOUNDS;
    use crate::openapi::openapi;

    fn responses(doc: &Value) -> Vec<(String, &Value)> {
        let mut found = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                    found.push((format!("{method} {path} {status}"), response));
                }
            }
        }
        for (name, response) in doc["components"]["responses"]
            .as_object()
            .into_iter()
            .flatten()
        {
            found.push((name.clone(), response));
        }
        found
    }

    #[test]
    fn every_documented_response_header_has_a_bound() {
        let doc = serde_json::to_value(openapi()).unwrap();
        let mut seen = 0;
        for (at, response) in responses(&doc) {
            for (name, header) in response["headers"].as_object().into_iter().flatten() {
                let bound = HEADER_BOUNDS.iter().find(|(known, ..)| known == name);
                let (_, max, _) =
                    bound.unwrap_or_else(|| panic!("{at}: {name} is not in HEADER_BOUNDS"));
                assert_eq!(header["schema"]["maxLength"], *max, "{at}: {name}");
                seen += 1;
            }
        }
        assert!(seen > 200, "only {seen} headers documented");
    }

    #[test]
    fn every_operation_states_who_may_call_it_and_can_fail_with_500() {
        let doc = serde_json::to_value(openapi()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let security = operation["security"].as_array();
                assert!(security.is_some_and(|s| !s.is_empty()), "{method} {path}");
                assert!(
                    operation["responses"].get("500").is_some(),
                    "{method} {path}"
                );
                if path.starts_with("/api/v1/admin/") {
                    assert_eq!(
                        operation["security"],
                        serde_json::json!([{"admin_bearer": []}])
                    );
                }
            }
        }
    }

    #[test]
    fn every_counted_answer_documents_the_rate_limit_and_cors_headers() {
        let doc = serde_json::to_value(openapi()).unwrap();
        for (at, response) in responses(&doc) {
            let headers = &response["headers"];
            if response.get("$ref").is_some() {
                continue;
            }
            assert!(headers.get("Access-Control-Allow-Origin").is_some(), "{at}");
            let status = at.rsplit(' ').next().unwrap_or_default();
            let counted = status.starts_with('2') || status.starts_with('4');
            if counted {
                assert!(headers.get("RateLimit").is_some(), "{at}");
                assert!(headers.get("RateLimit-Policy").is_some(), "{at}");
            }
        }
    }
}
