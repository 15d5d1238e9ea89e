//! Meetups, comments, likes and chat on the client (issue 4), working offline: reads come from the
//! server when it answers and from the local cache (`social-<user id>.sqlite`, one per account)
//! when it does not; writes go into an outbox first and reach the server in order, each exactly
//! once (HTTP writes carry an `Idempotency-Key`, chat messages a `client_id` the server
//! de-duplicates by), retried with backoff; a write the server refuses stays in the outbox with its
//! reason for the UI. Live chat runs on one WebSocket, replays from each room's replay mark after a
//! reconnect (a room's first open starts after its newest page) and keeps each message once.

mod cache;
mod chat;
mod chat_store;
mod http;
mod online;
mod outbox;
mod outbox_store;
pub(crate) mod socket;
mod types;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex as StdMutex};

use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};
use uuid::Uuid;

use crate::error::{ClientError, Result};
use crate::sync::Credentials;
use cache::{Cache, Listed, Page};
pub use online::{HISTORY_PAGE, Place, Role, Uploaded};
pub use socket::{Liveness, SERVER_PING_INTERVAL};
pub use types::{
    COMMENT_MAX_CHARS, ChatMessage, Listing, MESSAGE_MAX_CHARS, MeetupId, OutboxItem, Sender, SocialEvent, Sort, Write,
    kind,
};

/// How many pages of a meetup's comments are read at most (20 a page).
const COMMENTS_MAX_PAGES: usize = 50;

/// How a chat message sent on the live connection ended.
#[derive(Debug)]
enum Ack {
    Stored,
    Refused(String, String),
}

/// The live chat connection's parts the rest of the module uses.
#[derive(Default)]
struct Link {
    /// Rooms to follow on every connection.
    rooms: StdMutex<BTreeSet<MeetupId>>,
    /// Frames for the current connection, if one is up.
    out: StdMutex<Option<mpsc::UnboundedSender<String>>>,
    /// Chat messages sent and waiting for their ack, by client id. Dropped with the connection,
    /// which tells the outbox to send them again.
    acks: StdMutex<HashMap<String, oneshot::Sender<Ack>>>,
    /// Rooms whose subscribe was refused for a moment on this connection, with how many times in
    /// a row (their next try waits longer).
    refused: StdMutex<HashMap<MeetupId, u32>>,
    /// Rooms opened for the first time whose newest page is being fetched (they are subscribed
    /// once it is in).
    opening: StdMutex<BTreeSet<MeetupId>>,
}

impl Link {
    fn send(&self, frame: Value) -> bool {
        let out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.as_ref().is_some_and(|tx| tx.send(frame.to_string()).is_ok())
    }
}

struct Inner {
    cache: Cache,
    /// The account this cache and its outbox belong to; nothing is sent once another is signed in.
    owner: String,
    credentials: Arc<Credentials>,
    http: reqwest::Client,
    events: broadcast::Sender<SocialEvent>,
    /// Rung when the outbox has something new or the connection came back.
    wake: Notify,
    link: Link,
    online: watch::Sender<bool>,
    stop: watch::Sender<bool>,
    /// How long the live chat connection may take to open and stay silent.
    liveness: Liveness,
}

/// The social side of one signed-in device.
pub struct Social {
    inner: Arc<Inner>,
    tasks: tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Social {
    /// Opens the cache in `data_dir` for the account `credentials` speak for. Call
    /// [`Social::start`] to go online.
    ///
    /// Each account has its own cache and outbox: writes one account queued stay with it while
    /// another signs in on the device, and leave when it signs in again.
    pub async fn open(credentials: Arc<Credentials>, data_dir: &Path) -> Result<Social> {
        Self::open_with(credentials, data_dir, Liveness::default()).await
    }

    /// Like [`Social::open`], with the live chat connection given up after `liveness` (tests).
    pub async fn open_with(credentials: Arc<Credentials>, data_dir: &Path, liveness: Liveness) -> Result<Social> {
        let owner = credentials.session().await.ok_or(ClientError::SignedOut)?.user.id;
        let cache = Cache::open(&Self::cache_path(data_dir, &owner)).await?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            // A connection that cannot be made fails as such (a connect error), not as a timeout
            // of a request that may have been applied: the outbox tells the two apart.
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ClientError::Network(e.to_string()))?;
        let inner = Arc::new(Inner {
            cache,
            owner,
            credentials,
            http,
            events: broadcast::channel(1024).0,
            wake: Notify::new(),
            link: Link::default(),
            online: watch::channel(false).0,
            stop: watch::channel(false).0,
            liveness,
        });
        Ok(Social { inner, tasks: tokio::sync::Mutex::new(Vec::new()) })
    }

