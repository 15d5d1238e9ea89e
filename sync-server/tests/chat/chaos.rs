//! Chaos: members drop their connection at random (mid-replay too) and reconnect from the last
//! sequence number they saw, while two senders push thousands of messages through one room. Every
//! member must end up with every stored message, in sequence order, none twice.
//! `CHAT_CHAOS_MESSAGES` sets how many messages flow (10 000 by default).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use mingizuk_server::chat::Limits;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::client::{Heard, Person, Server};
use crate::common::TestDb;

const RECEIVERS: usize = 5;
const SENDERS: usize = 2;
/// Messages a sender has in flight before it waits for their acks.
const WINDOW: usize = 100;

fn messages() -> usize {
    std::env::var("CHAT_CHAOS_MESSAGES").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000)
}

pub async fn members_dropping_and_reconnecting_at_random_miss_nothing_while_thousands_of_messages_flow(db: TestDb) {
    let total = messages().div_ceil(SENDERS * WINDOW) * SENDERS * WINDOW;
    let limits = Limits { messages_per_second: 1e9, burst: 1e9, ..Limits::default() };
    let server = Arc::new(Server::start(&db, limits).await);
    let host = server.person("host").await;
    let meetup = server.meetup(&host, chrono::Duration::days(1), None).await;
    let mut people = Vec::new();
    for n in 0..RECEIVERS + SENDERS {
        let person = server.person(&format!("p{n}")).await;
        let (status, _) = server.call(&person, "POST", &format!("/v1/meetups/{meetup}/members"), None).await;
        assert_eq!(status, 201);
        people.push(person);
    }
    let joins = people.len() as i64;
    let last_seq = Arc::new(AtomicI64::new(0));
    let started = Instant::now();

    let mut receivers = Vec::new();
    for (n, person) in people.iter().take(RECEIVERS).enumerate() {
        let (server, person, last_seq) = (Arc::clone(&server), person.clone(), Arc::clone(&last_seq));
        receivers
            .push(tokio::spawn(async move { receive(&server, &person, meetup, n as u64, total, &last_seq).await }));
    }
    let mut senders = Vec::new();
    for person in people.iter().skip(RECEIVERS) {
        let (server, person) = (Arc::clone(&server), person.clone());
        senders.push(tokio::spawn(async move { send(&server, &person, meetup, total / SENDERS).await }));
    }
    for sender in senders {
        sender.await.expect("sender");
    }
    let expected: Vec<i64> = (1..=joins + total as i64).collect();
    last_seq.store(joins + total as i64, Ordering::SeqCst);
    let stored = server.storage().messages_after(meetup, 0, u32::MAX).await.expect("read");
    assert_eq!(stored.iter().map(|m| m.seq).collect::<Vec<_>>(), expected, "stored without gaps");
    let mut reconnects = 0;
    for (n, receiver) in receivers.into_iter().enumerate() {
        let (heard, connections) = receiver.await.expect("receiver");
        if let Some(wrong) = heard.iter().zip(&expected).position(|(a, b)| a != b) {
            panic!("member {n} heard seq {} where {} was due", heard[wrong], expected[wrong]);
        }
        assert_eq!(heard.len(), expected.len(), "member {n} heard every message once");
        reconnects += connections - 1;
    }
    assert!(reconnects >= RECEIVERS, "the members did drop and reconnect ({reconnects} times)");
    eprintln!("chat chaos: {total} messages, {reconnects} reconnects, {:?}", started.elapsed());
}

/// Sends `count` messages in windows, waiting for each window's acks.
async fn send(server: &Server, person: &Person, meetup: i64, count: usize) {
    let mut chat = server.connect(person).await;
    for window in 0..count / WINDOW {
        for n in 0..WINDOW {
            chat.say(meetup, &format!("{} {window}-{n}", person.sender.nickname)).await;
        }
        for _ in 0..WINDOW {
            let frame = chat.next().await;
            assert_eq!(frame["type"], "ack", "{frame}");
        }
    }
}

/// Listens to the room, dropping the connection at random and reconnecting from the last seq
/// heard, until `last_seq` (set once the senders are done) is reached. Returns every seq heard,
/// in the order heard, and how many connections it took.
async fn receive(
    server: &Server,
    person: &Person,
    meetup: i64,
    seed: u64,
    total: usize,
    last_seq: &AtomicI64,
) -> (Vec<i64>, usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut heard = Vec::new();
    let mut connections = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut chat = server.connect(person).await;
        connections += 1;
        chat.subscribe(meetup, heard.last().copied().unwrap_or(0)).await;
        // About ten connections per member over the run.
        let drop_after = rng.random_range(1..=(total / 5).max(20));
        for _ in 0..drop_after {
            let done = last_seq.load(Ordering::SeqCst);
            if done > 0 && heard.last().copied() >= Some(done) {
                return (heard, connections);
            }
            assert!(Instant::now() < deadline, "member {seed} is stuck at {:?}", heard.last());
            match tokio::time::timeout(Duration::from_millis(200), chat.hear()).await {
                Err(_) => continue,
                Ok(Heard::Closed(..)) => break,
                Ok(Heard::Frame(frame)) => {
                    if frame["type"] == "message" {
                        heard.push(frame["seq"].as_i64().expect("seq"));
                    }
                }
            }
        }
    }
}
