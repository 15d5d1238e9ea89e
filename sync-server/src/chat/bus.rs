//! Chat's events on the instances' Redis channel (`crate::bus`): what one instance publishes to its
//! own subscribers of a room — a stored message, a notice, a member removed, a deleted meetup — the
//! others hand to theirs. A connection fills a gap in a room's sequence from storage
//! (`connection.rs`), so a lost event only delays delivery; after a loss an instance can see, every
//! subscriber of every room catches up from storage. Order within a room comes from its sequence
//! numbers, not from the channel.

use std::sync::Weak;

use serde::{Deserialize, Serialize};

use super::frames::ErrorCode;
use super::rooms::{Event, Rooms};
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
    /// The account was deleted: its connections close.
    AccountDeleted { user: UserId },
    /// Something may have been lost on the way: every subscriber of every room catches up from
    /// storage.
    CatchUp,
}

impl Shout {
    /// The room it is about; `None` for a catch-up, which is about every room, and for an
    /// account's deletion, which is about its connections.
    pub fn meetup(&self) -> Option<MeetupId> {
        match self {
            Self::Message { meetup, .. }
            | Self::Notice { meetup, .. }
            | Self::Left { meetup, .. }
            | Self::Closed { meetup } => Some(*meetup),
            Self::CatchUp | Self::AccountDeleted { .. } => None,
        }
    }
}

impl crate::bus::Event for Shout {
    fn catch_up() -> Self {
        Self::CatchUp
    }
}

/// The rooms as the bus sees them: what another instance published goes to this instance's
/// subscribers of the room, if it has any (a room nobody here is in is not made for it).
pub(super) struct RemoteRooms(pub(super) Weak<Rooms>);

impl Listener<Shout> for RemoteRooms {
    fn hear(&self, shout: Shout) {
        let Some(rooms) = self.0.upgrade() else { return };
        if let Shout::AccountDeleted { user } = shout {
            rooms.connections().close_all_of(user);
            return;
        }
        let Some(meetup) = shout.meetup() else {
            for room in rooms.live() {
                room.publish(&Event::CatchUp(room.meetup));
            }
            return;
        };
        let Some(room) = rooms.existing(meetup) else { return };
        match shout {
            // Out of order or twice is fine: each connection fills gaps from storage and skips
            // what it sent already.
            Shout::Message { meetup, seq, frame } => room.publish(&Event::Message { meetup, seq, frame: frame.into() }),
            // Two changes made through different instances may cross on the way here: the room is
            // told the notice storage holds, read in the room's order after the change committed.
            Shout::Notice { .. } => {
                tokio::spawn(async move { rooms.notice_changed_elsewhere(&room).await });
            }
            Shout::Left { user, .. } => room.remove(Some(user), ErrorCode::NotMember),
            Shout::Closed { .. } => room.remove(None, ErrorCode::UnknownMeetup),
            Shout::CatchUp | Shout::AccountDeleted { .. } => {}
        }
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
            Shout::AccountDeleted { user },
            Shout::CatchUp,
        ] {
            let text = serde_json::to_string(&shout).expect("encode");
            let back: Shout = serde_json::from_str(&text).expect("decode");
            assert_eq!(back, shout, "{text}");
        }
    }
}
