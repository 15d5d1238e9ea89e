#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use automerge::sync::{self, Message, SyncDoc};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Automerge, ChangeHash, ObjType, ROOT, ReadDoc};

use super::{Bounds, Ledger, LedgerError};

/// The server's side of the protocol: the ledger, or automerge's own document to compare with.
trait Server {
    fn receive(&mut self, state: &mut sync::State, message: Message);
    fn generate(&self, state: &mut sync::State) -> Option<Message>;
}

impl Server for Ledger {
    fn receive(&mut self, state: &mut sync::State, message: Message) {
        // Through the server's own reading of the wire, which must take every message automerge makes.
        let message = super::decode_message(&message.encode()).expect("the server reads the message");
        let bounds = Bounds::for_messages_of(16 * 1024 * 1024);
        self.receive_sync_message(state, message, &bounds).expect("the ledger takes the message");
    }
    fn generate(&self, state: &mut sync::State) -> Option<Message> {
        self.generate_sync_message(state)
    }
}

impl Server for Automerge {
    fn receive(&mut self, state: &mut sync::State, message: Message) {
        self.receive_sync_message(state, message).expect("automerge takes the message");
    }
    fn generate(&self, state: &mut sync::State) -> Option<Message> {
        self.generate_sync_message(state)
    }
}

/// One device: its document and its sync state with the server (and the server's with it).
struct Device {
    doc: AutoCommit,
    mine: sync::State,
    servers: sync::State,
}

impl Device {
    fn new(actor: u8) -> Self {
        let doc = AutoCommit::new().with_actor(ActorId::from(vec![actor; 16]));
        Self { doc, mine: sync::State::new(), servers: sync::State::new() }
    }

    /// `n` small changes at fixed times, so two runs of a scenario make the same changes.
    fn write(&mut self, n: u32, tag: &str) {
        for i in 0..n {
            self.doc.put(ROOT, "count", i64::from(i)).unwrap();
            self.doc.put(ROOT, format!("{tag}-{i}"), tag).unwrap();
            self.doc.commit_with(CommitOptions::default().with_time(0));
        }
    }

    /// A new connection: both sides start from fresh sync states.
    fn reconnect(&mut self) {
        self.mine = sync::State::new();
        self.servers = sync::State::new();
    }
}

/// What the server said in one message, apart from the bytes of the changes (automerge sends a
/// saved document where the ledger sends the changes themselves).
#[derive(Debug, PartialEq)]
struct Said {
    heads: Vec<ChangeHash>,
    need: Vec<ChangeHash>,
    have: Vec<sync::Have>,
    changes: Vec<ChangeHash>,
}

fn hashes_in(message: &Message) -> Vec<ChangeHash> {
    let mut doc = Automerge::new();
    for blob in message.changes.iter() {
        doc.load_incremental(blob).unwrap();
    }
    let mut hashes: Vec<ChangeHash> = doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
    hashes.sort();
    hashes
}

/// Runs the protocol between a device and the server, through the wire encoding, until both are
/// quiet; returns what the server said.
fn exchange(device: &mut Device, server: &mut impl Server) -> Vec<Said> {
    let mut said = Vec::new();
    for _ in 0..50 {
        let mut quiet = true;
        if let Some(m) = device.doc.sync().generate_sync_message(&mut device.mine) {
            server.receive(&mut device.servers, Message::decode(&m.encode()).unwrap());
            quiet = false;
        }
        if let Some(m) = server.generate(&mut device.servers) {
            let m = Message::decode(&m.encode()).unwrap();
            said.push(Said {
                heads: m.heads.clone(),
                need: m.need.clone(),
                have: m.have.clone(),
                changes: hashes_in(&m),
            });
            device.doc.sync().receive_sync_message(&mut device.mine, m).unwrap();
            quiet = false;
        }
        if quiet {
            return said;
        }
    }
    panic!("the sync did not settle");
}

