//! Where "now" comes from, at the precision both databases store.

use chrono::{NaiveDateTime, Timelike, Utc};

/// Where "now" comes from: the system clock, or a fixed instant in tests.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// The system clock, truncated to microseconds (what both databases store).
    System,
    /// Always this instant.
    Fixed(NaiveDateTime),
}

impl Clock {
    /// The current UTC time.
    pub fn now(&self) -> NaiveDateTime {
        match self {
            Self::System => to_micros(Utc::now().naive_utc()),
            Self::Fixed(at) => *at,
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
}
