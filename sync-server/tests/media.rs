//! Meetup images seen from the app: a signed-in user uploads the raw bytes of a JPEG, PNG or WebP,
//! anyone reads it back by id with long caching; the type comes from the bytes alone; the upload
//! route takes 5 MB while JSON routes keep their 1 MB; a daily quota; deleting removes the file,
//! and deleting a meetup removes its picture unless another meetup shows it too.

mod signed_in;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use mingizuk_server::app;
use mingizuk_server::media::MediaFolder;
use signed_in::{code, request, send, send_raw, server};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00];
const WEBP: &[u8] = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0";

/// An image of `size` bytes that starts with `signature`.
fn padded(signature: &[u8], size: usize) -> Vec<u8> {
    let mut bytes = signature.to_vec();
    bytes.resize(size, 0);
    bytes
}

fn upload(token: Option<&str>, content_type: &str, bytes: Vec<u8>) -> axum::http::Request<Body> {
    request(Method::POST, "/v1/media", token, &[("content-type", content_type)], Body::from(bytes))
}

#[tokio::test]
async fn an_uploaded_image_is_served_back_with_its_type_and_cached_for_a_year() {
    let server = server(&[("MINGIZUK_PUBLIC_URL", "https://sync.example")]).await;
    let (_, token) = server.sign_in("민지").await;
    for (bytes, content_type) in [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")] {
        let (status, _, body) =
            send(app(server.state.clone()), upload(Some(&token), "application/octet-stream", bytes.to_vec())).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().expect("id").to_owned();
        assert_eq!(body["url"], format!("https://sync.example/v1/media/{id}"));

        // Reading needs no token: <img> tags cannot send one, and ids are random.
        let (status, headers, served) = send_raw(
            app(server.state.clone()),
            request(Method::GET, &format!("/v1/media/{id}"), None, &[], Body::empty()),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(served, bytes);
        assert_eq!(headers[header::CONTENT_TYPE], content_type);
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(server.dir.path().join("media").join(&id).is_file(), "kept under <data_dir>/media/<id>");
    }
}

#[tokio::test]
async fn the_type_comes_from_the_bytes_never_from_the_header() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let (status, _, body) = send(app(server.state.clone()), upload(Some(&token), "image/jpeg", PNG.to_vec())).await;
    assert_eq!(status, StatusCode::CREATED);
    let uri = format!("/v1/media/{}", body["id"].as_str().expect("id"));
    let (_, headers, _) =
        send_raw(app(server.state.clone()), request(Method::GET, &uri, None, &[], Body::empty())).await;
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");

    for fake in [&b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"[..], b"GIF89a\x01\0\x01\0", b""] {
        let (status, _, body) = send(app(server.state.clone()), upload(Some(&token), "image/png", fake.to_vec())).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        assert_eq!(code(&body), "unsupported_image");
    }
    let files = std::fs::read_dir(server.dir.path().join("media")).expect("media folder").count();
    assert_eq!(files, 1, "refused uploads leave no file");
}

#[tokio::test]
async fn the_upload_route_takes_5_mb_while_json_routes_keep_their_1_mb_limit() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let big = padded(PNG, 4 * 1024 * 1024);
    let (status, _, body) = send(app(server.state.clone()), upload(Some(&token), "image/png", big)).await;
    assert_eq!(status, StatusCode::CREATED, "4 MB is above the API's 1 MB but within the image limit: {body}");

    let too_big = padded(PNG, 5 * 1024 * 1024 + 1);
    let (status, _, body) = send(app(server.state.clone()), upload(Some(&token), "image/png", too_big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&body), "payload_too_large");

    let nickname = format!("{{\"nickname\":\"{}\"}}", "가".repeat(600_000));
    let patch =
        request(Method::PATCH, "/v1/me", Some(&token), &[("content-type", "application/json")], Body::from(nickname));
    let (status, _, body) = send(app(server.state.clone()), patch).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "JSON routes still stop at 1 MB: {body}");
}

#[tokio::test]
async fn uploading_needs_a_signed_in_user() {
    let server = server(&[]).await;
    let (status, _, body) = send(app(server.state.clone()), upload(None, "image/png", PNG.to_vec())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "unauthenticated");
}

#[tokio::test]
async fn unknown_and_malformed_image_ids_are_not_found() {
    let server = server(&[]).await;
    for uri in
        ["/v1/media/7d1f6a2e-4b7c-4a55-9f0e-2b9d5c8e1a00", "/v1/media/not-a-uuid", "/v1/media/..%2Fmingizuk.sqlite"]
    {
        let (status, _, body) =
            send(app(server.state.clone()), request(Method::GET, uri, None, &[], Body::empty())).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(code(&body), "image_not_found");
    }
}

#[tokio::test]
async fn the_daily_upload_quota_is_counted_per_account() {
    let server = server(&[("MINGIZUK_MEDIA_UPLOADS_PER_DAY", "2")]).await;
    let (_, minji) = server.sign_in("민지").await;
    let (_, junho) = server.sign_in("준호").await;
    for _ in 0..2 {
        let (status, _, _) = send(app(server.state.clone()), upload(Some(&minji), "image/png", PNG.to_vec())).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, _, body) = send(app(server.state.clone()), upload(Some(&minji), "image/png", PNG.to_vec())).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&body), "upload_quota_exceeded");
    let (status, _, _) = send(app(server.state.clone()), upload(Some(&junho), "image/png", PNG.to_vec())).await;
    assert_eq!(status, StatusCode::CREATED, "another account has its own quota");
}

