//! A real server on 127.0.0.1 (both backends, fake geocoder on loopback) and signed-up devices
//! with their social side, for the client's social tests.
// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mingizuk_client::social::Social;
use mingizuk_client::{Cloud, Engine, ManualClock};
use mingizuk_server::chat::{Chat, Limits as ChatLimits};
use mingizuk_server::storage::UserId;
use mingizuk_server::storage::chat::{MessageKind, NewMessage, Sender};
use mingizuk_server::{AppState, Config};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::common::{self, TestDb};
use crate::fake_geocoder::FakeGeocoder;

pub const WAIT: Duration = Duration::from_secs(30);
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

pub struct World {
    pub url: String,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    _geocoder: FakeGeocoder,
    _dir: tempfile::TempDir,
}

pub async fn world(db: &TestDb) -> World {
    world_with(db, ChatLimits::default()).await
}

pub async fn world_with(db: &TestDb, chat: ChatLimits) -> World {
    let dir = tempfile::tempdir().unwrap();
    let geocoder = FakeGeocoder::start().await;
    let env: HashMap<String, String> = [
        ("MINGIZUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MINGIZUK_JWT_SECRET".to_owned(), "social-client-test-secret-of-32-bytes".to_owned()),
        ("MINGIZUK_GEOCODER_NOMINATIM_URL".to_owned(), geocoder.base_url.clone()),
        ("MINGIZUK_GEOCODER_TIMEOUT_MS".to_owned(), "2000".to_owned()),
    ]
    .into();
    let config = Config::from_sources(None, &env).unwrap();
    let mut state = AppState::new(config, db.shared());
    state.chat = Arc::new(Chat::new(db.shared(), chat, None).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = state.clone();
    tokio::spawn(async move {
        let _ = mingizuk_server::server::serve(listener, serving, async move {
            let _ = stopped.await;
        })
        .await;
    });
    World { url, state, stop: Some(stop), _geocoder: geocoder, _dir: dir }
}

impl World {
    /// Stops the server: from now on nothing answers.
    pub async fn go_away(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A signed-up device with its social side open (not started: these calls need no outbox).
pub struct Device {
    pub cloud: Cloud,
    pub social: Social,
    pub user: Sender,
    _dir: tempfile::TempDir,
}

pub async fn device(url: &str, name: &str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now().timestamp_millis(), 9 * 60));
    let engine = Arc::new(Engine::open(&dir.path().join("device.sqlite"), clock).await.unwrap());
    let cloud = Cloud::new(engine, url, dir.path()).unwrap();
    let info = cloud.sign_up(&format!("{name}@example.com"), "tiny daily squats", name).await.unwrap();
    cloud.pause().await;
    let social = Social::open(cloud.credentials(), dir.path()).await.unwrap();
    let user = Sender { id: UserId(info.id.parse().unwrap()), nickname: name.to_owned() };
    Device { cloud, social, user, _dir: dir }
}

pub async fn meetup(world: &World, host: UserId) -> i64 {
    common::meetup(&*world.state.storage, host, None, chrono::Duration::hours(24)).await
}

/// Runs the outbox until it is empty.
pub async fn deliver(device: &Device) {
    device.social.start().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !device.social.outbox().await.unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the outbox did not empty");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    device.social.stop().await;
}

pub fn ids(meetups: &[serde_json::Value]) -> Vec<i64> {
    meetups.iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

/// Stores a message in `meetup` as `sender` wrote it, behind the live relay's back.
pub async fn stored(world: &World, meetup: i64, sender: &Sender, text: &str) {
    let new =
        NewMessage { meetup_id: meetup, kind: MessageKind::Text, sender, client_id: Some(uuid::Uuid::new_v4()), text };
    world.state.storage.post_message(&new).await.unwrap();
}

/// Waits until the device's cache holds a message of every room in `rooms`.
pub async fn caught_up(device: &Device, rooms: &[i64]) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut all = true;
        for room in rooms {
            all &= !device.social.messages(*room).await.unwrap().is_empty();
        }
        if all || tokio::time::Instant::now() > deadline {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
