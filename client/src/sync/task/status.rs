//! Where sync stands, for the UI: the phase, whether and how many of this device's changes wait
//! for the server, and why the last connection ended.

use serde::Serialize;
use tokio::sync::watch;

/// Where sync stands, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Not connected (no network, server down, or signed out).
    Offline,
    /// Connected, documents being exchanged.
    Syncing,
    /// Connected, and the server holds exactly what this device holds.
    UpToDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub phase: SyncPhase,
    /// Changes made on this device that the server has not confirmed yet.
    pub changes_waiting: bool,
    /// Why the last connection ended, as a stable code (`network_failed`, `signed_out`, …).
    pub last_error: Option<String>,
    /// How many of this device's writes (the engine counts them) the server is known to hold.
    /// A status read just after a write can predate it; this number cannot claim it.
    pub confirmed_writes: u64,
    /// How many of this device's writes the server has not confirmed yet (PRODUCT.md §1: "how
    /// many changes wait"). Zero while `changes_waiting` only because a connection has not
    /// compared heads yet.
    pub writes_waiting: u64,
}

impl SyncStatus {
    /// Offline, with `confirmed` of this device's `writes` writes known to be on the server.
    pub(crate) fn offline(writes: u64, confirmed: u64) -> Self {
        let confirmed = confirmed.min(writes);
        Self {
            phase: SyncPhase::Offline,
            changes_waiting: confirmed < writes,
            last_error: None,
            confirmed_writes: confirmed,
            writes_waiting: writes - confirmed,
        }
    }

    /// This status with the device's write count now `writes`: writes it has not seen yet wait.
    pub(crate) fn counting(mut self, writes: u64) -> Self {
        let waiting = writes.saturating_sub(self.confirmed_writes);
        if waiting > self.writes_waiting {
            self.writes_waiting = waiting;
            self.changes_waiting = true;
        }
        self
    }

    /// Whether the server is known to hold everything up to the device's `writes`-th write.
    pub fn holds(&self, writes: u64) -> bool {
        self.phase == SyncPhase::UpToDate && self.held(writes)
    }

    /// Whether the server held everything up to the device's `writes`-th write when this device
    /// last heard from it, connected or not now: it was up to date then, and no write came since.
    pub fn held(&self, writes: u64) -> bool {
        !self.changes_waiting && self.confirmed_writes >= writes
    }
}

/// The status after a connection ended, keeping what was confirmed.
pub(super) fn gone_offline(status: &watch::Sender<SyncStatus>, last_error: Option<String>) {
    status.send_modify(|s| {
        s.phase = SyncPhase::Offline;
        s.last_error = last_error;
    });
}
