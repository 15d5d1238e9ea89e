//! Meetups seen from the app: the real server on 127.0.0.1:0 and a real HTTP client, on SQLite and
//! on MariaDB. Creating and reading a meetup, every rule refused without changing anything, the
//! host's edits and deletion (and nobody else's), pages that walk every meetup once in both orders,
//! the region filter, likes counted once, "my meetups", and meetups of an account in its deletion
//! grace hidden. Comments are in `meetup_comments.rs`, two devices at once in `meetup_races.rs`.
//! Accounts are made in storage with their access token signed directly, so no test pays for
//! password hashing.

#[macro_use]
mod common;
mod meetup_api;

use std::collections::BTreeSet;

use common::TestDb;
use meetup_api::{Api, assert_error, meetup_body};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

conformance!(
    a_new_meetup_reads_back_with_its_host_region_and_counts,
    every_rule_of_a_meetup_is_refused_and_changes_nothing,
    only_the_host_edits_or_deletes_and_the_limit_stays_above_the_members,
    deleting_a_meetup_removes_its_members_likes_and_comments,
    pages_walk_every_meetup_once_newest_first_and_most_liked_first,
    the_region_filter_takes_a_district_or_a_whole_province,
    a_like_counts_once_per_person,
    my_meetups_are_those_i_host_joined_or_liked,
    deleting_an_account_deletes_the_meetups_it_hosts_at_once,
    members_in_their_accounts_deletion_grace_are_neither_counted_nor_listed,
);

async fn a_new_meetup_reads_back_with_its_host_region_and_counts(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let created = api.create(&host, meetup_body("한강 러닝", "서울 영등포구 여의동로 343")).await;
    assert_eq!(created["region"], "서울특별시 영등포구", "the region comes from the address");
    assert_eq!(created["host"]["nickname"], "host");
    assert_eq!(created["location"]["place_name"], "여의나루역");
    assert_eq!(created["members"], json!([{ "id": host.sender.id, "nickname": "host" }]));
    for (field, value) in [
        ("member_count", json!(1)),
        ("like_count", json!(0)),
        ("comment_count", json!(0)),
        ("liked_by_me", json!(false)),
    ] {
        assert_eq!(created[field], value, "{field}");
    }
    assert_eq!(created["ended"], false);
    let path = format!("/v1/meetups/{}", created["id"]);
    let (status, read) = api.call(&host, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, created);

    let mut ended = meetup_body("지난 모임", "부산광역시 해운대구 해운대해변로 264");
    ended["starts_at"] = json!("2021-03-01T09:00:00Z");
    ended["ends_at"] = json!("2021-03-01T10:00:00Z");
    assert_eq!(api.create(&host, ended).await["ended"], true);

    let (status, body) = api.anonymous(Method::GET, &path).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    for missing in ["/v1/meetups/999999", "/v1/meetups/not-a-number"] {
        let (status, body) = api.call(&host, Method::GET, missing, None).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
}

async fn every_rule_of_a_meetup_is_refused_and_changes_nothing(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let good = || {
        let mut body = meetup_body("한강 러닝", "서울특별시 영등포구 여의동로 343");
        body["member_limit"] = Value::Null;
        body["image_id"] = Value::Null;
        body
    };
    let with = |pointer: &str, value: Value| {
        let mut body = good();
        *body.pointer_mut(pointer).expect("field") = value;
        body
    };
    let refused = [
        (with("/title", json!(" ")), StatusCode::BAD_REQUEST, "invalid_title"),
        (with("/title", json!("가".repeat(31))), StatusCode::BAD_REQUEST, "invalid_title"),
        (with("/contents", json!("가".repeat(501))), StatusCode::BAD_REQUEST, "invalid_contents"),
        (with("/ends_at", json!("2030-05-01T08:59:59Z")), StatusCode::BAD_REQUEST, "invalid_period"),
        (with("/member_limit", json!(1)), StatusCode::BAD_REQUEST, "invalid_member_limit"),
        (with("/member_limit", json!(-3)), StatusCode::BAD_REQUEST, "invalid_body"),
        (with("/location/place_name", json!("")), StatusCode::BAD_REQUEST, "invalid_place_name"),
        (with("/location/address", json!("Paris")), StatusCode::BAD_REQUEST, "invalid_address"),
        (with("/location/address", json!("서울")), StatusCode::BAD_REQUEST, "invalid_address"),
        // Under the address's 200 characters, but no district is that long (and MySQL keeps a
        // region in 120).
        (
            with("/location/address", json!(format!("서울 {}구 1", "가".repeat(150)))),
            StatusCode::BAD_REQUEST,
            "invalid_address",
        ),
        (with("/location/lat", json!(90.5)), StatusCode::BAD_REQUEST, "invalid_coordinates"),
        (with("/location/lng", json!(-180.5)), StatusCode::BAD_REQUEST, "invalid_coordinates"),
        (with("/starts_at", json!("tomorrow")), StatusCode::BAD_REQUEST, "invalid_body"),
        (with("/title", json!(7)), StatusCode::BAD_REQUEST, "invalid_body"),
        (with("/location", json!({ "place_name": "x" })), StatusCode::BAD_REQUEST, "invalid_body"),
        (with("/image_id", json!(uuid::Uuid::new_v4())), StatusCode::UNPROCESSABLE_ENTITY, "unknown_image"),
    ];
    for (body, status, code) in refused {
        let (got, answer) = api.call(&host, Method::POST, "/v1/meetups", Some(body)).await;
        assert_error(got, &answer, status, code);
    }
    let mut unknown_field = good();
    unknown_field["host"] = json!("someone else");
    let (status, answer) = api.call(&host, Method::POST, "/v1/meetups", Some(unknown_field)).await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, "invalid_body");
    assert!(api.page(&host, "/v1/meetups").await.0.is_empty(), "nothing was created");

    // The limits themselves are allowed.
    let mut edge = with("/title", json!("가".repeat(30)));
    edge["contents"] = json!("나".repeat(500));
    edge["member_limit"] = json!(2);
    edge["ends_at"] = edge["starts_at"].clone();
    let created = api.create(&host, edge).await;
    assert_eq!(created["member_limit"], 2);
}