/// Three devices write offline, sync, write more (one of them also reconnects), sync again.
fn three_devices(server: &mut impl Server) -> (Vec<Device>, Vec<Vec<Said>>) {
    let mut devices: Vec<Device> = (1..=3).map(Device::new).collect();
    let mut transcript = Vec::new();
    for (round, n) in [(0, 40), (1, 7), (2, 1)] {
        for (i, device) in devices.iter_mut().enumerate() {
            device.write(n + i as u32, &format!("d{i}r{round}"));
        }
        if round == 1 {
            devices[2].reconnect();
        }
        for _ in 0..2 {
            for device in devices.iter_mut() {
                transcript.push(exchange(device, server));
            }
        }
    }
    (devices, transcript)
}

#[test]
fn devices_that_wrote_offline_converge_through_the_ledger() {
    let mut ledger = Ledger::default();
    let (mut devices, _) = three_devices(&mut ledger);
    let heads = ledger.heads();
    assert!(!heads.is_empty());
    for device in devices.iter_mut() {
        assert_eq!(device.doc.get_heads(), heads, "every device ends at the server's heads");
    }
    let count = |d: &Device| d.doc.get(ROOT, "d2r2-0").unwrap().map(|(v, _)| v.to_string());
    assert_eq!(count(&devices[0]), Some("\"d2r2\"".to_owned()));
}

#[test]
fn the_ledger_says_what_automerge_would_say() {
    let (_, ours) = three_devices(&mut Ledger::default());
    let (_, theirs) = three_devices(&mut Automerge::new());
    assert_eq!(ours.len(), theirs.len());
    for (i, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(ours, theirs, "exchange {i}");
    }
}

#[test]
fn a_fresh_device_gets_the_whole_document_in_one_message() {
    let mut ledger = Ledger::default();
    let mut writer = Device::new(1);
    writer.write(300, "w");
    exchange(&mut writer, &mut ledger);
    let mut fresh = Device::new(2);
    let said = exchange(&mut fresh, &mut ledger);
    assert_eq!(said.iter().filter(|s| !s.changes.is_empty()).count(), 1);
    assert_eq!(said.iter().map(|s| s.changes.len()).sum::<usize>(), 300);
    assert_eq!(fresh.doc.get_heads(), writer.doc.get_heads());
}

#[test]
fn what_the_ledger_holds_loads_back_as_it_was() {
    let mut writer = Device::new(1);
    writer.write(50, "w");
    let mut ledger = Ledger::default();
    ledger.load(&writer.doc.save()).unwrap();
    assert_eq!(ledger.heads(), writer.doc.get_heads(), "a saved document loads");
    let mut again = Ledger::default();
    assert_eq!(again.load(&ledger.all_bytes()).unwrap().len(), 50);
    assert_eq!(again.heads(), ledger.heads(), "the changes it holds load");
    assert_eq!(Automerge::load(&ledger.all_bytes()).unwrap().get_heads(), ledger.heads());
}

#[test]
fn changes_waiting_for_a_dependency_apply_when_it_arrives() {
    let mut writer = Device::new(1);
    writer.write(3, "w");
    let changes = writer.doc.get_changes(&[]);
    let mut ledger = Ledger::default();
    assert!(ledger.load(changes[2].raw_bytes()).unwrap().is_empty());
    assert!(ledger.load(changes[1].raw_bytes()).unwrap().is_empty());
    assert!(ledger.heads().is_empty());
    let mut state = sync::State { their_heads: Some(vec![changes[2].hash()]), ..sync::State::new() };
    let message = ledger.generate_sync_message(&mut state).unwrap();
    assert_eq!(message.need, vec![changes[0].hash()], "it asks for what the waiting ones lack");
    let applied = ledger.load(changes[0].raw_bytes()).unwrap();
    assert_eq!(applied, changes.iter().map(|c| c.hash()).collect::<Vec<_>>());
    assert_eq!(ledger.heads(), vec![changes[2].hash()]);
}

