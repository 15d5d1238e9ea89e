//! Conformance suite, meetups: the detail with its members and counts, pages walked by newest and
//! by most liked with a keyset cursor, the region filter, edits and deletion by the host only,
//! likes counted once, comments changed by their author only, "my meetups" and "my comments", and
//! meetups of an account in its deletion grace hidden. Each test runs against SQLite and against
//! MySQL/MariaDB (see `storage.rs`).

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{TestDb, person};
use mingizuk_server::storage::chat::{MeetupId, Sender};
use mingizuk_server::storage::meetups::{Authored, Edit, Join, MeetupQuery, NewMeetup, Removal, Role, Sort};
use mingizuk_server::storage::{Storage, StorageError};

conformance!(
    a_meetup_reads_back_with_its_host_members_likes_and_comments,
    pages_walk_every_meetup_once_by_newest_and_by_likes_while_meetups_are_added,
    the_region_filter_matches_a_region_or_every_region_of_its_province,
    only_the_host_edits_and_the_member_limit_never_drops_below_the_members,
    only_the_host_deletes_and_everything_in_the_meetup_goes_with_it,
    a_like_counts_once_per_person_even_when_sent_concurrently,
    comments_come_in_pages_and_only_their_author_edits_or_deletes_them,
    my_meetups_by_role_and_my_comments_newest_first,
    meetups_of_an_account_in_deletion_grace_are_hidden_everywhere,
    a_meetup_shows_only_its_hosts_own_image_and_deleting_it_hands_the_image_back,
    a_meetup_naming_an_image_no_longer_stored_is_refused_as_unknown_image,
);

fn new_meetup(host: &Sender, title: &str, region: &str) -> NewMeetup {
    let now = Utc::now();
    NewMeetup {
        host: host.id,
        title: title.into(),
        contents: "토요일 아침 5km".into(),
        starts_at: now + Duration::hours(1),
        ends_at: now + Duration::hours(3),
        member_limit: None,
        image_id: None,
        place_name: "여의나루역".into(),
        address: format!("{region} 여의동로 343"),
        lat: 37.5271,
        lng: 126.9326,
        region: region.into(),
    }
}

async fn meetup(storage: &dyn Storage, host: &Sender, title: &str) -> MeetupId {
    storage.create_meetup(&new_meetup(host, title, "서울특별시 영등포구")).await.expect("create meetup").meetup.id
}

fn query(viewer: &Sender, sort: Sort) -> MeetupQuery {
    MeetupQuery { viewer: viewer.id, sort, region: None, role: None, after: None, limit: 20 }
}

async fn ids(storage: &dyn Storage, query: &MeetupQuery) -> Vec<MeetupId> {
    storage.meetups(query).await.expect("list").iter().map(|m| m.id).collect()
}

async fn a_meetup_reads_back_with_its_host_members_likes_and_comments(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let ana = person(storage, "ana").await;
    let id = meetup(storage, &host, "한강 러닝").await;
    assert!(matches!(storage.join_meetup(id, &ana, Utc::now()).await.expect("join"), Join::Joined(_)));
    assert_eq!(storage.set_like(id, ana.id, true).await.expect("like"), 1);
    storage.add_comment(id, ana.id, "갈게요!").await.expect("comment");

    let seen_by_ana = storage.meetup(id, ana.id).await.expect("read").expect("exists");
    let meetup = &seen_by_ana.meetup;
    assert_eq!(meetup.host, host);
    assert_eq!((meetup.title.as_str(), meetup.region.as_str()), ("한강 러닝", "서울특별시 영등포구"));
    assert_eq!((meetup.member_count, meetup.like_count, meetup.comment_count), (2, 1, 1));
    assert!(meetup.liked_by_me);
    assert!(!meetup.ended(Utc::now()) && meetup.ended(meetup.ends_at));
    assert_eq!(seen_by_ana.members, vec![host.clone(), ana.clone()], "host first, then by joining");
    let seen_by_host = storage.meetup(id, host.id).await.expect("read").expect("exists");
    assert!(!seen_by_host.meetup.liked_by_me);
    assert_eq!(storage.meetup(id + 1000, host.id).await.expect("read"), None);
}