    /// Where the account `user_id`'s cache lives in `data_dir`.
    pub fn cache_path(data_dir: &Path, user_id: &str) -> std::path::PathBuf {
        let safe: String =
            user_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        data_dir.join(format!("social-{safe}.sqlite"))
    }

    /// Deletes the account `user_id`'s cache and outbox (the account is gone: its queued writes
    /// can never be sent). Call it with the social side of that account stopped.
    pub fn forget(data_dir: &Path, user_id: &str) -> Result<()> {
        let path = Self::cache_path(data_dir, user_id);
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ClientError::Storage(sqlx::Error::Io(e))),
            }
        }
        Ok(())
    }

    /// Starts the outbox and the live chat connection (both retry on their own until stopped).
    pub async fn start(&self) {
        let mut tasks = self.tasks.lock().await;
        if !tasks.is_empty() {
            return;
        }
        self.inner.stop.send_replace(false);
        tasks.push(tokio::spawn(outbox::run(self.inner.clone())));
        tasks.push(tokio::spawn(chat::run(self.inner.clone())));
    }

    /// Stops both tasks; queued writes stay queued.
    pub async fn stop(&self) {
        self.inner.stop.send_replace(true);
        for task in self.tasks.lock().await.drain(..) {
            let _ = task.await;
        }
    }

    /// Sends what the outbox holds now, without waiting out a backoff after an earlier failure.
    pub fn send_now(&self) {
        self.inner.wake.notify_one();
    }

    pub async fn close(self) {
        self.stop().await;
        self.inner.cache.close().await;
    }

    pub fn events(&self) -> broadcast::Receiver<SocialEvent> {
        self.inner.events.subscribe()
    }

    /// Whether the live chat connection is up.
    pub fn online(&self) -> watch::Receiver<bool> {
        self.inner.online.subscribe()
    }

    // --- reads ----------------------------------------------------------------------------------

    /// A page of meetups from the server (and cached), or every cached one when offline. A page of
    /// the newest also forgets the cached meetups it shows are gone (deleted, or their host's
    /// account is), so the offline list does not show them.
    pub async fn meetups(&self, sort: Sort, region: Option<&str>, cursor: Option<&str>) -> Result<Listing> {
        let mut query = vec![("sort", if sort == Sort::Likes { "likes" } else { "new" }.to_owned())];
        if let Some(region) = region {
            query.push(("region", region.to_owned()));
        }
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_owned()));
        }
        let asked_at = cache::now_ms();
        match http::get(&self.inner, "/v1/meetups", &query).await {
            Ok(page) => {
                let items = page["items"].as_array().cloned().unwrap_or_default();
                for meetup in &items {
                    self.inner.cache.put_listed(meetup, asked_at).await?;
                }
                let next_cursor = page["next_cursor"].as_str().map(str::to_owned);
                if sort == Sort::New {
                    let region = region.map(mingizuk_core::region::normalize_filter);
                    let page = Page { items: &items, first: cursor.is_none(), last: next_cursor.is_none() };
                    self.inner.cache.prune_newest(region.as_deref(), &page, asked_at).await?;
                }
                Ok(Listing { items, next_cursor, offline: false })
            }
            Err(e) if http::unavailable(&e) => {
                // Spelled as stored regions are, as the server does ("서울" → "서울특별시").
                let region = region.map(mingizuk_core::region::normalize_filter);
                let items = self.inner.cache.meetups(sort == Sort::Likes, region.as_deref()).await?;
                Ok(Listing { items, next_cursor: None, offline: true })
            }
            Err(e) => Err(e),
        }
    }

    /// One meetup, fresh from the server or as last cached.
    pub async fn meetup(&self, id: MeetupId) -> Result<Option<Value>> {
        match http::get(&self.inner, &format!("/v1/meetups/{id}"), &[]).await {
            Ok(meetup) => {
                self.inner.cache.put_meetup(&meetup).await?;
                Ok(Some(meetup))
            }
            Err(e) if http::unavailable(&e) => self.inner.cache.meetup(id).await,
            Err(ClientError::Server { status: 404, .. }) => {
                self.inner.cache.forget_meetup(id).await?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// A meetup's comments, oldest first, fresh (every page, up to `COMMENTS_MAX_PAGES`) or as
    /// last cached.
    pub async fn comments(&self, id: MeetupId) -> Result<Vec<Value>> {
        let asked_at = cache::now_ms();
        match self.pages(&format!("/v1/meetups/{id}/comments"), &[], COMMENTS_MAX_PAGES).await {
            Ok((items, complete)) => {
                let listed = if complete { Listed::All } else { Listed::Head };
                self.inner.cache.put_comments_listed(id, &items, listed, asked_at).await?;
                Ok(items)
            }
            Err(e) if http::unavailable(&e) => self.inner.cache.comments(id).await,
            Err(e) => Err(e),
        }
    }

    /// A room's messages seen so far, in sequence order (works offline).
    pub async fn messages(&self, id: MeetupId) -> Result<Vec<ChatMessage>> {
        self.inner.cache.messages(id).await
    }

    /// A room's notice as last pushed.
    pub async fn notice(&self, id: MeetupId) -> Result<Option<Value>> {
        self.inner.cache.notice(id).await
    }

    /// The writes not confirmed yet, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>> {
        self.inner.cache.outbox().await
    }

    /// Follows a room live, catching up on what it missed since its replay mark. The first time, the
    /// room's newest page comes over HTTP and the live stream starts after it: older history comes
    /// a page at a time as the user scrolls ([`Social::earlier_messages`]), never replayed whole.
    pub fn open_room(&self, id: MeetupId) {
        chat::follow(&self.inner, id);
    }

    /// The rooms this device follows live: those opened or joined, until the server says the user
    /// is no longer a member or the meetup is gone.
    pub fn followed_rooms(&self) -> Vec<MeetupId> {
        self.inner.link.rooms.lock().unwrap_or_else(|p| p.into_inner()).iter().copied().collect()
    }

    // --- writes (queued; each returns its outbox key) -------------------------------------------

    pub async fn create_meetup(&self, meetup: Value) -> Result<String> {
        self.queue_http(kind::CREATE_MEETUP, "POST", "/v1/meetups".into(), Some(meetup)).await
    }

    pub async fn edit_meetup(&self, id: MeetupId, changes: Value) -> Result<String> {
        self.queue_http(kind::EDIT_MEETUP, "PATCH", format!("/v1/meetups/{id}"), Some(changes)).await
    }

    pub async fn delete_meetup(&self, id: MeetupId) -> Result<String> {
        self.queue_http(kind::DELETE_MEETUP, "DELETE", format!("/v1/meetups/{id}"), None).await
    }

    pub async fn like(&self, id: MeetupId, liked: bool) -> Result<String> {
        let (write, method) = if liked { (kind::LIKE, "PUT") } else { (kind::UNLIKE, "DELETE") };
        self.queue_http(write, method, format!("/v1/meetups/{id}/like"), None).await
    }

    pub async fn comment(&self, id: MeetupId, text: &str) -> Result<String> {
        check_text(text, COMMENT_MAX_CHARS, "comment")?;
        self.queue_http(kind::COMMENT, "POST", format!("/v1/meetups/{id}/comments"), Some(json!({ "text": text })))
            .await
    }

    pub async fn join(&self, id: MeetupId) -> Result<String> {
        self.queue_http(kind::JOIN, "POST", format!("/v1/meetups/{id}/members"), None).await
    }

    pub async fn leave(&self, id: MeetupId) -> Result<String> {
        self.queue_http(kind::LEAVE, "DELETE", format!("/v1/meetups/{id}/members/me"), None).await
    }

    /// Queues a chat message; its key is the `client_id` the server acks and de-duplicates by.
    pub async fn send_message(&self, id: MeetupId, text: &str) -> Result<String> {
        check_text(text, MESSAGE_MAX_CHARS, "message")?;
        self.queue(Write::Message { meetup_id: id, text: text.to_owned() }).await
    }

    /// Forgets a refused write (the user read why).
    pub async fn dismiss(&self, key: &str) -> Result<()> {
        self.inner.cache.done(key).await
    }

    async fn queue_http(&self, kind: &str, method: &str, path: String, body: Option<Value>) -> Result<String> {
        self.queue(Write::Http { kind: kind.to_owned(), method: method.to_owned(), path, body }).await
    }

    async fn queue(&self, write: Write) -> Result<String> {
        let key = Uuid::new_v4().to_string();
        self.inner.cache.enqueue(&key, &write).await?;
        self.inner.wake.notify_one();
        Ok(key)
    }
}

fn check_text(text: &str, max: usize, what: &str) -> Result<()> {
    let chars = text.trim().chars().count();
    if chars == 0 || text.chars().count() > max {
        return Err(ClientError::Invalid(format!("a {what} is 1 to {max} characters")));
    }
    Ok(())
}