#[tokio::test]
async fn deleting_an_image_removes_its_record_and_its_file() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let (_, _, body) = send(app(server.state.clone()), upload(Some(&token), "image/png", PNG.to_vec())).await;
    let id: uuid::Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
    let folder = MediaFolder::new(&server.state.config.media);
    assert!(folder.delete(&*server.state.storage, id).await.expect("delete"));
    assert!(!server.dir.path().join("media").join(id.to_string()).exists());
    assert!(!folder.delete(&*server.state.storage, id).await.expect("delete again"), "already gone");
    let uri = format!("/v1/media/{id}");
    let (status, _, _) = send(app(server.state.clone()), request(Method::GET, &uri, None, &[], Body::empty())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_retried_upload_with_its_idempotency_key_keeps_one_image() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let photo = padded(JPEG, 3 * 1024 * 1024);
    let keyed = || {
        let headers = [("content-type", "image/jpeg"), ("idempotency-key", "outbox-photo-1")];
        request(Method::POST, "/v1/media", Some(&token), &headers, Body::from(photo.clone()))
    };
    let (status, _, first) = send(app(server.state.clone()), keyed()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, headers, again) = send(app(server.state.clone()), keyed()).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first));
    assert_eq!(headers["idempotent-replayed"], "true");
    let files = std::fs::read_dir(server.dir.path().join("media")).expect("media folder").count();
    assert_eq!(files, 1, "the retry stored nothing new");
}

/// A host may give several meetups the same picture: deleting one of them keeps the image for the
/// others, and it goes (record and file) with the last meetup that shows it.
#[tokio::test]
async fn an_image_two_meetups_show_goes_only_with_the_last_of_them() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let (_, _, body) = send(app(server.state.clone()), upload(Some(&token), "image/png", PNG.to_vec())).await;
    let image = body["id"].as_str().expect("id").to_owned();
    let file = server.dir.path().join("media").join(&image);
    let mut meetups = Vec::new();
    for title in ["토요일 러닝", "일요일 러닝"] {
        let meetup = serde_json::json!({
            "title": title,
            "contents": "초보 환영",
            "starts_at": "2030-05-01T09:00:00Z",
            "ends_at": "2030-05-01T11:00:00Z",
            "image_id": image,
            "location": { "place_name": "여의나루역", "address": "서울 영등포구 여의동로 343", "lat": 37.5, "lng": 126.9 }
        });
        let headers = [("content-type", "application/json")];
        let create = request(Method::POST, "/v1/meetups", Some(&token), &headers, Body::from(meetup.to_string()));
        let (status, _, created) = send(app(server.state.clone()), create).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        meetups.push(format!("/v1/meetups/{}", created["id"]));
    }
    let served = || async {
        let read = request(Method::GET, &format!("/v1/media/{image}"), None, &[], Body::empty());
        send_raw(app(server.state.clone()), read).await.0
    };

    let delete = |path: &str| request(Method::DELETE, path, Some(&token), &[], Body::empty());
    assert_eq!(send(app(server.state.clone()), delete(&meetups[0])).await.0, StatusCode::NO_CONTENT);
    assert_eq!(served().await, StatusCode::OK, "the other meetup still shows it");
    assert!(file.is_file());
    let read = request(Method::GET, &meetups[1], Some(&token), &[], Body::empty());
    assert_eq!(send(app(server.state.clone()), read).await.2["image_id"], image.as_str());

    assert_eq!(send(app(server.state.clone()), delete(&meetups[1])).await.0, StatusCode::NO_CONTENT);
    assert_eq!(served().await, StatusCode::NOT_FOUND, "no meetup shows it any more");
    assert!(!file.exists(), "its file went with the last meetup");
}

#[tokio::test]
async fn an_image_whose_file_is_gone_is_not_found_rather_than_an_error() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let (_, _, body) = send(app(server.state.clone()), upload(Some(&token), "image/png", PNG.to_vec())).await;
    let id = body["id"].as_str().expect("id").to_owned();
    std::fs::remove_file(server.dir.path().join("media").join(&id)).expect("the file is there");
    let uri = format!("/v1/media/{id}");
    let (status, _, body) = send(app(server.state.clone()), request(Method::GET, &uri, None, &[], Body::empty())).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "image_not_found"));
}

#[tokio::test]
async fn an_account_being_deleted_uploads_nothing_with_the_token_it_still_holds() {
    let server = server(&[]).await;
    let (_, token) = server.sign_in("민지").await;
    let deleted = request(Method::DELETE, "/v1/me", Some(&token), &[], Body::empty());
    assert_eq!(send(app(server.state.clone()), deleted).await.0, StatusCode::NO_CONTENT);
    let (status, _, body) = send(app(server.state.clone()), upload(Some(&token), "image/png", PNG.to_vec())).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "invalid_token"));
    let files = std::fs::read_dir(server.dir.path().join("media")).map_or(0, Iterator::count);
    assert_eq!(files, 0, "no image was stored");
}