async fn pages_walk_every_meetup_once_by_newest_and_by_likes_while_meetups_are_added(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let mut fans = Vec::new();
    for name in ["fan0", "fan1", "fan2"] {
        fans.push(person(storage, name).await);
    }
    let mut created = Vec::new();
    for i in 0..45 {
        let id = meetup(storage, &host, &format!("모임 {i}")).await;
        for fan in fans.iter().take(i % 4) {
            storage.set_like(id, fan.id, true).await.expect("like");
        }
        created.push(id);
    }
    for sort in [Sort::New, Sort::Likes] {
        let mut seen = Vec::new();
        let mut page = query(&host, sort);
        page.limit = 10;
        loop {
            let meetups = storage.meetups(&page).await.expect("page");
            // A meetup created between pages starts with no likes and the highest id: it lands
            // before the cursor in both orders, so it never shows up twice or shifts the walk.
            meetup(storage, &host, "나중에 생긴 모임").await;
            let Some(last) = meetups.last() else { break };
            page.after = Some(last.cursor());
            let keys: Vec<(u32, MeetupId)> = meetups.iter().map(|m| (m.like_count, m.id)).collect();
            seen.extend(keys);
        }
        let walked: BTreeSet<MeetupId> = seen.iter().map(|(_, id)| *id).collect();
        assert_eq!(walked.len(), seen.len(), "{sort:?}: no meetup twice");
        assert!(created.iter().all(|id| walked.contains(id)), "{sort:?}: every meetup once");
        let mut expected = seen.clone();
        match sort {
            Sort::New => expected.sort_by_key(|&(_, id)| std::cmp::Reverse(id)),
            Sort::Likes => expected.sort_by(|a, b| b.cmp(a)),
        }
        assert_eq!(seen, expected, "{sort:?} order");
    }
}

async fn the_region_filter_matches_a_region_or_every_region_of_its_province(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let create = |title: &'static str, region: &'static str| {
        let new = new_meetup(&host, title, region);
        async move { storage.create_meetup(&new).await.expect("create").meetup.id }
    };
    let gangnam = create("강남", "서울특별시 강남구").await;
    let mapo = create("마포", "서울특별시 마포구").await;
    let busan = create("부산", "부산광역시 해운대구").await;
    let odd = create("특수문자", "서울특별시_ 강남%").await;
    let in_region = |region: &str| MeetupQuery { region: Some(region.to_owned()), ..query(&host, Sort::New) };
    assert_eq!(ids(storage, &in_region("서울특별시 강남구")).await, vec![gangnam]);
    assert_eq!(ids(storage, &in_region("서울특별시")).await, vec![mapo, gangnam]);
    assert_eq!(ids(storage, &in_region("부산광역시")).await, vec![busan]);
    assert_eq!(ids(storage, &in_region("서울특별시_")).await, vec![odd], "LIKE wildcards are matched literally");
    assert!(ids(storage, &in_region("서울")).await.is_empty(), "the caller spells the filter as stored");
}

async fn only_the_host_edits_and_the_member_limit_never_drops_below_the_members(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let ana = person(storage, "ana").await;
    let bo = person(storage, "bo").await;
    let id = meetup(storage, &host, "한강 러닝").await;
    storage.join_meetup(id, &ana, Utc::now()).await.expect("join");
    storage.join_meetup(id, &bo, Utc::now()).await.expect("join");

    let mut edit = new_meetup(&host, "반포 러닝", "서울특별시 서초구");
    edit.place_name = "반포한강공원".into();
    edit.lat = 37.5105;
    edit.member_limit = Some(2);
    let read = storage.meetup(id, host.id).await.expect("read").expect("exists").meetup.updated_at;
    assert_eq!(storage.update_meetup(id, &edit, read).await.expect("edit"), Edit::LimitBelowMembers(3));
    edit.member_limit = Some(3);
    let by_ana = NewMeetup { host: ana.id, ..edit.clone() };
    assert_eq!(storage.update_meetup(id, &by_ana, read).await.expect("edit"), Edit::NotHost);
    let stale = read - Duration::milliseconds(1);
    assert_eq!(storage.update_meetup(id, &edit, stale).await.expect("edit"), Edit::Stale);
    let unchanged = storage.meetup(id, host.id).await.expect("read").expect("exists").meetup;
    assert_eq!((unchanged.title.as_str(), unchanged.member_limit), ("한강 러닝", None));

    assert_eq!(storage.update_meetup(id, &edit, read).await.expect("edit"), Edit::Done);
    // The read the first edit was based on is now stale, even within the same millisecond.
    assert_eq!(storage.update_meetup(id, &edit, read).await.expect("edit"), Edit::Stale);
    let edited = storage.meetup(id, host.id).await.expect("read").expect("exists").meetup;
    assert_eq!(edited.title, "반포 러닝");
    assert_eq!((edited.place_name.as_str(), edited.region.as_str()), ("반포한강공원", "서울특별시 서초구"));
    assert_eq!((edited.lat, edited.member_limit, edited.member_count), (37.5105, Some(3), 3));
    assert!(edited.updated_at > read);
    assert!(matches!(storage.update_meetup(id + 1000, &edit, read).await, Err(StorageError::UnknownMeetup)));
}

