//! The chat side of an account's deletion grace: its messages keep their place in the room (clients
//! replay by sequence number) but show no sender, as after the purge, until it is restored; and its
//! token is `401 invalid_token` on every chat route, not `403 not_member` because the room's member
//! list hides it.

use chrono::Duration;
use mingizuk_server::chat::Limits;
use serde_json::{Value, json};

use crate::client::Server;
use crate::common::TestDb;

/// Each message's sequence number and sender, oldest first.
fn senders(messages: &[Value]) -> Vec<(i64, Value)> {
    let mut seen: Vec<(i64, Value)> = messages
        .iter()
        .map(|m| {
            assert!(m.get("sender").is_some(), "the sender is always there, null when hidden: {m}");
            (m["seq"].as_i64().expect("seq"), m["sender"].clone())
        })
        .collect();
    seen.sort_by_key(|(seq, _)| *seq);
    seen
}

pub async fn messages_of_an_account_in_its_grace_show_no_sender_in_history_or_replay_until_it_is_restored(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, ana) = (server.person("host").await, server.person("ana").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    assert_eq!(server.call(&ana, "POST", &format!("/v1/meetups/{meetup}/members"), None).await.0, 201);
    let mut ana_chat = server.connect(&ana).await;
    ana_chat.say(meetup, "곧 도착해요").await;
    ana_chat.next_of("ack").await;
    let mut host_chat = server.connect(&host).await;
    host_chat.say(meetup, "기다릴게요").await;
    host_chat.next_of("ack").await;
    let host_shown = json!({ "id": host.sender.id, "nickname": "host" });
    let ana_shown = json!({ "id": ana.sender.id, "nickname": "ana" });
    let history = || async {
        let (status, page) = server.call(&host, "GET", &format!("/v1/meetups/{meetup}/messages"), None).await;
        assert_eq!(status, 200, "{page}");
        senders(page["messages"].as_array().expect("messages"))
    };
    assert_eq!(history().await, vec![(1, ana_shown.clone()), (2, ana_shown.clone()), (3, host_shown.clone())]);

    assert_eq!(server.call(&ana, "DELETE", "/v1/me", None).await.0, 204);
    // Her join and her message are still there, from no one.
    let hidden = vec![(1, Value::Null), (2, Value::Null), (3, host_shown.clone())];
    assert_eq!(history().await, hidden);
    let mut replay = server.connect(&host).await;
    replay.subscribe(meetup, 0).await;
    let replayed: Vec<Value> = replay.quiet().await.into_iter().filter(|f| f["type"] == "message").collect();
    assert_eq!(senders(&replayed), hidden);

    // Signing in within the grace restores the account (through this call): she shows again.
    server.storage().restore_user(ana.sender.id).await.expect("restore");
    assert_eq!(history().await, vec![(1, ana_shown.clone()), (2, ana_shown), (3, host_shown)]);
}

pub async fn the_chat_ticket_and_place_routes_refuse_the_token_of_an_account_in_its_grace_as_invalid(db: TestDb) {
    let server = Server::start(&db, Limits::default()).await;
    let (host, ana) = (server.person("host").await, server.person("ana").await);
    let meetup = server.meetup(&host, Duration::days(1), None).await;
    let room = format!("/v1/meetups/{meetup}");
    assert_eq!(server.call(&ana, "POST", &format!("{room}/members"), None).await.0, 201);
    assert_eq!(server.call(&ana, "DELETE", "/v1/me", None).await.0, 204);

    let notice = Some(json!({ "text": "7시 출발" }));
    for (method, path, body) in [
        ("GET", format!("{room}/messages"), None),
        ("PUT", format!("{room}/notice"), notice),
        ("DELETE", format!("{room}/notice"), None),
        ("POST", format!("{room}/members"), None),
        ("DELETE", format!("{room}/members/me"), None),
        ("GET", "/v1/meetups/9999/messages".to_owned(), None),
        // A ticket would open no WebSocket, and a place search would spend the geocoder's quota.
        ("POST", "/v1/ws-ticket".to_owned(), None),
        ("GET", "/v1/places?q=강남역".to_owned(), None),
    ] {
        let (status, answer) = server.call(&ana, method, &path, body).await;
        assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("invalid_token")), "{method} {path}");
    }
    assert_eq!(server.open(Some(&ana.token), "").await.err(), Some((401, "invalid_token".into())));
}
