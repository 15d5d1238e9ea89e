//! A room's history reaching the client's cache against the real server on 127.0.0.1 (PRODUCT.md
//! §7): opening a large room for the first time brings its newest page and nothing older (older
//! pages come as the user scrolls up, down to the first message), and a catch-up replay cut short
//! goes on where it stopped on the next connection, even though the screen cached the newest page
//! meanwhile. Both backends.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;
mod fake_geocoder;
#[allow(dead_code)] // Each test binary uses a part of the proxy.
mod lossy_proxy;
mod social_online;

use std::collections::BTreeSet;
use std::time::Duration;

use common::TestDb;
use lossy_proxy::Proxy;
use mingizuk_client::social::{ChatMessage, HISTORY_PAGE, Social, SocialEvent};
use social_online::{Device, WAIT, World, deliver, device, meetup, stored, world};

conformance!(
    opening_a_large_room_for_the_first_time_gets_the_newest_page_and_replays_nothing_older,
    a_catch_up_replay_cut_short_resumes_where_it_stopped_not_after_the_newest_page,
);

/// Messages stored behind the live relay's back while the member was away.
const MISSED: usize = 1_200;

fn seqs(messages: &[ChatMessage]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

/// Follows `room` and waits for its subscribe's answer (the notice comes after the replay).
async fn open_and_wait(device: &Device, room: i64) -> Vec<SocialEvent> {
    let mut events = device.social.events();
    device.social.open_room(room);
    let mut heard = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv()).await.expect("the room's subscribe is answered");
        match event {
            Ok(SocialEvent::Notice { meetup_id, .. }) if meetup_id == room => return heard,
            Ok(event) => heard.push(event),
            Err(e) => panic!("more events than the app can hear (a whole history replayed?): {e}"),
        }
    }
}

/// A room hosted by `host` that `member` joined, with `missed` messages of the host's in it.
async fn room_with(world: &World, host: &Device, member: &Device, missed: usize) -> i64 {
    let room = meetup(world, host.user.id).await;
    world.state.chat.rooms.join(room, member.user.clone()).await.unwrap();
    for n in 1..=missed {
        stored(world, room, &host.user, &format!("메시지 {n}")).await;
    }
    room
}

/// Waits until `social`'s cache holds exactly the messages of `room` from `from` to `top`.
async fn holds_all(social: &Social, room: i64, from: i64, top: i64) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while seqs(&social.messages(room).await.unwrap()) != (from..=top).collect::<Vec<_>>() {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

async fn opening_a_large_room_for_the_first_time_gets_the_newest_page_and_replays_nothing_older(db: TestDb) {
    let world = world(&db).await;
    let host = device(&world.url, "host").await;
    let member = device(&world.url, "member").await;
    let room = room_with(&world, &host, &member, MISSED).await;
    let top = MISSED as i64 + 1; // The member's join, then the host's messages.
    let page = i64::from(HISTORY_PAGE);

    member.social.start().await;
    let heard = open_and_wait(&member, room).await;
    let newest: Vec<i64> = (top - page + 1..=top).collect();
    let cached = seqs(&member.social.messages(room).await.unwrap());
    assert!(cached == newest, "the newest page, nothing older: {} cached from seq {:?}", cached.len(), cached.first());
    for event in &heard {
        if let SocialEvent::Message { message } = event {
            assert!(message.seq > top - page, "nothing older was replayed: {}", message.seq);
        }
    }

    // The live stream goes on after the page.
    host.social.send_message(room, "다들 오셨나요?").await.unwrap();
    deliver(&host).await;
    assert!(holds_all(&member.social, room, top - page + 1, top + 1).await, "the live message came");

    // Scrolling up brings the rest a page at a time, down to the first message.
    let mut pages = 0;
    while !member.social.earlier_messages(room).await.unwrap().is_empty() {
        pages += 1;
        assert!(pages <= MISSED / HISTORY_PAGE as usize + 1, "scrolling up ends");
    }
    assert!(holds_all(&member.social, room, 1, top + 1).await, "the whole history, no hole");
    member.social.stop().await;
}

async fn a_catch_up_replay_cut_short_resumes_where_it_stopped_not_after_the_newest_page(db: TestDb) {
    let world = world(&db).await;
    let server = world.url.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(server).await;
    let host = device(&world.url, "host").await;
    let member = device(&proxy.url(), "member").await;
    let room = room_with(&world, &host, &member, 0).await;
    member.social.start().await;
    open_and_wait(&member, room).await;
    assert_eq!(seqs(&member.social.messages(room).await.unwrap()), [1], "the join");

    // Away while the room talks on.
    member.social.stop().await;
    for n in 1..=MISSED {
        stored(&world, room, &host.user, &format!("메시지 {n}")).await;
    }
    let top = MISSED as i64 + 1;

    // Back on a slow network: the catch-up replay trickles in, and the screen fetches the newest
    // page meanwhile.
    proxy.go_slow(Duration::from_millis(300));
    member.social.start().await;
    let replayed =
        |cached: &[ChatMessage]| cached.iter().filter(|m| m.seq > 1 && m.seq <= top - i64::from(HISTORY_PAGE)).count();
    let deadline = tokio::time::Instant::now() + WAIT;
    while replayed(&member.social.messages(room).await.unwrap()) < 20 {
        assert!(tokio::time::Instant::now() < deadline, "the replay started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let newest = member.social.older_messages(room, i64::MAX).await.unwrap();
    assert_eq!(newest.last().unwrap().seq, top);
    while replayed(&member.social.messages(room).await.unwrap()) < 100 {
        assert!(tokio::time::Instant::now() < deadline, "the replay goes on");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The network goes: the replay is cut short, with a hole below the newest page.
    proxy.go_offline();
    let mut online = member.social.online();
    tokio::time::timeout(WAIT, online.wait_for(|up| !*up)).await.unwrap().unwrap();
    member.social.stop().await;
    let cached: BTreeSet<i64> = seqs(&member.social.messages(room).await.unwrap()).into_iter().collect();
    assert!(cached.contains(&top), "the newest page is cached");
    assert!(
        (2..top - i64::from(HISTORY_PAGE)).any(|seq| !cached.contains(&seq)),
        "the replay was cut short (slow the proxy more)"
    );

    // Back: the next connection goes on where the replay stopped.
    proxy.go_online();
    member.social.start().await;
    assert!(holds_all(&member.social, room, 1, top).await, "every message, no hole");
    member.social.stop().await;
}
