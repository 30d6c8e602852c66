//! Subscription plans: what a reader pays, and how often.

text_enum! {
    /// How often a plan renews.
    BillingInterval {
        /// Every calendar month.
        Month => "month",
        /// Every year.
        Year => "year",
    }
}

/// Whether `code` is an ISO 4217 currency code shape (three capital letters).
pub(crate) fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_capital_letters() {
        assert!(is_currency("USD"));
        assert!(is_currency("EUR"));
        for bad in ["usd", "US", "USDT", "U$D", ""] {
            assert!(!is_currency(bad), "{bad}");
        }
    }
}

/// Why a payment does not pay for a plan's period.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PaymentMismatch {
    /// No amount or currency was reported.
    #[error("the payment names no amount or currency")]
    Missing,
    /// Another amount than the plan's price.
    #[error("paid {paid} minor units, the plan costs {price}")]
    Amount {
        /// What was paid.
        paid: i64,
        /// What the plan costs.
        price: i64,
    },
    /// Another currency than the plan's.
    #[error("paid in {paid}, the plan is priced in {price}")]
    Currency {
        /// The currency paid in.
        paid: String,
        /// The plan's currency.
        price: String,
    },
    /// A period that is not one billing interval long.
    #[error("a period of {days} days does not match a {interval} plan")]
    Period {
        /// The period's length.
        days: i64,
        /// The plan's interval.
        interval: &'static str,
    },
}

/// Checks that a reported payment pays exactly for one period of a plan:
/// its price, in its currency, for one billing interval (28 to 31 days for
/// a month, 365 or 366 for a year; an hour either way for clocks).
pub(crate) fn check_payment(
    price_minor: i64,
    currency: &str,
    interval: BillingInterval,
    paid: Option<(i64, &str)>,
    period: (chrono::NaiveDateTime, chrono::NaiveDateTime),
) -> Result<(), PaymentMismatch> {
    let Some((amount, paid_currency)) = paid else {
        return Err(PaymentMismatch::Missing);
    };
    if !paid_currency.eq_ignore_ascii_case(currency) {
        return Err(PaymentMismatch::Currency {
            paid: paid_currency.to_owned(),
            price: currency.to_owned(),
        });
    }
    if amount != price_minor {
        return Err(PaymentMismatch::Amount {
            paid: amount,
            price: price_minor,
        });
    }
    let length = period.1 - period.0;
    let days = |d: i64| chrono::Duration::days(d);
    let slack = chrono::Duration::hours(1);
    let (shortest, longest) = match interval {
        BillingInterval::Month => (days(28), days(31)),
        BillingInterval::Year => (days(365), days(366)),
    };
    if length < shortest - slack || length > longest + slack {
        return Err(PaymentMismatch::Period {
            days: length.num_days(),
            interval: interval.as_str(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod payment_tests {
    use super::*;

    fn at(day: u32, month: u32, year: i32) -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(year, month, day)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    }

    #[test]
    fn a_payment_must_be_the_price_in_the_currency_for_one_period() {
        let month = (at(29, 11, 2026), at(29, 12, 2026));
        let monthly =
            |paid, period| check_payment(290, "USD", BillingInterval::Month, paid, period);
        assert_eq!(monthly(Some((290, "USD")), month), Ok(()));
        assert_eq!(monthly(Some((290, "usd")), month), Ok(()));
        assert_eq!(
            monthly(Some((290, "USD")), (at(31, 1, 2026), at(28, 2, 2026))),
            Ok(()),
            "February is a month"
        );
        assert!(matches!(
            monthly(None, month),
            Err(PaymentMismatch::Missing)
        ));
        assert!(matches!(
            monthly(Some((1, "USD")), month),
            Err(PaymentMismatch::Amount {
                paid: 1,
                price: 290
            })
        ));
        assert!(matches!(
            monthly(Some((290, "JPY")), month),
            Err(PaymentMismatch::Currency { .. })
        ));
        assert!(matches!(
            monthly(Some((290, "USD")), (at(29, 11, 2026), at(29, 11, 2036))),
            Err(PaymentMismatch::Period { .. })
        ));
        let yearly = check_payment(
            1990,
            "USD",
            BillingInterval::Year,
            Some((1990, "USD")),
            (at(1, 3, 2027), at(1, 3, 2028)),
        );
        assert_eq!(yearly, Ok(()), "a leap year");
    }
}
