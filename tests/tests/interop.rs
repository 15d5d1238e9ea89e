//! The JavaScript automerge-repo client (`@automerge/automerge-repo` with its WebSocket adapter,
//! run by node: `interop/sync-client.mjs`) syncs documents through our server with a ticket from
//! `POST /v1/ws-ticket`, and is refused without one, on both storage backends.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use mingizuk_client::core::automerge::{AutoSerde, Automerge};
use mingizuk_server::storage::{DocumentId, UserId};
use mingizuk_tests::{Backend, CONVERGE, Device, START_MS, TestDb, TestServer};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
/// Longer than the script's own 20 s limit, so its message is the one a failure shows.
const NODE_LIMIT: Duration = Duration::from_secs(40);

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop")
}

/// Fails (never skips) when node or the npm packages are missing.
async fn check_node() {
    let version = tokio::process::Command::new("node").arg("--version").output().await;
    assert!(
        version.is_ok_and(|v| v.status.success()),
        "node is not installed: run scripts/setup.sh (it installs Node.js and the npm packages in interop/)"
    );
    assert!(
        interop_dir().join("node_modules/@automerge/automerge-repo-network-websocket").is_dir(),
        "the npm packages are missing from interop/node_modules: run scripts/setup.sh (npm ci in interop/)"
    );
}

/// Runs `node sync-client.mjs <args>`.
async fn sync_client(args: &[&str]) -> Output {
    let run = tokio::process::Command::new("node")
        .arg("sync-client.mjs")
        .args(args)
        .current_dir(interop_dir())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(NODE_LIMIT, run).await.expect("sync-client.mjs hung").expect("node runs")
}

/// The JSON a run printed; the run must have ended with `code`.
fn printed(output: &Output, code: i32) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "sync-client.mjs exit status\nstdout: {stdout}\nstderr: {stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("sync-client.mjs printed no JSON ({e}): {stdout}"))
}

struct Account {
    user: UserId,
    access_token: String,
}

async fn sign_up(http: &reqwest::Client, server: &TestServer, email: &str, nickname: &str) -> Account {
    let response = http
        .post(format!("{}/v1/auth/signup", server.url))
        .json(&json!({ "email": email, "password": PASSWORD, "nickname": nickname }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let session: Value = response.json().await.unwrap();
    Account {
        user: UserId(session["user"]["id"].as_str().unwrap().parse().unwrap()),
        access_token: session["access_token"].as_str().unwrap().to_owned(),
    }
}

async fn ticket(http: &reqwest::Client, server: &TestServer, account: &Account) -> String {
    let response =
        http.post(format!("{}/v1/ws-ticket", server.url)).bearer_auth(&account.access_token).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["ticket"].as_str().unwrap().to_owned()
}

fn sorted(heads: &Value) -> Vec<String> {
    let mut heads: Vec<String> = heads.as_array().unwrap().iter().map(|h| h.as_str().unwrap().to_owned()).collect();
    heads.sort();
    heads
}

/// The document as the server's database holds it.
async fn stored(server: &TestServer, id: &DocumentId) -> Automerge {
    let mut doc = Automerge::new();
    for chunk in server.storage.load_chunks(id).await.unwrap() {
        doc.load_incremental(&chunk.bytes).unwrap();
    }
    doc
}

async fn the_javascript_client_syncs_through_our_server(backend: Backend) {
    check_node().await;
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let http = reqwest::Client::new();
    let mingi = sign_up(&http, &server, "mingi@example.com", "mingi").await;

    // Without credentials the upgrade is refused before any WebSocket exists.
    let refused = printed(&sync_client(&["no-ticket", &server.url]).await, 0);
    assert_eq!(refused["status"], 401, "{refused}");
    assert_eq!(refused["body"]["error"]["code"], "unauthenticated", "{refused}");

    // A JS repo creates a document; the script returns once the server's sync messages show
    // heads that include all of it.
    let first = ticket(&http, &server, &mingi).await;
    let created = printed(&sync_client(&["create", &server.url, &first]).await, 0);
    let expected = json!({ "title": "squats", "reps": [10, 12] });
    assert!(created["server"].as_str().unwrap().starts_with("mingizuk-server-"), "{created}");
    assert_eq!(created["doc"], expected);
    let doc_id = created["documentId"].as_str().unwrap().to_owned();

    // The ticket was spent: neither a bare upgrade nor the JS client gets in with it again.
    let spent = printed(&sync_client(&["probe", &server.url, &first]).await, 0);
    assert_eq!(spent["status"], 401, "{spent}");
    assert_eq!(spent["body"]["error"]["code"], "invalid_ticket", "{spent}");
    let again = sync_client(&["read", &server.url, &first, &doc_id]).await;
    assert_eq!(again.status.code(), Some(3), "the JS client with a spent ticket is refused: {again:?}");
    assert!(again.stdout.is_empty(), "nothing was read with a spent ticket");

    // The server stored the document for the user who created it, with the same content.
    let id = DocumentId::new(doc_id.clone()).unwrap();
    assert_eq!(server.storage.document_owner(&id).await.unwrap(), Some(mingi.user));
    let doc = stored(&server, &id).await;
    assert_eq!(serde_json::to_value(AutoSerde::from(&doc)).unwrap(), expected);
    let mut stored_heads: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
    stored_heads.sort();
    assert_eq!(stored_heads, sorted(&created["heads"]));

    // A fresh JS repo, in another process with a new ticket, finds it through the server.
    let second = ticket(&http, &server, &mingi).await;
    let read = printed(&sync_client(&["read", &server.url, &second, &doc_id]).await, 0);
    assert_eq!(read["documentId"], created["documentId"]);
    assert_eq!(read["doc"], expected);
    assert_eq!(sorted(&read["heads"]), stored_heads);

    // Another user is told the document is unavailable.
    let muneo = sign_up(&http, &server, "muneo@example.com", "muneo").await;
    let theirs = ticket(&http, &server, &muneo).await;
    let denied = printed(&sync_client(&["read", &server.url, &theirs, &doc_id]).await, 2);
    // It asked once our server had answered `join`, so "unavailable" is the server's answer.
    assert!(denied["server"].as_str().unwrap().starts_with("mingizuk-server-"), "{denied}");
    assert_eq!(denied["unavailable"], true, "{denied}");

    // And the other way: a document our Rust client synced is read by the JS client.
    let phone = Device::new(&server.url, START_MS).await;
    phone.work_out(3).await;
    phone.cloud.sign_in("mingi@example.com", PASSWORD).await.unwrap();
    assert!(phone.cloud.wait_up_to_date(CONVERGE).await, "the phone reaches up to date");
    let (uuid, phone_heads) = phone.heads().await.into_iter().next().expect("the phone holds a document");
    let phone_doc = mingizuk_client::core::wire::document_id(uuid);
    let third = ticket(&http, &server, &mingi).await;
    let from_rust = printed(&sync_client(&["read", &server.url, &third, &phone_doc]).await, 0);
    assert_eq!(sorted(&from_rust["heads"]), phone_heads);
    phone.cloud.pause().await;

    server.stop().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_client_syncs_through_our_server_on_sqlite() {
    the_javascript_client_syncs_through_our_server(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_client_syncs_through_our_server_on_mysql() {
    the_javascript_client_syncs_through_our_server(Backend::MySql).await;
}
