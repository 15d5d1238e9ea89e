//! Chat seen from a member in several rooms at once: every error about a room names that room, so
//! the app can show it where it belongs. And the edges of a member's standing: a resend after
//! leaving is acked, an account deleted with its chat open can no longer post and is soon
//! disconnected, a member who stops reading is cut off, and one who leaves and joins again while
//! their connection is busy keeps the room.

use chrono::Duration;
use mingizuk_server::chat::Limits;
use mingizuk_server::storage::chat::{MeetupId, MessageKind, NewMessage};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::client::{Client, Heard, Person, Server};
use crate::common::TestDb;

/// The host's meetup, ending in a day, with ana a member of it.
async fn ana_joined(server: &Server) -> (Person, Person, MeetupId) {
    let (host, ana) = (server.person("host").await, server.person("ana").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    assert_eq!(server.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await.0, 201);
    (host, ana, meetup)
}

/// The error's code, the room it names and the message it answers.
fn about(error: &Value) -> (Option<&str>, Option<i64>, Option<String>) {
    assert_eq!(error["type"], "error", "{error}");
    assert!(error.get("meetup_id").is_some(), "an error frame always carries meetup_id: {error}");
    (error["code"].as_str(), error["meetup_id"].as_i64(), error["client_id"].as_str().map(str::to_owned))
}

pub async fn an_error_frame_names_the_room_it_is_about(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, ana) = (server.person("host").await, server.person("ana").await);
    let joined = server.meetup(&host, Duration::days(1), None).await;
    let stranger = server.meetup(&host, Duration::days(1), None).await;
    let ended = server.meetup(&ana, Duration::hours(-1), None).await;
    assert_eq!(server.call(&ana, "POST", &format!("/v1/meetups/{joined}/members"), None).await.0, 201);
    let mut chat = server.connect(&ana).await;
    for room in [joined, ended] {
        chat.subscribe(room, 0).await;
        chat.next_of("notice").await;
    }

    chat.subscribe(stranger, 0).await;
    assert_eq!(about(&chat.next().await), (Some("not_member"), Some(stranger), None));
    let sent = chat.say(stranger, "들어가도 되나요").await.to_string();
    assert_eq!(about(&chat.next().await), (Some("not_member"), Some(stranger), Some(sent)));
    let sent = chat.say(ended, "벌써 끝났네요").await.to_string();
    assert_eq!(about(&chat.next().await), (Some("meetup_ended"), Some(ended), Some(sent)));
    let sent = chat.say(joined, "   ").await.to_string();
    assert_eq!(about(&chat.next().await), (Some("invalid_text"), Some(joined), Some(sent)));
    chat.subscribe(9_999, 0).await;
    assert_eq!(about(&chat.next().await), (Some("unknown_meetup"), Some(9_999), None));
    chat.raw(Frame::Text("{\"type\":\"shout\"}".into())).await;
    assert_eq!(about(&chat.next().await), (Some("invalid_frame"), None, None), "about no room");

    // The host deletes one of ana's rooms under her connection: she is told which one closed.
    assert_eq!(server.call(&host, "DELETE", &format!("/v1/meetups/{joined}"), None).await.0, 204);
    assert_eq!(about(&chat.next_of("error").await), (Some("unknown_meetup"), Some(joined), None));
}

pub async fn a_message_sent_after_a_nickname_change_shows_the_new_nickname(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, ana, meetup) = ana_joined(&server).await;
    let (mut host_chat, mut ana_chat) = (server.connect(&host).await, server.connect(&ana).await);
    for chat in [&mut host_chat, &mut ana_chat] {
        chat.subscribe(meetup, 0).await;
        chat.next_of("notice").await;
    }
    ana_chat.say(meetup, "안녕하세요").await;
    assert_eq!(host_chat.next_of("message").await["sender"]["nickname"], "ana");
    ana_chat.next_of("ack").await;

    // Ana renames herself and keeps talking on the connection she opened as "ana".
    let (status, body) = server.call(&ana, "PATCH", "/v1/me", Some(serde_json::json!({ "nickname": "아나" }))).await;
    assert_eq!((status, body["nickname"].as_str()), (200, Some("아나")), "{body}");
    let resent = ana_chat.say(meetup, "이름 바꿨어요").await;
    let heard = host_chat.next_of("message").await;
    assert_eq!((heard["text"].as_str(), heard["sender"]["nickname"].as_str()), (Some("이름 바꿨어요"), Some("아나")));
    assert_eq!(ana_chat.next_of("message").await["sender"]["nickname"], "아나", "she sees it too");
    ana_chat.next_of("ack").await;

    // A resend of that message is acked, not stored again, and history shows the name as it is now.
    ana_chat.send_as(meetup, resent, "이름 바꿨어요").await;
    ana_chat.next_of("ack").await;
    let (status, history) = server.call(&host, "GET", &format!("/v1/meetups/{meetup}/messages"), None).await;
    assert_eq!(status, 200, "{history}");
    let names: Vec<&str> = history["messages"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|m| m["kind"] == "text")
        .filter_map(|m| m["sender"]["nickname"].as_str())
        .collect();
    assert_eq!(names, vec!["아나", "아나"], "newest first, each under the current name");
}

