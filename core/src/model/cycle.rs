//! Cycles: how a routine's plays are named, and what is known of each.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::RoutineId;

/// How a cycle began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleStart {
    /// The previous cycle was complete and the user started the next one.
    Restart,
    /// The previous cycle was abandoned (its completions stay in the history).
    Reset,
    /// A routine's first cycle, started by its first completion (`Cycle::first_of`).
    First,
}

impl CycleStart {
    /// How documents store it.
    pub fn name(self) -> &'static str {
        match self {
            CycleStart::Restart => "restart",
            CycleStart::Reset => "reset",
            CycleStart::First => "first",
        }
    }

    /// What `name` stores, read back.
    pub fn from_name(name: &str) -> Option<CycleStart> {
        [CycleStart::Restart, CycleStart::Reset, CycleStart::First].into_iter().find(|s| s.name() == name)
    }
}

/// One cycle of a routine, as completions name it.
///
/// Builds before cycle ids numbered cycles 1, 2, 3, … (`Number`), so that devices which played a
/// routine apart met in the same numbers and their completions folded into one (presets have one
/// id everywhere: a phone's June hidden behind a laptop's May). A cycle is now started under an
/// id (`Id`): a fresh one for a restart or a reset, one derived from the account for a routine's
/// first (`first_of`). Devices that share a cycle merge its completions, devices that played
/// apart keep theirs. `Number` stays for what older builds wrote, and `FIRST` names the cycle of
/// a routine nothing was done in yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cycle {
    Number(u32),
    Id(Uuid),
}

impl Cycle {
    /// The cycle every routine begins in, until its first completion names it (`first_of`).
    pub const FIRST: Cycle = Cycle::Number(1);

    /// The first cycle of `routine` in the account whose root document is `root`: the same on
    /// every device of the account, so that devices which share an account share it, and another
    /// on a device used before it signed in (its data had a root of its own then).
    pub fn first_of(root: Uuid, routine: RoutineId) -> Cycle {
        Cycle::Id(Uuid::new_v5(&root, format!("cycle/{routine}").as_bytes()))
    }
}

impl std::fmt::Display for Cycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cycle::Number(n) => write!(f, "{n}"),
            Cycle::Id(id) => write!(f, "{id}"),
        }
    }
}

impl std::str::FromStr for Cycle {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Cycle, uuid::Error> {
        match s.parse::<u32>() {
            Ok(n) if n.to_string() == s => Ok(Cycle::Number(n)),
            _ => s.parse().map(Cycle::Id),
        }
    }
}

/// A number as older builds wrote it (files, cached completions, map keys), an id as a string.
impl Serialize for Cycle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cycle::Number(n) => s.serialize_u32(*n),
            Cycle::Id(id) => s.collect_str(id),
        }
    }
}

impl<'de> Deserialize<'de> for Cycle {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cycle, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Cycle;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a cycle number or a cycle id")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Cycle, E> {
                u32::try_from(n).map(Cycle::Number).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Cycle, E> {
                u32::try_from(n).map(Cycle::Number).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Cycle, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// What is known of a started cycle: its number (one past the cycle it followed) orders it, then
/// the instant it started. Two devices may start one cycle (a routine's first, `Cycle::first_of`)
/// each: the two records merge into the smallest of each field (`CycleInfo::merge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CycleInfo {
    pub number: u32,
    pub start: CycleStart,
    /// 0 for a numbered cycle (older builds recorded no instant).
    pub at_ms: i64,
}

impl CycleInfo {
    /// A numbered cycle as older builds recorded it.
    pub fn numbered(number: u32, start: CycleStart) -> CycleInfo {
        CycleInfo { number, start, at_ms: 0 }
    }

    /// Two records of one cycle as one: of two starts the first in `CycleStart`'s order (a
    /// restart keeps more than a reset), the earliest instant.
    pub fn merge(self, other: CycleInfo) -> CycleInfo {
        CycleInfo {
            number: self.number.min(other.number),
            start: self.start.min(other.start),
            at_ms: self.at_ms.min(other.at_ms),
        }
    }
}

/// `Routine::cycles` in JSON: a map from cycle to `CycleInfo`, where files of export version 1 and
/// older caches hold `{"2": "restart"}` (a numbered cycle's start alone).
pub(super) mod cycles_serde {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Cycle, CycleInfo, CycleStart};

    pub fn serialize<S: Serializer>(cycles: &BTreeMap<Cycle, CycleInfo>, s: S) -> Result<S::Ok, S::Error> {
        cycles.serialize(s)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Info(CycleInfo),
        Start(CycleStart),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Cycle, CycleInfo>, D::Error> {
        let stored = BTreeMap::<Cycle, Stored>::deserialize(d)?;
        stored
            .into_iter()
            .map(|(cycle, value)| match (value, cycle) {
                (Stored::Info(info), _) => Ok((cycle, info)),
                (Stored::Start(start), Cycle::Number(n)) => Ok((cycle, CycleInfo::numbered(n, start))),
                (Stored::Start(_), Cycle::Id(id)) => {
                    Err(serde::de::Error::custom(format!("cycle {id} has a start but no number")))
                }
            })
            .collect()
    }
}