async fn only_the_host_edits_or_deletes_and_the_limit_stays_above_the_members(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let ana = api.person("ana").await;
    let bo = api.person("bo").await;
    let created = api.create(&host, meetup_body("한강 러닝", "서울특별시 영등포구 여의동로 343")).await;
    let id = created["id"].as_i64().expect("id");
    let path = format!("/v1/meetups/{id}");
    api.join(id, &ana).await;
    api.join(id, &bo).await;

    let (status, body) = api.call(&ana, Method::PATCH, &path, Some(json!({ "title": "내 모임" }))).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "not_host");
    let (status, body) = api.call(&ana, Method::DELETE, &path, None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "not_host");
    let (status, body) = api.call(&host, Method::PATCH, &path, Some(json!({ "member_limit": 2 }))).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "member_limit_below_members");
    let (status, body) = api.call(&host, Method::PATCH, &path, Some(json!({ "title": "" }))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_title");
    let (_, unchanged) = api.call(&host, Method::GET, &path, None).await;
    assert_eq!((unchanged["title"].clone(), unchanged["member_limit"].clone()), (json!("한강 러닝"), Value::Null));

    let location =
        json!({ "place_name": "해운대", "address": "부산 해운대구 해운대해변로 264", "lat": 35.1587, "lng": 129.1604 });
    let patch = json!({ "title": "바다 러닝", "member_limit": 3, "location": location });
    let (status, edited) = api.call(&host, Method::PATCH, &path, Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!((edited["title"].clone(), edited["member_limit"].clone()), (json!("바다 러닝"), json!(3)));
    assert_eq!(edited["region"], "부산광역시 해운대구", "the location is editable and the region follows");
    assert_eq!(edited["contents"], created["contents"], "absent fields stay");
    let (_, edited) = api.call(&host, Method::PATCH, &path, Some(json!({ "member_limit": null }))).await;
    assert_eq!(edited["member_limit"], Value::Null);
    let (status, body) = api.call(&host, Method::PATCH, "/v1/meetups/999999", Some(json!({}))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn deleting_a_meetup_removes_its_members_likes_and_comments(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let ana = api.person("ana").await;
    let id = api.create(&host, meetup_body("한강 러닝", "서울특별시 영등포구 여의동로 343")).await["id"].clone();
    let path = format!("/v1/meetups/{id}");
    api.join(id.as_i64().expect("id"), &ana).await;
    api.call(&ana, Method::PUT, &format!("{path}/like"), None).await;
    let (_, comment) =
        api.call(&ana, Method::POST, &format!("{path}/comments"), Some(json!({ "text": "갈게요" }))).await;

    let (status, _) = api.call(&host, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api.call(&ana, Method::GET, &path, None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    for role in ["member", "liked"] {
        assert!(api.page(&ana, &format!("/v1/me/meetups?role={role}")).await.0.is_empty(), "{role}");
    }
    assert!(api.page(&ana, "/v1/me/comments").await.0.is_empty());
    let (status, _) =
        api.call(&ana, Method::PATCH, &format!("/v1/comments/{}", comment["id"]), Some(json!({ "text": "x" }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = api.call(&host, Method::DELETE, &path, None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn pages_walk_every_meetup_once_newest_first_and_most_liked_first(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let fans = [api.person("fan1").await, api.person("fan2").await, api.person("fan3").await];
    let mut created = BTreeSet::new();
    for i in 0..45 {
        let id =
            api.create(&host, meetup_body(&format!("모임 {i}"), "서울특별시 마포구 와우산로 94")).await["id"].clone();
        for fan in fans.iter().take(i % 4) {
            api.call(fan, Method::PUT, &format!("/v1/meetups/{id}/like"), None).await;
        }
        created.insert(id.as_i64().expect("id"));
    }
    for sort in ["new", "likes"] {
        let mut seen: Vec<(i64, i64)> = Vec::new();
        let mut next = format!("/v1/meetups?sort={sort}");
        loop {
            let (items, cursor) = api.page(&host, &next).await;
            assert!(items.len() <= 20);
            seen.extend(items.iter().map(|m| (m["like_count"].as_i64().unwrap_or(-1), m["id"].as_i64().unwrap_or(-1))));
            // A meetup created meanwhile never shifts the pages still to come.
            api.create(&host, meetup_body("새 모임", "서울특별시 마포구 와우산로 94")).await;
            let Some(cursor) = cursor else { break };
            next = format!("/v1/meetups?sort={sort}&cursor={cursor}");
        }
        let ids: BTreeSet<i64> = seen.iter().map(|(_, id)| *id).collect();
        assert_eq!(ids.len(), seen.len(), "{sort}: each meetup once");
        assert!(created.is_subset(&ids), "{sort}: every meetup");
        let mut ordered = seen.clone();
        if sort == "new" {
            ordered.sort_by_key(|&(_, id)| std::cmp::Reverse(id));
        } else {
            ordered.sort_by(|a, b| b.cmp(a));
        }
        assert_eq!(seen, ordered, "{sort} order");
    }
    let (_, new_cursor) = api.page(&host, "/v1/meetups?sort=new").await;
    let wrong_order = format!("/v1/meetups?sort=likes&cursor={}", new_cursor.expect("more pages"));
    for (path, code) in [
        (wrong_order.as_str(), "invalid_cursor"),
        ("/v1/meetups?cursor=%21%21", "invalid_cursor"),
        ("/v1/meetups?sort=oldest", "invalid_query"),
    ] {
        let (status, body) = api.call(&host, Method::GET, path, None).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, code);
    }
}

async fn the_region_filter_takes_a_district_or_a_whole_province(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let gangnam = api.create(&host, meetup_body("강남", "서울특별시 강남구 테헤란로 1")).await["id"].clone();
    let mapo = api.create(&host, meetup_body("마포", "서울 마포구 와우산로 94")).await["id"].clone();
    let busan = api.create(&host, meetup_body("부산", "부산광역시 해운대구 해운대해변로 264")).await["id"].clone();
    let ids = |items: Vec<Value>| items.iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
    let region = |filter: &str| format!("/v1/meetups?region={}", urlencode(filter));
    assert_eq!(ids(api.page(&host, &region("서울 강남구")).await.0), vec![gangnam.clone()]);
    assert_eq!(ids(api.page(&host, &region("서울특별시")).await.0), vec![mapo, gangnam]);
    assert_eq!(ids(api.page(&host, &region("서울")).await.0).len(), 2, "short names are the full ones");
    assert_eq!(ids(api.page(&host, &region("부산광역시 해운대구")).await.0), vec![busan]);
    assert!(api.page(&host, &region("제주")).await.0.is_empty());
    assert_eq!(api.page(&host, "/v1/meetups?sort=likes&region=").await.0.len(), 3, "an empty filter is none");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

async fn a_like_counts_once_per_person(db: TestDb) {
    let api = Api::start(&db).await;
    let host = api.person("host").await;
    let ana = api.person("ana").await;
    let id = api.create(&host, meetup_body("한강 러닝", "서울특별시 영등포구 여의동로 343")).await["id"].clone();
    let like = format!("/v1/meetups/{id}/like");
    for expected in [json!({ "like_count": 1, "liked_by_me": true }), json!({ "like_count": 1, "liked_by_me": true })] {
        let (status, body) = api.call(&ana, Method::PUT, &like, None).await;
        assert_eq!((status, body), (StatusCode::OK, expected), "a second like changes nothing");
    }
    let (_, body) = api.call(&host, Method::PUT, &like, None).await;
    assert_eq!(body["like_count"], 2);
    let (_, detail) = api.call(&ana, Method::GET, &format!("/v1/meetups/{id}"), None).await;
    assert_eq!((detail["like_count"].clone(), detail["liked_by_me"].clone()), (json!(2), json!(true)));
    for _ in 0..2 {
        let (status, body) = api.call(&ana, Method::DELETE, &like, None).await;
        assert_eq!((status, body), (StatusCode::OK, json!({ "like_count": 1, "liked_by_me": false })));
    }
    let (status, body) = api.call(&ana, Method::PUT, "/v1/meetups/999999/like", None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

async fn my_meetups_are_those_i_host_joined_or_liked(db: TestDb) {
    let api = Api::start(&db).await;
    let ana = api.person("ana").await;
    let bo = api.person("bo").await;
    let hosted = api.create(&ana, meetup_body("아나의 모임", "서울특별시 강남구 테헤란로 1")).await["id"].clone();
    let joined = api.create(&bo, meetup_body("보의 모임", "서울특별시 강남구 테헤란로 1")).await["id"].clone();
    let liked = api.create(&bo, meetup_body("보의 다른 모임", "서울특별시 강남구 테헤란로 1")).await["id"].clone();
    api.join(joined.as_i64().expect("id"), &ana).await;
    api.call(&ana, Method::PUT, &format!("/v1/meetups/{liked}/like"), None).await;
    for (role, expected) in [("host", hosted), ("member", joined), ("liked", liked)] {
        let (items, _) = api.page(&ana, &format!("/v1/me/meetups?role={role}")).await;
        assert_eq!(items.iter().map(|m| m["id"].clone()).collect::<Vec<_>>(), vec![expected], "{role}");
    }
    for path in ["/v1/me/meetups", "/v1/me/meetups?role=friend"] {
        let (status, body) = api.call(&ana, Method::GET, path, None).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
    }
}

async fn deleting_an_account_deletes_the_meetups_it_hosts_at_once(db: TestDb) {
    let api = Api::start(&db).await;
    let gone = api.person("gone").await;
    let ana = api.person("ana").await;
    let hidden = api.create(&gone, meetup_body("사라질 모임", "서울특별시 강남구 테헤란로 1")).await["id"].clone();
    let shown = api.create(&ana, meetup_body("남는 모임", "서울특별시 강남구 테헤란로 1")).await["id"].clone();
    let (status, _) = api.call(&gone, Method::DELETE, "/v1/me", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (items, _) = api.page(&ana, "/v1/meetups").await;
    assert_eq!(items.iter().map(|m| m["id"].clone()).collect::<Vec<_>>(), vec![shown]);
    for (method, path) in [
        (Method::GET, format!("/v1/meetups/{hidden}")),
        (Method::PUT, format!("/v1/meetups/{hidden}/like")),
        (Method::GET, format!("/v1/meetups/{hidden}/comments")),
    ] {
        let (status, body) = api.call(&ana, method, &path, None).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let (status, body) = api.call(&gone, Method::GET, "/v1/meetups", None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_token");

    // Deleted, not hidden (PRODUCT.md §2): restoring the account does not bring it back.
    db.storage().restore_user(gone.sender.id).await.expect("restore");
    let (status, body) = api.call(&gone, Method::GET, &format!("/v1/meetups/{hidden}"), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (items, _) = api.page(&ana, "/v1/meetups").await;
    assert_eq!(items.len(), 1, "only the other meetup is left");
}

async fn members_in_their_accounts_deletion_grace_are_neither_counted_nor_listed(db: TestDb) {
    let api = Api::start(&db).await;
    let (host, ana, bo, cleo) =
        (api.person("host").await, api.person("ana").await, api.person("bo").await, api.person("cleo").await);
    let mut body = meetup_body("세 명 모임", "서울특별시 강남구 테헤란로 1");
    body["member_limit"] = json!(3);
    let id = api.create(&host, body).await["id"].as_i64().expect("id");
    api.join(id, &ana).await;
    api.join(id, &bo).await;
    let path = format!("/v1/meetups/{id}");
    assert_eq!(api.call(&host, Method::GET, &path, None).await.1["member_count"], 3);
    assert_eq!(api.call(&bo, Method::DELETE, "/v1/me", None).await.0, StatusCode::NO_CONTENT);

    let ids =
        |members: &Value| members.as_array().expect("members").iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
    let (_, detail) = api.call(&ana, Method::GET, &path, None).await;
    assert_eq!(detail["member_count"], 2, "bo's account is hidden during its grace");
    assert_eq!(ids(&detail["members"]), vec![json!(host.sender.id), json!(ana.sender.id)]);
    for (who, list) in
        [(&ana, "/v1/meetups"), (&host, "/v1/me/meetups?role=host"), (&ana, "/v1/me/meetups?role=member")]
    {
        let (items, _) = api.page(who, list).await;
        assert_eq!(items[0]["member_count"], 2, "{list}");
    }

    // The seat the count shows free can be taken.
    let (status, joined) = api.call(&cleo, Method::POST, &format!("{path}/members"), None).await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    let (_, detail) = api.call(&ana, Method::GET, &path, None).await;
    assert_eq!(detail["member_count"], 3);
    assert_eq!(ids(&detail["members"]).len(), 3);
    let (status, body) = api.call(&bo, Method::POST, &format!("{path}/members"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a deleted account cannot take a seat: {body}");

    // Back from the grace, bo is a member again: four members under a limit of three. The host
    // can still edit the meetup, and keep or raise the limit, but not lower it further.
    db.storage().restore_user(bo.sender.id).await.expect("restore");
    assert_eq!(api.call(&ana, Method::GET, &path, None).await.1["member_count"], 4);
    for patch in [json!({ "title": "네 명 모임" }), json!({ "member_limit": 3 })] {
        let (status, edited) = api.call(&host, Method::PATCH, &path, Some(patch)).await;
        assert_eq!((status, &edited["member_limit"]), (StatusCode::OK, &json!(3)), "{edited}");
    }
    let (status, body) = api.call(&host, Method::PATCH, &path, Some(json!({ "member_limit": 2 }))).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "member_limit_below_members");
}
