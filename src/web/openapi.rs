//! The API's OpenAPI 3.0 description, served at `/audit/api/openapi.json`.

use http::{Response, StatusCode};
use serde_json::{json, Value};

use super::{full, Body};

fn filter_params() -> Vec<Value> {
    let p = |name: &str, desc: &str| {
        json!({"name": name, "in": "query", "required": false,
               "description": desc, "schema": {"type": "string"}})
    };
    vec![
        p(
            "from",
            "Received at or after: a date (2026-11-26) or an RFC 3339 time.",
        ),
        p(
            "to",
            "Received before: an RFC 3339 time, or a date (that whole day included).",
        ),
        p("consumer", "Consumer agency code (e.g. 000.00.21.H38)."),
        p("provider", "Provider agency code."),
        p("agency", "Consumer or provider agency code."),
        p("service", "Service name (e.g. ho-tich)."),
        p("operation", "Operation name."),
        json!({"name": "outcome", "in": "query", "required": false,
               "schema": {"type": "string", "enum": ["accepted", "rejected", "failed"]}}),
        p(
            "fault",
            "Fault code as SOAP 1.1 spells it (e.g. wsse:FailedCheck).",
        ),
        p("node", "Gateway node id."),
        p(
            "q",
            "Text contained in the exchange id or the consumer certificate fingerprint.",
        ),
    ]
}

pub fn document() -> Value {
    let err = json!({"description": "A parameter is malformed; `parameter` names it.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let unauth = json!({"description": "Missing or unknown bearer token, and no listed TLS client certificate."});
    let mut list_params = filter_params();
    list_params.push(json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}}));
    list_params.push(json!({"name": "cursor", "in": "query", "description": "`next_cursor` of the previous page.", "schema": {"type": "string"}}));
    let mut export_params = filter_params();
    export_params.push(json!({"name": "format", "in": "query", "schema": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"}}));
    export_params.push(json!({"name": "messages", "in": "query", "description": "jsonl only: include stored messages.", "schema": {"type": "boolean"}}));
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "lienthong audit API",
            "version": "1",
            "description": "Read-only access to the gateway's tamper-evident exchange log. Every endpoint except this description needs `Authorization: Bearer TOKEN` (tokens configured as SHA-256 in [[audit.auditors]])."
        },
        "servers": [{"url": "/audit/api"}],
        "security": [{"bearer": []}],
        "paths": {
            "/exchanges": {"get": {
                "summary": "Exchanges matching the filters, newest first, one page at a time.",
                "parameters": list_params,
                "responses": {"200": {"description": "A page.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}, "400": err, "401": unauth}
            }},
            "/exchanges/{id}": {"get": {
                "summary": "One exchange: every field, its messages pretty-printed, and its chain status.",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The record(s) with this id (one unless the store was tampered with)."}, "404": {"description": "No such exchange."}, "401": unauth}
            }},
            "/stats": {"get": {
                "summary": "Exchange counts per UTC day and consumer agency.",
                "parameters": filter_params(),
                "responses": {"200": {"description": "Counts."}, "400": err, "401": unauth}
            }},
            "/export": {"get": {
                "summary": "All matching exchanges, oldest first, streamed: one header line, then one record per line.",
                "parameters": export_params,
                "responses": {"200": {"description": "CSV or JSON Lines.", "content": {"text/csv": {}, "application/jsonl": {}}}, "400": err, "401": unauth}
            }},
            "/agencies": {"get": {"summary": "Agency codes and names.", "responses": {"200": {"description": "code -> name"}, "401": unauth}}},
            "/whoami": {"get": {"summary": "The auditor the token belongs to.", "responses": {"200": {"description": "name"}, "401": unauth}}}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"}, "parameter": {"type": "string"}, "reason": {"type": "string"}}},
                "Summary": {"type": "object", "properties": {
                    "node_id": {"type": "string"}, "seq": {"type": "integer"}, "id": {"type": "string"},
                    "received_at": {"type": "string", "description": "UTC"}, "answered_at": {"type": "string", "nullable": true},
                    "consumer": {"type": "string", "nullable": true}, "consumer_name": {"type": "string", "nullable": true},
                    "provider": {"type": "string", "nullable": true}, "provider_name": {"type": "string", "nullable": true},
                    "service": {"type": "string", "nullable": true}, "operation": {"type": "string", "nullable": true},
                    "outcome": {"type": "string"}, "fault_code": {"type": "string", "nullable": true},
                    "http_status": {"type": "integer"}, "ms": {"type": "integer", "nullable": true}}},
                "Page": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Summary"}},
                    "next_cursor": {"type": "string", "nullable": true}}}
            }
        }
    })
}

pub fn response() -> Response<Body> {
    full(StatusCode::OK, "application/json", document().to_string())
}
