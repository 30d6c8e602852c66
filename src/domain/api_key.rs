//! Third-party API keys: their scopes and their per-minute allowance.

use chrono::{NaiveDateTime, Timelike};

/// What a key may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub enum Scope {
    /// Read like an anonymous reader, without a meter: free articles whole,
    /// previews of metered and premium ones.
    #[serde(rename = "content:read")]
    ContentRead,
    /// A syndication licence: every published article whole.
    #[serde(rename = "content:full")]
    ContentFull,
}

impl Scope {
    /// The scope as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContentRead => "content:read",
            Self::ContentFull => "content:full",
        }
    }

    /// Reads a stored scope list (space-separated); unknown words are dropped.
    pub(crate) fn parse_list(stored: &str) -> Vec<Self> {
        stored
            .split_whitespace()
            .filter_map(|word| match word {
                "content:read" => Some(Self::ContentRead),
                "content:full" => Some(Self::ContentFull),
                _ => None,
            })
            .collect()
    }

    /// The stored form of a scope list.
    pub fn join(scopes: &[Self]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The allowance window: one minute.
pub(crate) const WINDOW_SECS: i64 = 60;

/// The start of the minute containing `at`.
pub(crate) fn window_start(at: NaiveDateTime) -> NaiveDateTime {
    at.date()
        .and_hms_opt(at.hour(), at.minute(), 0)
        .unwrap_or(at)
}

/// Seconds until the window containing `at` ends (1 to 60).
pub(crate) fn seconds_to_reset(at: NaiveDateTime) -> i64 {
    WINDOW_SECS - i64::from(at.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_unknown_words_are_dropped() {
        let scopes = [Scope::ContentRead, Scope::ContentFull];
        assert_eq!(Scope::join(&scopes), "content:read content:full");
        assert_eq!(Scope::parse_list("content:read content:full"), scopes);
        assert_eq!(
            Scope::parse_list("admin content:read"),
            [Scope::ContentRead]
        );
    }

    #[test]
    fn windows_are_whole_minutes() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .and_then(|d| d.and_hms_micro_opt(10, 15, 42, 500))
            .unwrap();
        assert_eq!(window_start(at).to_string(), "2026-11-29 10:15:00");
        assert_eq!(seconds_to_reset(at), 18);
    }
}
