//! An account in its deletion grace (PRODUCT.md §2: "immediate soft delete (cannot sign in, hidden
//! from others), meetups hosted by the user are deleted at once … signing in within the 30 days
//! restores the account"), through the real server on 127.0.0.1:0 and in storage, on SQLite and on
//! MariaDB: its likes leave the counts and the "most liked" order until it comes back, the meetups
//! it hosts go in the deletion's own transaction (none created meanwhile survives hidden), its chat
//! messages show no sender, and its token is refused as invalid on the chat routes as everywhere.

#[macro_use]
mod common;
#[allow(dead_code)] // The chat tests' harness; this binary uses part of it.
#[path = "chat/client.rs"]
mod client;
#[path = "deletion_grace/chat.rs"]
mod grace_chat;
mod meetup_api;

use chrono::{Duration, Utc};
use common::{TestDb, person};
use grace_chat::{
    messages_of_an_account_in_its_grace_show_no_sender_in_history_or_replay_until_it_is_restored,
    the_chat_ticket_and_place_routes_refuse_the_token_of_an_account_in_its_grace_as_invalid,
};
use meetup_api::{Api, Person, assert_error, meetup_body};
use mingizuk_server::storage::StorageError;
use mingizuk_server::storage::meetups::{MeetupQuery, Role, Sort};
use reqwest::{Method, StatusCode};
use serde_json::Value;

conformance!(
    likes_of_an_account_in_its_grace_leave_the_counts_and_the_order_until_it_is_restored,
    a_like_counts_only_while_its_account_is_live_and_the_purge_changes_no_count,
    deleting_an_account_deletes_the_meetups_it_hosts_with_it_and_none_can_be_created_after,
    a_meetup_created_while_its_host_deletes_the_account_does_not_survive_hidden,
    messages_of_an_account_in_its_grace_show_no_sender_in_history_or_replay_until_it_is_restored,
    the_chat_ticket_and_place_routes_refuse_the_token_of_an_account_in_its_grace_as_invalid,
);

/// The ids and like counts of the "most liked" list, in its order.
async fn most_liked(api: &Api, who: &Person) -> Vec<(i64, i64)> {
    let (items, _) = api.page(who, "/v1/meetups?sort=likes").await;
    items.iter().map(|m| (m["id"].as_i64().expect("id"), m["like_count"].as_i64().expect("like_count"))).collect()
}

