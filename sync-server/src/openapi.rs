//! The OpenAPI 3.1 description served at `/openapi.json`. Written by hand, so it lists exactly the
//! routes `http::app` mounts; a test requests every path listed here and fails on a 404.

use serde_json::{Value, json};

use crate::config::Config;

pub fn document(config: &Config) -> Value {
    let error_response = |description: &str| {
        json!({
            "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
        })
    };
    let servers: Vec<Value> = config.public_url.iter().map(|url| json!({ "url": url })).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Mingizuk sync server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Accounts, document sync and chat for Mingizuk. Every error is {\"error\":{\"code\",\"message\"}}."
        },
        "servers": servers,
        "paths": {
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "summary": "Liveness and database reachability",
                    "responses": {
                        "200": {
                            "description": "The server and its database answer",
                            "content": { "application/json": { "schema": {
                                "type": "object",
                                "required": ["status"],
                                "properties": { "status": { "const": "ok" } }
                            } } }
                        },
                        "503": error_response("The database does not answer")
                    }
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": { "description": "OpenAPI 3.1 document", "content": { "application/json": {} } }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": { "type": "string", "pattern": "^[a-z][a-z0-9_]*$" },
                                "message": { "type": "string" }
                            }
                        }
                    }
                }
            }
        }
    })
}
