//! Who may read an article's whole body: the paywall's rules in one place.
//!
//! `free` articles are whole for everyone. Subscribers, editors and admins
//! read everything whole without touching the meter. `premium` articles are
//! whole only for them. `metered` articles are whole for other readers while
//! their monthly meter allows: re-reading an article already counted this
//! month is free, and a new one is counted only while fewer than the limit
//! have been read.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::article::AccessLevel;

/// The reader asking for an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// No account; metered by an anonymous meter token.
    Anonymous,
    /// A signed-in reader without a subscription.
    Registered,
    /// A reader whose subscription gives access now.
    Subscriber,
    /// An editor or an admin.
    Staff,
    /// A third party with an API key: never metered; `full_licence` (scope
    /// `content:full`) reads metered and premium articles whole, otherwise
    /// (`content:read`) they get previews.
    Partner {
        /// Whether the key carries the syndication licence.
        full_licence: bool,
    },
}

/// Why a reader gets (or does not get) the whole article.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessReason {
    /// The article is free for everyone.
    Free,
    /// The reader holds a subscription.
    Subscriber,
    /// The reader is an editor or an admin.
    Staff,
    /// The reader's monthly meter allows this metered article.
    Meter,
    /// The reader's monthly allowance of metered articles is used up.
    LimitReached,
    /// The article is for subscribers only.
    Premium,
    /// An API key's licence decides: whole with `content:full`, a preview
    /// of metered and premium articles with `content:read`.
    Licence,
}

/// The outcome of the paywall for one reader and one article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Whether the whole body may be shown.
    pub full: bool,
    /// Why.
    pub reason: AccessReason,
}

/// Where a reader's meter stands for one article this month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MeterState {
    /// Metered articles allowed per month.
    pub limit: u32,
    /// Distinct metered articles already counted this month.
    pub used: u32,
    /// Whether this article is one of them.
    pub already_read: bool,
}

/// What to do for one read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    /// What the reader gets.
    pub access: Access,
    /// Whether this read must be counted on the meter (a new metered article
    /// within the allowance).
    pub count_it: bool,
}

const fn whole(reason: AccessReason) -> Decision {
    Decision {
        access: Access { full: true, reason },
        count_it: false,
    }
}

const fn preview(reason: AccessReason) -> Decision {
    Decision {
        access: Access {
            full: false,
            reason,
        },
        count_it: false,
    }
}

/// Decides whether `reader` may read an article of `level` whole, given the
/// reader's meter for it (ignored for readers who are not metered).
pub(crate) fn decide(level: AccessLevel, reader: Reader, meter: MeterState) -> Decision {
    match (level, reader) {
        (AccessLevel::Free, _) => whole(AccessReason::Free),
        (_, Reader::Staff) => whole(AccessReason::Staff),
        (_, Reader::Subscriber) => whole(AccessReason::Subscriber),
        (_, Reader::Partner { full_licence: true }) => whole(AccessReason::Licence),
        (
            _,
            Reader::Partner {
                full_licence: false,
            },
        ) => preview(AccessReason::Licence),
        (AccessLevel::Premium, Reader::Anonymous | Reader::Registered) => {
            preview(AccessReason::Premium)
        }
        (AccessLevel::Metered, Reader::Anonymous | Reader::Registered) => {
            if meter.already_read {
                whole(AccessReason::Meter)
            } else if meter.used < meter.limit {
                Decision {
                    access: Access {
                        full: true,
                        reason: AccessReason::Meter,
                    },
                    count_it: true,
                }
            } else {
                preview(AccessReason::LimitReached)
            }
        }
    }
}

/// Whether reads by this reader go through the meter at all.
pub(crate) fn is_metered(reader: Reader) -> bool {
    matches!(reader, Reader::Anonymous | Reader::Registered)
}

/// The meter's month key (`YYYY-MM`, UTC) for an instant.
pub fn month_of(at: NaiveDateTime) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

