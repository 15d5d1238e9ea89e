//! Documents sent between devices: a merge, a saved document loaded incrementally, the sync
//! protocol; and whether the devices hold the same documents.

use std::collections::BTreeSet;

use mingizuk_core::automerge::sync::{self, SyncDoc};
use mingizuk_core::automerge::{AutoCommit, ChangeHash};
use mingizuk_core::schema::DocKind;

use crate::replica::Replica;

/// Sends documents from one device to another: `docs` picks the account (1), the routines (2)
/// and the logs (4); `mode` merges (0), loads what the sender saved (1: the whole document, or the
/// changes after the receiver's heads), or runs the sync protocol both ways (2).
pub fn exchange(replicas: &mut [Replica], from: usize, to: usize, docs: u8, mode: u8) {
    assert_ne!(from, to);
    let (a, b) = if from < to {
        let (left, right) = replicas.split_at_mut(to);
        (&mut left[from], &mut right[0])
    } else {
        let (left, right) = replicas.split_at_mut(from);
        (&mut right[0], &mut left[to])
    };
    let chosen = |kind: &DocKind| match kind {
        DocKind::Account => docs & 1 != 0,
        DocKind::Routines => docs & 2 != 0,
        DocKind::Log(_) => docs & 4 != 0,
    };
    // A document both devices hold at the same heads has nothing to exchange.
    let same = |a: &mut Replica, b: &mut Replica, kind: DocKind| match (a.docs.get_mut(&kind), b.docs.get_mut(&kind)) {
        (Some(x), Some(y)) => heads(x) == heads(y),
        _ => false,
    };
    match mode % 3 {
        0 => {
            for kind in a.docs.keys().copied().filter(chosen).collect::<Vec<_>>() {
                if same(a, b, kind) {
                    continue;
                }
                b.ensure(kind);
                b.docs.get_mut(&kind).unwrap().merge(a.docs.get_mut(&kind).unwrap()).unwrap();
            }
        }
        1 => {
            for kind in a.docs.keys().copied().filter(chosen).collect::<Vec<_>>() {
                if same(a, b, kind) {
                    continue;
                }
                // The whole document to a device without it; else the changes after the
                // receiver's heads that the sender knows.
                let sender = a.docs.get_mut(&kind).unwrap();
                let bytes = match b.docs.get_mut(&kind) {
                    None => sender.save(),
                    Some(receiver) => {
                        let known: Vec<ChangeHash> =
                            heads(receiver).into_iter().filter(|h| sender.get_change_by_hash(h).is_some()).collect();
                        sender.save_after(&known)
                    }
                };
                b.ensure(kind);
                b.docs.get_mut(&kind).unwrap().load_incremental(&bytes).unwrap();
            }
        }
        _ => {
            let kinds: BTreeSet<DocKind> = a.docs.keys().chain(b.docs.keys()).copied().filter(chosen).collect();
            for kind in kinds {
                if same(a, b, kind) {
                    continue;
                }
                a.ensure(kind);
                b.ensure(kind);
                sync_docs(a.docs.get_mut(&kind).unwrap(), b.docs.get_mut(&kind).unwrap());
            }
        }
    }
    for replica in [a, b] {
        replica.commit();
        replica.personal = replica.read();
    }
}

/// Runs the automerge sync protocol between two documents until neither has more to say, with
/// every message encoded and decoded as on the wire.
fn sync_docs(a: &mut AutoCommit, b: &mut AutoCommit) {
    let (mut state_a, mut state_b) = (sync::State::new(), sync::State::new());
    for _ in 0..64 {
        let to_b = a.sync().generate_sync_message(&mut state_a);
        let to_a = b.sync().generate_sync_message(&mut state_b);
        if to_b.is_none() && to_a.is_none() {
            return;
        }
        if let Some(m) = to_b {
            b.sync().receive_sync_message(&mut state_b, sync::Message::decode(&m.encode()).unwrap()).unwrap();
        }
        if let Some(m) = to_a {
            a.sync().receive_sync_message(&mut state_a, sync::Message::decode(&m.encode()).unwrap()).unwrap();
        }
    }
    panic!("the sync protocol did not settle");
}

pub fn heads(doc: &mut AutoCommit) -> Vec<ChangeHash> {
    let mut heads = doc.get_heads();
    heads.sort();
    heads
}

pub fn converged(replicas: &mut [Replica]) -> bool {
    let kinds: Vec<Vec<DocKind>> = replicas.iter().map(|r| r.docs.keys().copied().collect()).collect();
    if kinds.iter().any(|k| *k != kinds[0]) {
        return false;
    }
    kinds[0].iter().all(|kind| {
        let all: Vec<_> = replicas.iter_mut().map(|r| heads(r.docs.get_mut(kind).unwrap())).collect();
        all.iter().all(|h| *h == all[0])
    })
}
