//! What reaches the UI without being asked (COMMANDS.md "Events"): `sync-status` on every change
//! of the sync status, and `social` for every event of the social side (chat messages, notices,
//! outbox results, the live connection going up or down). Each is a background task that only
//! forwards; the shell keeps the social one's handle to restart it after sign-in or sign-out.

use std::sync::Arc;

use mingizuk_client::Cloud;
use mingizuk_client::social::Social;
use serde_json::Value;
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

pub const SYNC_STATUS: &str = "sync-status";
pub const SOCIAL: &str = "social";

/// Sends an event to the UI (to every window).
pub type Emit = Arc<dyn Fn(&str, Value) + Send + Sync>;

/// The emitter of a running app.
pub fn emitter<R: Runtime>(app: AppHandle<R>) -> Emit {
    Arc::new(move |event, payload| {
        if let Err(e) = app.emit(event, payload) {
            tracing::warn!(event, error = %e, "could not send an event to the UI");
        }
    })
}

/// An emitter that drops everything (tests of commands that do not look at events).
pub fn nowhere() -> Emit {
    Arc::new(|_, _| {})
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Forwards the sync status, now and on every change, for as long as the app runs.
pub fn forward_sync_status(cloud: &Cloud, emit: Emit) {
    let mut status = cloud.status();
    tokio::spawn(async move {
        loop {
            let now = json(&*status.borrow_and_update());
            emit(SYNC_STATUS, now);
            if status.changed().await.is_err() {
                break;
            }
        }
    });
}

/// Forwards the social side's events until it stops (the shell aborts it on sign-out).
pub fn forward_social(social: &Social, emit: Emit) -> JoinHandle<()> {
    let mut events = social.events();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => emit(SOCIAL, json(&event)),
                // The UI re-reads what it shows on its next query; nothing to replay here.
                Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "the UI missed social events"),
                Err(RecvError::Closed) => break,
            }
        }
    })
}