/// When the meter of the month containing `at` resets: the first instant of the next month.
pub fn resets_at(at: NaiveDateTime) -> NaiveDateTime {
    let (year, month) = if at.month() == 12 {
        (at.year() + 1, 1)
    } else {
        (at.year(), at.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const READERS: [Reader; 6] = [
        Reader::Anonymous,
        Reader::Registered,
        Reader::Subscriber,
        Reader::Staff,
        Reader::Partner {
            full_licence: false,
        },
        Reader::Partner { full_licence: true },
    ];

    fn meter(used: u32, already_read: bool) -> MeterState {
        MeterState {
            limit: 3,
            used,
            already_read,
        }
    }

    /// Every meter state worth telling apart for a limit of 3.
    fn meter_states() -> Vec<MeterState> {
        let mut states = Vec::new();
        for used in 0..=4 {
            states.push(meter(used, false));
            if used > 0 {
                states.push(meter(used, true));
            }
        }
        states
    }

    #[test]
    fn free_articles_are_whole_for_everyone_and_never_counted() {
        for reader in READERS {
            for state in meter_states() {
                let d = decide(AccessLevel::Free, reader, state);
                assert_eq!(d, whole(AccessReason::Free), "{reader:?} {state:?}");
            }
        }
    }

    #[test]
    fn subscribers_and_staff_read_everything_without_the_meter() {
        for level in [AccessLevel::Metered, AccessLevel::Premium] {
            for state in meter_states() {
                assert_eq!(
                    decide(level, Reader::Subscriber, state),
                    whole(AccessReason::Subscriber)
                );
                assert_eq!(
                    decide(level, Reader::Staff, state),
                    whole(AccessReason::Staff)
                );
            }
        }
    }

    #[test]
    fn partners_are_never_metered_and_their_licence_decides() {
        for level in [AccessLevel::Metered, AccessLevel::Premium] {
            for state in meter_states() {
                assert_eq!(
                    decide(level, Reader::Partner { full_licence: true }, state),
                    whole(AccessReason::Licence)
                );
                assert_eq!(
                    decide(
                        level,
                        Reader::Partner {
                            full_licence: false
                        },
                        state
                    ),
                    preview(AccessReason::Licence)
                );
            }
        }
        assert!(!is_metered(Reader::Partner {
            full_licence: false
        }));
    }

    #[test]
    fn premium_is_never_whole_without_a_subscription() {
        for reader in [Reader::Anonymous, Reader::Registered] {
            for state in meter_states() {
                assert_eq!(
                    decide(AccessLevel::Premium, reader, state),
                    preview(AccessReason::Premium)
                );
            }
        }
    }

    #[test]
    fn the_meter_allows_new_articles_until_the_limit_and_rereads_always() {
        for reader in [Reader::Anonymous, Reader::Registered] {
            for state in meter_states() {
                let d = decide(AccessLevel::Metered, reader, state);
                let expected = if state.already_read {
                    whole(AccessReason::Meter)
                } else if state.used < state.limit {
                    Decision {
                        access: Access {
                            full: true,
                            reason: AccessReason::Meter,
                        },
                        count_it: true,
                    }
                } else {
                    preview(AccessReason::LimitReached)
                };
                assert_eq!(d, expected, "{reader:?} {state:?}");
            }
        }
    }

    #[test]
    fn a_zero_limit_allows_nothing_new() {
        let state = MeterState {
            limit: 0,
            used: 0,
            already_read: false,
        };
        assert_eq!(
            decide(AccessLevel::Metered, Reader::Registered, state),
            preview(AccessReason::LimitReached)
        );
    }

    #[test]
    fn months_are_calendar_months_in_utc() {
        let at = |y, m, d, h| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        assert_eq!(month_of(at(2026, 11, 30, 23)), "2026-11");
        assert_eq!(month_of(at(2026, 12, 1, 0)), "2026-12");
        assert_eq!(resets_at(at(2026, 11, 15, 12)), at(2026, 12, 1, 0));
        assert_eq!(resets_at(at(2026, 12, 31, 23)), at(2027, 1, 1, 0));
    }
}
