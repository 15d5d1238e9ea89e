//! Meetup chat seen from real WebSocket and HTTP clients on 127.0.0.1, on SQLite and MySQL/MariaDB:
//! who may open `/v1/chat` (and how many connections at once), subscribe and send; live delivery
//! in order; resends; replay; join and leave messages; the notice; history pages; limits; a chaos
//! run where members drop and reconnect while thousands of messages flow; two instances via Redis.

#[macro_use]
mod common;
#[path = "chat/chaos.rs"]
mod chaos;
#[path = "chat/client.rs"]
mod client;
#[path = "chat/instances.rs"]
mod instances;
#[path = "chat/rooms.rs"]
mod rooms;

use chaos::members_dropping_and_reconnecting_at_random_miss_nothing_while_thousands_of_messages_flow;
use chrono::Duration;
use client::{Heard, Server};
use common::TestDb;
use instances::{
    a_leave_a_notice_and_a_deletion_lost_with_redis_reach_the_other_instance_when_back,
    a_leave_heard_after_the_member_joined_again_does_not_silence_the_room,
    a_member_who_left_through_another_instance_says_nothing_after_their_leave,
    a_notice_change_arriving_late_from_another_instance_never_replaces_the_newer_one,
    an_instance_cut_off_from_redis_catches_up_from_storage_when_back,
    members_on_two_instances_hear_each_other_through_redis,
};
use mingizuk_server::chat::Limits;
use rooms::{
    a_connection_finds_its_account_deleted_elsewhere_at_its_next_recheck,
    a_member_who_leaves_and_joins_again_while_their_connection_is_busy_keeps_hearing_the_room,
    a_member_who_stops_reading_for_good_is_cut_off, a_message_sent_after_a_nickname_change_shows_the_new_nickname,
    a_resend_after_leaving_is_acked_not_refused, an_account_deleted_with_its_chat_open_is_disconnected,
    an_account_deleted_with_its_chat_open_neither_posts_nor_subscribes,
    an_account_holds_a_bounded_number_of_chat_connections, an_error_frame_names_the_room_it_is_about,
};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame as RawFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

conformance!(
    only_signed_in_people_open_the_chat,
    members_receive_messages_live_in_sequence_order,
    a_non_member_cannot_subscribe_or_send,
    an_ended_meetups_room_is_read_only,
    a_resent_message_is_stored_once_and_acked_twice,
    a_resend_after_leaving_is_acked_not_refused,
    an_account_deleted_with_its_chat_open_neither_posts_nor_subscribes,
    an_account_deleted_with_its_chat_open_is_disconnected,
    a_connection_finds_its_account_deleted_elsewhere_at_its_next_recheck,
    a_reconnecting_member_replays_what_they_missed_from_their_last_seq,
    joining_and_leaving_post_system_messages_live_and_who_left_hears_no_more,
    the_host_alone_sets_replaces_and_deletes_the_notice_and_members_see_it_live,
    history_comes_in_pages_newest_first_to_members_only,
    a_flood_is_rate_limited_and_an_oversized_frame_closes_the_connection,
    a_member_too_slow_for_the_room_is_disconnected_and_replays_without_a_gap,
    a_member_who_stops_reading_for_good_is_cut_off,
    a_closed_room_for_a_deleted_meetup_tells_its_members_and_goes_quiet,
    a_silent_connection_is_closed_after_the_idle_timeout,
    members_dropping_and_reconnecting_at_random_miss_nothing_while_thousands_of_messages_flow,
    an_error_frame_names_the_room_it_is_about,
    a_member_who_leaves_and_joins_again_while_their_connection_is_busy_keeps_hearing_the_room,
    a_message_sent_after_a_nickname_change_shows_the_new_nickname,
    members_on_two_instances_hear_each_other_through_redis,
    an_instance_cut_off_from_redis_catches_up_from_storage_when_back,
    a_leave_a_notice_and_a_deletion_lost_with_redis_reach_the_other_instance_when_back,
    a_member_who_left_through_another_instance_says_nothing_after_their_leave,
    a_notice_change_arriving_late_from_another_instance_never_replaces_the_newer_one,
    a_leave_heard_after_the_member_joined_again_does_not_silence_the_room,
    an_account_holds_a_bounded_number_of_chat_connections,
);

fn seqs(frames: &[Value]) -> Vec<i64> {
    frames.iter().filter(|f| f["type"] == "message").filter_map(|f| f["seq"].as_i64()).collect()
}