/// A member who stops reading for good is cut off once a write to them has waited the write
/// timeout: the connection does not keep its room, its buffers and its task for as long as TCP
/// keeps it open. (One that reads again in time is told `too_slow` and replays: chat.rs.)
pub async fn a_member_who_stops_reading_for_good_is_cut_off(db: TestDb) {
    let write_timeout = std::time::Duration::from_secs(1);
    let limits = Limits { messages_per_second: 1e9, burst: 1e9, write_timeout, ..Limits::default() };
    let server = Server::start(&db, limits).await;
    let (host, ana, meetup) = ana_joined(&server).await;
    let mut stalled = server.connect_narrow(&ana).await;
    stalled.subscribe(meetup, 0).await;
    stalled.next_of("notice").await;
    let room = server.state.chat.rooms.room(meetup);
    assert_eq!(room.subscribers(), 1);

    // ana never reads again while the host writes more than the sockets' buffers hold.
    let mut host_chat = server.connect(&host).await;
    host_chat.flood(meetup).await;
    let deadline = tokio::time::Instant::now() + write_timeout * 10;
    while room.subscribers() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the stalled connection still holds the room");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(stalled);
}

/// A member whose ack was lost resends after leaving: the message was stored while they were a
/// member, so they get the same ack again, not a refusal; a new message is refused.
pub async fn a_resend_after_leaving_is_acked_not_refused(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, ana) = (server.person("host").await, server.person("ana").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    let members = format!("/v1/meetups/{meetup}/members");
    assert_eq!(server.call(&ana, "POST", &members, None).await.0, 201);
    let mut chat = server.connect(&ana).await;
    chat.subscribe(meetup, 0).await;
    chat.next_of("notice").await;
    let sent = chat.say(meetup, "나갈게요").await;
    let acked = chat.next_of("ack").await;
    assert_eq!(server.call(&ana, "DELETE", &format!("{members}/me"), None).await.0, 204);
    chat.send_as(meetup, sent, "나갈게요").await;
    assert_eq!(chat.next_of("ack").await, acked);
    let refused = chat.say(meetup, "새 메시지").await;
    // (The leave itself was told as an error frame with no client id.)
    let error = loop {
        let error = chat.next_of("error").await;
        if !error["client_id"].is_null() {
            break error;
        }
    };
    assert_eq!(about(&error), (Some("not_member"), Some(meetup), Some(refused.to_string())));
    let stored = server.storage().messages_after(meetup, 0, 10).await.expect("read");
    assert_eq!(stored.iter().filter(|m| m.text == "나갈게요").count(), 1, "stored once");
}

/// An account deleted while its chat connection is open is hidden from the room (PRODUCT.md §2):
/// that connection can no longer post in it or subscribe to it.
pub async fn an_account_deleted_with_its_chat_open_neither_posts_nor_subscribes(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (_, ana, meetup) = ana_joined(&server).await;
    let mut chat = server.connect(&ana).await;
    chat.subscribe(meetup, 0).await;
    chat.next_of("notice").await;
    chat.say(meetup, "곧 탈퇴해요").await;
    chat.next_of("ack").await;

    // Deleted where this instance does not hear of it (another instance, no Redis): until the
    // connection's next recheck of the account, storage refuses what it asks.
    server.storage().soft_delete_user(ana.sender.id).await.expect("delete the account");
    let after = chat.say(meetup, "탈퇴 후에 쓴 글").await;
    let error = chat.next_of("error").await;
    assert_eq!(about(&error), (Some("not_member"), Some(meetup), Some(after.to_string())));
    chat.subscribe(meetup, 0).await;
    assert_eq!(about(&chat.next_of("error").await), (Some("not_member"), Some(meetup), None));
    let stored = server.storage().messages_after(meetup, 0, 10).await.expect("read");
    assert!(stored.iter().all(|m| m.text != "탈퇴 후에 쓴 글"), "nothing stored after the deletion");
}

