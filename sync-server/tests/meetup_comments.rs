//! Meetup comments seen from the app, on SQLite and on MariaDB (harness in `meetup_api`): the
//! 1–50 character rule, pages oldest first, edits and deletion by the author only, "my comments"
//! newest first, and comments of an account in its deletion grace hidden.

#[macro_use]
mod common;
mod meetup_api;

use common::TestDb;
use meetup_api::{Api, assert_error, meetup_body};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

conformance!(
    a_comment_is_one_to_fifty_characters_and_a_refused_one_changes_nothing,
    comments_come_oldest_first_in_pages_of_twenty,
    only_its_author_edits_or_deletes_a_comment,
    my_comments_come_newest_first,
    comments_of_an_account_in_deletion_grace_are_hidden,
);

async fn meetup(api: &Api, host: &meetup_api::Person) -> String {
    let created = api.create(host, meetup_body("한강 러닝", "서울특별시 영등포구 여의동로 343")).await;
    format!("/v1/meetups/{}", created["id"])
}

fn text(value: &str) -> Option<Value> {
    Some(json!({ "text": value }))
}

async fn a_comment_is_one_to_fifty_characters_and_a_refused_one_changes_nothing(db: TestDb) {
    let api = Api::start(&db).await;
    let ana = api.person("ana").await;
    let path = format!("{}/comments", meetup(&api, &ana).await);
    let fifty_one = "가".repeat(51);
    for refused in ["", "   ", fifty_one.as_str()] {
        let (status, body) = api.call(&ana, Method::POST, &path, text(refused)).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_comment");
    }
    let (status, body) = api.call(&ana, Method::POST, &path, Some(json!({ "text": 5 }))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_body");
    assert!(api.page(&ana, &path).await.0.is_empty(), "nothing was stored");

    let fifty = "가".repeat(50);
    let (status, comment) = api.call(&ana, Method::POST, &path, text(&fifty)).await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    assert_eq!((comment["text"].as_str(), comment["author"]["nickname"].as_str()), (Some(fifty.as_str()), Some("ana")));
    let (status, body) = api.call(&ana, Method::PATCH, &format!("/v1/comments/{}", comment["id"]), text("")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_comment");
    assert_eq!(api.page(&ana, &path).await.0, vec![comment]);
    let (status, body) = api.call(&ana, Method::POST, "/v1/meetups/999999/comments", text("안녕")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn comments_come_oldest_first_in_pages_of_twenty(db: TestDb) {
    let api = Api::start(&db).await;
    let ana = api.person("ana").await;
    let meetup = meetup(&api, &ana).await;
    let path = format!("{meetup}/comments");
    let mut written = Vec::new();
    for i in 0..25 {
        let (_, comment) = api.call(&ana, Method::POST, &path, text(&format!("댓글 {i}"))).await;
        written.push(comment["id"].clone());
    }
    let (first, cursor) = api.page(&ana, &path).await;
    assert_eq!(first.len(), 20);
    let (rest, end) = api.page(&ana, &format!("{path}?cursor={}", cursor.expect("a second page"))).await;
    assert_eq!(end, None);
    let ids: Vec<Value> = first.iter().chain(&rest).map(|c| c["id"].clone()).collect();
    assert_eq!(ids, written);
    let (_, detail) = api.call(&ana, Method::GET, &meetup, None).await;
    assert_eq!(detail["comment_count"], 25);
    let (status, body) = api.call(&ana, Method::GET, &format!("{path}?cursor=bm9wZQ"), None).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_cursor");
}

async fn only_its_author_edits_or_deletes_a_comment(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let ana = api.person("ana").await;
    let path = format!("{}/comments", meetup(&api, &host).await);
    let (_, comment) = api.call(&ana, Method::POST, &path, text("갈게요")).await;
    let one = format!("/v1/comments/{}", comment["id"]);

    let (status, body) = api.call(&host, Method::PATCH, &one, text("호스트가 바꿈")).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "not_author");
    let (status, body) = api.call(&host, Method::DELETE, &one, None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "not_author");
    assert_eq!(api.page(&ana, &path).await.0, vec![comment.clone()], "unchanged");

    let (status, edited) = api.call(&ana, Method::PATCH, &one, text("  늦을게요  ")).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!((edited["id"].clone(), edited["text"].clone()), (comment["id"].clone(), json!("늦을게요")));
    let (status, _) = api.call(&ana, Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(api.page(&ana, &path).await.0.is_empty());
    for method in [Method::DELETE, Method::PATCH] {
        let (status, body) = api.call(&ana, method, &one, text("x")).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
}

async fn my_comments_come_newest_first(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let ana = api.person("ana").await;
    let first = format!("{}/comments", meetup(&api, &host).await);
    let second = format!("{}/comments", meetup(&api, &host).await);
    let (_, older) = api.call(&ana, Method::POST, &first, text("첫 댓글")).await;
    let (_, newer) = api.call(&ana, Method::POST, &second, text("둘째 댓글")).await;
    api.call(&host, Method::POST, &second, text("호스트 댓글")).await;
    let (mine, cursor) = api.page(&ana, "/v1/me/comments").await;
    assert_eq!((mine, cursor), (vec![newer, older], None));
}

async fn comments_of_an_account_in_deletion_grace_are_hidden(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let gone = api.person("gone").await;
    let meetup = meetup(&api, &host).await;
    let path = format!("{meetup}/comments");
    api.call(&gone, Method::POST, &path, text("안녕히")).await;
    let (_, kept) = api.call(&host, Method::POST, &path, text("남는 댓글")).await;
    let (status, _) = api.call(&gone, Method::DELETE, "/v1/me", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(api.page(&host, &path).await.0, vec![kept]);
    let (_, detail) = api.call(&host, Method::GET, &meetup, None).await;
    assert_eq!(detail["comment_count"], 1);
    let (status, body) = api.call(&gone, Method::POST, &path, text("아직 있어요")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_token");
}