async fn only_signed_in_people_open_the_chat(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    assert_eq!(server.open(None, "").await.err(), Some((401, "unauthenticated".into())));
    assert_eq!(server.open(Some("not-a-token"), "").await.err(), Some((401, "invalid_token".into())));
    assert_eq!(server.open(None, "?ticket=made-up").await.err(), Some((401, "invalid_ticket".into())));
    let ana = server.person("ana").await;
    let (status, body) = server.call(&ana, "POST", "/v1/ws-ticket", None).await;
    assert_eq!(status, 201);
    let ticket = body["ticket"].as_str().expect("ticket").to_owned();
    assert!(server.open(None, &format!("?ticket={ticket}")).await.is_ok(), "a ticket opens the chat once");
    assert_eq!(server.open(None, &format!("?ticket={ticket}")).await.err(), Some((401, "invalid_ticket".into())));
}

async fn members_receive_messages_live_in_sequence_order(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, ana) = (server.person("host").await, server.person("ana").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    assert_eq!(server.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await.0, 201);
    let (mut host_chat, mut ana_chat) = (server.connect(&host).await, server.connect(&ana).await);
    for chat in [&mut host_chat, &mut ana_chat] {
        chat.subscribe(meetup, 0).await;
        // Each hears what is stored (the join message) and the notice (none yet).
        let heard = chat.quiet().await;
        assert_eq!(seqs(&heard), vec![1]);
        assert!(heard.iter().any(|f| f["type"] == "notice" && f["notice"].is_null()), "{heard:?}");
    }
    let ana_id = ana_chat.say(meetup, "  안녕하세요  ").await;
    let mut ana_heard = ana_chat.quiet().await;
    let host_id = host_chat.say(meetup, "반가워요").await;
    ana_heard.extend(ana_chat.quiet().await);
    let host_heard = host_chat.quiet().await;
    let ack = ana_heard.iter().find(|f| f["type"] == "ack").expect("ana's ack");
    assert_eq!((ack["client_id"].as_str(), ack["meetup_id"].as_i64()), (Some(&*ana_id.to_string()), Some(meetup)));
    assert_eq!(ack["seq"], 2);
    for heard in [host_heard, ana_heard] {
        let messages: Vec<&Value> = heard.iter().filter(|f| f["type"] == "message").collect();
        assert_eq!(seqs(&heard), vec![2, 3]);
        let first = messages[0];
        assert_eq!((first["text"].as_str(), first["kind"].as_str()), (Some("안녕하세요"), Some("text")));
        assert_eq!(first["sender"], json!({ "id": ana.sender.id, "nickname": "ana" }));
        assert_eq!(first["client_id"].as_str(), Some(&*ana_id.to_string()));
        assert!(first["at"].as_str().is_some_and(|at| chrono::DateTime::parse_from_rfc3339(at).is_ok()));
        assert_eq!(messages[1]["client_id"].as_str(), Some(&*host_id.to_string()));
    }
}

async fn a_non_member_cannot_subscribe_or_send(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, eve) = (server.person("host").await, server.person("eve").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    let mut eve_chat = server.connect(&eve).await;
    eve_chat.subscribe(meetup, 0).await;
    assert_eq!(eve_chat.next().await["code"], "not_member");
    let client_id = eve_chat.say(meetup, "몰래 들어왔어요").await;
    let error = eve_chat.next().await;
    assert_eq!(
        (error["code"].as_str(), error["client_id"].as_str()),
        (Some("not_member"), Some(&*client_id.to_string()))
    );
    eve_chat.subscribe(9_999, 0).await;
    assert_eq!(eve_chat.next().await["code"], "unknown_meetup");
    eve_chat.raw(Frame::Text("{\"type\":\"shout\"}".into())).await;
    assert_eq!(eve_chat.next().await["code"], "invalid_frame");
    assert!(server.storage().messages_after(meetup, 0, 10).await.expect("read").is_empty(), "nothing stored");
}

