//! Accounts: roles, and the rules for emails, passwords and display names.

text_enum! {
    /// What a user may do.
    Role {
        /// Reads; may subscribe.
        Reader => "reader",
        /// Writes, schedules and publishes articles; curates the catalogue.
        Editor => "editor",
        /// Everything editors do, plus users, plans and API keys.
        Admin => "admin",
    }
}

impl Role {
    /// Whether this role includes everything `other` may do.
    pub(crate) fn includes(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Self::Reader => 0,
            Self::Editor => 1,
            Self::Admin => 2,
        }
    }
}

/// Shortest password accepted, in characters.
pub(crate) const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in bytes (hashing cost grows with length).
pub(crate) const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest email accepted (RFC 5321's path limit).
pub(crate) const MAX_EMAIL_LEN: usize = 254;
/// Longest display name, in characters.
pub(crate) const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// An email address, trimmed and case-folded so that one mailbox is one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Email(String);

impl Email {
    /// Normalises and checks an address; the error says what is wrong.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("must not be empty");
        }
        if email.len() > MAX_EMAIL_LEN {
            return Err("must be at most 254 characters");
        }
        // A well-kept RFC 5321/5322 parser first, with display names
        // (`"x" <victim@example.com>`) and domain literals refused: an
        // account's email is a bare address, nothing a mail client could
        // read as a name beside another address.
        let options = email_address::Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            ..email_address::Options::default()
        };
        if email_address::EmailAddress::parse_with_options(&email, options).is_err() {
            return Err("must be an address like name@example.com");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err("must be an address like name@example.com");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..");
        let clean = |s: &str| {
            !s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@')
        };
        if local.is_empty() || local.len() > 64 || !domain_ok || !clean(local) || !clean(domain) {
            return Err("must be an address like name@example.com");
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password against the policy.
pub(crate) fn check_password(password: &str) -> Result<(), &'static str> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err("must be at most 1024 bytes");
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err("must be at least 10 characters");
    }
    Ok(())
}

/// Trims a display name and checks its length.
pub fn display_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("must not be empty");
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err("must be at most 100 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(name.to_owned())
}

/// A limit on failed logins within a sliding window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Throttle {
    /// Failures allowed within the window; the next attempt is refused.
    pub max_failures: i64,
    /// How far back failures count.
    pub window: chrono::Duration,
}

/// Failed logins allowed for one account from one client address every
/// 15 minutes: a guesser is stopped without locking out the owner, who
/// comes from another address.
pub(crate) const ACCOUNT_FROM_CLIENT_THROTTLE: Throttle = Throttle {
    max_failures: 5,
    window: chrono::Duration::minutes(15),
};

/// Failed logins allowed for one account from all addresses together every
/// 15 minutes: bounds guessing spread over many addresses. Only an attack
/// from more than twenty addresses at once can reach it, and then the
/// account is refused to everyone until the window passes.
pub(crate) const ACCOUNT_THROTTLE: Throttle = Throttle {
    max_failures: 100,
    window: chrono::Duration::minutes(15),
};

/// Failed logins allowed per client address every 15 minutes.
pub(crate) const CLIENT_THROTTLE: Throttle = Throttle {
    max_failures: 20,
    window: chrono::Duration::minutes(15),
};

impl Throttle {
    /// Seconds to wait before the next attempt, or `None` when one is allowed
    /// now, given the failures in the window and when the oldest happened.
    pub(crate) fn retry_after(
        &self,
        failures: i64,
        oldest: Option<chrono::NaiveDateTime>,
        now: chrono::NaiveDateTime,
    ) -> Option<u64> {
        if failures < self.max_failures {
            return None;
        }
        let frees_at = oldest.unwrap_or(now) + self.window;
        let wait = (frees_at - now).num_seconds().max(1);
        Some(wait as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_opens_when_the_oldest_failure_leaves_the_window() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let oldest = Some(now - chrono::Duration::minutes(10));
        let pair = ACCOUNT_FROM_CLIENT_THROTTLE;
        assert_eq!(pair.retry_after(4, oldest, now), None);
        assert_eq!(pair.retry_after(5, oldest, now), Some(300));
        assert_eq!(pair.retry_after(9, Some(now), now), Some(900));
        assert_eq!(CLIENT_THROTTLE.retry_after(19, oldest, now), None);
        assert_eq!(ACCOUNT_THROTTLE.retry_after(99, oldest, now), None);
        assert_eq!(
            pair.retry_after(5, Some(now - chrono::Duration::minutes(15)), now),
            Some(1),
            "never tells a client to retry after zero seconds"
        );
    }

    #[test]
    fn emails_are_trimmed_and_case_folded() {
        assert_eq!(
            Email::parse("  Ana.Lopez@Example.COM ").unwrap().as_str(),
            "ana.lopez@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "no-at-sign",
            "@example.com",
            "ana@",
            "ana@localhost",
            "ana@.example.com",
            "ana@example..com",
            "a b@example.com",
            "ana@exa mple.com",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("a@{}.com", "b".repeat(260)),
            "\"x\"<victim@example.com>",
            "Victim <victim@example.com>",
            "<victim@example.com>",
            "ana@[192.0.2.1]",
            "ana@exam<ple.com",
            "an\"a@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_characters_and_at_most_1024_bytes() {
        assert!(check_password("short").is_err());
        assert!(check_password("exactly10!").is_ok());
        assert!(
            check_password("ééééééééééé").is_ok(),
            "characters, not bytes, count towards the minimum"
        );
        assert!(check_password(&"x".repeat(1024)).is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(display_name("  Ana  ").unwrap(), "Ana");
        assert!(display_name("   ").is_err());
        assert!(display_name(&"n".repeat(101)).is_err());
        assert!(display_name("bad\u{0007}name").is_err());
    }

    #[test]
    fn roles_include_the_ones_below_them() {
        assert!(Role::Admin.includes(Role::Editor));
        assert!(Role::Editor.includes(Role::Reader));
        assert!(!Role::Editor.includes(Role::Admin));
        assert!(!Role::Reader.includes(Role::Editor));
    }
}