/// How the connection ended, skipping the frames before.
async fn closed(chat: &mut Client) -> (u16, String) {
    loop {
        match chat.hear().await {
            Heard::Closed(code, reason) => return (code, reason),
            Heard::Frame(_) => continue,
        }
    }
}

/// Deleting the account closes its chat connections at once, in a room or not (the periodic
/// recheck of the account is minutes away here).
pub async fn an_account_deleted_with_its_chat_open_is_disconnected(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (_, ana, meetup) = ana_joined(&server).await;
    let (mut in_room, mut idle) = (server.connect(&ana).await, server.connect(&ana).await);
    in_room.subscribe(meetup, 0).await;
    in_room.next_of("notice").await;
    assert_eq!(server.call(&ana, "DELETE", "/v1/me", None).await.0, 204);
    for chat in [&mut in_room, &mut idle] {
        assert_eq!(closed(chat).await, (1008, "account_deleted".into()));
    }
}

/// An account deleted where this instance does not hear of it (another instance, no Redis): the
/// connection finds out at its next recheck of the account.
pub async fn a_connection_finds_its_account_deleted_elsewhere_at_its_next_recheck(db: TestDb) {
    let limits = Limits { account_recheck: std::time::Duration::from_millis(200), ..Limits::default() };
    let server = Server::start(&db, limits).await;
    let (_, ana, meetup) = ana_joined(&server).await;
    let mut chat = server.connect(&ana).await;
    chat.subscribe(meetup, 0).await;
    chat.next_of("notice").await;
    server.storage().soft_delete_user(ana.sender.id).await.expect("delete the account");
    assert_eq!(closed(&mut chat).await, (1008, "account_deleted".into()));
}

/// A member who leaves and joins again while their connection is busy with another room (a long
/// replay) and then subscribes once more keeps hearing the room: the leave's removal, handled
/// after that subscribe, is stale and must not end it. Each round is a coin toss of which the
/// connection handles first, so several rounds are played.
pub async fn a_member_who_leaves_and_joins_again_while_their_connection_is_busy_keeps_hearing_the_room(db: TestDb) {
    let server = Server::start(&db, Limits { burst: 1_000.0, ..Limits::default() }).await;
    let (host, ana, meetup) = ana_joined(&server).await;
    let busy = server.meetup(&host, Duration::days(1), None).await;
    assert_eq!(server.call(&ana, "POST", &format!("/v1/meetups/{busy}/members"), None).await.0, 201);
    for batch in 0..16 {
        let texts: Vec<String> = (0..250).map(|n| format!("기록 {batch}-{n}")).collect();
        let new: Vec<NewMessage<'_>> = texts
            .iter()
            .map(|text| NewMessage {
                meetup_id: busy,
                kind: MessageKind::Text,
                sender: &host.sender,
                client_id: Some(uuid::Uuid::new_v4()),
                text,
            })
            .collect();
        server.storage().post_messages(&new).await.expect("a long history");
    }
    let mut host_chat = server.connect(&host).await;
    let mut ana_chat = server.connect(&ana).await;
    ana_chat.subscribe(meetup, 0).await;
    ana_chat.quiet().await;
    let membership = format!("/v1/meetups/{meetup}/members");
    for round in 0..8 {
        // The connection replays 4 000 messages of the other room meanwhile.
        ana_chat.subscribe(busy, 0).await;
        assert_eq!(server.call(&ana, "DELETE", &format!("{membership}/me"), None).await.0, 204);
        assert_eq!(server.call(&ana, "POST", &membership, None).await.0, 201);
        ana_chat.subscribe(meetup, 0).await;
        ana_chat.quiet().await;
        let said = format!("{round}번째");
        host_chat.say(meetup, &said).await;
        loop {
            let heard = ana_chat.next_of("message").await;
            if heard["meetup_id"] == meetup && heard["text"] == said.as_str() {
                break;
            }
        }
    }
}

pub async fn an_account_holds_a_bounded_number_of_chat_connections(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let ana = server.person("ana").await;
    let mut open = Vec::new();
    for _ in 0..mingizuk_server::sync::MAX_CONNECTIONS_PER_ACCOUNT {
        open.push(server.connect(&ana).await);
    }
    assert_eq!(server.open(Some(&ana.token), "").await.err(), Some((429, "too_many_connections".into())));
    assert!(server.open(Some(&server.person("bo").await.token), "").await.is_ok(), "counted per account");
    drop(open.pop());
    let mut reopened = false;
    for _ in 0..100 {
        if server.open(Some(&ana.token), "").await.is_ok() {
            reopened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(reopened, "a closed connection's place is given back");
}
