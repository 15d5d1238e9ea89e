//! Several headless devices, each a real engine on its own SQLite file, used offline and then
//! merged in random orders: they must end with one history. (The network comes with the sync
//! server; here documents are handed over directly.)
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use mingizuk_client::core::catalog::ACTIONS;
use mingizuk_client::core::rules::ActionPick;
use mingizuk_client::{Engine, ManualClock};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// 2026-11-02 00:00 UTC.
const START_MS: i64 = 1_793_577_600_000;
const MINUTE: i64 = 60_000;

struct Device {
    engine: Engine,
    clock: Arc<ManualClock>,
}

/// One random user action; refused actions are fine (the rules say no), errors of any other
/// kind are not.
async fn act(device: &Device, rng: &mut StdRng) {
    device.clock.advance(rng.random_range(1..=600) * MINUTE);
    let engine = &device.engine;
    let routines = engine.routines().await;
    let routine = &routines[rng.random_range(0..routines.len())];
    let result = match rng.random_range(0..10) {
        0 => engine.draw_character().await.map(drop),
        1 => {
            let picks: Vec<ActionPick> = (0..rng.random_range(1..=3))
                .map(|i| ActionPick {
                    action: ACTIONS[(i * 5 + rng.random_range(0..5)) % ACTIONS.len()].id.into(),
                    count: 10,
                })
                .collect();
            engine.create_routine(&format!("r{}", rng.random_range(0..6)), &picks).await.map(drop)
        }
        2 => engine.set_main(Some(routine.id)).await,
        3 => engine.restart(routine.id).await,
        4 => engine.reset(routine.id).await,
        5 if !routine.preset => {
            engine.edit_routine(routine.id, &routine.name, &[ActionPick { action: "squat".into(), count: 12 }]).await
        }
        _ => match routine.entries.iter().find(|e| !e.done) {
            Some(entry) => engine.complete_action(routine.id, entry.id).await.map(drop),
            None => Ok(()),
        },
    };
    if let Err(e) = result {
        assert!(matches!(e, mingizuk_client::ClientError::Rule(_)), "unexpected error: {e}");
    }
}

async fn exchange(from: &Device, to: &Device) {
    to.engine.merge_documents(&from.engine.export_documents().await.unwrap()).await.unwrap();
}

#[tokio::test]
async fn three_devices_used_offline_converge_to_one_history_after_merging_in_any_order() {
    let seeds = std::env::var("DEVICE_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12u64);
    let mut histories_with_completions = 0;
    for seed in 0..seeds {
        let mut rng = StdRng::seed_from_u64(seed);
        let dir = tempfile::tempdir().unwrap();
        let mut devices = Vec::new();
        for name in ["phone", "laptop", "tablet"] {
            let clock = Arc::new(ManualClock::new(START_MS, 9 * 60));
            let engine = Engine::open(&dir.path().join(format!("{name}.sqlite")), clock.clone()).await.unwrap();
            devices.push(Device { engine, clock });
        }
        // All three sign in to the phone's account; the phone's presets are everyone's.
        let root = devices[0].engine.root_id().await;
        for d in &devices[1..] {
            d.engine.adopt_account(root).await.unwrap();
        }
        for _ in 0..60 {
            let i = rng.random_range(0..devices.len());
            if rng.random_bool(0.15) {
                let j = (i + rng.random_range(1..devices.len())) % devices.len();
                exchange(&devices[i], &devices[j]).await;
            } else {
                act(&devices[i], &mut rng).await;
            }
        }
        // Everyone meets everyone, in a random order, twice around.
        for _ in 0..2 {
            for i in 0..devices.len() {
                for j in 0..devices.len() {
                    if i != j {
                        exchange(&devices[i], &devices[j]).await;
                    }
                }
            }
        }
        let expected = devices[0].engine.derived().await;
        if expected.total_exp > 0 {
            histories_with_completions += 1;
        }
        for d in &devices[1..] {
            assert_eq!(d.engine.personal().await, devices[0].engine.personal().await, "seed {seed}");
            assert_eq!(d.engine.derived().await, expected, "seed {seed}");
            assert_eq!(d.engine.routines().await, devices[0].engine.routines().await, "seed {seed}");
        }
        // And each device's SQLite projection matches, also after a reopen.
        for (d, name) in devices.into_iter().zip(["phone", "laptop", "tablet"]) {
            let stored = d.engine.stored_day_totals().await.unwrap();
            assert_eq!(stored, expected.days.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
            d.engine.close().await.unwrap();
            let reopened = Engine::open(&dir.path().join(format!("{name}.sqlite")), d.clock.clone()).await.unwrap();
            assert_eq!(reopened.derived().await, expected, "seed {seed} after reopening {name}");
        }
    }
    assert!(histories_with_completions * 2 > seeds, "most random histories log exercise");
}
