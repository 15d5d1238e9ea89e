//! The OpenAPI description of image uploads (`media::router`), place search (`places::router`) and
//! the `Idempotency-Key` header every signed-in write takes (`idempotency`).

use serde_json::{Map, Value, json};

use super::{error_response, json_response};

pub(super) fn paths() -> Map<String, Value> {
    let unauthorized = || error_response("unauthenticated, token_expired or invalid_token");
    let paths = json!({
        "/v1/media": { "post": {
            "operationId": "uploadImage",
            "summary": "Upload a meetup image: the raw bytes of a JPEG, PNG or WebP as the body",
            "description": concat!(
                "The body is the image itself, not multipart. Its type is read from its first bytes; the ",
                "Content-Type header and any file name are ignored. Up to 5 MB (configurable) and a daily ",
                "number of uploads per account. An image no meetup shows within a day is removed."
            ),
            "security": [{ "bearer": [] }],
            "requestBody": { "required": true, "content": {
                "image/jpeg": { "schema": { "type": "string", "contentMediaType": "image/jpeg" } },
                "image/png": { "schema": { "type": "string", "contentMediaType": "image/png" } },
                "image/webp": { "schema": { "type": "string", "contentMediaType": "image/webp" } },
                "application/octet-stream": { "schema": { "type": "string" } }
            } },
            "responses": {
                "201": json_response("The stored image", json!({
                    "type": "object", "required": ["id", "url"],
                    "properties": {
                        "id": { "type": "string", "format": "uuid" },
                        "url": { "type": "string", "description": "Where GET serves it" }
                    }
                })),
                "401": unauthorized(),
                "413": error_response("payload_too_large"),
                "415": error_response("unsupported_image: not a JPEG, PNG or WebP"),
                "429": error_response("upload_quota_exceeded")
            }
        } },
        "/v1/media/{id}": { "get": {
            "operationId": "image",
            "summary": "An uploaded image's bytes, cacheable for a year (ids never change content)",
            "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
            "responses": {
                "200": { "description": "The image", "content": {
                    "image/jpeg": {}, "image/png": {}, "image/webp": {}
                } },
                "404": error_response("image_not_found: unknown or malformed id")
            }
        } },
        "/v1/places": { "get": {
            "operationId": "searchPlaces",
            "summary": "Search places by name or address through the server's geocoder (Kakao Local or Nominatim)",
            "security": [{ "bearer": [] }],
            "parameters": [{
                "name": "q", "in": "query", "required": true,
                "schema": { "type": "string", "minLength": 1, "maxLength": mingizuk_core::limits::PLACE_QUERY_MAX_CHARS }
            }],
            "responses": {
                "200": json_response("Up to 10 places", json!({
                    "type": "array", "items": { "$ref": "#/components/schemas/Place" }
                })),
                "400": error_response("validation_failed: q is empty or too long"),
                "401": unauthorized(),
                "502": error_response("geocoder_unavailable: the geocoder failed or did not answer in time")
            }
        } }
    });
    match paths {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub(super) fn place_schema() -> Value {
    json!({
        "type": "object",
        "required": ["name", "address", "lat", "lng", "region"],
        "properties": {
            "name": { "type": "string" },
            "address": { "type": "string" },
            "lat": { "type": "number" },
            "lng": { "type": "number" },
            "region": {
                "type": ["string", "null"],
                "description": "\"시·도 시·군·구\" as meetups store it; null outside Korea"
            }
        }
    })
}

pub(super) fn idempotency_key_parameter() -> Value {
    json!({
        "name": "Idempotency-Key", "in": "header", "required": false,
        "description": concat!(
            "1–255 visible ASCII characters, chosen by the client per write. A retry of the same request ",
            "(method, path and body) within a day gets the first response again with ",
            "`Idempotent-Replayed: true`; the same key with another request is 422 idempotency_key_reused; ",
            "while the first is still running, 409 idempotency_key_in_progress. Responses of 500 and above ",
            "and 429 are not kept."
        ),
        "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$" }
    })
}

/// Adds the `Idempotency-Key` parameter to every signed-in write operation in `paths`, but those
/// whose answer is a credential.
pub(super) fn mark_idempotent_writes(paths: &mut Map<String, Value>) {
    let reference = json!({ "$ref": "#/components/parameters/IdempotencyKey" });
    for (path, operations) in paths.iter_mut() {
        let Some(operations) = operations.as_object_mut().filter(|_| !crate::idempotency::never_replayed(path)) else {
            continue;
        };
        for (method, operation) in operations.iter_mut() {
            let signed_in = operation.get("security").is_some_and(|s| s.to_string().contains("bearer"));
            if !matches!(method.as_str(), "post" | "put" | "patch" | "delete") || !signed_in {
                continue;
            }
            if let Some(operation) = operation.as_object_mut() {
                let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
                if let Some(list) = parameters.as_array_mut() {
                    list.push(reference.clone());
                }
            }
        }
    }
}
