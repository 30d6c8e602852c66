//! What the OpenAPI document promises about who may call what, checked
//! against the running server for every operation it lists, so a route
//! added tomorrow is covered without anyone remembering to.

use awc::http::Method;
use newsdesk::domain::account::Role;
use serde_json::Value;

use crate::harness::TestApp;

/// A documented operation, with its path made concrete.
struct Operation {
    method: Method,
    path: String,
    security: Value,
    tag: String,
    /// The documented example of its JSON body, if it takes one.
    example: Option<Value>,
}

impl Operation {
    fn is_public(&self) -> bool {
        let requirements = self.security.as_array().into_iter().flatten();
        requirements
            .clone()
            .any(|r| r.as_object().is_some_and(|r| r.is_empty()))
    }

    fn needs(&self, scheme: &str) -> bool {
        let mut requirements = self.security.as_array().into_iter().flatten();
        requirements.any(|r| r.get(scheme).is_some())
    }

    /// An editor may, a reader may not: the newsroom, and changes to
    /// topics, authors and sources.
    fn is_editorial(&self) -> bool {
        let catalogue = ["topics", "authors", "sources"].contains(&self.tag.as_str());
        self.tag == "newsroom" || (catalogue && self.method != Method::GET)
    }
}

fn concrete(path: &str) -> String {
    path.replace("{slug}", "no-such-thing")
        .replace("{id}", "987654")
        .replace("{code}", "no-such-plan")
}

fn example(doc: &Value, operation: &Value) -> Option<Value> {
    let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
    let reference = schema["$ref"]
        .as_str()
        .or_else(|| schema["oneOf"][0]["$ref"].as_str())?;
    let name = reference.rsplit('/').next()?;
    Some(doc["components"]["schemas"][name]["example"].clone())
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            found.push(Operation {
                method: Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method"),
                path: concrete(path),
                security: operation["security"].clone(),
                tag: operation["tags"][0].as_str().unwrap_or_default().to_owned(),
                example: example(doc, operation),
            });
        }
    }
    found
}

/// Whether a documented path template matches a concrete path.
fn matches(template: &str, path: &str) -> bool {
    let (template, path): (Vec<_>, Vec<_>) =
        (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
}

impl TestApp {
    /// Sends `operation` with its documented example body, if it has one.
    async fn call(
        &self,
        operation: &Operation,
        headers: &[(&str, &str)],
    ) -> crate::harness::TestResponse {
        let Operation {
            method,
            path,
            example,
            ..
        } = operation;
        match example {
            Some(body) => self.json(method.clone(), path, body, headers).await,
            None => self.request(method.clone(), path, headers).await,
        }
    }
}

#[actix_web::test]
async fn every_documented_operation_is_served_and_nothing_else_is() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    let mut checked = 0;
    for operation in operations(&doc) {
        let response = app.call(&operation, &[]).await;
        let Operation { method, path, .. } = &operation;
        let code = if response.status.is_client_error() {
            response.json()["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        } else {
            String::new()
        };
        assert!(
            !["route_not_found", "method_not_allowed"].contains(&code.as_str()),
            "{method} {path} is documented but not served: {code}"
        );
        checked += 1;
    }
    assert!(checked >= 55, "only {checked} operations");

    // No method beyond the documented ones on a documented path (unless
    // another documented template, like `/topics/{slug}`, takes it).
    let paths = doc["paths"].as_object().expect("paths");
    for path in paths.keys() {
        for method in ["get", "post", "put", "patch", "delete"] {
            let taken = paths.iter().any(|(template, item)| {
                item.get(method).is_some() && matches(template, &concrete(path))
            });
            if !taken {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                app.request(method.clone(), &concrete(path), &[])
                    .await
                    .assert_problem(405, "method_not_allowed");
            }
        }
    }
    // Paths people probe for are not there.
    for path in [
        "/admin",
        "/api/v1/admin",
        "/api/v1/users",
        "/api/v1/internal/health",
        "/api/v2/articles",
        "/api/v1/articles/x/body",
        "/.env",
        "/debug/vars",
        "/api/v1/openapi.yaml",
    ] {
        app.get(path).await.assert_problem(404, "route_not_found");
    }
}

#[actix_web::test]
async fn every_protected_operation_refuses_the_anonymous_and_the_lesser_roles() {
    let app = TestApp::spawn().await;
    let reader = app
        .token_with_role("reader@example.com", Role::Reader)
        .await;
    let editor = app
        .token_with_role("editor@example.com", Role::Editor)
        .await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    let mut admin_ops = 0;
    let mut editorial_ops = 0;
    for operation in operations(&doc) {
        if operation.is_public() {
            continue;
        }
        let Operation { method, path, .. } = &operation;
        let anonymous = app.call(&operation, &[]).await;
        assert_eq!(anonymous.status, 401, "{method} {path} without a token");

        let lesser: &[&String] = if operation.needs("admin_bearer") {
            admin_ops += 1;
            &[&reader, &editor]
        } else if operation.is_editorial() {
            editorial_ops += 1;
            &[&reader]
        } else {
            &[]
        };
        for token in lesser {
            let auth = format!("Bearer {token}");
            let response = app.call(&operation, &[("authorization", &auth)]).await;
            assert_eq!(response.status, 403, "{method} {path}: {}", response.text());
        }
    }
    assert!(admin_ops >= 8, "{admin_ops} admin operations");
    assert!(editorial_ops >= 15, "{editorial_ops} editorial operations");
}

#[actix_web::test]
async fn no_secret_or_internal_field_reaches_any_client() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        for field in schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(f, _)| f)
        {
            assert!(
                !field.contains("hash") && !field.contains("salt"),
                "{name}.{field} is documented"
            );
        }
    }
    let admin = app.token_with_role("admin@example.com", Role::Admin).await;
    let key = app
        .json(
            Method::POST,
            "/api/v1/admin/api-keys",
            &serde_json::json!({"name": "Partner", "scopes": ["content:read"]}),
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await;
    assert_eq!(key.status, 201);
    let secret = key.json()["secret"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    for path in [
        "/api/v1/me",
        "/api/v1/admin/users",
        "/api/v1/admin/api-keys",
        "/api/v1/admin/audit",
    ] {
        let body = app.get_as(path, &admin).await.text();
        for leak in ["$argon2", "password", "_hash", "refresh_token", &secret] {
            assert!(!body.contains(leak), "{path} shows {leak}: {body}");
        }
    }
}
