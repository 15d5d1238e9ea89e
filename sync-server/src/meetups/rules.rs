//! The meetup and comment rules of PRODUCT.md §6 checked on the server, each refusal with its own
//! stable code: 400 for what the request alone gets wrong, 422 (`member_limit_below_members`,
//! `unknown_image`) for what breaks a rule of the stored data. Limits come from
//! `mingizuk_core::limits`; the region is derived from the address with `mingizuk_core::region`.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use mingizuk_core::limits::{
    ADDRESS_MAX_CHARS, COMMENT_MAX_CHARS, MEETUP_CONTENTS_MAX_CHARS, MEETUP_MEMBER_LIMIT_MAX, MEETUP_MEMBER_LIMIT_MIN,
    MEETUP_TITLE_MAX_CHARS, PLACE_NAME_MAX_CHARS,
};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use crate::error::ApiError;
use crate::storage::UserId;
use crate::storage::meetups::{Meetup, NewMeetup};

/// A request the rules refuse before anything is read or written: 400 with `code`.
pub fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Rule { status: StatusCode::BAD_REQUEST, code, message: message.into() }
}

/// Where a meetup happens, as a place search gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    pub place_name: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
}

/// A meetup as a client writes it (`POST /v1/meetups`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetupBody {
    pub title: String,
    #[serde(default)]
    pub contents: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub member_limit: Option<u32>,
    #[serde(default)]
    pub image_id: Option<Uuid>,
    pub location: LocationBody,
}

/// A partial edit (`PATCH /v1/meetups/{id}`): absent fields stay; `member_limit` and `image_id`
/// set to `null` remove the limit or the image.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetupPatch {
    pub title: Option<String>,
    pub contents: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "present")]
    pub member_limit: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    pub image_id: Option<Option<Uuid>>,
    pub location: Option<LocationBody>,
}

/// A field that is present, even as `null` (absent fields take the `default`, `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A comment as a client writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub text: String,
}

/// Checks a written meetup and gives what storage keeps: trimmed texts and the derived region.
pub fn new_meetup(host: UserId, body: MeetupBody) -> Result<NewMeetup, ApiError> {
    let title = body.title.trim();
    if title.is_empty() || title.chars().count() > MEETUP_TITLE_MAX_CHARS {
        return Err(invalid("invalid_title", format!("the title must be 1 to {MEETUP_TITLE_MAX_CHARS} characters")));
    }
    let contents = body.contents.trim();
    if contents.chars().count() > MEETUP_CONTENTS_MAX_CHARS {
        let message = format!("the contents must be at most {MEETUP_CONTENTS_MAX_CHARS} characters");
        return Err(invalid("invalid_contents", message));
    }
    if body.starts_at > body.ends_at {
        return Err(invalid("invalid_period", "the meetup must start before it ends"));
    }
    if let Some(limit) = body.member_limit.filter(|l| !(MEETUP_MEMBER_LIMIT_MIN..=MEETUP_MEMBER_LIMIT_MAX).contains(l))
    {
        let message = format!(
            "the member limit (host included) must be {MEETUP_MEMBER_LIMIT_MIN} to {MEETUP_MEMBER_LIMIT_MAX}, not {limit}"
        );
        return Err(invalid("invalid_member_limit", message));
    }
    let location = body.location;
    let place_name = location.place_name.trim();
    if place_name.is_empty() || place_name.chars().count() > PLACE_NAME_MAX_CHARS {
        let message = format!("the place name must be 1 to {PLACE_NAME_MAX_CHARS} characters");
        return Err(invalid("invalid_place_name", message));
    }
    let address = location.address.trim();
    // A meetup's address names its 시·군·구 too (세종 has none): a bare 시·도 is not a place.
    let region = mingizuk_core::region::region_of(address)
        .filter(|region| mingizuk_core::region::is_whole(region))
        .filter(|_| address.chars().count() <= ADDRESS_MAX_CHARS)
        .ok_or_else(|| {
            let message = format!(
                "the address must be at most {ADDRESS_MAX_CHARS} characters and start with a 시·도 and a 시·군·구"
            );
            invalid("invalid_address", message)
        })?;
    let (lat, lng) = (location.lat, location.lng);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) {
        return Err(invalid("invalid_coordinates", "lat must be within ±90 and lng within ±180"));
    }
    Ok(NewMeetup {
        host,
        title: title.to_owned(),
        contents: contents.to_owned(),
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        member_limit: body.member_limit,
        image_id: body.image_id,
        place_name: place_name.to_owned(),
        address: address.to_owned(),
        lat,
        lng,
        region,
    })
}

/// The meetup `current` becomes with `patch`, checked as a whole like a new one.
pub fn edited_meetup(editor: UserId, current: &Meetup, patch: MeetupPatch) -> Result<NewMeetup, ApiError> {
    let location = patch.location.unwrap_or_else(|| LocationBody {
        place_name: current.place_name.clone(),
        address: current.address.clone(),
        lat: current.lat,
        lng: current.lng,
    });
    let body = MeetupBody {
        title: patch.title.unwrap_or_else(|| current.title.clone()),
        contents: patch.contents.unwrap_or_else(|| current.contents.clone()),
        starts_at: patch.starts_at.unwrap_or(current.starts_at),
        ends_at: patch.ends_at.unwrap_or(current.ends_at),
        member_limit: patch.member_limit.unwrap_or(current.member_limit),
        image_id: patch.image_id.unwrap_or(current.image_id),
        location,
    };
    new_meetup(editor, body)
}

/// A comment's text, trimmed: 1 to 50 characters.
pub fn comment_text(body: &CommentBody) -> Result<&str, ApiError> {
    let text = body.text.trim();
    if text.is_empty() || text.chars().count() > COMMENT_MAX_CHARS {
        return Err(invalid("invalid_comment", format!("a comment must be 1 to {COMMENT_MAX_CHARS} characters")));
    }
    Ok(text)
}
