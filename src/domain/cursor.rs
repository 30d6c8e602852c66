//! Opaque keyset-pagination cursors.
//!
//! A cursor names the last item of a page, so the next page starts strictly
//! after it: items published meanwhile never shift a walk (no duplicates, no
//! gaps). Clients must treat the text as opaque; it is base64url so it can sit
//! in a query string untouched.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime};

/// The position after which the next page of a list starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// Lists ordered by publication time, newest first (ties broken by id).
    Published {
        /// `published_at` of the last item seen.
        at: NaiveDateTime,
        /// `id` of the last item seen.
        id: i64,
    },
    /// Lists ordered by slug.
    Slug(String),
    /// Lists ordered by numeric id.
    Id(i64),
    /// Lists ranked by a score (search relevance): this many items were seen.
    /// Bounded by [`MAX_OFFSET`].
    Offset(u32),
}

/// The deepest a ranked list may be walked.
pub(crate) const MAX_OFFSET: u32 = 1_000;

/// A cursor that this API did not issue, or that belongs to another list.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this list issued; start again without it")]
pub struct InvalidCursor;

const MAX_ENCODED_LEN: usize = 512;

impl Cursor {
    /// The opaque text sent to clients.
    pub fn encode(&self) -> String {
        let plain = match self {
            Self::Published { at, id } => format!("p1:{}:{id}", at.and_utc().timestamp_micros()),
            Self::Slug(slug) => format!("s1:{slug}"),
            Self::Id(id) => format!("i1:{id}"),
            Self::Offset(n) => format!("o1:{n}"),
        };
        URL_SAFE_NO_PAD.encode(plain)
    }

    /// Reads a cursor sent back by a client.
    pub fn decode(text: &str) -> Result<Self, InvalidCursor> {
        if text.is_empty() || text.len() > MAX_ENCODED_LEN {
            return Err(InvalidCursor);
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| InvalidCursor)?;
        let plain = String::from_utf8(bytes).map_err(|_| InvalidCursor)?;
        if let Some(rest) = plain.strip_prefix("p1:") {
            let (micros, id) = rest.split_once(':').ok_or(InvalidCursor)?;
            let micros: i64 = micros.parse().map_err(|_| InvalidCursor)?;
            let id: i64 = id.parse().map_err(|_| InvalidCursor)?;
            let at = DateTime::from_timestamp_micros(micros)
                .ok_or(InvalidCursor)?
                .naive_utc();
            return Ok(Self::Published { at, id });
        }
        if let Some(id) = plain.strip_prefix("i1:") {
            return id.parse().map(Self::Id).map_err(|_| InvalidCursor);
        }
        if let Some(n) = plain.strip_prefix("o1:") {
            return n
                .parse()
                .ok()
                .filter(|n| *n <= MAX_OFFSET)
                .map(Self::Offset)
                .ok_or(InvalidCursor);
        }
        if let Some(slug) = plain.strip_prefix("s1:") {
            if slug.is_empty() || slug.chars().any(char::is_control) {
                return Err(InvalidCursor);
            }
            return Ok(Self::Slug(slug.to_owned()));
        }
        Err(InvalidCursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn cursors_round_trip() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 14)
            .unwrap()
            .and_hms_micro_opt(9, 26, 53, 589_793)
            .unwrap();
        for cursor in [
            Cursor::Published { at, id: 42 },
            Cursor::Slug("middle-east".into()),
            Cursor::Id(77),
            Cursor::Offset(40),
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        }
    }

    #[test]
    fn cursors_are_url_safe() {
        let text = Cursor::Slug("ü/?&=+".into()).encode();
        assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("p1:abc:1"),
            &URL_SAFE_NO_PAD.encode("p1:1"),
            &URL_SAFE_NO_PAD.encode("x1:whatever"),
            &URL_SAFE_NO_PAD.encode("s1:"),
            &URL_SAFE_NO_PAD.encode("o1:1001"),
            &URL_SAFE_NO_PAD.encode("o1:-1"),
            &URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
            &"A".repeat(600),
        ] {
            assert_eq!(Cursor::decode(text), Err(InvalidCursor), "{text}");
        }
    }
}