#[test]
fn stored_chunks_read_before_the_chunk_they_depend_on_load_however_many_changes_wait() {
    // A laptop's first change was stored in one chunk; then, offline, it wrote more changes than a
    // peer may leave waiting, stored in a second chunk. Storage reads chunks in no causal order.
    let mut laptop = Device::new(1);
    laptop.write(1, "first");
    let first = laptop.doc.save_incremental();
    laptop.write(super::MAX_PENDING as u32 + 100, "offline");
    let offline = laptop.doc.save_incremental();
    let mut ledger = Ledger::default();
    assert!(ledger.load(&offline).unwrap().is_empty(), "they wait for the first change");
    assert_eq!(ledger.load(&first).unwrap().len(), super::MAX_PENDING + 101, "then all apply");
    assert_eq!(ledger.heads(), laptop.doc.get_heads());
}

#[test]
fn changes_sent_newest_first_apply_in_one_message() {
    let mut writer = Device::new(1);
    writer.write(500, "w");
    let changes = writer.doc.get_changes(&[]);
    let newest_first: Vec<u8> = changes.iter().rev().flat_map(|c| c.raw_bytes().to_vec()).collect();
    let mut ledger = Ledger::default();
    let applied = ledger.load(&newest_first).unwrap();
    assert_eq!(applied, changes.iter().map(|c| c.hash()).collect::<Vec<_>>(), "dependencies first");
    assert_eq!(ledger.heads(), writer.doc.get_heads());
    assert!(ledger.load(&newest_first).unwrap().is_empty(), "a repeat changes nothing");
}

#[test]
fn bytes_that_are_not_sound_changes_are_refused() {
    let mut writer = Device::new(1);
    writer.write(1, "w");
    let change = writer.doc.get_changes(&[])[0].raw_bytes().to_vec();
    let mut ledger = Ledger::default();
    assert!(matches!(ledger.load(b"not automerge"), Err(LedgerError::Chunk { at: 0, .. })));
    assert!(matches!(ledger.load(&change[..change.len() - 1]), Err(LedgerError::Chunk { .. })));
    let mut bad_checksum = change.clone();
    bad_checksum[5] ^= 1;
    assert!(matches!(ledger.load(&bad_checksum), Err(LedgerError::Chunk { .. })));
    let mut trailing = change.clone();
    trailing.extend_from_slice(b"junk");
    assert!(matches!(ledger.load(&trailing), Err(LedgerError::Chunk { .. })));

    let mut ledger = Ledger::default();
    ledger.load(&change).unwrap();
    // Another change by the same actor with the same sequence number.
    let mut twin = Device::new(1);
    twin.write(1, "twin");
    let twin = twin.doc.get_changes(&[])[0].raw_bytes().to_vec();
    assert!(matches!(ledger.load(&twin), Err(LedgerError::DuplicateSeq { seq: 1, .. })));
}

#[test]
fn what_a_peer_lacks_is_found_without_walking_the_whole_graph_wrongly() {
    // A graph with branches and merges: three devices, each writing and merging the others.
    let mut docs: Vec<AutoCommit> =
        (1..=3u8).map(|a| AutoCommit::new().with_actor(ActorId::from(vec![a; 16]))).collect();
    let mut ledger = Ledger::default();
    for step in 0..60usize {
        let i = step % 3;
        docs[i].put(ROOT, "n", step as i64).unwrap();
        if step % 7 == 0 {
            docs[i].put_object(ROOT, format!("list{step}"), ObjType::List).unwrap();
        }
        docs[i].commit();
        if step % 5 == 0 {
            let (a, b) = if i == 0 { (0, 1) } else { (i, 0) };
            let mut other = docs[b].clone();
            docs[a].merge(&mut other).unwrap();
        }
        for c in docs[i].get_changes(&[]) {
            ledger.load(c.raw_bytes()).unwrap();
        }
    }
    let mut whole = Automerge::new();
    whole.load_incremental(&ledger.all_bytes()).unwrap();
    for doc in docs.iter_mut() {
        let heads = doc.get_heads();
        let expected: HashSet<ChangeHash> = whole.get_changes(&heads).iter().map(|c| c.hash()).collect();
        let found: HashSet<ChangeHash> = ledger.hashes_since(&heads).into_iter().collect();
        assert_eq!(found, expected);
    }
    assert!(ledger.hashes_since(&ledger.heads()).is_empty());
    assert_eq!(ledger.hashes_since(&[]).len(), whole.get_changes(&[]).len());
}
