//! The property test: three devices act and exchange at random, then converge.

use std::collections::BTreeMap;

use mingizuk_core::fold::{Derived, Event};
use mingizuk_core::schema::{self, DocKind};
use proptest::prelude::*;
use uuid::Uuid;

use crate::exchange::{converged, exchange};
use crate::invariants::{check_invariants, implied, views};
use crate::ops::{Op, op_strategy, twin_strategy};
use crate::replica::{OFFSETS, Replica, base_ms};

/// A small deterministic generator for the parts of a case that need no shrinking.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Debug, Clone)]
enum Step {
    Local {
        replica: u8,
        op: Op,
    },
    /// Two devices act without exchanging in between: the same action done twice, concurrent
    /// restarts, draws, edits… `sync_first` lets them agree on the state first.
    Twin {
        a: u8,
        b: u8,
        sync_first: bool,
        op_a: Op,
        op_b: Op,
    },
    Exchange {
        from: u8,
        to: u8,
        docs: u8,
        mode: u8,
    },
}

#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    /// Minutes each device's clock is ahead of the first base instant.
    skew: [i64; 3],
    offsets: [usize; 3],
    steps: Vec<Step>,
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => (0..3_u8, op_strategy()).prop_map(|(replica, op)| Step::Local { replica, op }),
        3 => (0..3_u8, 1..3_u8, prop_oneof![3 => Just(true), 1 => Just(false)], twin_strategy())
            .prop_map(|(a, d, sync_first, (op_a, op_b))| Step::Twin { a, b: (a + d) % 3, sync_first, op_a, op_b }),
        5 => (0..3_u8, 1..3_u8, prop_oneof![3 => Just(7_u8), 1 => 1..7_u8], 0..3_u8)
            .prop_map(|(from, d, docs, mode)| Step::Exchange { from, to: (from + d) % 3, docs, mode }),
    ]
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        [0..4_320_i64, 0..4_320_i64, 0..4_320_i64],
        [0..OFFSETS.len(), 0..OFFSETS.len(), 0..OFFSETS.len()],
        prop::collection::vec(step_strategy(), 1..45),
    )
        .prop_map(|(seed, skew, offsets, steps)| Case { seed, skew, offsets, steps })
}

fn run(case: &Case) {
    let root = Uuid::from_u64_pair(case.seed, 0xACC0);
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| {
            let now = base_ms() + case.skew[i] * 60_000;
            Replica::new(root, case.seed, i as u8, now, OFFSETS[case.offsets[i]])
        })
        .collect();
    for r in &replicas {
        check_invariants("start", &r.personal);
    }

    for (n, step) in case.steps.iter().enumerate() {
        match step {
            Step::Local { replica, op } => {
                let r = &mut replicas[usize::from(*replica)];
                r.act(op);
                check_invariants(&format!("step {n}, device {replica}"), &r.personal);
            }
            Step::Twin { a, b, sync_first, op_a, op_b } => {
                let (a, b) = (usize::from(*a), usize::from(*b));
                if *sync_first {
                    exchange(&mut replicas, a, b, 7, 0);
                    exchange(&mut replicas, b, a, 7, 1);
                }
                replicas[a].act(op_a);
                replicas[b].act(op_b);
                for i in [a, b] {
                    check_invariants(&format!("step {n}, device {i}"), &replicas[i].personal);
                }
            }
            Step::Exchange { from, to, docs, mode } => {
                let (from, to) = (usize::from(*from), usize::from(*to));
                exchange(&mut replicas, from, to, *docs, *mode);
                for i in [from, to] {
                    check_invariants(&format!("step {n}, device {i} after an exchange"), &replicas[i].personal);
                }
            }
        }
    }

    // Everything to everyone, pair by pair in a random order, until nothing changes.
    let mut rng = SplitMix(case.seed);
    let mut rounds = 0;
    while !converged(&mut replicas) {
        rounds += 1;
        assert!(rounds <= 4, "the devices do not converge");
        let mut pairs: Vec<(usize, usize)> =
            (0..3).flat_map(|a| (0..3).filter(move |b| *b != a).map(move |b| (a, b))).collect();
        for i in (1..pairs.len()).rev() {
            pairs.swap(i, rng.below(i + 1));
        }
        for (from, to) in pairs {
            let mode = rng.below(3) as u8;
            exchange(&mut replicas, from, to, 7, mode);
        }
    }

    // Identical documents: the same documents, the same heads, the same content read back.
    let first = replicas[0].read_uncached();
    assert_eq!(replicas[0].read(), first, "reading with the cache equals reading afresh");
    let docs = schema::read_doc_list(&replicas[0].docs[&DocKind::Account]).unwrap();
    let ids: BTreeMap<Uuid, DocKind> = replicas[0].docs.keys().map(|k| (k.id_in(root), *k)).collect();
    assert_eq!(docs, ids, "the account lists every document of the account");
    for r in &replicas {
        assert_eq!(r.personal, first, "device {} reads other data", r.index);
        assert_eq!(schema::read_doc_list(&r.docs[&DocKind::Account]).unwrap(), docs);
    }
    assert_eq!(first.account.started.len(), 3, "every device's first day is kept");

    // Identical derived state and history views.
    let today = replicas.iter().map(|r| r.moment().date).max().unwrap();
    let seen = views(&replicas[0].personal, today);
    for r in &replicas {
        assert_eq!(views(&r.personal, today), seen, "device {} shows other history", r.index);
    }
    let derived = check_invariants("converged", &first);
    assert_eq!(derived, seen.derived);

    // Folding a prefix and appending the rest gives the same state.
    let implied = implied(&first);
    let mut events: Vec<Event<'_>> = first
        .account
        .draws
        .iter()
        .map(Event::Draw)
        .chain(first.actions.values().map(Event::Action))
        .chain(first.routine_records.values().map(Event::Routine))
        .chain(implied.iter().map(Event::Routine))
        .collect();
    events.sort_by_key(Event::order);
    for _ in 0..3 {
        let split = rng.below(events.len() + 1);
        let mut appended = Derived::default();
        assert!(appended.try_append(&events[..split]));
        assert!(appended.try_append(&events[split..]));
        assert_eq!(appended, derived, "split at {split} of {}", events.len());
    }
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn three_devices_of_one_account_converge(case in case_strategy()) {
        run(&case);
    }
}
