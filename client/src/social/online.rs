//! The social calls that only make sense online and at once, so they skip the outbox: "my
//! meetups" and "my comments" (the meetups are kept for offline reading), older chat history (and
//! the newest page a room's first subscribe starts after), editing and deleting a comment, the
//! room's notice, place search and image upload. A call made offline fails with `network_failed`
//! (except the meetup lists, read from the cache).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{COMMENT_MAX_CHARS, ChatMessage, Inner, MESSAGE_MAX_CHARS, MeetupId, Social, check_text, http};
use crate::error::{ClientError, Result};

/// How many pages of a "my …" list are read at most (20 items a page).
const MINE_MAX_PAGES: usize = 10;
/// Chat history is read this many messages at a time (PRODUCT.md §7).
pub const HISTORY_PAGE: u32 = mingizuk_core::limits::CHAT_HISTORY_PAGE;

/// Which of the user's meetups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Host,
    Member,
    Liked,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Host => "host",
            Role::Member => "member",
            Role::Liked => "liked",
        }
    }
}

/// The page of `id`'s chat history before `before_seq`, oldest first (not cached).
pub(super) async fn history_page(inner: &Inner, id: MeetupId, before_seq: i64) -> Result<Vec<ChatMessage>> {
    let query = [("before_seq", before_seq.to_string()), ("limit", HISTORY_PAGE.to_string())];
    let page = http::get(inner, &format!("/v1/meetups/{id}/messages"), &query).await?;
    let mut messages =
        serde_json::from_value::<History>(page).map_err(|e| ClientError::Network(e.to_string()))?.messages;
    messages.reverse();
    Ok(messages)
}

/// A place found by the server's geocoder.
pub use mingizuk_core::place::Place;

/// An image the server keeps: put its `id` in a meetup's `image_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub id: Uuid,
    pub url: String,
}

#[derive(Deserialize)]
struct History {
    messages: Vec<ChatMessage>,
}

impl Social {
    /// The meetups the user hosts, joined or liked, fresh (and cached) or as last listed.
    pub async fn my_meetups(&self, role: Role) -> Result<Vec<Value>> {
        let asked_at = super::cache::now_ms();
        match self.all_pages("/v1/me/meetups", &[("role", role.as_str().to_owned())], MINE_MAX_PAGES).await {
            Ok(items) => {
                self.inner.cache.put_mine(role.as_str(), &items, asked_at).await?;
                Ok(items)
            }
            Err(e) if http::unavailable(&e) => self.inner.cache.mine(role.as_str()).await,
            Err(e) => Err(e),
        }
    }

    /// The meetups the user hosts, joined or liked as last listed (never asks the server).
    pub async fn my_meetups_cached(&self, role: Role) -> Result<Vec<Value>> {
        self.inner.cache.mine(role.as_str()).await
    }

    /// The user's own comments, newest first (online only).
    pub async fn my_comments(&self) -> Result<Vec<Value>> {
        self.all_pages("/v1/me/comments", &[], MINE_MAX_PAGES).await
    }

    /// The items of a paged list, following its cursors for at most `max_pages` pages.
    pub(super) async fn all_pages(&self, path: &str, query: &[(&str, String)], max_pages: usize) -> Result<Vec<Value>> {
        Ok(self.pages(path, query, max_pages).await?.0)
    }

    /// As `all_pages`, and whether the list ended within those pages (it holds every item).
    pub(super) async fn pages(
        &self,
        path: &str,
        query: &[(&str, String)],
        max_pages: usize,
    ) -> Result<(Vec<Value>, bool)> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..max_pages {
            let mut params = query.to_vec();
            if let Some(cursor) = cursor.take() {
                params.push(("cursor", cursor));
            }
            let page = http::get(&self.inner, path, &params).await?;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok((items, true)),
            }
        }
        Ok((items, false))
    }

    /// The page of chat history before `before_seq` (oldest first), kept in the cache too.
    pub async fn older_messages(&self, id: MeetupId, before_seq: i64) -> Result<Vec<ChatMessage>> {
        let messages = history_page(&self.inner, id, before_seq).await?;
        for message in &messages {
            self.inner.cache.put_message(message).await?;
        }
        Ok(messages)
    }

    /// The page of chat history just below what the cache holds without a hole at the room's
    /// newest end (oldest first; the newest page for a room with nothing cached), kept in the cache
    /// too. Scrolling up with it fills the cache from the newest message down, holes included,
    /// whatever the screen shows; empty once the cache holds the room's history from its first
    /// message.
    pub async fn earlier_messages(&self, id: MeetupId) -> Result<Vec<ChatMessage>> {
        let before_seq = self.inner.cache.unbroken_from(id).await?.unwrap_or(i64::MAX);
        if before_seq <= 1 {
            return Ok(Vec::new());
        }
        self.older_messages(id, before_seq).await
    }

    /// Edits one of the user's comments; returns it as the server keeps it.
    pub async fn edit_comment(&self, comment: i64, text: &str) -> Result<Value> {
        check_text(text, COMMENT_MAX_CHARS, "comment")?;
        let body = json!({ "text": text });
        let edited = http::request(&self.inner, Method::PATCH, &format!("/v1/comments/{comment}"), Some(&body)).await?;
        if let Some(meetup) = edited["meetup_id"].as_i64() {
            self.inner.cache.put_comments(meetup, std::slice::from_ref(&edited)).await?;
        }
        Ok(edited)
    }

    pub async fn delete_comment(&self, comment: i64) -> Result<()> {
        http::request(&self.inner, Method::DELETE, &format!("/v1/comments/{comment}"), None).await?;
        self.inner.cache.forget_comment(comment).await
    }

    /// Sets (or with `None` removes) the room's notice; only the host may. The room hears of it
    /// live, this device included.
    pub async fn set_notice(&self, id: MeetupId, text: Option<&str>) -> Result<()> {
        let path = format!("/v1/meetups/{id}/notice");
        match text {
            Some(text) => {
                check_text(text, MESSAGE_MAX_CHARS, "notice")?;
                let answer = http::request(&self.inner, Method::PUT, &path, Some(&json!({ "text": text }))).await?;
                self.inner.cache.put_notice(id, &answer["notice"]).await
            }
            None => {
                http::request(&self.inner, Method::DELETE, &path, None).await?;
                self.inner.cache.put_notice(id, &Value::Null).await
            }
        }
    }

    /// Places matching `q`, through the server's geocoder.
    pub async fn search_places(&self, q: &str) -> Result<Vec<Place>> {
        let found = http::get(&self.inner, "/v1/places", &[("q", q.to_owned())]).await?;
        serde_json::from_value(found).map_err(|e| ClientError::Network(e.to_string()))
    }

    /// Uploads a meetup image (JPEG, PNG or WebP; the server checks the bytes and the size).
    pub async fn upload_image(&self, bytes: &[u8], content_type: &str) -> Result<Uploaded> {
        let answer = http::upload(&self.inner, "/v1/media", bytes, content_type).await?;
        serde_json::from_value(answer).map_err(|e| ClientError::Network(e.to_string()))
    }
}
