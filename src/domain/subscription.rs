//! Subscriptions: their states, and every way one moves between them.
//!
//! What is stored is the last state an event or a reader's command left;
//! what a subscription *is* at a given instant also depends on the clock (a
//! canceled subscription expires when its period ends without anyone asking).
//! [`Terms::status_at`] answers that, and [`Terms::apply`] is the one place
//! where state changes, so both are pure and tested here exhaustively.
//!
//! Payment events may arrive late, twice or out of order. A success only
//! ever extends the paid period (an older one is stale); a failure older
//! than the last success is stale. Stale events change nothing.

use chrono::{Duration, Months, NaiveDateTime};

use super::plan::BillingInterval;

text_enum! {
    /// Where a subscription stands.
    SubscriptionStatus {
        /// Created, waiting for the payment processor to confirm the first payment.
        Incomplete => "incomplete",
        /// Paid for the current period.
        Active => "active",
        /// A payment failed (or is overdue); access continues until `grace_until`.
        PastDue => "past_due",
        /// Will not renew; access continues until the period ends.
        Canceled => "canceled",
        /// Over: no access.
        Expired => "expired",
    }
}

impl SubscriptionStatus {
    /// Whether a subscription in this state reads everything whole.
    pub(crate) fn gives_access(self) -> bool {
        matches!(self, Self::Active | Self::PastDue | Self::Canceled)
    }

    /// Whether a subscription in this state stands in the way of a new one.
    pub(crate) fn is_live(self) -> bool {
        !matches!(self, Self::Expired)
    }
}

/// How long a subscription may wait for its first payment before it lapses.
pub(crate) const INCOMPLETE_TTL: Duration = Duration::hours(24);

/// The stored state of one subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    /// The state the last change left.
    pub status: SubscriptionStatus,
    /// The paid period, once there has been a payment.
    pub period: Option<(NaiveDateTime, NaiveDateTime)>,
    /// The reader (or the processor) canceled: no renewal after this period.
    pub cancel_at_period_end: bool,
    /// While `past_due`: access lasts until then.
    pub grace_until: Option<NaiveDateTime>,
    /// When the latest successful payment happened.
    pub last_payment_at: Option<NaiveDateTime>,
    /// When the subscription was created.
    pub created_at: NaiveDateTime,
}

/// Something that happens to a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// The processor took a payment covering `start..end`.
    PaymentSucceeded {
        /// When the payment happened.
        at: NaiveDateTime,
        /// The start of the period paid for.
        start: NaiveDateTime,
        /// The end of the period paid for.
        end: NaiveDateTime,
    },
    /// The processor could not take a payment.
    PaymentFailed {
        /// When the attempt failed.
        at: NaiveDateTime,
    },
    /// The processor ended the subscription (for example, after failed retries).
    ProviderCanceled {
        /// When.
        at: NaiveDateTime,
    },
    /// The reader cancels: no renewal, access until the period ends.
    Cancel {
        /// When.
        at: NaiveDateTime,
    },
    /// The reader takes back a cancellation before the period ends.
    Resume {
        /// When.
        at: NaiveDateTime,
    },
}

impl Event {
    fn at(self) -> NaiveDateTime {
        match self {
            Self::PaymentSucceeded { at, .. }
            | Self::PaymentFailed { at }
            | Self::ProviderCanceled { at }
            | Self::Cancel { at }
            | Self::Resume { at } => at,
        }
    }
}

/// Why an event changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    /// The event is older than what it would change (a replay or a late delivery).
    #[error("the event is older than the subscription's state")]
    Stale,
    /// The event means nothing in the subscription's current state.
    #[error("the subscription is {0}; this does not apply")]
    NotApplicable(SubscriptionStatus),
    /// A payment event that contradicts itself (a period that ends before it starts).
    #[error("the paid period ends before it starts")]
    InvalidPeriod,
}

impl Terms {
    /// A new subscription waiting for its first payment.
    pub fn incomplete(created_at: NaiveDateTime) -> Self {
        Self {
            status: SubscriptionStatus::Incomplete,
            period: None,
            cancel_at_period_end: false,
            grace_until: None,
            last_payment_at: None,
            created_at,
        }
    }

