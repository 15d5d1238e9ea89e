//! The OpenAPI description of meetup chat (`chat::router`): the `/v1/chat` WebSocket and the routes
//! that change or read a room.

use mingizuk_core::limits::{CHAT_HISTORY_PAGE, CHAT_TEXT_MAX_CHARS};
use serde_json::{Map, Value, json};

use super::{error_response, json_body, json_response, websocket_operation};
use crate::chat::HISTORY_PAGE_MAX;

fn meetup_id() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } })
}

/// A stored message, as a `message` frame and a history item carry it.
fn message_schema() -> Value {
    json!({
        "type": "object",
        "required": ["type", "meetup_id", "seq", "id", "client_id", "kind", "sender", "text", "at"],
        "properties": {
            "type": { "const": "message" },
            "meetup_id": { "type": "integer" },
            "seq": { "type": "integer", "description": "Per meetup, from 1, without gaps" },
            "id": { "type": "integer" },
            "client_id": { "type": ["string", "null"], "format": "uuid" },
            "kind": { "enum": ["text", "join", "leave"] },
            "sender": {
                "description": "null when the sender's account is deleted or in its deletion grace",
                "oneOf": [
                    { "type": "null" },
                    {
                        "type": "object", "required": ["id", "nickname"],
                        "properties": { "id": { "type": "string", "format": "uuid" }, "nickname": { "type": "string" } }
                    }
                ]
            },
            "text": { "type": "string" },
            "at": { "type": "string", "format": "date-time" }
        }
    })
}

fn notice_schema() -> Value {
    json!({
        "type": "object", "required": ["text", "at"],
        "properties": { "text": { "type": "string" }, "at": { "type": "string", "format": "date-time" } }
    })
}

pub(super) fn paths() -> Map<String, Value> {
    let bearer = json!([{ "bearer": [] }]);
    let unauthorized = || error_response("unauthenticated, token_expired or invalid_token");
    let missing = || error_response("not_found: no such meetup");
    let paths = json!({
        "/v1/chat": { "get": websocket_operation("openChat", concat!(
            "WebSocket of JSON text frames, one object each. Client: subscribe {meetup_id, since_seq} ",
            "(members only; replays every stored message after since_seq, then the notice, then live), ",
            "unsubscribe {meetup_id}, send {meetup_id, client_id, text} (members only, 1-250 characters, ",
            "not after the meetup's end; the same client_id is stored once and acked each time). Server: ",
            "message, ack {client_id, meetup_id, seq, id}, notice {meetup_id, notice|null}, error {code, ",
            "message, meetup_id|null (the room it is about; null only for a frame about no room), ",
            "client_id|null (the refused send)} with codes invalid_frame, invalid_text, unknown_meetup, not_member, ",
            "meetup_ended, rate_limited, too_many_rooms, storage_failed. Messages of a room arrive in seq ",
            "order, each once; replay from the last seq after a reconnect. Close codes: 1003 ",
            "text_frames_only, 1009 message_too_large, 1011 storage_failed, 1013 too_slow (the ",
            "connection fell behind its rooms: reconnect and replay)"
        )) },
        "/v1/meetups/{id}/members": { "post": {
            "operationId": "joinMeetup",
            "summary": "Join a meetup; its room hears the join message",
            "security": bearer,
            "parameters": [meetup_id()],
            "responses": {
                "201": json_response("Joined: the room's join message", message_schema()),
                "401": unauthorized(),
                "404": missing(),
                "409": error_response("already_member"),
                "422": error_response("meetup_full or meetup_ended")
            }
        } },
        "/v1/meetups/{id}/members/me": { "delete": {
            "operationId": "leaveMeetup",
            "summary": "Leave a meetup; its room hears the leave message and stops reaching you",
            "security": bearer,
            "parameters": [meetup_id()],
            "responses": {
                "204": { "description": "Left" },
                "401": unauthorized(),
                "404": missing(),
                "409": error_response("not_member"),
                "422": error_response("host_cannot_leave")
            }
        } },
        "/v1/meetups/{id}/messages": { "get": {
            "operationId": "chatHistory",
            "summary": "A page of the room's history, newest first (members only)",
            "security": bearer,
            "parameters": [
                meetup_id(),
                {
                    "name": "before_seq", "in": "query", "required": false,
                    "description": "Only messages with a smaller seq: the next_before_seq of the previous page",
                    "schema": { "type": "integer" }
                },
                {
                    "name": "limit", "in": "query", "required": false,
                    "schema": { "type": "integer", "minimum": 1, "maximum": HISTORY_PAGE_MAX, "default": CHAT_HISTORY_PAGE }
                }
            ],
            "responses": {
                "200": json_response("The page", json!({
                    "type": "object", "required": ["messages", "next_before_seq"],
                    "properties": {
                        "messages": { "type": "array", "items": message_schema() },
                        "next_before_seq": {
                            "type": ["integer", "null"], "description": "null when there is nothing older"
                        }
                    }
                })),
                "400": error_response("validation_failed: limit or before_seq"),
                "401": unauthorized(),
                "403": error_response("not_member"),
                "404": missing()
            }
        } },
        "/v1/meetups/{id}/notice": {
            "put": {
                "operationId": "setNotice",
                "summary": "Set or replace the room's notice (host only, before the meetup's end); pushed live",
                "security": bearer,
                "parameters": [meetup_id()],
                "requestBody": json_body(json!({
                    "type": "object", "required": ["text"],
                    "properties": { "text": { "type": "string", "minLength": 1, "maxLength": CHAT_TEXT_MAX_CHARS } }
                })),
                "responses": {
                    "200": json_response("The notice", json!({
                        "type": "object", "required": ["notice"], "properties": { "notice": notice_schema() }
                    })),
                    "400": error_response("invalid_text"),
                    "401": unauthorized(),
                    "403": error_response("not_member or not_host"),
                    "404": missing(),
                    "422": error_response("meetup_ended")
                }
            },
            "delete": {
                "operationId": "deleteNotice",
                "summary": "Remove the room's notice (host only, before the meetup's end); pushed live",
                "security": bearer,
                "parameters": [meetup_id()],
                "responses": {
                    "204": { "description": "Removed (or there was none)" },
                    "401": unauthorized(),
                    "403": error_response("not_member or not_host"),
                    "404": missing(),
                    "422": error_response("meetup_ended")
                }
            }
        }
    });
    match paths {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
