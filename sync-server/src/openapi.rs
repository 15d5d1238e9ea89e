//! The OpenAPI 3.1 description served at `/openapi.json`. Written by hand, so it lists exactly the
//! routes `http::app` mounts; a test requests every path listed here and fails on a 404.

use serde_json::{Map, Value, json};

mod chat;
mod media;
mod meetups;
mod social;
mod sync;

use crate::config::Config;

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// A WebSocket endpoint's `GET`: opened with a bearer header or a `?ticket=`, refused in the
/// API's error format before the upgrade.
fn websocket_operation(operation_id: &str, summary: &str) -> Value {
    json!({
        "operationId": operation_id,
        "summary": summary,
        "security": [{ "bearer": [] }, { "ticket": [] }],
        "parameters": [{
            "name": "ticket", "in": "query", "required": false,
            "description": "A ticket from POST /v1/ws-ticket, instead of the Authorization header",
            "schema": { "type": "string" }
        }],
        "responses": {
            "101": { "description": "Switching to the WebSocket protocol" },
            "401": error_response("unauthenticated, token_expired, invalid_token or invalid_ticket"),
            "403": error_response("origin_not_allowed"),
            "426": error_response("upgrade_required: not a WebSocket upgrade request"),
            "429": error_response(&format!(
                "too_many_connections: the account holds {} of this endpoint open on this instance",
                crate::sync::MAX_CONNECTIONS_PER_ACCOUNT
            ))
        }
    })
}

/// The account routes (`auth::router`).
fn account_paths() -> Map<String, Value> {
    let session = || json_response("Signed in", json!({ "$ref": "#/components/schemas/Session" }));
    let user = || json_response("The account", json!({ "$ref": "#/components/schemas/User" }));
    let refresh_body = || {
        json_body(json!({
            "type": "object", "required": ["refresh_token"],
            "properties": { "refresh_token": { "type": "string" } }
        }))
    };
    let bearer = json!([{ "bearer": [] }]);
    let unauthorized = || error_response("unauthenticated, token_expired or invalid_token");
    let paths = json!({
        "/v1/auth/signup": { "post": {
            "operationId": "signUp",
            "summary": "Create a local account and sign in",
            "requestBody": json_body(json!({
                "type": "object", "required": ["email", "password", "nickname"],
                "properties": {
                    "email": { "type": "string", "maxLength": mingizuk_core::limits::EMAIL_MAX_CHARS },
                    "password": {
                        "type": "string",
                        "minLength": mingizuk_core::limits::PASSWORD_MIN_CHARS,
                        "maxLength": mingizuk_core::limits::PASSWORD_MAX_CHARS
                    },
                    "nickname": {
                        "type": "string", "minLength": 1, "maxLength": mingizuk_core::limits::NICKNAME_MAX_CHARS
                    }
                }
            })),
            "responses": {
                "201": session(),
                "400": error_response(
                    "invalid_email, password_too_short, password_too_long, password_too_common or invalid_nickname"
                ),
                "409": error_response("email_taken or nickname_taken")
            }
        } },
        "/v1/auth/login": { "post": {
            "operationId": "logIn",
            "summary": "Sign in with email and password; restores an account deleted less than 30 days ago",
            "requestBody": json_body(json!({
                "type": "object", "required": ["email", "password"],
                "properties": { "email": { "type": "string" }, "password": { "type": "string" } }
            })),
            "responses": {
                "200": session(),
                "401": error_response("invalid_credentials"),
                "429": error_response("too_many_attempts")
            }
        } },
        "/v1/auth/refresh": { "post": {
            "operationId": "refresh",
            "summary": "Trade a refresh token for a new pair; the old one is spent",
            "requestBody": refresh_body(),
            "responses": {
                "200": session(),
                "401": error_response("invalid_token, token_expired, or refresh_token_reused (the login is revoked)")
            }
        } },
        "/v1/auth/logout": { "post": {
            "operationId": "logOut",
            "summary": "Revoke the login a refresh token belongs to",
            "requestBody": refresh_body(),
            "responses": { "204": { "description": "Signed out" } }
        } },
        "/v1/me": {
            "get": {
                "operationId": "me",
                "summary": "The signed-in account, with the root id its synced documents are named after",
                "security": bearer,
                "responses": {
                    "200": json_response("The account", json!({
                        "allOf": [
                            { "$ref": "#/components/schemas/User" },
                            {
                                "type": "object", "required": ["account_root"],
                                "properties": { "account_root": { "type": "string", "format": "uuid" } }
                            }
                        ]
                    })),
                    "401": unauthorized()
                }
            },
            "patch": {
                "operationId": "changeProfile",
                "summary": "Change the nickname, or the password (with the current one)",
                "security": bearer,
                "requestBody": json_body(json!({
                    "type": "object",
                    "properties": {
                        "nickname": { "type": "string" },
                        "password": { "type": "string" },
                        "current_password": { "type": "string" }
                    }
                })),
                "responses": {
                    "200": user(),
                    "400": error_response("nothing_to_change, current_password_required or a rule of sign-up"),
                    "401": unauthorized(),
                    "403": error_response("wrong_current_password"),
                    "409": error_response("nickname_taken"),
                    "429": error_response("too_many_attempts")
                }
            },
            "delete": {
                "operationId": "deleteAccount",
                "summary": "Delete the account (restorable by signing in within 30 days); revokes every login",
                "security": bearer,
                "responses": { "204": { "description": "Deleted" }, "401": unauthorized() }
            }
        }
    });
    match paths {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub fn document(config: &Config) -> Value {
    let servers: Vec<Value> = config.public_url.iter().map(|url| json!({ "url": url })).collect();
    let mut document = json!({
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
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
                "ticket": { "type": "apiKey", "in": "query", "name": "ticket" }
            },
            "schemas": {
                "User": {
                    "type": "object",
                    "required": ["id", "email", "nickname", "provider", "created_at"],
                    "properties": {
                        "id": { "type": "string", "format": "uuid" },
                        "email": { "type": "string" },
                        "nickname": { "type": "string" },
                        "provider": { "enum": ["local", "google", "kakao", "naver", "social"] },
                        "created_at": { "type": "string", "format": "date-time" }
                    }
                },
                "Session": {
                    "type": "object",
                    "required": ["user", "access_token", "refresh_token", "token_type", "expires_in"],
                    "properties": {
                        "user": { "$ref": "#/components/schemas/User" },
                        "access_token": { "type": "string", "description": "HS256 JWT, valid expires_in seconds" },
                        "refresh_token": { "type": "string", "description": "Opaque, single use, valid 14 days" },
                        "token_type": { "const": "Bearer" },
                        "expires_in": { "type": "integer" }
                    }
                },
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
    });
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        paths.extend(account_paths());
        paths.extend(social::paths());
        paths.extend(sync::paths());
        paths.extend(meetups::paths());
        paths.extend(chat::paths());
        paths.extend(media::paths());
        media::mark_idempotent_writes(paths);
    }
    if let Some(components) = document.get_mut("components").and_then(Value::as_object_mut) {
        components.insert("parameters".into(), json!({ "IdempotencyKey": media::idempotency_key_parameter() }));
        if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
            schemas.insert("Place".into(), media::place_schema());
            schemas.extend(meetups::schemas());
        }
    }
    document
}
