//! The OpenAPI description of the social sign-in routes (`auth::social::router`).

use serde_json::{Map, Value, json};

use super::{error_response, json_body, json_response};

fn provider_parameter() -> Value {
    json!({
        "name": "provider", "in": "path", "required": true,
        "schema": { "enum": ["google", "kakao", "naver"] }
    })
}

fn query_parameter(name: &str, description: &str, required: bool) -> Value {
    json!({
        "name": name, "in": "query", "required": required, "description": description,
        "schema": { "type": "string" }
    })
}

pub(super) fn paths() -> Map<String, Value> {
    let paths = json!({
        "/v1/auth/{provider}/start": { "get": {
            "operationId": "startSocialSignIn",
            "summary": "Send the browser to the provider (authorization code with PKCE S256, state, and nonce for OpenID Connect)",
            "parameters": [
                provider_parameter(),
                query_parameter(
                    "redirect_uri",
                    "Where the app waits for its one-time code: http://127.0.0.1:<port>/… or [::1], or the configured deep link",
                    true
                ),
                query_parameter("code_challenge", "S256 challenge (43 base64url characters) of the app's own verifier", true),
                query_parameter("code_challenge_method", "S256 (the only method accepted)", false)
            ],
            "responses": {
                "302": { "description": "To the provider's authorization page; once redirect_uri is allowed, a refusal (provider_not_configured, invalid_code_challenge, too_many_attempts past 30 starts a minute from one IP, …) is a redirect back to it with error=<code>" },
                "400": error_response("redirect_uri_not_allowed"),
                "404": error_response("not_found for an unknown provider")
            }
        } },
        "/v1/auth/{provider}/callback": { "get": {
            "operationId": "finishSocialSignIn",
            "summary": "Where the provider returns the browser; the server finishes the sign-in and sends the app a one-time code",
            "parameters": [
                provider_parameter(),
                query_parameter("code", "The provider's authorization code", false),
                query_parameter("state", "The state the server sent to the provider", false),
                query_parameter("error", "The provider's refusal, if any", false)
            ],
            "responses": {
                "302": {
                    "description": concat!(
                        "To the app's redirect_uri with `code` (one-time, 60 s) or with `error`: provider_denied, ",
                        "provider_error, invalid_id_token, invalid_credentials, provider_not_configured or internal"
                    )
                },
                "400": error_response("invalid_state: missing, unknown, already used, expired or of another provider")
            }
        } },
        "/v1/auth/exchange": { "post": {
            "operationId": "exchangeSocialCode",
            "summary": "Trade the one-time code and the verifier of the challenge given at start for a token pair",
            "requestBody": json_body(json!({
                "type": "object", "required": ["code", "code_verifier"],
                "properties": {
                    "code": { "type": "string" },
                    "code_verifier": { "type": "string", "minLength": 43, "maxLength": 128 }
                }
            })),
            "responses": {
                "200": json_response("Signed in", json!({ "$ref": "#/components/schemas/Session" })),
                "400": error_response("invalid_grant: unknown, spent, expired, or the verifier does not match")
            }
        } }
    });
    match paths {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
