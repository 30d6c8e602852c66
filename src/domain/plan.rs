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
pub fn is_currency(code: &str) -> bool {
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
