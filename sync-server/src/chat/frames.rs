//! The chat protocol's JSON frames (DESIGN.md "Chat"), one object per text frame: what a client
//! may send, and the server's frames, serialized once and shared by every subscriber they go to.
//! Nothing here decides anything; the shapes only.

use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::storage::chat::{ChatMessage, MeetupId, MessageKind, Notice, Sender};

/// A frame from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Subscribe {
        meetup_id: MeetupId,
        #[serde(default)]
        since_seq: i64,
    },
    Unsubscribe {
        meetup_id: MeetupId,
    },
    Send {
        meetup_id: MeetupId,
        client_id: Uuid,
        text: String,
    },
}

/// A stored message as clients see it, in a live `message` frame and in a history page alike.
#[derive(Debug, Serialize)]
pub struct MessageView<'a> {
    #[serde(rename = "type")]
    pub frame: &'static str,
    pub meetup_id: MeetupId,
    pub seq: i64,
    pub id: i64,
    pub client_id: Option<Uuid>,
    pub kind: MessageKind,
    pub sender: Option<&'a Sender>,
    pub text: &'a str,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl<'a> From<&'a ChatMessage> for MessageView<'a> {
    fn from(m: &'a ChatMessage) -> Self {
        Self {
            frame: "message",
            meetup_id: m.meetup_id,
            seq: m.seq,
            id: m.id,
            client_id: m.client_id,
            kind: m.kind,
            sender: m.sender.as_ref(),
            text: &m.text,
            at: m.at,
        }
    }
}

/// Stable codes of `error` frames. Never rename one; add a variant instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidFrame,
    InvalidText,
    UnknownMeetup,
    NotMember,
    MeetupEnded,
    RateLimited,
    TooManyRooms,
    StorageFailed,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFrame => "invalid_frame",
            Self::InvalidText => "invalid_text",
            Self::UnknownMeetup => "unknown_meetup",
            Self::NotMember => "not_member",
            Self::MeetupEnded => "meetup_ended",
            Self::RateLimited => "rate_limited",
            Self::TooManyRooms => "too_many_rooms",
            Self::StorageFailed => "storage_failed",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::InvalidFrame => "the frame is not a chat frame this server understands",
            Self::InvalidText => "a message is 1 to 250 characters",
            Self::UnknownMeetup => "no such meetup",
            Self::NotMember => "only the meetup's members may use its room",
            Self::MeetupEnded => "the meetup has ended: its room is read-only",
            Self::RateLimited => "too many frames; slow down and send again",
            Self::TooManyRooms => "this connection is subscribed to as many rooms as it may be",
            Self::StorageFailed => "the message could not be stored; send it again",
        }
    }
}

fn encode(value: &impl Serialize) -> Utf8Bytes {
    // Serializing these plain structs cannot fail (string keys, no maps with other keys).
    serde_json::to_string(value).unwrap_or_default().into()
}

pub fn message(m: &ChatMessage) -> Utf8Bytes {
    encode(&MessageView::from(m))
}

/// An `ack` frame; a struct rather than a `json!` map, as one is encoded for every send.
#[derive(Serialize)]
struct Ack {
    #[serde(rename = "type")]
    frame: &'static str,
    client_id: Option<Uuid>,
    meetup_id: MeetupId,
    seq: i64,
    id: i64,
}

pub fn ack(m: &ChatMessage) -> Utf8Bytes {
    encode(&Ack { frame: "ack", client_id: m.client_id, meetup_id: m.meetup_id, seq: m.seq, id: m.id })
}

pub fn notice(meetup_id: MeetupId, notice: Option<&Notice>) -> Utf8Bytes {
    encode(&serde_json::json!({ "type": "notice", "meetup_id": meetup_id, "notice": notice }))
}

/// An `error` frame. `meetup_id` names the room it is about (a refused subscribe or send, a room
/// closed under the connection), so a client in several rooms can tell which; `null` when it is
/// about no room (an unreadable frame). Both keys are always present.
pub fn error(code: ErrorCode, meetup_id: Option<MeetupId>, client_id: Option<Uuid>) -> Utf8Bytes {
    encode(&serde_json::json!({
        "type": "error", "code": code.as_str(), "message": code.message(), "meetup_id": meetup_id,
        "client_id": client_id
    }))
}

/// The text of a message or a notice without its leading and trailing blanks, if it has 1 to
/// [`CHAT_TEXT_MAX_CHARS`](mingizuk_core::limits::CHAT_TEXT_MAX_CHARS) characters.
pub fn checked_text(text: &str) -> Option<&str> {
    let text = text.trim();
    let chars = text.chars().count();
    (1..=mingizuk_core::limits::CHAT_TEXT_MAX_CHARS).contains(&chars).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_counted_in_characters_without_surrounding_blanks() {
        assert_eq!(checked_text("  안녕  "), Some("안녕"));
        assert_eq!(checked_text("   "), None);
        assert_eq!(checked_text(""), None);
        let longest = "가".repeat(250);
        assert_eq!(checked_text(&format!(" {longest} ")), Some(longest.as_str()));
        assert_eq!(checked_text(&"가".repeat(251)), None);
    }

    #[test]
    fn an_ack_names_the_message_it_acknowledges() {
        let message = ChatMessage {
            id: 41,
            meetup_id: 7,
            seq: 3,
            kind: MessageKind::Text,
            client_id: Some(Uuid::nil()),
            sender: None,
            text: "안녕".into(),
            at: chrono::Utc::now(),
        };
        let ack: serde_json::Value = serde_json::from_str(&ack(&message)).expect("ack is JSON");
        let expected = serde_json::json!({
            "type": "ack", "client_id": Uuid::nil(), "meetup_id": 7, "seq": 3, "id": 41
        });
        assert_eq!(ack, expected);
    }

    #[test]
    fn frames_carry_their_type() {
        let frame: ClientFrame =
            serde_json::from_str(r#"{"type":"subscribe","meetup_id":3,"since_seq":7}"#).expect("subscribe");
        assert!(matches!(frame, ClientFrame::Subscribe { meetup_id: 3, since_seq: 7 }));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"shout","meetup_id":3}"#).is_err());
        let error: serde_json::Value =
            serde_json::from_str(&error(ErrorCode::NotMember, Some(3), None)).expect("error frame is JSON");
        assert_eq!((error["type"].as_str(), error["code"].as_str()), (Some("error"), Some("not_member")));
        assert_eq!((error["meetup_id"].as_i64(), error["client_id"].is_null()), (Some(3), true));
    }
}