async fn likes_of_an_account_in_its_grace_leave_the_counts_and_the_order_until_it_is_restored(db: TestDb) {
    let api = Api::start(&db).await;
    let (host, ana, bo, cleo) =
        (api.person("host").await, api.person("ana").await, api.person("bo").await, api.person("cleo").await);
    let older = api.create(&host, meetup_body("먼저 만든 모임", "서울특별시 강남구 테헤란로 1")).await;
    let newer = api.create(&host, meetup_body("나중 모임", "서울특별시 강남구 테헤란로 1")).await;
    let (older, newer) = (older["id"].as_i64().expect("id"), newer["id"].as_i64().expect("id"));
    let like = |id: i64| format!("/v1/meetups/{id}/like");
    for who in [&ana, &bo] {
        assert_eq!(api.call(who, Method::PUT, &like(older), None).await.0, StatusCode::OK);
    }
    let (_, liked) = api.call(&cleo, Method::PUT, &like(newer), None).await;
    assert_eq!(liked["like_count"], 1, "{liked}");
    assert_eq!(most_liked(&api, &cleo).await, vec![(older, 2), (newer, 1)]);

    for who in [&ana, &bo] {
        assert_eq!(api.call(who, Method::DELETE, "/v1/me", None).await.0, StatusCode::NO_CONTENT);
    }
    assert_eq!(most_liked(&api, &cleo).await, vec![(newer, 1), (older, 0)], "their likes are hidden with them");
    let (_, detail) = api.call(&cleo, Method::GET, &format!("/v1/meetups/{older}"), None).await;
    assert_eq!(detail["like_count"], 0, "{detail}");
    let (_, liked) = api.call(&cleo, Method::PUT, &like(older), None).await;
    assert_eq!(liked["like_count"], 1, "counted from live accounts: {liked}");
    let (status, body) = api.call(&ana, Method::DELETE, &like(older), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_token");

    // Back within the grace (signing in restores through this call), their likes count again.
    db.storage().restore_user(ana.sender.id).await.expect("restore");
    assert_eq!(most_liked(&api, &cleo).await, vec![(older, 2), (newer, 1)]);
    db.storage().restore_user(bo.sender.id).await.expect("restore");
    db.storage().restore_user(bo.sender.id).await.expect("restoring a live account changes nothing");
    assert_eq!(most_liked(&api, &cleo).await, vec![(older, 3), (newer, 1)]);
}

/// In storage: deleting twice takes the likes off once, an account in its grace cannot like or
/// unlike, restoring puts them back once, and the purge (whose likes are already off the counts)
/// changes no count.
async fn a_like_counts_only_while_its_account_is_live_and_the_purge_changes_no_count(db: TestDb) {
    let storage = db.storage();
    let (host, ana, bo) = (person(storage, "host").await, person(storage, "ana").await, person(storage, "bo").await);
    let id = common::meetup(storage, host.id, None, Duration::days(1)).await;
    for who in [&ana, &bo] {
        storage.set_like(id, who.id, true).await.expect("like");
    }
    let likes = || async { storage.meetup(id, host.id).await.expect("read").expect("meetup").meetup.like_count };
    storage.soft_delete_user(ana.id).await.expect("delete");
    storage.soft_delete_user(ana.id).await.expect("delete again");
    assert_eq!(likes().await, 1);
    for like in [true, false] {
        assert!(matches!(storage.set_like(id, ana.id, like).await, Err(StorageError::UnknownUser)));
    }
    assert_eq!(likes().await, 1);
    storage.restore_user(ana.id).await.expect("restore");
    storage.restore_user(ana.id).await.expect("restore again");
    assert_eq!(likes().await, 2);

    storage.soft_delete_user(bo.id).await.expect("delete");
    assert_eq!(storage.purge_deleted_users(Utc::now() + Duration::seconds(1)).await.expect("purge"), 1);
    assert_eq!(likes().await, 1, "bo's like left the count with his deletion, not again with the purge");
    assert_eq!(storage.set_like(id, ana.id, false).await.expect("unlike"), 0);
}

async fn deleting_an_account_deletes_the_meetups_it_hosts_with_it_and_none_can_be_created_after(db: TestDb) {
    let storage = db.storage();
    let (gone, ana) = (person(storage, "gone").await, person(storage, "ana").await);
    let hosted = [
        common::meetup(storage, gone.id, None, Duration::days(1)).await,
        common::meetup(storage, gone.id, None, Duration::hours(-1)).await,
    ];
    let kept = common::meetup(storage, ana.id, None, Duration::days(1)).await;
    storage.join_meetup(kept, &gone, Utc::now()).await.expect("join");
    let mut deleted: Vec<i64> = storage.soft_delete_user(gone.id).await.expect("delete").iter().map(|m| m.id).collect();
    deleted.sort_unstable();
    assert_eq!(deleted, hosted, "the deletion names what it deleted, for its rooms and images");
    assert!(storage.soft_delete_user(gone.id).await.expect("delete again").is_empty());
    let new = common::new_meetup(gone.id, None, Duration::days(1));
    assert!(matches!(storage.create_meetup(&new).await, Err(StorageError::UnknownMeetup)), "no host in grace");

    // Deleted, not hidden: back from the grace, the account hosts nothing.
    storage.restore_user(gone.id).await.expect("restore");
    let query = MeetupQuery { viewer: gone.id, sort: Sort::New, region: None, role: None, after: None, limit: 50 };
    let listed: Vec<i64> = storage.meetups(&query).await.expect("list").iter().map(|m| m.id).collect();
    assert_eq!(listed, vec![kept]);
    let role = Some(Role::Host);
    assert!(storage.meetups(&MeetupQuery { role, ..query }).await.expect("list").is_empty());
    for id in hosted {
        assert_eq!(storage.room_access(id, ana.id).await.expect("access"), None, "its room went with it");
    }
}

/// Devices of the host keep creating meetups while another deletes the account. Whatever was
/// created, once the deletion answers, none is left: restored, the account hosts nothing (before,
/// the hosted meetups were deleted first and the account marked after, and a meetup created in
/// between stayed, hidden while the account was, and back with it).
async fn a_meetup_created_while_its_host_deletes_the_account_does_not_survive_hidden(db: TestDb) {
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("error").try_init();
    let api = Api::start(&db).await;
    for round in 0..4 {
        let host = api.person(&format!("host{round}")).await;
        let device = |n: usize| {
            let (api, host) = (&api, &host);
            async move {
                let mut created = Vec::new();
                for m in 0..150 {
                    let body = meetup_body(&format!("모임 {n}-{m}"), "서울특별시 영등포구 여의동로 343");
                    let (status, meetup) = api.call(host, Method::POST, "/v1/meetups", Some(body)).await;
                    match status {
                        StatusCode::CREATED => created.push(meetup["id"].clone()),
                        // Refused once the deletion committed: by the token check, or in storage.
                        StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND => break,
                        other => panic!("{other} {meetup}"),
                    }
                }
                created
            }
        };
        let deleting = async {
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
            api.call(&host, Method::DELETE, "/v1/me", None).await
        };
        let (a, b, c, d, (status, body)) = tokio::join!(device(0), device(1), device(2), device(3), deleting);
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let created: Vec<Value> = [a, b, c, d].concat();
        db.storage().restore_user(host.sender.id).await.expect("restore");
        let (items, _) = api.page(&host, "/v1/me/meetups?role=host").await;
        let ids: Vec<&Value> = items.iter().map(|m| &m["id"]).collect();
        assert!(ids.is_empty(), "round {round}: of {} created, {ids:?} survived", created.len());
    }
}
