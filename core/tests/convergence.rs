//! One account on three devices. Each device holds the account's Automerge documents (account,
//! routines, a log per month), changes them offline through the rules, and exchanges them with
//! the others now and then, in every way the app may: a merge, a saved document loaded
//! incrementally, the sync protocol; some documents at a time or all of them. Whatever happens,
//! every rule's invariant holds on every device after every step, a local change applied in
//! memory equals the documents read back, and once everything has been exchanged the devices hold
//! identical documents, identical derived state and identical history views.
#![allow(clippy::unwrap_used)]

#[path = "convergence/exchange.rs"]
mod exchange;
#[path = "convergence/hard_cases.rs"]
mod hard_cases;
#[path = "convergence/invariants.rs"]
mod invariants;
#[path = "convergence/ops.rs"]
mod ops;
#[path = "convergence/property.rs"]
mod property;
#[path = "convergence/replica.rs"]
mod replica;