    /// When the paid period ends, if there has been one.
    pub fn period_end(&self) -> Option<NaiveDateTime> {
        self.period.map(|(_, end)| end)
    }

    /// The status at instant `now`, with `grace` as the past-due grace period.
    ///
    /// An active subscription whose period has ended without a renewal is
    /// overdue: `past_due` for `grace`, then `expired`. A canceled one expires
    /// when its period ends; an incomplete one after [`INCOMPLETE_TTL`].
    pub(crate) fn status_at(&self, now: NaiveDateTime, grace: Duration) -> SubscriptionStatus {
        use SubscriptionStatus::*;
        match (self.status, self.period_end()) {
            (Incomplete, _) if now < self.created_at + INCOMPLETE_TTL => Incomplete,
            (Active, Some(end)) if now < end => Active,
            (Active, Some(end)) if !self.cancel_at_period_end && now < end + grace => PastDue,
            (PastDue, _) if self.grace_until.is_some_and(|until| now < until) => PastDue,
            (Canceled, Some(end)) if now < end => Canceled,
            _ => Expired,
        }
    }

    /// Whether the subscriber reads everything whole at `now`.
    pub(crate) fn gives_access_at(&self, now: NaiveDateTime, grace: Duration) -> bool {
        self.status_at(now, grace).gives_access()
    }

    /// The state after `event`, or why it changes nothing.
    pub(crate) fn apply(&self, event: Event, grace: Duration) -> Result<Self, Refusal> {
        use SubscriptionStatus::*;
        let at = event.at();
        let current = self.status_at(at, grace);
        match event {
            Event::PaymentSucceeded { start, end, .. } => {
                if end <= start {
                    return Err(Refusal::InvalidPeriod);
                }
                if self.period_end().is_some_and(|paid_to| end <= paid_to) {
                    return Err(Refusal::Stale);
                }
                // A payment is honoured whatever came before: it extends the
                // period it paid for, even for a subscription that lapsed.
                Ok(Self {
                    status: if self.cancel_at_period_end {
                        Canceled
                    } else {
                        Active
                    },
                    period: Some((start, end)),
                    grace_until: None,
                    last_payment_at: Some(self.last_payment_at.map_or(at, |last| last.max(at))),
                    ..*self
                })
            }
            Event::PaymentFailed { at } => {
                if self.last_payment_at.is_some_and(|last| at <= last) {
                    return Err(Refusal::Stale);
                }
                match current {
                    Active => {
                        let from = self.period_end().map_or(at, |end| end.max(at));
                        Ok(Self {
                            status: PastDue,
                            grace_until: Some(from + grace),
                            ..*self
                        })
                    }
                    // An overdue subscription that was never marked: mark it,
                    // keeping the grace that started when the period ended.
                    PastDue if self.status == Active => Ok(Self {
                        status: PastDue,
                        grace_until: self.period_end().map(|end| end + grace),
                        ..*self
                    }),
                    other => Err(Refusal::NotApplicable(other)),
                }
            }
            Event::ProviderCanceled { .. } | Event::Cancel { .. } => match current {
                Incomplete => Ok(Self {
                    status: Expired,
                    ..*self
                }),
                Active | PastDue => Ok(Self {
                    status: Canceled,
                    cancel_at_period_end: true,
                    ..*self
                }),
                other => Err(Refusal::NotApplicable(other)),
            },
            Event::Resume { .. } => match current {
                Canceled => Ok(Self {
                    status: Active,
                    cancel_at_period_end: false,
                    grace_until: None,
                    ..*self
                }),
                other => Err(Refusal::NotApplicable(other)),
            },
        }
    }
}