async fn only_the_host_deletes_and_everything_in_the_meetup_goes_with_it(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let ana = person(storage, "ana").await;
    let id = meetup(storage, &host, "한강 러닝").await;
    storage.join_meetup(id, &ana, Utc::now()).await.expect("join");
    storage.set_like(id, ana.id, true).await.expect("like");
    storage.add_comment(id, ana.id, "갈게요!").await.expect("comment");
    assert!(!storage.image_of(uuid::Uuid::new_v4(), host.id).await.expect("image"));

    assert_eq!(storage.delete_meetup(id, ana.id).await.expect("delete"), Removal::NotHost);
    assert!(storage.meetup(id, ana.id).await.expect("read").is_some());
    assert_eq!(storage.delete_meetup(id, host.id).await.expect("delete"), Removal::Deleted { image_id: None });
    assert_eq!(storage.meetup(id, ana.id).await.expect("read"), None);
    assert_eq!(storage.room_access(id, ana.id).await.expect("room"), None);
    assert!(storage.messages_after(id, 0, 50).await.expect("chat").is_empty());
    assert!(storage.comments_by(ana.id, None, 20).await.expect("comments").is_empty());
    for role in [Role::Member, Role::Liked] {
        let mine = MeetupQuery { role: Some(role), ..query(&ana, Sort::New) };
        assert!(ids(storage, &mine).await.is_empty(), "{role:?}");
    }
    assert!(matches!(storage.delete_meetup(id, host.id).await, Err(StorageError::UnknownMeetup)));
}

async fn a_like_counts_once_per_person_even_when_sent_concurrently(db: TestDb) {
    let storage = db.shared();
    let host = person(&*storage, "host").await;
    let ana = person(&*storage, "ana").await;
    let id = meetup(&*storage, &host, "한강 러닝").await;
    let likes = (0..8).map(|_| {
        let storage = Arc::clone(&storage);
        tokio::spawn(async move { storage.set_like(id, ana.id, true).await.expect("like") })
    });
    for like in futures_util::future::join_all(likes).await {
        assert_eq!(like.expect("task"), 1);
    }
    assert_eq!(storage.set_like(id, host.id, true).await.expect("like"), 2);
    assert_eq!(storage.set_like(id, ana.id, false).await.expect("unlike"), 1);
    assert_eq!(storage.set_like(id, ana.id, false).await.expect("unlike again"), 1);
    let meetup = storage.meetup(id, ana.id).await.expect("read").expect("exists").meetup;
    assert_eq!((meetup.like_count, meetup.liked_by_me), (1, false));
    assert!(matches!(storage.set_like(id + 1000, ana.id, true).await, Err(StorageError::UnknownMeetup)));
}