async fn an_ended_meetups_room_is_read_only(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let host = server.person("host").await;
    let meetup = server.meetup(&host, Duration::hours(-1), None).await;
    let mut chat = server.connect(&host).await;
    chat.subscribe(meetup, 0).await;
    assert_eq!(chat.next().await["type"], "notice", "the room can still be read");
    let client_id = chat.say(meetup, "아직 있어요?").await;
    let error = chat.next().await;
    assert_eq!(
        (error["code"].as_str(), error["client_id"].as_str()),
        (Some("meetup_ended"), Some(&*client_id.to_string()))
    );
    let (status, body) =
        server.call(&host, "PUT", &format!("/v1/meetups/{meetup}/notice"), Some(json!({"text": "끝"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("meetup_ended")));
    let (status, body) = server.call(&host, "GET", &format!("/v1/meetups/{meetup}/messages"), None).await;
    assert_eq!((status, body["messages"].as_array().map(Vec::len)), (200, Some(0)));
}

async fn a_resent_message_is_stored_once_and_acked_twice(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let host = server.person("host").await;
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    let mut chat = server.connect(&host).await;
    let client_id = chat.say(meetup, "한 번만").await;
    let first = chat.next_of("ack").await;
    chat.send_as(meetup, client_id, "한 번만").await;
    let second = chat.next_of("ack").await;
    assert_eq!(first, second);
    assert_eq!((first["seq"].as_i64(), first["id"].is_i64()), (Some(1), true));
    assert_eq!(db.storage().messages_after(meetup, 0, 10).await.expect("read").len(), 1);
}

async fn a_reconnecting_member_replays_what_they_missed_from_their_last_seq(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, ana) = (server.person("host").await, server.person("ana").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    server.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await;
    let mut host_chat = server.connect(&host).await;
    for n in 0..30 {
        host_chat.say(meetup, &format!("{n}")).await;
        host_chat.next_of("ack").await;
    }
    let mut ana_chat = server.connect(&ana).await;
    ana_chat.subscribe(meetup, 20).await;
    let mut heard = ana_chat.quiet().await;
    host_chat.say(meetup, "live").await;
    heard.push(ana_chat.next_of("message").await);
    assert_eq!(seqs(&heard), (21..=32).collect::<Vec<i64>>(), "seq 1 is ana's join, 2..=31 the host's");
    assert_eq!(heard.last().and_then(|m| m["text"].as_str()), Some("live"));
}

async fn joining_and_leaving_post_system_messages_live_and_who_left_hears_no_more(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, ana, bo) = (server.person("host").await, server.person("ana").await, server.person("bo").await);
    let meetup = server.meetup(&host, Duration::days(1), Some(2)).await;
    let members = format!("/v1/meetups/{meetup}/members");
    let mut host_chat = server.connect(&host).await;
    host_chat.subscribe(meetup, 0).await;
    host_chat.quiet().await;
    let (status, joined) = server.call(&ana, "POST", &members, None).await;
    assert_eq!((status, joined["kind"].as_str(), joined["seq"].as_i64()), (201, Some("join"), Some(1)));
    assert_eq!(host_chat.next_of("message").await, joined, "the join is heard live");
    let code = |body: &Value| body["error"]["code"].as_str().map(str::to_owned);
    let (status, body) = server.call(&ana, "POST", &members, None).await;
    assert_eq!((status, code(&body).as_deref()), (409, Some("already_member")));
    let (status, body) = server.call(&bo, "POST", &members, None).await;
    assert_eq!((status, code(&body).as_deref()), (422, Some("meetup_full")));
    let (status, body) = server.call(&host, "DELETE", &format!("{members}/me"), None).await;
    assert_eq!((status, code(&body).as_deref()), (422, Some("host_cannot_leave")));
    let (status, body) = server.call(&bo, "DELETE", &format!("{members}/me"), None).await;
    assert_eq!((status, code(&body).as_deref()), (409, Some("not_member")));
    assert_eq!(server.call(&bo, "POST", "/v1/meetups/9999/members", None).await.0, 404);

    let mut ana_chat = server.connect(&ana).await;
    ana_chat.subscribe(meetup, 1).await;
    assert!(seqs(&ana_chat.quiet().await).is_empty(), "nothing after seq 1 yet");
    assert_eq!(server.call(&ana, "DELETE", &format!("{members}/me"), None).await.0, 204);
    let left = host_chat.next_of("message").await;
    assert_eq!((left["kind"].as_str(), left["seq"].as_i64()), (Some("leave"), Some(2)));
    assert_eq!(ana_chat.next_of("message").await["kind"], "leave");
    assert_eq!(ana_chat.next().await["code"], "not_member", "who left is told the room is closed to them");
    host_chat.say(meetup, "다음에 또 봐요").await;
    host_chat.next_of("message").await;
    assert!(seqs(&ana_chat.quiet().await).is_empty(), "who left hears no more");
    ana_chat.say(meetup, "저도요").await;
    assert_eq!(ana_chat.next().await["code"], "not_member");
}

async fn the_host_alone_sets_replaces_and_deletes_the_notice_and_members_see_it_live(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, ana) = (server.person("host").await, server.person("ana").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    server.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await;
    let notice = format!("/v1/meetups/{meetup}/notice");
    let mut ana_chat = server.connect(&ana).await;
    ana_chat.subscribe(meetup, 0).await;
    assert_eq!(ana_chat.next_of("notice").await["notice"], Value::Null);

    let (status, body) = server.call(&ana, "PUT", &notice, Some(json!({ "text": "제가 공지할게요" }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("not_host")));
    let (status, body) = server.call(&host, "PUT", &notice, Some(json!({ "text": "   " }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_text")));
    let (status, body) = server.call(&host, "PUT", &notice, Some(json!({ "text": "가".repeat(251) }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_text")));

    let (status, body) = server.call(&host, "PUT", &notice, Some(json!({ "text": "7시 정각 출발" }))).await;
    assert_eq!((status, body["notice"]["text"].as_str()), (200, Some("7시 정각 출발")));
    let pushed = ana_chat.next_of("notice").await;
    assert_eq!((pushed["meetup_id"].as_i64(), &pushed["notice"]), (Some(meetup), &body["notice"]));
    server.call(&host, "PUT", &notice, Some(json!({ "text": "7시 30분으로 변경" }))).await;
    assert_eq!(ana_chat.next_of("notice").await["notice"]["text"], "7시 30분으로 변경");

    let mut late = server.connect(&ana).await;
    late.subscribe(meetup, 0).await;
    assert_eq!(late.next_of("notice").await["notice"]["text"], "7시 30분으로 변경", "sent on subscribe");

    assert_eq!(server.call(&ana, "DELETE", &notice, None).await.0, 403);
    assert_eq!(server.call(&host, "DELETE", &notice, None).await.0, 204);
    assert_eq!(ana_chat.next_of("notice").await["notice"], Value::Null);
    assert_eq!(server.storage().notice(meetup).await.expect("read"), None);
}

async fn history_comes_in_pages_newest_first_to_members_only(db: TestDb) {
    let server = Server::start(&db, Limits { burst: 1_000.0, ..Limits::default() }).await;
    let (host, eve) = (server.person("host").await, server.person("eve").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    let mut chat = server.connect(&host).await;
    for n in 1..=120 {
        chat.say(meetup, &n.to_string()).await;
    }
    for _ in 1..=120 {
        chat.next_of("ack").await;
    }
    let page = |query: &str| format!("/v1/meetups/{meetup}/messages{query}");
    let (status, newest) = server.call(&host, "GET", &page(""), None).await;
    assert_eq!((status, seqs(newest["messages"].as_array().expect("messages")).len()), (200, 50));
    assert_eq!((newest["messages"][0]["seq"].as_i64(), newest["next_before_seq"].as_i64()), (Some(120), Some(71)));
    let (_, older) = server.call(&host, "GET", &page("?before_seq=71&limit=100"), None).await;
    let older = seqs(older["messages"].as_array().expect("messages"));
    assert_eq!(older, (1..=70).rev().collect::<Vec<i64>>());
    let (_, last) = server.call(&host, "GET", &page("?before_seq=2&limit=100"), None).await;
    assert_eq!(last["next_before_seq"], Value::Null, "nothing older");
    assert_eq!(server.call(&host, "GET", &page("?limit=101"), None).await.0, 400);
    assert_eq!(server.call(&host, "GET", &page("?limit=0"), None).await.0, 400);
    let (status, body) = server.call(&eve, "GET", &page(""), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("not_member")));
    assert_eq!(server.call(&eve, "GET", "/v1/meetups/9999/messages", None).await.0, 404);
}

async fn a_flood_is_rate_limited_and_an_oversized_frame_closes_the_connection(db: TestDb) {
    let limits = Limits { messages_per_second: 1.0, burst: 5.0, ..Limits::default() };
    let server = Server::start(&db, limits).await;
    let host = server.person("host").await;
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    let mut chat = server.connect(&host).await;
    let mut sent = Vec::new();
    for n in 0..8 {
        sent.push(chat.say(meetup, &format!("{n}")).await);
    }
    let mut heard = Vec::new();
    for _ in 0..8 {
        let frame = chat.next().await;
        heard.push((frame["type"].as_str().unwrap_or_default().to_owned(), frame["code"].as_str().map(str::to_owned)));
    }
    let acks = heard.iter().filter(|(kind, _)| kind == "ack").count();
    let limited = heard.iter().filter(|(_, code)| code.as_deref() == Some("rate_limited")).count();
    assert_eq!((acks, limited), (5, 3), "{heard:?}");

    let mut chat = server.connect(&host).await;
    chat.say(meetup, &"가".repeat(251)).await;
    assert_eq!(chat.next().await["code"], "invalid_text");
    // Just past the cap, far past it (past what the transport reads at all), and text that is
    // not UTF-8: each closes with its own code and reason.
    let cap = Limits::default().max_message_bytes;
    let not_utf8 = Frame::Frame(RawFrame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true));
    let breaches = [
        (Frame::Text("x".repeat(cap + 1).into()), (1009, "message_too_large")),
        (Frame::Text("x".repeat(3 * cap).into()), (1009, "message_too_large")),
        (not_utf8, (1007, "invalid_utf8")),
    ];
    for (frame, expected) in breaches {
        let mut chat = server.connect(&host).await;
        chat.raw(frame).await;
        match chat.hear().await {
            Heard::Closed(code, reason) => assert_eq!((code, reason.as_str()), expected),
            other => panic!("expected a close, got {other:?}"),
        }
    }
}

async fn a_member_too_slow_for_the_room_is_disconnected_and_replays_without_a_gap(db: TestDb) {
    // Room enough for the host's window of acks, little for ana's backlog.
    let limits = Limits { messages_per_second: 1e9, burst: 1e9, outbox_capacity: 150, ..Limits::default() };
    let server = Server::start(&db, limits).await;
    let (host, ana) = (server.person("host").await, server.person("ana").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    server.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await;
    let mut slow = server.connect_narrow(&ana).await;
    slow.subscribe(meetup, 0).await;
    assert_eq!(seqs(&slow.quiet().await), vec![1]);
    // ana stops reading while the host writes more than the sockets and the outbox hold for her.
    let mut host_chat = server.connect(&host).await;
    host_chat.flood(meetup).await;
    let mut heard = vec![1];
    let closed = loop {
        match slow.hear().await {
            Heard::Frame(frame) if frame["type"] == "message" => heard.push(frame["seq"].as_i64().expect("seq")),
            Heard::Frame(_) => continue,
            Heard::Closed(code, reason) => break (code, reason),
        }
    };
    assert_eq!((closed.0, closed.1.as_str()), (1013, "too_slow"));
    assert_eq!(heard, (1..=heard.len() as i64).collect::<Vec<_>>(), "what came before the close has no gap");
    let mut again = server.connect(&ana).await;
    again.subscribe(meetup, heard.len() as i64).await;
    heard.extend(seqs(&again.quiet().await));
    assert_eq!(heard, (1..=5_001).collect::<Vec<i64>>(), "the replay brings the rest, once each");
}

/// `Rooms::close` is what the meetup's deletion calls once it is committed.
async fn a_closed_room_for_a_deleted_meetup_tells_its_members_and_goes_quiet(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let host = server.person("host").await;
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    let mut listener = server.connect(&host).await;
    listener.subscribe(meetup, 0).await;
    listener.quiet().await;
    server.state.chat.rooms.close(meetup).await;
    assert_eq!(listener.next().await["code"], "unknown_meetup");
    let mut writer = server.connect(&host).await;
    writer.say(meetup, "아무도 없나요").await;
    writer.next_of("ack").await;
    assert!(seqs(&listener.quiet().await).is_empty(), "the closed room delivers nothing more");
}

async fn a_silent_connection_is_closed_after_the_idle_timeout(db: TestDb) {
    let idle = std::time::Duration::from_millis(300);
    let limits = Limits { idle_timeout: idle, ping_interval: idle / 3, ..Limits::default() };
    let server = Server::start(&db, limits).await;
    let host = server.person("host").await;
    let mut chat = server.connect(&host).await;
    // Not reading means not answering the server's pings either.
    tokio::time::sleep(idle * 3).await;
    let closing = async {
        loop {
            if let Heard::Closed(code, reason) = chat.hear().await {
                return (code, reason);
            }
        }
    };
    let closed = tokio::time::timeout(client::PATIENCE, closing).await.expect("closed in time");
    // The server may be gone before our late pong goes out (a reset, code 0): closed all the same.
    assert!(closed == (1000, "idle_timeout".to_owned()) || closed.0 == 0, "{closed:?}");
}