/// The end of a period of `interval` that starts at `start`.
pub fn period_end(start: NaiveDateTime, interval: BillingInterval) -> NaiveDateTime {
    let months = match interval {
        BillingInterval::Month => Months::new(1),
        BillingInterval::Year => Months::new(12),
    };
    start.checked_add_months(months).unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::SubscriptionStatus::*;
    use super::*;

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d + Duration::days(i64::from(day)))
            .unwrap()
    }

    const GRACE: Duration = Duration::days(7);

    fn paid(start: u32, end: u32) -> Event {
        Event::PaymentSucceeded {
            at: at(start),
            start: at(start),
            end: at(end),
        }
    }

    /// A subscription paid from day 1 to day 31.
    fn active() -> Terms {
        Terms::incomplete(at(1)).apply(paid(1, 31), GRACE).unwrap()
    }

    fn state(status: SubscriptionStatus) -> Terms {
        let active = active();
        match status {
            Incomplete => Terms::incomplete(at(5) + Duration::hours(12)),
            Active => active,
            PastDue => active
                .apply(Event::PaymentFailed { at: at(5) }, GRACE)
                .unwrap(),
            Canceled => active.apply(Event::Cancel { at: at(5) }, GRACE).unwrap(),
            Expired => Terms::incomplete(at(1))
                .apply(Event::Cancel { at: at(1) }, GRACE)
                .unwrap(),
        }
    }

    #[test]
    fn each_state_is_reachable_and_grants_access_as_documented() {
        for &status in SubscriptionStatus::ALL {
            let terms = state(status);
            assert_eq!(terms.status_at(at(6), GRACE), status, "{status}");
            assert_eq!(
                terms.gives_access_at(at(6), GRACE),
                matches!(status, Active | PastDue | Canceled),
                "{status}"
            );
            assert_eq!(status.is_live(), status != Expired);
        }
    }

    #[test]
    fn a_first_payment_activates_an_incomplete_subscription() {
        let terms = active();
        assert_eq!(terms.status, Active);
        assert_eq!(terms.period, Some((at(1), at(31))));
        assert_eq!(terms.last_payment_at, Some(at(1)));
    }

    #[test]
    fn an_unpaid_subscription_lapses_after_a_day() {
        let terms = Terms::incomplete(at(1));
        assert_eq!(
            terms.status_at(at(1) + Duration::hours(23), GRACE),
            Incomplete
        );
        assert_eq!(terms.status_at(at(2), GRACE), Expired);
    }

    #[test]
    fn a_renewal_extends_the_period_and_clears_past_due() {
        let renewed = state(PastDue).apply(paid(31, 61), GRACE).unwrap();
        assert_eq!(renewed.status, Active);
        assert_eq!(renewed.period, Some((at(31), at(61))));
        assert_eq!(renewed.grace_until, None);
        assert_eq!(renewed.status_at(at(45), GRACE), Active);
    }

    #[test]
    fn a_payment_revives_a_lapsed_subscription_it_paid_for() {
        let lapsed = active();
        assert_eq!(lapsed.status_at(at(40), GRACE), Expired);
        let revived = lapsed.apply(paid(40, 70), GRACE).unwrap();
        assert_eq!(revived.status_at(at(41), GRACE), Active);
    }

    #[test]
    fn a_payment_after_cancelling_extends_but_does_not_uncancel() {
        let terms = state(Canceled).apply(paid(31, 61), GRACE).unwrap();
        assert_eq!(terms.status, Canceled);
        assert_eq!(terms.status_at(at(50), GRACE), Canceled);
        assert_eq!(terms.status_at(at(61), GRACE), Expired);
    }

    #[test]
    fn old_or_duplicate_payments_are_stale() {
        let terms = active().apply(paid(31, 61), GRACE).unwrap();
        assert_eq!(terms.apply(paid(1, 31), GRACE), Err(Refusal::Stale));
        assert_eq!(terms.apply(paid(31, 61), GRACE), Err(Refusal::Stale));
    }

    #[test]
    fn a_period_that_ends_before_it_starts_is_refused() {
        assert_eq!(
            active().apply(paid(40, 35), GRACE),
            Err(Refusal::InvalidPeriod)
        );
    }

    #[test]
    fn a_failed_payment_starts_the_grace_period() {
        let terms = state(PastDue);
        assert_eq!(terms.status, PastDue);
        // Failing early in the period: grace runs from the period's end.
        assert_eq!(terms.grace_until, Some(at(31) + GRACE));
        assert_eq!(terms.status_at(at(37), GRACE), PastDue);
        assert_eq!(terms.status_at(at(38), GRACE), Expired);
    }

    #[test]
    fn a_failure_older_than_the_last_payment_is_stale() {
        let renewed = active().apply(paid(31, 61), GRACE).unwrap();
        let late = Event::PaymentFailed { at: at(30) };
        assert_eq!(renewed.apply(late, GRACE), Err(Refusal::Stale));
    }

    #[test]
    fn an_overdue_subscription_is_past_due_then_expires() {
        let terms = active();
        assert_eq!(terms.status_at(at(30), GRACE), Active);
        assert_eq!(terms.status_at(at(31), GRACE), PastDue);
        assert_eq!(terms.status_at(at(38), GRACE), Expired);
        let marked = terms
            .apply(Event::PaymentFailed { at: at(33) }, GRACE)
            .unwrap();
        assert_eq!(marked.grace_until, Some(at(31) + GRACE));
    }

    #[test]
    fn failures_do_not_apply_outside_active() {
        for status in [Incomplete, PastDue, Canceled, Expired] {
            let failed = Event::PaymentFailed { at: at(6) };
            assert_eq!(
                state(status).apply(failed, GRACE),
                Err(Refusal::NotApplicable(status)),
                "{status}"
            );
        }
    }

    #[test]
    fn cancelling_keeps_access_until_the_period_ends() {
        for cancel in [
            Event::Cancel { at: at(5) },
            Event::ProviderCanceled { at: at(5) },
        ] {
            let terms = active().apply(cancel, GRACE).unwrap();
            assert_eq!(terms.status, Canceled);
            assert!(terms.cancel_at_period_end);
            assert_eq!(terms.status_at(at(30), GRACE), Canceled);
            assert!(terms.gives_access_at(at(30), GRACE));
            assert_eq!(terms.status_at(at(31), GRACE), Expired);
        }
    }

    #[test]
    fn cancelling_while_past_due_ends_access_when_the_period_is_over() {
        let terms = state(PastDue)
            .apply(Event::Cancel { at: at(6) }, GRACE)
            .unwrap();
        assert_eq!(terms.status_at(at(20), GRACE), Canceled);
        assert_eq!(terms.status_at(at(32), GRACE), Expired);
    }

    #[test]
    fn cancelling_an_unpaid_subscription_ends_it() {
        let terms = Terms::incomplete(at(1))
            .apply(Event::Cancel { at: at(1) }, GRACE)
            .unwrap();
        assert_eq!(terms.status, Expired);
    }

    #[test]
    fn cancelling_twice_or_after_the_end_is_refused() {
        for status in [Canceled, Expired] {
            for cancel in [
                Event::Cancel { at: at(6) },
                Event::ProviderCanceled { at: at(6) },
            ] {
                assert_eq!(
                    state(status).apply(cancel, GRACE),
                    Err(Refusal::NotApplicable(status))
                );
            }
        }
    }

    #[test]
    fn resuming_before_the_end_restores_renewal() {
        let terms = state(Canceled)
            .apply(Event::Resume { at: at(10) }, GRACE)
            .unwrap();
        assert_eq!(terms.status, Active);
        assert!(!terms.cancel_at_period_end);
        assert_eq!(terms.status_at(at(31), GRACE), PastDue, "renewal now due");
    }

    #[test]
    fn resuming_is_refused_unless_canceled_and_running() {
        for status in [Incomplete, Active, PastDue, Expired] {
            assert_eq!(
                state(status).apply(Event::Resume { at: at(6) }, GRACE),
                Err(Refusal::NotApplicable(status)),
                "{status}"
            );
        }
        let over = state(Canceled).apply(Event::Resume { at: at(31) }, GRACE);
        assert_eq!(over, Err(Refusal::NotApplicable(Expired)));
    }

    #[test]
    fn periods_follow_the_calendar() {
        let start = at(30); // 1 December
        assert_eq!(period_end(start, BillingInterval::Month), at(61));
        assert_eq!(
            period_end(start, BillingInterval::Year),
            start.checked_add_months(Months::new(12)).unwrap()
        );
        let jan_31 = chrono::NaiveDate::from_ymd_opt(2027, 1, 31)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap();
        assert_eq!(
            period_end(jan_31, BillingInterval::Month).date(),
            chrono::NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()
        );
    }
}