async fn comments_come_in_pages_and_only_their_author_edits_or_deletes_them(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let ana = person(storage, "ana").await;
    let id = meetup(storage, &host, "한강 러닝").await;
    let mut written = Vec::new();
    for i in 0..5 {
        written.push(storage.add_comment(id, ana.id, &format!("댓글 {i}")).await.expect("comment").id);
    }
    let first = storage.comments(id, None, 3).await.expect("page");
    let rest = storage.comments(id, first.last().map(|c| c.id), 3).await.expect("page");
    let paged: Vec<i64> = first.iter().chain(&rest).map(|c| c.id).collect();
    assert_eq!(paged, written, "oldest first, each once");
    assert_eq!(first[0].author, ana);

    let comment = written[0];
    assert_eq!(storage.edit_comment(comment, host.id, "바꿈").await.expect("edit"), Authored::NotAuthor);
    assert_eq!(storage.delete_comment(comment, host.id).await.expect("delete"), Authored::NotAuthor);
    let Authored::Done(edited) = storage.edit_comment(comment, ana.id, "수정했어요").await.expect("edit") else {
        panic!("the author edits");
    };
    assert_eq!((edited.id, edited.text.as_str()), (comment, "수정했어요"));
    assert_eq!(storage.delete_comment(comment, ana.id).await.expect("delete"), Authored::Done(()));
    assert_eq!(storage.delete_comment(comment, ana.id).await.expect("delete"), Authored::Unknown);
    assert_eq!(storage.meetup(id, host.id).await.expect("read").expect("exists").meetup.comment_count, 4);
    assert!(matches!(storage.comments(id + 1000, None, 3).await, Err(StorageError::UnknownMeetup)));
    assert!(matches!(storage.add_comment(id + 1000, ana.id, "x").await, Err(StorageError::UnknownMeetup)));
}

async fn my_meetups_by_role_and_my_comments_newest_first(db: TestDb) {
    let storage = db.storage();
    let ana = person(storage, "ana").await;
    let bo = person(storage, "bo").await;
    let hosted = meetup(storage, &ana, "아나의 모임").await;
    let joined = meetup(storage, &bo, "보의 모임").await;
    let liked = meetup(storage, &bo, "보의 다른 모임").await;
    storage.join_meetup(joined, &ana, Utc::now()).await.expect("join");
    storage.set_like(liked, ana.id, true).await.expect("like");
    let first = storage.add_comment(joined, ana.id, "첫 댓글").await.expect("comment");
    let second = storage.add_comment(liked, ana.id, "둘째 댓글").await.expect("comment");
    storage.add_comment(liked, bo.id, "보의 댓글").await.expect("comment");

    let mine = |role| MeetupQuery { role: Some(role), ..query(&ana, Sort::New) };
    assert_eq!(ids(storage, &mine(Role::Host)).await, vec![hosted]);
    assert_eq!(ids(storage, &mine(Role::Member)).await, vec![joined], "joined, not hosted");
    assert_eq!(ids(storage, &mine(Role::Liked)).await, vec![liked]);
    let comments = storage.comments_by(ana.id, None, 20).await.expect("mine");
    assert_eq!(comments.iter().map(|c| c.id).collect::<Vec<_>>(), vec![second.id, first.id]);
    assert_eq!(comments[0].meetup_id, liked);
    let older = storage.comments_by(ana.id, Some(second.id), 20).await.expect("mine");
    assert_eq!(older.iter().map(|c| c.id).collect::<Vec<_>>(), vec![first.id]);
}

async fn meetups_of_an_account_in_deletion_grace_are_hidden_everywhere(db: TestDb) {
    let storage = db.storage();
    let gone = person(storage, "gone").await;
    let ana = person(storage, "ana").await;
    let hidden = meetup(storage, &gone, "사라질 모임").await;
    let shown = meetup(storage, &ana, "남는 모임").await;
    storage.set_like(hidden, ana.id, true).await.expect("like");
    storage.add_comment(hidden, ana.id, "댓글").await.expect("comment");
    storage.add_comment(shown, gone.id, "떠난 사람의 댓글").await.expect("comment");
    storage.join_meetup(shown, &gone, Utc::now()).await.expect("join");
    storage.soft_delete_user(gone.id).await.expect("delete account");

    assert_eq!(storage.meetup(hidden, ana.id).await.expect("read"), None);
    assert_eq!(ids(storage, &query(&ana, Sort::New)).await, vec![shown]);
    assert_eq!(ids(storage, &query(&ana, Sort::Likes)).await, vec![shown]);
    let liked = MeetupQuery { role: Some(Role::Liked), ..query(&ana, Sort::New) };
    assert!(ids(storage, &liked).await.is_empty());
    assert!(storage.comments_by(ana.id, None, 20).await.expect("mine").is_empty());
    assert!(matches!(storage.set_like(hidden, ana.id, true).await, Err(StorageError::UnknownMeetup)));
    assert!(matches!(storage.comments(hidden, None, 20).await, Err(StorageError::UnknownMeetup)));
    let shown_detail = storage.meetup(shown, ana.id).await.expect("read").expect("exists");
    assert_eq!(shown_detail.members, vec![ana.clone()], "members in grace are hidden");
    assert_eq!(shown_detail.meetup.member_count, 1, "and not counted");
    let shown_detail = shown_detail.meetup;
    assert_eq!(shown_detail.comment_count, 0, "comments of an account in grace are hidden");
    assert!(storage.comments(shown, None, 20).await.expect("comments").is_empty());

    // The account's deletion deleted the meetup it hosted (PRODUCT.md §2), it was not only hidden.
    storage.restore_user(gone.id).await.expect("restore");
    assert_eq!(storage.meetup(hidden, ana.id).await.expect("read"), None, "not restored with the account");
    assert_eq!(storage.meetup(shown, ana.id).await.expect("read").expect("exists").meetup.comment_count, 1);
}

