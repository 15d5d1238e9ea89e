//! The product rules of PRODUCT.md §3–§5, one test per rule, with the spec's numbers. States are
//! built the way the app builds them: through the `plan_*` rules and `Personal::apply`.
#![allow(clippy::unwrap_used)]

#[path = "rules/support.rs"]
mod support;

#[path = "rules/characters.rs"]
mod characters;
#[path = "rules/cycles.rs"]
mod cycles;
#[path = "rules/exp.rs"]
mod exp;
#[path = "rules/history.rs"]
mod history;
#[path = "rules/routines.rs"]
mod routines;
