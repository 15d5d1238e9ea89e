//! The OpenAPI description of document sync (`sync::router`).

use serde_json::{Map, Value, json};

use super::{error_response, json_response, websocket_operation};

pub(super) fn paths() -> Map<String, Value> {
    let paths = json!({
        "/v1/ws-ticket": { "post": {
            "operationId": "issueWebSocketTicket",
            "summary": "A single-use ticket (60 s) that opens one WebSocket, for clients that cannot set headers",
            "security": [{ "bearer": [] }],
            "responses": {
                "201": json_response("The ticket", json!({
                    "type": "object", "required": ["ticket", "expires_in"],
                    "properties": { "ticket": { "type": "string" }, "expires_in": { "type": "integer" } }
                })),
                "401": error_response("unauthenticated, token_expired or invalid_token")
            }
        } },
        "/v1/sync": { "get": websocket_operation("openSync", &format!(
            "WebSocket speaking the automerge-repo protocol (CBOR binary frames: join/peer, request/sync/\
             doc-unavailable, error). A user reaches only their own documents; a document belongs to the \
             first account that stores changes to it. Close codes: 1002 join_expected, invalid_peer_id \
             (over {} bytes) or invalid_message (not a protocol message, or over {} CBOR items), \
             1003 binary_frames_only, 1008 rate_limited or too_many_documents, 1009 message_too_large, \
             1011 storage_failed",
            crate::sync::MAX_NAME_BYTES,
            mingizuk_core::wire::MAX_ITEMS
        )) }
    });
    match paths {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
