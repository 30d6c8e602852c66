//! Where "now" comes from, at the precision both databases store.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDateTime, Timelike, Utc};

/// Where "now" comes from: the system clock, or (in tests) the system clock
/// moved ahead by an offset that the test advances, so that what happens at
/// a later time (a scheduled article going live, a token expiring) can be
/// seen without waiting for it.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// The system clock, truncated to microseconds (what both databases store).
    System,
    /// The system clock plus this many microseconds.
    Shifted(&'static AtomicI64),
}

impl Clock {
    /// A clock that runs with the system's until `advance` moves it on. Its
    /// offset lives as long as the process (eight bytes per clock made).
    pub fn shifted() -> Self {
        Self::Shifted(Box::leak(Box::new(AtomicI64::new(0))))
    }

    /// The current UTC time.
    pub fn now(&self) -> NaiveDateTime {
        let now = to_micros(Utc::now().naive_utc());
        match self {
            Self::System => now,
            Self::Shifted(offset) => now + Duration::microseconds(offset.load(Ordering::SeqCst)),
        }
    }

    /// Moves a shifted clock `by` into the future (the system clock cannot
    /// be moved: nothing happens).
    pub fn advance(&self, by: Duration) {
        if let Self::Shifted(offset) = self {
            offset.fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::SeqCst);
        }
    }
}

/// `at` truncated to microseconds, the precision both databases store.
pub(crate) fn to_micros(at: NaiveDateTime) -> NaiveDateTime {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_has_microsecond_precision() {
        let now = Clock::System.now();
        assert_eq!(now.nanosecond() % 1_000, 0);
    }

    #[test]
    fn a_shifted_clock_runs_and_jumps_ahead_when_advanced() {
        let clock = Clock::shifted();
        let before = Clock::System.now();
        let start = clock.now();
        assert!(start >= before && start - before < Duration::seconds(5));
        clock.advance(Duration::hours(2));
        let later = clock.now();
        assert!(later - start >= Duration::hours(2));
        assert!(later - start < Duration::hours(2) + Duration::seconds(5));
        Clock::System.advance(Duration::hours(2));
        assert!(Clock::System.now() - before < Duration::seconds(5));
    }
}
