//! Chat's events on the instances' Redis channel (`crate::bus`): what one instance publishes to its
//! own subscribers of a room — a stored message, a notice, a member removed, a deleted meetup — the
//! others hand to theirs. A connection fills a gap in a room's sequence from storage
//! (`connection.rs`), so a lost event only delays delivery; after a loss an instance can see, every
//! subscriber of every room catches up from storage. Order within a room comes from its sequence
//! numbers, not from the channel.

use serde::{Deserialize, Serialize};

pub use crate::bus::{Bus, Listener};
use crate::storage::UserId;
use crate::storage::chat::MeetupId;

/// What one instance tells the others about a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shout {
    /// A message the room stored, as its `message` frame.
    Message { meetup: MeetupId, seq: i64, frame: String },
    /// The room's notice changed. The receiving instance reads it from storage rather than taking
    /// a copy along: two changes published by different instances may arrive in either order.
    Notice { meetup: MeetupId },
    /// The member left the meetup: their connections hear the room no more (their sends are
    /// refused by storage, which checks membership as it stores them).
    Left { meetup: MeetupId, user: UserId },
    /// The meetup was deleted: everyone in its room is told and removed.
    Closed { meetup: MeetupId },
    /// Something may have been lost on the way: every subscriber of every room catches up from
    /// storage.
    CatchUp,
}

impl Shout {
    /// The room it is about; `None` for a catch-up, which is about every room.
    pub fn meetup(&self) -> Option<MeetupId> {
        match self {
            Self::Message { meetup, .. }
            | Self::Notice { meetup, .. }
            | Self::Left { meetup, .. }
            | Self::Closed { meetup } => Some(*meetup),
            Self::CatchUp => None,
        }
    }
}

impl crate::bus::Event for Shout {
    fn catch_up() -> Self {
        Self::CatchUp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_travels_as_tagged_json_and_comes_back_the_same() {
        let user = UserId::random();
        for shout in [
            Shout::Message { meetup: 7, seq: 3, frame: r#"{"type":"message"}"#.into() },
            Shout::Notice { meetup: 7 },
            Shout::Left { meetup: 7, user },
            Shout::Closed { meetup: 7 },
            Shout::CatchUp,
        ] {
            let text = serde_json::to_string(&shout).expect("encode");
            let back: Shout = serde_json::from_str(&text).expect("decode");
            assert_eq!(back, shout, "{text}");
        }
    }
}
