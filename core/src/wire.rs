//! The automerge-repo wire protocol (version "1"): one CBOR map per WebSocket binary frame, as the
//! JavaScript `@automerge/automerge-repo` and its WebSocket adapter speak it, so that our client,
//! our server and theirs can talk to one another. Also the document id encoding automerge-repo
//! uses (base58check of the 16 bytes of a UUID).
//!
//! Pure encoding and decoding: no sockets. Fields this side does not use are ignored on decode;
//! message types it does not know decode as [`Message::Other`] so a newer peer is not refused.

mod items;

use ciborium::Value;
use uuid::Uuid;

/// The only protocol version there is.
pub const PROTOCOL_VERSION: &str = "1";

/// The most CBOR items a frame may hold. A message of this protocol holds a few dozen (its
/// payload is one byte string); the bound keeps what decoding builds near the frame's own size.
pub const MAX_ITEMS: usize = 1024;

/// One protocol message. `sender_id`/`target_id` are peer ids: names a peer gives itself, never
/// proof of who it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Client → server, first: who I am and which versions I speak.
    Join {
        sender_id: String,
        supported_protocol_versions: Vec<String>,
        peer_metadata: Option<Value>,
    },
    /// Server → client, answering `join`.
    Peer {
        sender_id: String,
        target_id: String,
        selected_protocol_version: String,
        peer_metadata: Option<Value>,
    },
    Leave {
        sender_id: String,
    },
    /// The first sync message for a document the sender does not have.
    Request {
        sender_id: String,
        target_id: String,
        document_id: String,
        data: Vec<u8>,
    },
    /// An Automerge sync message for one document.
    Sync {
        sender_id: String,
        target_id: String,
        document_id: String,
        data: Vec<u8>,
    },
    /// The sender does not have the document (or may not share it: the two look the same).
    DocUnavailable {
        sender_id: String,
        target_id: String,
        document_id: String,
    },
    /// Application data about a document that is never stored (presence and the like).
    Ephemeral {
        sender_id: String,
        target_id: String,
        document_id: String,
        session_id: String,
        count: u64,
        data: Vec<u8>,
    },
    /// The sender gives up on the connection.
    Error {
        sender_id: Option<String>,
        target_id: Option<String>,
        message: String,
    },
    /// A message type this side does not handle (`remote-heads-changed`, …), ignored.
    Other {
        kind: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the frame is not CBOR: {0}")]
    NotCbor(String),
    #[error("the message is not a CBOR map")]
    NotAMap,
    #[error("the message lacks the field {0:?} or it has the wrong type")]
    Field(&'static str),
    #[error("the frame holds more than {MAX_ITEMS} CBOR items")]
    TooManyItems,
}

impl Message {
    /// The CBOR bytes of the message, as the JavaScript implementation writes them (a map with
    /// camelCase text keys; byte strings untagged).
    pub fn encode(&self) -> Vec<u8> {
        let mut map: Vec<(Value, Value)> = Vec::with_capacity(7);
        let mut put = |key: &str, value: Value| map.push((Value::Text(key.to_owned()), value));
        let text = |s: &str| Value::Text(s.to_owned());
        match self {
            Message::Join { sender_id, supported_protocol_versions, peer_metadata } => {
                put("type", text("join"));
                put("senderId", text(sender_id));
                put(
                    "supportedProtocolVersions",
                    Value::Array(supported_protocol_versions.iter().map(|v| text(v)).collect()),
                );
                if let Some(meta) = peer_metadata {
                    put("peerMetadata", meta.clone());
                }
            }
            Message::Peer { sender_id, target_id, selected_protocol_version, peer_metadata } => {
                put("type", text("peer"));
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("selectedProtocolVersion", text(selected_protocol_version));
                put("peerMetadata", peer_metadata.clone().unwrap_or(Value::Map(Vec::new())));
            }
            Message::Leave { sender_id } => {
                put("type", text("leave"));
                put("senderId", text(sender_id));
            }
            Message::Request { sender_id, target_id, document_id, data }
            | Message::Sync { sender_id, target_id, document_id, data } => {
                let kind = if matches!(self, Message::Request { .. }) { "request" } else { "sync" };
                put("type", text(kind));
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(document_id));
                put("data", Value::Bytes(data.clone()));
            }
            Message::DocUnavailable { sender_id, target_id, document_id } => {
                put("type", text("doc-unavailable"));
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(document_id));
            }
            Message::Ephemeral { sender_id, target_id, document_id, session_id, count, data } => {
                put("type", text("ephemeral"));
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(document_id));
                put("sessionId", text(session_id));
                put("count", Value::Integer((*count).into()));
                put("data", Value::Bytes(data.clone()));
            }
            Message::Error { sender_id, target_id, message } => {
                put("type", text("error"));
                if let Some(s) = sender_id {
                    put("senderId", text(s));
                }
                if let Some(t) = target_id {
                    put("targetId", text(t));
                }
                put("message", text(message));
            }
            Message::Other { kind } => put("type", text(kind)),
        }
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = ciborium::into_writer(&Value::Map(map), &mut out);
        out
    }

    /// Reads one frame. Anything that is not a well-formed message of a known shape is an error;
    /// a well-formed message of an unknown type is [`Message::Other`].
    pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
        if !items::at_most(bytes, MAX_ITEMS) {
            return Err(WireError::TooManyItems);
        }
        let value: Value = ciborium::from_reader(bytes).map_err(|e| WireError::NotCbor(e.to_string()))?;
        let Value::Map(entries) = value else { return Err(WireError::NotAMap) };
        let fields = Fields(entries);
        let kind = fields.text("type")?;
        let message = match kind.as_str() {
            "join" => Message::Join {
                sender_id: fields.text("senderId")?,
                supported_protocol_versions: match fields.get("supportedProtocolVersions") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|v| v.as_text().map(str::to_owned).ok_or(WireError::Field("supportedProtocolVersions")))
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err(WireError::Field("supportedProtocolVersions")),
                },
                peer_metadata: fields.get("peerMetadata").cloned(),
            },
            "peer" => Message::Peer {
                sender_id: fields.text("senderId")?,
                target_id: fields.text("targetId")?,
                selected_protocol_version: fields.text("selectedProtocolVersion")?,
                peer_metadata: fields.get("peerMetadata").cloned(),
            },
            "leave" => Message::Leave { sender_id: fields.text("senderId")? },
            "request" | "sync" => {
                let (sender_id, target_id) = (fields.text("senderId")?, fields.text("targetId")?);
                let (document_id, data) = (fields.text("documentId")?, fields.bytes("data")?);
                if kind == "request" {
                    Message::Request { sender_id, target_id, document_id, data }
                } else {
                    Message::Sync { sender_id, target_id, document_id, data }
                }
            }
            "doc-unavailable" => Message::DocUnavailable {
                sender_id: fields.text("senderId")?,
                target_id: fields.text("targetId")?,
                document_id: fields.text("documentId")?,
            },
            "ephemeral" => Message::Ephemeral {
                sender_id: fields.text("senderId")?,
                target_id: fields.text("targetId")?,
                document_id: fields.text("documentId")?,
                session_id: fields.text("sessionId")?,
                count: match fields.get("count") {
                    Some(Value::Integer(i)) => u64::try_from(*i).map_err(|_| WireError::Field("count"))?,
                    _ => return Err(WireError::Field("count")),
                },
                data: fields.bytes("data")?,
            },
            "error" => Message::Error {
                sender_id: fields.get("senderId").and_then(Value::as_text).map(str::to_owned),
                target_id: fields.get("targetId").and_then(Value::as_text).map(str::to_owned),
                message: fields.get("message").and_then(Value::as_text).unwrap_or_default().to_owned(),
            },
            _ => Message::Other { kind },
        };
        Ok(message)
    }

    /// The document a message is about, if any.
    pub fn document_id(&self) -> Option<&str> {
        match self {
            Message::Request { document_id, .. }
            | Message::Sync { document_id, .. }
            | Message::DocUnavailable { document_id, .. }
            | Message::Ephemeral { document_id, .. } => Some(document_id),
            _ => None,
        }
    }
}

