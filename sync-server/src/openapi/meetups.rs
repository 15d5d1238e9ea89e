//! The OpenAPI description of the meetup routes (`meetups::router`): meetups, likes, comments,
//! "my meetups" and "my comments". Joining, leaving, the notice and the chat history are described
//! with the chat routes.

use mingizuk_core::limits::{
    ADDRESS_MAX_CHARS, COMMENT_MAX_CHARS, MEETUP_CONTENTS_MAX_CHARS, MEETUP_MEMBER_LIMIT_MAX, MEETUP_MEMBER_LIMIT_MIN,
    MEETUP_TITLE_MAX_CHARS, MEETUPS_PAGE_SIZE, PLACE_NAME_MAX_CHARS,
};
use serde_json::{Map, Value, json};

use super::{error_response, json_body, json_response};

const UNAUTHORIZED: &str =
    "unauthenticated, token_expired or invalid_token (also for an account in its deletion grace)";

fn id_parameter(what: &str) -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": what, "schema": { "type": "integer" } })
}

fn query_parameter(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn cursor_parameter() -> Value {
    query_parameter("cursor", "The next_cursor of the previous page", json!({ "type": "string" }))
}

fn page_of(schema: &str) -> Value {
    json_response(
        &format!("A page of at most {MEETUPS_PAGE_SIZE}; next_cursor is null on the last"),
        json!({
            "type": "object", "required": ["items", "next_cursor"],
            "properties": {
                "items": { "type": "array", "items": { "$ref": format!("#/components/schemas/{schema}") } },
                "next_cursor": { "type": ["string", "null"] }
            }
        }),
    )
}

/// The schemas the meetup routes refer to, for `components.schemas`.
pub(super) fn schemas() -> Map<String, Value> {
    let person = json!({
        "type": "object", "required": ["id", "nickname"],
        "properties": { "id": { "type": "string", "format": "uuid" }, "nickname": { "type": "string" } }
    });
    let location = json!({
        "type": "object", "required": ["place_name", "address", "lat", "lng"],
        "properties": {
            "place_name": { "type": "string", "minLength": 1, "maxLength": PLACE_NAME_MAX_CHARS },
            "address": {
                "type": "string", "maxLength": ADDRESS_MAX_CHARS,
                "description": "Starts with a 시·도 (short names such as 서울 are accepted) and a 시·군·구"
            },
            "lat": { "type": "number", "minimum": -90, "maximum": 90 },
            "lng": { "type": "number", "minimum": -180, "maximum": 180 }
        }
    });
    let member_limit = json!({
        "type": ["integer", "null"], "minimum": MEETUP_MEMBER_LIMIT_MIN, "maximum": MEETUP_MEMBER_LIMIT_MAX,
        "description": "Members allowed, the host included; null or absent: no limit"
    });
    let written = json!({
        "title": { "type": "string", "minLength": 1, "maxLength": MEETUP_TITLE_MAX_CHARS },
        "contents": { "type": "string", "maxLength": MEETUP_CONTENTS_MAX_CHARS },
        "starts_at": { "type": "string", "format": "date-time" },
        "ends_at": { "type": "string", "format": "date-time", "description": "Not before starts_at" },
        "member_limit": member_limit,
        "image_id": { "type": ["string", "null"], "format": "uuid", "description": "An image the host uploaded" },
        "location": { "$ref": "#/components/schemas/Location" }
    });
    let schemas = json!({
        "Person": person,
        "Location": location,
        "MeetupWrite": {
            "type": "object", "required": ["title", "starts_at", "ends_at", "location"], "properties": written
        },
        "MeetupPatch": {
            "type": "object", "properties": written,
            "description": "Absent fields stay; member_limit or image_id set to null remove the limit or the image"
        },
        "Meetup": {
            "type": "object",
            "required": [
                "id", "host", "title", "contents", "starts_at", "ends_at", "member_limit", "image_id", "location",
                "region", "member_count", "like_count", "liked_by_me", "comment_count", "ended", "created_at",
                "updated_at"
            ],
            "properties": {
                "id": { "type": "integer" },
                "host": { "$ref": "#/components/schemas/Person" },
                "title": { "type": "string" },
                "contents": { "type": "string" },
                "starts_at": { "type": "string", "format": "date-time" },
                "ends_at": { "type": "string", "format": "date-time" },
                "member_limit": { "type": ["integer", "null"] },
                "image_id": { "type": ["string", "null"], "format": "uuid" },
                "location": { "$ref": "#/components/schemas/Location" },
                "region": { "type": "string", "description": "\"시·도 시·군·구\" derived from the address" },
                "member_count": {
                    "type": "integer",
                    "description": "Seats taken, the host included; members whose account is in its deletion grace are neither counted nor hold a seat"
                },
                "like_count": { "type": "integer" },
                "liked_by_me": { "type": "boolean" },
                "comment_count": { "type": "integer" },
                "ended": { "type": "boolean" },
                "created_at": { "type": "string", "format": "date-time" },
                "updated_at": { "type": "string", "format": "date-time" },
                "members": {
                    "type": "array", "items": { "$ref": "#/components/schemas/Person" },
                    "description": "In the detail only: the host first, then by joining time; accounts in their deletion grace are left out"
                }
            }
        },
        "Comment": {
            "type": "object", "required": ["id", "meetup_id", "author", "text", "created_at", "updated_at"],
            "properties": {
                "id": { "type": "integer" },
                "meetup_id": { "type": "integer" },
                "author": { "$ref": "#/components/schemas/Person" },
                "text": { "type": "string" },
                "created_at": { "type": "string", "format": "date-time" },
                "updated_at": { "type": "string", "format": "date-time" }
            }
        },
        "CommentWrite": {
            "type": "object", "required": ["text"],
            "properties": { "text": { "type": "string", "minLength": 1, "maxLength": COMMENT_MAX_CHARS } }
        },
        "Like": {
            "type": "object", "required": ["like_count", "liked_by_me"],
            "properties": { "like_count": { "type": "integer" }, "liked_by_me": { "type": "boolean" } }
        }
    });
    match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(super) fn paths() -> Map<String, Value> {
    let bearer = json!([{ "bearer": [] }]);
    let meetup = |description: &str| json_response(description, json!({ "$ref": "#/components/schemas/Meetup" }));
    let comment = |description: &str| json_response(description, json!({ "$ref": "#/components/schemas/Comment" }));
    let like = || json_response("The meetup's likes", json!({ "$ref": "#/components/schemas/Like" }));
    let body = |schema: &str| json_body(json!({ "$ref": format!("#/components/schemas/{schema}") }));
    let unauthorized = || error_response(UNAUTHORIZED);
    let missing = || error_response("not_found: no such meetup, or its host's account is in its deletion grace");
    let invalid_meetup = || {
        error_response(
            "invalid_title, invalid_contents, invalid_period, invalid_member_limit, invalid_place_name, \
             invalid_address, invalid_coordinates, invalid_json or invalid_body",
        )
    };
    let meetup_id = || id_parameter("The meetup");
    let comment_id = || id_parameter("The comment");
    let paths = json!({
        "/v1/meetups": {
            "get": {
                "operationId": "listMeetups",
                "summary": "Meetups, newest or most liked first, optionally in one region",
                "security": bearer,
                "parameters": [
                    query_parameter("sort", "new (default) or likes", json!({ "enum": ["new", "likes"] })),
                    query_parameter(
                        "region",
                        "\"시·도 시·군·구\" for one region, or a 시·도 alone for all of it (서울 = 서울특별시)",
                        json!({ "type": "string" })
                    ),
                    cursor_parameter()
                ],
                "responses": {
                    "200": page_of("Meetup"),
                    "400": error_response("invalid_query or invalid_cursor"),
                    "401": unauthorized()
                }
            },
            "post": {
                "operationId": "createMeetup",
                "summary": "Create a meetup; its creator is its host and first member",
                "security": bearer,
                "requestBody": body("MeetupWrite"),
                "responses": {
                    "201": meetup("The meetup created, in detail"),
                    "400": invalid_meetup(),
                    "401": unauthorized(),
                    "422": error_response("unknown_image: not an image this user uploaded")
                }
            }
        },
        "/v1/meetups/{id}": {
            "get": {
                "operationId": "meetup",
                "summary": "A meetup in detail, with its members",
                "security": bearer,
                "parameters": [meetup_id()],
                "responses": { "200": meetup("The meetup"), "401": unauthorized(), "404": missing() }
            },
            "patch": {
                "operationId": "editMeetup",
                "summary": "Edit a meetup, its location included (host only)",
                "security": bearer,
                "parameters": [meetup_id()],
                "requestBody": body("MeetupPatch"),
                "responses": {
                    "200": meetup("The meetup as edited"),
                    "400": invalid_meetup(),
                    "401": unauthorized(),
                    "403": error_response("not_host"),
                    "404": missing(),
                    "409": error_response("meetup_changed: other edits kept overtaking this one"),
                    "422": error_response("member_limit_below_members or unknown_image")
                }
            },
            "delete": {
                "operationId": "deleteMeetup",
                "summary": "Delete a meetup with its members, likes, comments, notice and chat (host only)",
                "security": bearer,
                "parameters": [meetup_id()],
                "responses": {
                    "204": { "description": "Deleted" },
                    "401": unauthorized(),
                    "403": error_response("not_host"),
                    "404": missing()
                }
            }
        },
        "/v1/meetups/{id}/like": {
            "put": {
                "operationId": "likeMeetup",
                "summary": "Like a meetup; liking it again changes nothing",
                "security": bearer,
                "parameters": [meetup_id()],
                "responses": { "200": like(), "401": unauthorized(), "404": missing() }
            },
            "delete": {
                "operationId": "unlikeMeetup",
                "summary": "Take a like back; without one, nothing changes",
                "security": bearer,
                "parameters": [meetup_id()],
                "responses": { "200": like(), "401": unauthorized(), "404": missing() }
            }
        },
        "/v1/meetups/{id}/comments": {
            "get": {
                "operationId": "meetupComments",
                "summary": "A meetup's comments, oldest first",
                "security": bearer,
                "parameters": [meetup_id(), cursor_parameter()],
                "responses": {
                    "200": page_of("Comment"),
                    "400": error_response("invalid_query or invalid_cursor"),
                    "401": unauthorized(),
                    "404": missing()
                }
            },
            "post": {
                "operationId": "addComment",
                "summary": "Comment on a meetup",
                "security": bearer,
                "parameters": [meetup_id()],
                "requestBody": body("CommentWrite"),
                "responses": {
                    "201": comment("The comment"),
                    "400": error_response("invalid_comment, invalid_json or invalid_body"),
                    "401": unauthorized(),
                    "404": missing()
                }
            }
        },
        "/v1/comments/{id}": {
            "patch": {
                "operationId": "editComment",
                "summary": "Edit one's own comment",
                "security": bearer,
                "parameters": [comment_id()],
                "requestBody": body("CommentWrite"),
                "responses": {
                    "200": comment("The comment as edited"),
                    "400": error_response("invalid_comment, invalid_json or invalid_body"),
                    "401": unauthorized(),
                    "403": error_response("not_author"),
                    "404": error_response("not_found")
                }
            },
            "delete": {
                "operationId": "deleteComment",
                "summary": "Delete one's own comment",
                "security": bearer,
                "parameters": [comment_id()],
                "responses": {
                    "204": { "description": "Deleted" },
                    "401": unauthorized(),
                    "403": error_response("not_author"),
                    "404": error_response("not_found")
                }
            }
        },
        "/v1/me/meetups": { "get": {
            "operationId": "myMeetups",
            "summary": "My meetups, newest first: hosted, joined (hosted by others) or liked",
            "security": bearer,
            "parameters": [
                {
                    "name": "role", "in": "query", "required": true,
                    "schema": { "enum": ["host", "member", "liked"] }
                },
                cursor_parameter()
            ],
            "responses": {
                "200": page_of("Meetup"),
                "400": error_response("invalid_query or invalid_cursor"),
                "401": unauthorized()
            }
        } },
        "/v1/me/comments": { "get": {
            "operationId": "myComments",
            "summary": "My comments, newest first",
            "security": bearer,
            "parameters": [cursor_parameter()],
            "responses": {
                "200": page_of("Comment"),
                "400": error_response("invalid_query or invalid_cursor"),
                "401": unauthorized()
            }
        } }
    });
    match paths {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
