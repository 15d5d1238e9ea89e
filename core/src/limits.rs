//! Every number of the product rules, named once. The client, the server and the UI read them
//! from here; nothing else may repeat them as literals.

/// Routine names: 1–30 Unicode characters.
pub const ROUTINE_NAME_MAX_CHARS: usize = 30;
/// A routine holds 1–5 actions.
pub const ROUTINE_MAX_ACTIONS: usize = 5;
/// Each action of a routine is repeated 1–99 times.
pub const ACTION_COUNT_MIN: u8 = 1;
pub const ACTION_COUNT_MAX: u8 = 99;

/// Exp for one completed action.
pub const EXP_PER_ACTION: u32 = 100;
/// Bonus per action of a routine when the whole routine (one cycle) is completed.
pub const ROUTINE_BONUS_PER_ACTION: u32 = 20;
/// Exp earned per local calendar day is clamped to this.
pub const DAILY_EXP_CAP: u32 = 2_000;

/// Exp per character level: level = 1 + exp / EXP_PER_LEVEL.
pub const EXP_PER_LEVEL: u32 = 10_000;
pub const MAX_LEVEL: u32 = 10;
/// A character with this much exp is complete and moves to the collection.
pub const CHARACTER_COMPLETE_EXP: u32 = 100_000;

/// Nicknames: 1–8 Unicode characters (accounts; used by the server).
pub const NICKNAME_MAX_CHARS: usize = 8;
/// Emails: at most 254 characters.
pub const EMAIL_MAX_CHARS: usize = 254;
/// Passwords: 8–64 characters.
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 64;

/// Meetup titles: 1–30 characters; contents: at most 500 (PRODUCT.md §6).
pub const MEETUP_TITLE_MAX_CHARS: usize = 30;
pub const MEETUP_CONTENTS_MAX_CHARS: usize = 500;
/// A member limit counts the host, so a meetup of fewer than two is no meetup. The upper bound only
/// keeps the number sane.
pub const MEETUP_MEMBER_LIMIT_MIN: u32 = 2;
pub const MEETUP_MEMBER_LIMIT_MAX: u32 = 1_000;
/// A meetup's place name and address, as a place search returns them.
pub const PLACE_NAME_MAX_CHARS: usize = 100;
pub const ADDRESS_MAX_CHARS: usize = 200;
/// Meetup comments: 1–50 characters.
pub const COMMENT_MAX_CHARS: usize = 50;
/// Meetups and comments per page of a list.
pub const MEETUPS_PAGE_SIZE: u32 = 20;

/// Seconds the player's timer runs before "complete" is offered.
pub const PLAYER_TIMER_SECONDS: u32 = 5;
/// Days in one page of the weekly chart.
pub const WEEK_DAYS: i64 = 7;

/// Meetup chat messages and the room's notice: 1–250 characters (leading and trailing blanks
/// do not count).
pub const CHAT_TEXT_MAX_CHARS: usize = 250;
/// Chat history is shown this many messages at a time, newest first.
pub const CHAT_HISTORY_PAGE: u32 = 50;
/// A place search (`GET /v1/places?q=`) is 1–100 characters.
pub const PLACE_QUERY_MAX_CHARS: usize = 100;

/// An export file to import is at most this many bytes (a year of heavy use is well under 2 MB).
pub const IMPORT_MAX_BYTES: usize = 32 * 1024 * 1024;

/// How often the server pings every WebSocket (`/v1/sync`, `/v1/chat`) by default; a client that
/// hears nothing for a few of these takes its connection for lost.
pub const WEBSOCKET_PING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