/// Stores the record of an uploaded image the way the media module does (it has no storage call in
/// this branch), straight in the test database.
async fn uploaded_image(db: &TestDb, owner: &Sender) -> uuid::Uuid {
    use mysql_async::prelude::Queryable;
    let id = uuid::Uuid::new_v4();
    let insert = "INSERT INTO media (id, owner_user_id, content_type, byte_size, created_at) VALUES (?, ?, ?, ?, ?)";
    let values = (id.hyphenated().to_string(), owner.id.to_string(), "image/png", 1024_i64, 0_i64);
    if db.url().starts_with("mysql://") {
        let pool = mysql_async::Pool::from_url(db.url()).expect("MySQL URL");
        pool.get_conn().await.expect("connect").exec_drop(insert, values).await.expect("insert image");
        pool.disconnect().await.expect("disconnect");
    } else {
        let pool = sqlx::SqlitePool::connect(db.url()).await.expect("open SQLite");
        sqlx::query(insert)
            .bind(values.0)
            .bind(values.1)
            .bind(values.2)
            .bind(values.3)
            .bind(values.4)
            .execute(&pool)
            .await
            .expect("insert image");
        pool.close().await;
    }
    id
}

async fn a_meetup_shows_only_its_hosts_own_image_and_deleting_it_hands_the_image_back(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let ana = person(storage, "ana").await;
    let image = uploaded_image(&db, &host).await;
    assert!(storage.image_of(image, host.id).await.expect("image"));
    assert!(!storage.image_of(image, ana.id).await.expect("image"), "someone else's image");
    let new =
        NewMeetup { image_id: Some(image), ..new_meetup(&host, "사진 있는 모임", "서울특별시 강남구") };
    let id = storage.create_meetup(&new).await.expect("create").meetup.id;
    assert_eq!(storage.meetup(id, ana.id).await.expect("read").expect("exists").meetup.image_id, Some(image));
    assert_eq!(storage.delete_meetup(id, host.id).await.expect("delete"), Removal::Deleted { image_id: Some(image) });
}

/// The image is checked before a meetup is written, but the purge may remove it in between: the
/// write is refused as naming an unknown image (422 for the client), never a storage failure.
async fn a_meetup_naming_an_image_no_longer_stored_is_refused_as_unknown_image(db: TestDb) {
    let storage = db.storage();
    let host = person(storage, "host").await;
    let gone = uuid::Uuid::new_v4();
    let new =
        NewMeetup { image_id: Some(gone), ..new_meetup(&host, "사진 지워진 모임", "서울특별시 강남구") };
    assert!(matches!(storage.create_meetup(&new).await, Err(StorageError::UnknownImage)));
    let id = meetup(storage, &host, "사진 없는 모임").await;
    let based_on = storage.meetup(id, host.id).await.expect("read").expect("exists").meetup.updated_at;
    assert!(matches!(storage.update_meetup(id, &new, based_on).await, Err(StorageError::UnknownImage)));
    let unchanged = storage.meetup(id, host.id).await.expect("read").expect("exists").meetup;
    assert_eq!((unchanged.title.as_str(), unchanged.image_id), ("사진 없는 모임", None));
}
