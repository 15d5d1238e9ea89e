//! Where the engine reads the time and the device's UTC offset. The system clock in the app; a
//! clock that tests and benchmarks move by hand.

use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};

use chrono::{Local, Offset, TimeZone};

pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// The device's UTC offset at `at_ms`, in minutes east of UTC.
    fn offset_minutes(&self, at_ms: i64) -> i32;
}

/// The operating system's clock and time zone.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        Local::now().timestamp_millis()
    }

    fn offset_minutes(&self, at_ms: i64) -> i32 {
        Local.timestamp_millis_opt(at_ms).single().map_or(0, |t| t.offset().fix().local_minus_utc() / 60)
    }
}

/// A clock set by hand: for tests, the demo and the benchmarks.
#[derive(Debug, Default)]
pub struct ManualClock {
    ms: AtomicI64,
    offset: AtomicI32,
}

impl ManualClock {
    pub fn new(at_ms: i64, offset_minutes: i32) -> ManualClock {
        ManualClock { ms: AtomicI64::new(at_ms), offset: AtomicI32::new(offset_minutes) }
    }

    pub fn set(&self, at_ms: i64) {
        self.ms.store(at_ms, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: i64) {
        self.ms.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set_offset(&self, minutes: i32) {
        self.offset.store(minutes, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.ms.load(Ordering::SeqCst)
    }

    fn offset_minutes(&self, _at_ms: i64) -> i32 {
        self.offset.load(Ordering::SeqCst)
    }
}
