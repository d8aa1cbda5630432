//! Completes the generated OpenAPI document with what every route shares, so that the per-route
//! annotations say only what is particular to them and the document stays true as routes are added:
//! - operation ids are prefixed with the route's tag (`telecomx_list_sims`, `emnify_list_sims`) and
//!   a handler serving two methods gets one id per method;
//! - the answers any route may give: 401 on secured routes, 400/413/415 where a body is read, 503
//!   whenever the database is involved, and every error answer's body in its dialect's envelope.
use crate::api::envelope::Dialect;
use serde_json::{json, Map, Value};
use utoipa::{PartialSchema, ToSchema};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Routes that never touch the database (and so never answer 503 for it).
const NO_DATABASE: [&str; 3] = ["/healthz", "/metrics", "/version"];

pub fn complete(doc: &mut Value) {
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut);
    if let Some(schemas) = schemas {
        schemas.insert("TelecomXError".into(), telecomx_error());
        schemas.insert("EmnifyError".into(), emnify_error());
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let dialect = Dialect::for_path(path);
        let shared_id = shared_operation_ids(item);
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            name_operation(op, method, shared_id.contains(&method));
            add_shared_answers(op, path, dialect);
        }
    }
}

/// The methods of a path item whose operations share one id (one handler for GET and POST).
fn shared_operation_ids(item: &Value) -> Vec<&'static str> {
    let ids: Vec<(&str, &str)> = METHODS
        .iter()
        .filter_map(|m| Some((*m, item.get(*m)?.get("operationId")?.as_str()?)))
        .collect();
    ids.iter()
        .filter(|(_, id)| ids.iter().filter(|(_, other)| other == id).count() > 1)
        .map(|(m, _)| *m)
        .collect()
}

fn name_operation(op: &mut Map<String, Value>, method: &str, shared: bool) {
    let tag = op
        .get("tags")
        .and_then(|t| t.get(0))
        .and_then(Value::as_str)
        .unwrap_or("simgate")
        .to_string();
    if let Some(id) = op.get("operationId").and_then(Value::as_str) {
        let mut named = format!("{tag}_{id}");
        if shared {
            named = format!("{named}_{method}");
        }
        op.insert("operationId".into(), named.into());
    }
}

fn add_shared_answers(op: &mut Map<String, Value>, path: &str, dialect: Dialect) {
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|reqs| {
            !reqs.is_empty()
                && reqs
                    .iter()
                    .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        });
    let has_body = op.contains_key("requestBody");
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status)
            .or_insert_with(|| json!({"description": description}));
    };
    if secured {
        add(
            "401",
            "No token, or one that is invalid, expired or revoked (`WWW-Authenticate: Bearer`)",
        );
    }
    if has_body {
        add("400", "The body is not valid JSON");
        add("413", "The body is larger than `http.body_limit_bytes`");
        if dialect == Dialect::TelecomX {
            add("415", "The body's Content-Type is not JSON");
        }
    }
    if !NO_DATABASE.contains(&path) && path != "/readyz" {
        add(
            "503",
            "The database is unavailable or the request ran out of time; retry after `Retry-After`",
        );
    }
    let schema = match dialect {
        Dialect::TelecomX => "#/components/schemas/TelecomXError",
        Dialect::Emnify => "#/components/schemas/EmnifyError",
    };
    for (status, answer) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        let Some(answer) = answer.as_object_mut() else {
            continue;
        };
        if is_error && !answer.contains_key("content") {
            answer.insert(
                "content".into(),
                json!({"application/json": {"schema": {"$ref": schema}}}),
            );
        }
    }
}

/// Every error of the TelecomX routes and the admin API.
#[derive(ToSchema)]
#[schema(example = json!({"error": {"code": "not_found", "message": "SIM not found", "status": 404}}))]
#[allow(dead_code)] // a schema only: the envelope is written by `api::envelope`
struct TelecomXError {
    #[schema(inline)]
    error: TelecomXErrorBody,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct TelecomXErrorBody {
    /// What went wrong, or the field that was refused.
    #[schema(example = "not_found")]
    code: String,
    #[schema(example = "SIM not found")]
    message: String,
    /// The HTTP status again.
    #[schema(example = 404)]
    status: u16,
}

/// Every error of the emnify routes (/api/v1), as emnify answers.
#[derive(ToSchema)]
#[schema(example = json!({"error_code": 1201, "error_token": "NotFound", "message": "SIM not found"}))]
#[allow(dead_code)]
struct EmnifyError {
    #[schema(example = 1403)]
    error_code: i64,
    #[schema(example = "InvalidFormat")]
    error_token: String,
    #[schema(example = "status - unknown status")]
    message: String,
    /// Validation failures (error_code 1400), one per field.
    #[schema(inline)]
    errors: Option<Vec<EmnifyErrorEntry>>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct EmnifyErrorEntry {
    error_code: i64,
    error_token: String,
    message: String,
}

fn telecomx_error() -> Value {
    serde_json::to_value(<TelecomXError as PartialSchema>::schema()).expect("a schema serializes")
}

fn emnify_error() -> Value {
    serde_json::to_value(<EmnifyError as PartialSchema>::schema()).expect("a schema serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_get_their_tag_and_shared_handlers_one_id_per_method() {
        let mut doc = json!({"components": {"schemas": {}}, "paths": {
            "/sim/{icc}/assign": {
                "get": {"tags": ["telecomx"], "operationId": "assign_sim", "security": [{"bearer": []}], "responses": {"200": {"description": "ok"}}},
                "post": {"tags": ["telecomx"], "operationId": "assign_sim", "security": [{"bearer": []}], "requestBody": {}, "responses": {"404": {"description": "nf"}}}
            },
            "/api/v1/sim": {"get": {"tags": ["emnify"], "operationId": "list_sims", "security": [{"bearer": []}], "responses": {}}},
            "/healthz": {"get": {"tags": ["ops"], "operationId": "healthz", "responses": {}}},
            "/auth/validateToken": {"get": {"tags": ["telecomx"], "operationId": "validate_token", "security": [{}, {"bearer": []}], "responses": {}}}
        }});
        complete(&mut doc);
        let p = &doc["paths"];
        assert_eq!(
            p["/sim/{icc}/assign"]["get"]["operationId"],
            "telecomx_assign_sim_get"
        );
        assert_eq!(
            p["/sim/{icc}/assign"]["post"]["operationId"],
            "telecomx_assign_sim_post"
        );
        assert_eq!(p["/api/v1/sim"]["get"]["operationId"], "emnify_list_sims");
        let post = &p["/sim/{icc}/assign"]["post"]["responses"];
        for status in ["400", "401", "404", "413", "415", "503"] {
            assert_eq!(
                post[status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/TelecomXError",
                "{status}"
            );
        }
        let emnify = &p["/api/v1/sim"]["get"]["responses"];
        assert_eq!(
            emnify["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/EmnifyError"
        );
        assert!(emnify.get("415").is_none());
        assert!(p["/healthz"]["get"]["responses"].get("503").is_none());
        assert!(p["/healthz"]["get"]["responses"].get("401").is_none());
        // Optional authentication is not "secured".
        assert!(p["/auth/validateToken"]["get"]["responses"]
            .get("401")
            .is_none());
        assert!(doc["components"]["schemas"]["EmnifyError"]["properties"]["errors"].is_object());
    }
}
