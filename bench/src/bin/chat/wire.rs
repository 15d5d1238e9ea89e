//! The two wire protocols the generator speaks, reduced to what a load needs: ours (`/v1/chat`,
//! one JSON object per text frame, DESIGN.md "Chat") and Socket.IO v4 over a raw Engine.IO v4
//! WebSocket (the baseline). Encoding a subscribe and a send, and reading a frame into the few
//! events the generator counts. Nothing here measures.

use serde::Deserialize;
use serde_json::json;

/// Which server a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Ours,
    SocketIo,
}

/// A room as each protocol names it: our meetup id, the baseline's room name.
#[derive(Debug, Clone)]
pub struct Room {
    pub meetup_id: i64,
    pub name: String,
}

/// The socket.io acknowledgement id of a client's `join`; its sends count from 1.
const JOIN_ACK: u64 = 0;

/// A frame as the generator sees it.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    /// A chat message delivered to this subscriber; `seq` is ours only (0 for the baseline).
    Delivery { seq: i64, text: String },
    /// The server stored the message of `client_id` as `id`.
    Ack { client_id: String, id: i64 },
    /// The server refused a send for being over the connection's rate limit.
    RateLimited { client_id: Option<String> },
    /// The baseline connected this client's namespace; it may join now.
    Connected,
    /// The baseline accepted this client into its room.
    Joined,
    /// Engine.IO asks for a pong; the frame to answer with.
    Ping(&'static str),
    /// Anything refused: a code and a message.
    Refused(String),
    /// A frame the load does not care about (an open packet, a notice).
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OurFrame {
    Message {
        seq: i64,
        #[serde(default)]
        text: String,
    },
    Ack {
        client_id: String,
        id: i64,
    },
    Error {
        code: String,
        #[serde(default)]
        message: String,
        client_id: Option<String>,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct BaselineMessage {
    text: String,
}

#[derive(Deserialize)]
struct BaselineAck {
    client_id: Option<String>,
    id: Option<i64>,
    error: Option<String>,
}

impl Protocol {
    /// What a client sends right after the WebSocket opens to end up in `room`: our subscribe,
    /// or socket.io's namespace connect (the `join` waits for `Connected`: socket.io closes a
    /// connection that sends an event before its namespace is connected).
    pub fn enter(self, room: &Room) -> String {
        match self {
            Protocol::Ours => json!({"type": "subscribe", "meetup_id": room.meetup_id, "since_seq": 0}).to_string(),
            Protocol::SocketIo => "40".to_owned(),
        }
    }

    /// The baseline's `join`, with an acknowledgement, once the namespace is connected.
    pub fn join(self, room: &Room, nickname: &str) -> String {
        format!("42{JOIN_ACK}{}", json!(["join", {"room": room.name, "nickname": nickname}]))
    }

    /// A send of `text` to `room`; `ack` numbers the baseline's acknowledgements (from 1).
    pub fn send(self, room: &Room, client_id: &str, text: &str, ack: u64) -> String {
        match self {
            Protocol::Ours => json!({
                "type": "send",
                "meetup_id": room.meetup_id,
                "client_id": client_id,
                "text": text,
            })
            .to_string(),
            Protocol::SocketIo => {
                format!("42{ack}{}", json!(["send", {"room": room.name, "client_id": client_id, "text": text}]))
            }
        }
    }

    pub fn read(self, frame: &str) -> Incoming {
        match self {
            Protocol::Ours => read_ours(frame),
            Protocol::SocketIo => read_socket_io(frame),
        }
    }
}

fn read_ours(frame: &str) -> Incoming {
    match serde_json::from_str::<OurFrame>(frame) {
        Ok(OurFrame::Message { seq, text }) => Incoming::Delivery { seq, text },
        Ok(OurFrame::Ack { client_id, id }) => Incoming::Ack { client_id, id },
        Ok(OurFrame::Error { code, client_id, .. }) if code == "rate_limited" => Incoming::RateLimited { client_id },
        Ok(OurFrame::Error { code, message, .. }) => Incoming::Refused(format!("{code}: {message}")),
        Ok(OurFrame::Other) => Incoming::Other,
        Err(e) => Incoming::Refused(format!("unreadable frame {frame:?}: {e}")),
    }
}

/// Engine.IO packet types are the first character (`0` open, `2` ping, `4` message); a Socket.IO
/// packet inside a message starts with its own type (`0` connect, `2` event, `3` ack, `4` error)
/// and, for events and acks, the acknowledgement id in digits before the JSON array.
fn read_socket_io(frame: &str) -> Incoming {
    if frame == "2" {
        return Incoming::Ping("3");
    }
    let Some(packet) = frame.strip_prefix('4') else { return Incoming::Other };
    let (kind, rest) = packet.split_at(packet.len().min(1));
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (ack_id, body) = rest.split_at(digits);
    match kind {
        "0" => Incoming::Connected,
        "2" => match serde_json::from_str::<(String, BaselineMessage)>(body) {
            Ok((event, message)) if event == "message" => Incoming::Delivery { seq: 0, text: message.text },
            Ok(_) => Incoming::Other,
            Err(e) => Incoming::Refused(format!("unreadable event {frame:?}: {e}")),
        },
        "3" if ack_id.parse() == Ok(JOIN_ACK) => Incoming::Joined,
        "3" => match serde_json::from_str::<(BaselineAck,)>(body) {
            Ok((BaselineAck { client_id: Some(client_id), id: Some(id), error: None },)) => {
                Incoming::Ack { client_id, id }
            }
            Ok((ack,)) => Incoming::Refused(format!("send refused: {}", ack.error.unwrap_or_default())),
            Err(e) => Incoming::Refused(format!("unreadable ack {frame:?}: {e}")),
        },
        "4" | "1" => Incoming::Refused(format!("socket.io refused the connection: {frame}")),
        _ => Incoming::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_io_frames_are_read_as_the_baseline_sends_them() {
        let p = Protocol::SocketIo;
        assert_eq!(p.read("2"), Incoming::Ping("3"));
        assert_eq!(p.read(r#"0{"sid":"x","pingInterval":25000}"#), Incoming::Other);
        assert_eq!(p.read(r#"40{"sid":"y"}"#), Incoming::Connected);
        assert_eq!(p.read(r#"430[{"room":"r1"}]"#), Incoming::Joined);
        assert_eq!(p.read(r#"4312[{"client_id":"c","id":7}]"#), Incoming::Ack { client_id: "c".into(), id: 7 });
        assert_eq!(
            p.read(r#"42["message",{"room":"r1","id":7,"client_id":"c","text":"1 2 hi","at":"…"}]"#),
            Incoming::Delivery { seq: 0, text: "1 2 hi".into() }
        );
        let room = Room { meetup_id: 1, name: "r1".into() };
        assert_eq!(p.send(&room, "c", "t", 3), r#"423["send",{"client_id":"c","room":"r1","text":"t"}]"#);
    }

    #[test]
    fn our_frames_are_read_as_design_md_describes_them() {
        let p = Protocol::Ours;
        assert_eq!(
            p.read(r#"{"type":"message","meetup_id":1,"seq":4,"id":9,"client_id":null,"kind":"join","sender":null,"text":"","at":"x"}"#),
            Incoming::Delivery { seq: 4, text: String::new() }
        );
        assert_eq!(
            p.read(r#"{"type":"ack","client_id":"c","meetup_id":1,"seq":5,"id":10}"#),
            Incoming::Ack { client_id: "c".into(), id: 10 }
        );
        assert_eq!(
            p.read(r#"{"type":"error","code":"rate_limited","message":"slow down","client_id":"c"}"#),
            Incoming::RateLimited { client_id: Some("c".into()) }
        );
        assert_eq!(p.read(r#"{"type":"notice","meetup_id":1,"notice":null}"#), Incoming::Other);
    }
}
