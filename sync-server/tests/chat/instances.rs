//! Two server instances on one database, their rooms fanned out through the real Redis on
//! 127.0.0.1:6379 (`MINGIZUK_TEST_REDIS_URL` names another): members connected to different
//! instances hear each other live, the notice, a leave, a deletion and an account's deletion
//! cross over (a notice or a leave arriving late never undoes a newer state), an instance cut off
//! from Redis catches up from storage once it is back (messages, and a leave, the notice and a
//! deletion it missed), and a member who left through one instance cannot have a message stored
//! after their leave through another.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use mingizuk_server::chat::Limits;
use mingizuk_server::config::{RedisConfig, Secret};
use mingizuk_server::storage::chat::MessageKind;
use mingizuk_server::storage::{self, Storage};
use rand::Rng;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::client::{Client, Heard, PATIENCE, Person, Server};
use crate::common::TestDb;
use mingizuk_server::storage::chat::MeetupId;

fn redis_url() -> String {
    std::env::var("MINGIZUK_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A channel of this test alone, so tests running at once on one Redis do not hear each other.
fn channel() -> String {
    format!("mingizuk:test:{:016x}", rand::rng().random::<u64>())
}

fn bus(url: String, channel: &str) -> RedisConfig {
    RedisConfig { url: Secret::new(url), channel: channel.to_owned() }
}

/// The host's meetup, made through A, with Ana a member; the host's chat on A and Ana's on B, both
/// subscribed and caught up.
async fn room_across(a: &Server, b: &Server) -> (Person, Person, MeetupId, Client, Client) {
    let (host, ana) = (a.person("host").await, a.person("ana").await);
    let meetup = a.meetup(&host, Duration::days(1), None).await;
    assert_eq!(a.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await.0, 201);
    let (mut host_chat, mut ana_chat) = (a.connect(&host).await, b.connect(&ana).await);
    for chat in [&mut host_chat, &mut ana_chat] {
        chat.subscribe(meetup, 0).await;
        chat.quiet().await;
    }
    (host, ana, meetup, host_chat, ana_chat)
}

/// Instances A and B of one deployment on the test's database, each on its Redis bus if given; B
/// on a second handle of the database, as another process would open it (returned, for `close`).
async fn instances(db: &TestDb, a: Option<RedisConfig>, b: Option<RedisConfig>) -> (Server, Server, Arc<dyn Storage>) {
    let first = Server::start_instance(db.shared(), Limits::default(), a.as_ref()).await;
    let other = storage::open(db.url()).await.expect("open the database again");
    let second = Server::start_instance(Arc::clone(&other), Limits::default(), b.as_ref()).await;
    (first, second, other)
}

/// Stops instance B and closes its handle on the database.
async fn close(b: Server, other: Arc<dyn Storage>) {
    drop(b);
    other.close().await;
}

fn texts(frames: &[Value]) -> Vec<&str> {
    frames.iter().filter(|f| f["type"] == "message" && f["kind"] == "text").filter_map(|f| f["text"].as_str()).collect()
}

pub async fn members_on_two_instances_hear_each_other_through_redis(db: TestDb) {
    let channel = channel();
    let (a, b, other) = instances(&db, Some(bus(redis_url(), &channel)), Some(bus(redis_url(), &channel))).await;
    let (host, ana) = (a.person("host").await, a.person("ana").await);
    let meetup = a.meetup(&host, Duration::days(1), None).await;
    let mut host_chat = a.connect(&host).await;
    host_chat.subscribe(meetup, 0).await;
    host_chat.quiet().await;

    // Ana joins through instance B: the host, on A, sees her join message live.
    assert_eq!(b.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await.0, 201);
    let join = host_chat.next_of("message").await;
    assert_eq!((join["kind"].as_str(), join["seq"].as_i64()), (Some("join"), Some(1)));
    let mut ana_chat = b.connect(&ana).await;
    ana_chat.subscribe(meetup, 0).await;
    let replay = ana_chat.quiet().await;
    assert_eq!(replay.iter().filter(|f| f["type"] == "message").count(), 1, "{replay:?}");

    host_chat.say(meetup, "A에서 안녕").await;
    host_chat.next_of("ack").await;
    let heard = ana_chat.next_of("message").await;
    assert_eq!((heard["text"].as_str(), heard["seq"].as_i64()), (Some("A에서 안녕"), Some(2)));
    ana_chat.say(meetup, "B에서 반가워요").await;
    let heard = host_chat.next_of("message").await;
    assert_eq!((heard["text"].as_str(), heard["seq"].as_i64()), (Some("B에서 반가워요"), Some(3)));

    // The host sets the notice on A; Ana, on B, sees it.
    let notice = json!({ "text": "7시에 정문" });
    assert_eq!(a.call(&host, "PUT", &format!("/v1/meetups/{meetup}/notice"), Some(notice)).await.0, 200);
    assert_eq!(ana_chat.next_of("notice").await["notice"]["text"], "7시에 정문");

    // Ana leaves through A: her connection on B stops hearing the room, and says why.
    assert_eq!(a.call(&ana, "DELETE", &format!("/v1/meetups/{meetup}/members/me"), None).await.0, 204);
    let error = ana_chat.next_of("error").await;
    assert_eq!((error["code"].as_str(), error["meetup_id"].as_i64()), (Some("not_member"), Some(meetup)));
    host_chat.say(meetup, "다음에 봐요").await;
    host_chat.next_of("ack").await;
    assert!(texts(&ana_chat.quiet().await).is_empty(), "who left hears no more");

    // The host deletes the meetup through B: the room on A tells the host it is gone.
    assert_eq!(b.call(&host, "DELETE", &format!("/v1/meetups/{meetup}"), None).await.0, 204);
    let gone = host_chat.next_of("error").await;
    assert_eq!((gone["code"].as_str(), gone["meetup_id"].as_i64()), (Some("unknown_meetup"), Some(meetup)));

    // Ana deletes her account through A: her connection on B closes at once.
    assert_eq!(a.call(&ana, "DELETE", "/v1/me", None).await.0, 204);
    let closed = loop {
        if let Heard::Closed(code, reason) = ana_chat.hear().await {
            break (code, reason);
        }
    };
    assert_eq!(closed, (1008, "account_deleted".into()));
    close(b, other).await;
}

pub async fn an_instance_cut_off_from_redis_catches_up_from_storage_when_back(db: TestDb) {
    let channel = channel();
    let proxy = Proxy::start(redis_url()).await;
    let (a, b, other) = instances(&db, Some(bus(redis_url(), &channel)), Some(bus(proxy.url(), &channel))).await;
    let (_, _, meetup, mut host_chat, mut ana_chat) = room_across(&a, &b).await;
    host_chat.say(meetup, "하나").await;
    assert_eq!(ana_chat.next_of("message").await["text"], "하나", "B hears A through Redis");
    host_chat.quiet().await;

    // B loses Redis: what A publishes meanwhile never reaches B's subscriber. Back, B's
    // subscribers catch up from storage.
    proxy.cut().await;
    host_chat.say(meetup, "둘").await;
    host_chat.next_of("ack").await;
    assert!(texts(&ana_chat.quiet().await).is_empty(), "nothing arrives while B is cut off");
    proxy.heal();
    let missed = ana_chat.next_of("message").await;
    assert_eq!((missed["seq"].as_i64(), missed["text"].as_str()), (Some(3), Some("둘")));

    // B loses Redis again: what B's member says is stored and acknowledged, but B cannot publish
    // it. Back, B's publisher tells every instance it lost events, and A's subscribers catch up.
    proxy.cut().await;
    ana_chat.say(meetup, "셋").await;
    ana_chat.next_of("ack").await;
    assert!(texts(&host_chat.quiet().await).is_empty(), "A hears nothing from B while B is cut off");
    proxy.heal();
    let missed = host_chat.next_of("message").await;
    assert_eq!((missed["seq"].as_i64(), missed["text"].as_str()), (Some(4), Some("셋")));

    host_chat.say(meetup, "넷").await;
    let live = ana_chat.next_of("message").await;
    assert_eq!((live["seq"].as_i64(), live["text"].as_str()), (Some(5), Some("넷")), "and hears live again");
    assert!(texts(&ana_chat.quiet().await).is_empty(), "nothing twice");
    assert_eq!(texts(&host_chat.quiet().await), vec!["넷"], "nothing twice");
    close(b, other).await;
}

/// A leave, a notice and a deletion made through A while B is cut off from Redis never reach B's
/// room live; once B is back, its connections learn them from storage.
pub async fn a_leave_a_notice_and_a_deletion_lost_with_redis_reach_the_other_instance_when_back(db: TestDb) {
    let channel = channel();
    let proxy = Proxy::start(redis_url()).await;
    let (a, b, other) = instances(&db, Some(bus(redis_url(), &channel)), Some(bus(proxy.url(), &channel))).await;
    let (host, ana, bo) = (a.person("host").await, a.person("ana").await, a.person("bo").await);
    let meetup = a.meetup(&host, Duration::days(1), None).await;
    for member in [&ana, &bo] {
        assert_eq!(a.call(member, "POST", &format!("/v1/meetups/{meetup}/members"), None).await.0, 201);
    }
    let (mut ana_chat, mut bo_chat) = (b.connect(&ana).await, b.connect(&bo).await);
    for chat in [&mut ana_chat, &mut bo_chat] {
        chat.subscribe(meetup, 0).await;
        chat.quiet().await;
    }

    proxy.cut().await;
    assert_eq!(a.call(&ana, "DELETE", &format!("/v1/meetups/{meetup}/members/me"), None).await.0, 204);
    let notice = json!({ "text": "7시에 정문" });
    assert_eq!(a.call(&host, "PUT", &format!("/v1/meetups/{meetup}/notice"), Some(notice)).await.0, 200);
    assert!(bo_chat.quiet().await.is_empty(), "nothing arrives while B is cut off");
    proxy.heal();
    let error = ana_chat.next_of("error").await;
    assert_eq!((error["code"].as_str(), error["meetup_id"].as_i64()), (Some("not_member"), Some(meetup)));
    assert_eq!(bo_chat.next_of("notice").await["notice"]["text"], "7시에 정문");
    let leave = bo_chat.next_of("message").await;
    assert_eq!(leave["kind"], "leave", "and the messages missed");
    assert!(texts(&ana_chat.quiet().await).is_empty());

    proxy.cut().await;
    assert_eq!(a.call(&host, "DELETE", &format!("/v1/meetups/{meetup}"), None).await.0, 204);
    proxy.heal();
    let gone = bo_chat.next_of("error").await;
    assert_eq!((gone["code"].as_str(), gone["meetup_id"].as_i64()), (Some("unknown_meetup"), Some(meetup)));
    close(b, other).await;
}

/// Two changes of the notice made through different instances can reach a third in either order
/// (each instance publishes on its own Redis connection). The room is told the notice storage
/// holds, so a change arriving late never shows over the newer one.
pub async fn a_notice_change_arriving_late_from_another_instance_never_replaces_the_newer_one(db: TestDb) {
    let channel = channel();
    let (a, b, other) = instances(&db, Some(bus(redis_url(), &channel)), Some(bus(redis_url(), &channel))).await;
    let (host, ana) = (a.person("host").await, a.person("ana").await);
    let meetup = a.meetup(&host, Duration::days(1), None).await;
    assert_eq!(a.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await.0, 201);
    let mut ana_chat = b.connect(&ana).await;
    ana_chat.subscribe(meetup, 0).await;
    ana_chat.quiet().await;
    for text in ["6시에 정문", "7시에 정문"] {
        let notice = json!({ "text": text });
        assert_eq!(a.call(&host, "PUT", &format!("/v1/meetups/{meetup}/notice"), Some(notice)).await.0, 200);
        assert_eq!(ana_chat.next_of("notice").await["notice"]["text"], text);
    }

    // The first change's event once more, late, as a third instance would have published it:
    // with the notice frame as it was then.
    let stale = json!({ "type": "notice", "meetup_id": meetup, "notice": { "text": "6시에 정문", "at": "2026-01-01T00:00:00Z" } });
    publish(&channel, json!({ "kind": "notice", "meetup": meetup, "frame": stale.to_string() })).await;
    let notice = ana_chat.next_of("notice").await;
    assert_eq!(notice["notice"]["text"], "7시에 정문", "the notice as stored, not the late copy: {notice}");
    close(b, other).await;
}

/// Publishes `event` on the test's chat channel as a third instance would.
async fn publish(channel: &str, mut event: Value) {
    event["from"] = json!(uuid::Uuid::new_v4());
    let redis = redis::Client::open(redis_url()).expect("redis url");
    let mut publisher = redis.get_multiplexed_async_connection().await.expect("connect to redis");
    let heard: i64 = redis::cmd("PUBLISH")
        .arg(format!("{channel}:chat"))
        .arg(event.to_string())
        .query_async(&mut publisher)
        .await
        .expect("publish");
    assert!(heard >= 2, "both instances listen on the channel ({heard})");
}

/// Pub/sub is not ordered with storage: a leave another instance published can be heard after
/// the member joined again. Storage says they are a member, so their subscription goes on.
pub async fn a_leave_heard_after_the_member_joined_again_does_not_silence_the_room(db: TestDb) {
    let channel = channel();
    let (a, b, other) = instances(&db, Some(bus(redis_url(), &channel)), Some(bus(redis_url(), &channel))).await;
    let (_, ana, meetup, mut host_chat, mut ana_chat) = room_across(&a, &b).await;
    publish(&channel, json!({ "kind": "left", "meetup": meetup, "user": ana.sender.id })).await;
    host_chat.say(meetup, "아직 듣고 있죠?").await;
    host_chat.next_of("ack").await;
    loop {
        let frame = ana_chat.next().await;
        assert_ne!(frame["type"], "error", "the room ended for a member: {frame}");
        if frame["type"] == "message" && frame["text"] == "아직 듣고 있죠?" {
            break;
        }
    }
    close(b, other).await;
}

/// The worst case for a leave: two instances without Redis, so the one holding a member's send
/// hears nothing of the leave another committed, and its membership answer for her is fresh.
/// Storage checks membership as it stores the send: it is refused, nothing follows her leave.
pub async fn a_member_who_left_through_another_instance_says_nothing_after_their_leave(db: TestDb) {
    let (a, b, other) = instances(&db, None, None).await;
    let (host, ana) = (a.person("host").await, a.person("ana").await);
    let meetup = a.meetup(&host, Duration::days(1), None).await;
    assert_eq!(a.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await.0, 201);
    let mut ana_chat = a.connect(&ana).await;
    ana_chat.subscribe(meetup, 0).await;
    ana_chat.quiet().await;
    ana_chat.say(meetup, "곧 갈게요").await;
    ana_chat.next_of("ack").await;

    assert_eq!(b.call(&ana, "DELETE", &format!("/v1/meetups/{meetup}/members/me"), None).await.0, 204);
    let late = ana_chat.say(meetup, "아직 있어요?").await;
    let answer = loop {
        let frame = ana_chat.next().await;
        if frame["type"] != "message" {
            break frame;
        }
    };
    assert_eq!(
        (answer["type"].as_str(), answer["code"].as_str(), answer["meetup_id"].as_i64()),
        (Some("error"), Some("not_member"), Some(meetup)),
        "{answer}"
    );
    assert_eq!(answer["client_id"].as_str(), Some(late.to_string().as_str()));
    let stored = other.messages_after(meetup, 0, 50).await.expect("read the room");
    let kinds: Vec<(i64, MessageKind)> = stored.iter().map(|m| (m.seq, m.kind)).collect();
    assert_eq!(kinds, vec![(1, MessageKind::Join), (2, MessageKind::Text), (3, MessageKind::Leave)]);
    close(b, other).await;
}

/// A TCP relay on 127.0.0.1 in front of Redis that can be cut: while cut it closes every
/// connection it carries and every new one at once, as a network between an instance and Redis
/// failing would.
struct Proxy {
    address: std::net::SocketAddr,
    cut: watch::Sender<bool>,
    /// Connections being relayed.
    open: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let upstream = upstream.trim_start_matches("redis://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let address = listener.local_addr().expect("address");
        let (cut, watch) = watch::channel(false);
        let open = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&open);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *watch.borrow() {
                    continue; // Dropped: closed at once.
                }
                let upstream = upstream.clone();
                let mut watch = watch.clone();
                let open = Arc::clone(&counted);
                open.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = watch.wait_for(|cut| *cut) => {}
                        }
                    }
                    drop(client);
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Proxy { address, cut, open, _task: task }
    }

    fn url(&self) -> String {
        format!("redis://{}", self.address)
    }

    /// Cuts every connection and returns once all are closed.
    async fn cut(&self) {
        self.cut.send_replace(true);
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.open.load(Ordering::SeqCst) > 0 {
            assert!(tokio::time::Instant::now() < deadline, "the proxy's connections did not close");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    fn heal(&self) {
        self.cut.send_replace(false);
    }
}
