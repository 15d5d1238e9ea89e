//! The social side's public data: what the server says (a chat message, a page of meetups), what
//! the outbox holds and what the app hears as it happens.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub type MeetupId = i64;

/// The longest chat message and comment, in characters (PRODUCT.md §6–7), as the server checks.
pub use mingizuk_core::limits::{CHAT_TEXT_MAX_CHARS as MESSAGE_MAX_CHARS, COMMENT_MAX_CHARS};
/// Who wrote a chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub id: String,
    pub nickname: String,
}

/// A chat message as the server stored it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub meetup_id: MeetupId,
    pub seq: i64,
    pub id: i64,
    pub client_id: Option<String>,
    /// `text`, `join` or `leave`.
    pub kind: String,
    pub sender: Option<Sender>,
    pub text: String,
    pub at: String,
}

/// The kinds of HTTP write the outbox holds, as `Write::Http::kind` names them (the UI shows them,
/// the outbox treats some apart).
pub mod kind {
    pub const CREATE_MEETUP: &str = "create_meetup";
    pub const EDIT_MEETUP: &str = "edit_meetup";
    pub const DELETE_MEETUP: &str = "delete_meetup";
    pub const LIKE: &str = "like";
    pub const UNLIKE: &str = "unlike";
    pub const COMMENT: &str = "comment";
    pub const JOIN: &str = "join";
    pub const LEAVE: &str = "leave";
}

/// A write waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Write {
    /// An HTTP write (`kind` names it, one of [`kind`]).
    Http { kind: String, method: String, path: String, body: Option<Value> },
    /// A chat message.
    Message { meetup_id: MeetupId, text: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxItem {
    /// The write's idempotency key (a chat message's `client_id`).
    pub key: String,
    pub write: Write,
    pub attempts: u32,
    /// The server's refusal (stable code, message): the write will not be retried.
    pub refused: Option<(String, String)>,
    pub created_at_ms: i64,
    /// When an attempt first may have reached the server without an answer coming back.
    pub sent_at_ms: Option<i64>,
}

/// What the app hears about, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SocialEvent {
    /// A chat message not seen before (live or replayed).
    Message { message: ChatMessage },
    /// A room's notice changed (`null`: removed).
    Notice { meetup_id: MeetupId, notice: Value },
    /// The server confirmed a write from the outbox.
    Sent { key: String },
    /// The server refused a write from the outbox, for good.
    Refused { key: String, code: String, message: String },
    /// The live chat connection came up or went down.
    Online { online: bool },
}

/// A page of meetups; `offline` when it came from the cache because the server did not answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listing {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
    pub offline: bool,
}

/// How a list is ordered (`"new"` or `"likes"` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    New,
    Likes,
}