struct Fields(Vec<(Value, Value)>);

impl Fields {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v)
    }

    fn text(&self, key: &'static str) -> Result<String, WireError> {
        self.get(key).and_then(Value::as_text).map(str::to_owned).ok_or(WireError::Field(key))
    }

    /// A byte string, also accepted as CBOR tag 64 (a typed `Uint8Array`, which some encoders
    /// write).
    fn bytes(&self, key: &'static str) -> Result<Vec<u8>, WireError> {
        match self.get(key) {
            Some(Value::Bytes(b)) => Ok(b.clone()),
            Some(Value::Tag(64, inner)) => match inner.as_ref() {
                Value::Bytes(b) => Ok(b.clone()),
                _ => Err(WireError::Field(key)),
            },
            _ => Err(WireError::Field(key)),
        }
    }
}

/// The automerge-repo id of a document: base58check of its UUID's 16 bytes.
pub fn document_id(id: Uuid) -> String {
    bs58::encode(id.as_bytes()).with_check().into_string()
}

/// The UUID behind an automerge-repo document id, if it is one.
pub fn parse_document_id(text: &str) -> Option<Uuid> {
    let bytes = bs58::decode(text).with_check(None).into_vec().ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// A short account of an automerge sync message for logs: its heads, what it needs, how many
/// "have" filters and changes it carries (hashes cut to 8 hex digits).
pub fn describe_sync(data: &[u8]) -> String {
    let short = |h: &automerge::ChangeHash| h.to_string().chars().take(8).collect::<String>();
    match automerge::sync::Message::decode(data) {
        Ok(m) => format!(
            "heads={:?} need={:?} have={} changes={}",
            m.heads.iter().map(short).collect::<Vec<_>>(),
            m.need.iter().map(short).collect::<Vec<_>>(),
            m.have.len(),
            m.changes.len(),
        ),
        Err(e) => format!("undecodable ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_survives_encoding() {
        let messages = [
            Message::Join {
                sender_id: "a".into(),
                supported_protocol_versions: vec!["1".into()],
                peer_metadata: Some(Value::Map(vec![(Value::Text("isEphemeral".into()), Value::Bool(false))])),
            },
            Message::Peer {
                sender_id: "s".into(),
                target_id: "a".into(),
                selected_protocol_version: "1".into(),
                peer_metadata: Some(Value::Map(Vec::new())),
            },
            Message::Leave { sender_id: "a".into() },
            Message::Request { sender_id: "a".into(), target_id: "s".into(), document_id: "d".into(), data: vec![1] },
            Message::Sync { sender_id: "a".into(), target_id: "s".into(), document_id: "d".into(), data: vec![2, 3] },
            Message::DocUnavailable { sender_id: "s".into(), target_id: "a".into(), document_id: "d".into() },
            Message::Ephemeral {
                sender_id: "a".into(),
                target_id: "s".into(),
                document_id: "d".into(),
                session_id: "x".into(),
                count: 7,
                data: vec![9],
            },
            Message::Error { sender_id: Some("s".into()), target_id: None, message: "no".into() },
            Message::Other { kind: "remote-heads-changed".into() },
        ];
        for message in messages {
            assert_eq!(Message::decode(&message.encode()), Ok(message));
        }
    }

    #[test]
    fn malformed_frames_are_errors() {
        assert!(matches!(Message::decode(b"\xff\x00garbage"), Err(WireError::NotCbor(_))));
        let mut array = Vec::new();
        let _ = ciborium::into_writer(&Value::Array(vec![]), &mut array);
        assert_eq!(Message::decode(&array), Err(WireError::NotAMap));
        assert_eq!(Message::decode(&sync_with(Vec::new())), Err(WireError::Field("data")));
    }

    /// A `sync` message's CBOR without its `data`, with `more` entries.
    fn sync_with(more: Vec<(Value, Value)>) -> Vec<u8> {
        let text = |s: &str| Value::Text(s.into());
        let mut entries = vec![
            (text("type"), text("sync")),
            (text("senderId"), text("a")),
            (text("targetId"), text("b")),
            (text("documentId"), text("d")),
        ];
        entries.extend(more);
        let mut out = Vec::new();
        let _ = ciborium::into_writer(&Value::Map(entries), &mut out);
        out
    }

    #[test]
    fn a_frame_of_countless_small_items_is_refused_before_it_is_built() {
        let sync = |extra: Vec<Value>| {
            sync_with(vec![
                (Value::Text("data".into()), Value::Bytes(vec![7; 1 << 20])),
                (Value::Text("padding".into()), Value::Array(extra)),
            ])
        };
        // A megabyte of payload is one item.
        assert!(matches!(Message::decode(&sync(vec![Value::Null; 100])), Ok(Message::Sync { .. })));
        // As a tree, each one-byte item would take tens of bytes.
        assert_eq!(Message::decode(&sync(vec![Value::Null; 100_000])), Err(WireError::TooManyItems));
    }

    #[test]
    fn document_ids_are_base58check_uuids() {
        let id = Uuid::from_u128(0x6d696e67_697a_756b_0001_000000000001);
        let text = document_id(id);
        assert_eq!(parse_document_id(&text), Some(id));
        assert!(text.bytes().all(|b| b.is_ascii_alphanumeric()));
        let mut broken = text.clone().into_bytes();
        broken[3] = if broken[3] == b'2' { b'3' } else { b'2' };
        assert_eq!(parse_document_id(&String::from_utf8(broken).unwrap_or_default()), None);
    }
}
