//! What a client asks for in its request headers, decided in one place:
//! which content coding it takes (`Accept-Encoding`, RFC 9110 12.5.3) and
//! whether its copy is still current (`If-None-Match`, `If-Modified-Since`,
//! RFC 9110 13.1).

use actix_web::http::header::{self, HeaderMap};
use chrono::DateTime;

/// A content coding this service can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    /// Brotli.
    Brotli,
    /// gzip.
    Gzip,
    /// deflate (zlib): `Compress` answers with it, the cache keeps none.
    Deflate,
    /// No coding.
    Identity,
}

impl Coding {
    /// The `Content-Encoding` token; `None` for identity.
    pub fn token(self) -> Option<&'static str> {
        match self {
            Self::Brotli => Some("br"),
            Self::Gzip => Some("gzip"),
            Self::Deflate => Some("deflate"),
            Self::Identity => None,
        }
    }
}

/// The coding to answer with, among those `available`: the one with the
/// highest q-value the client gives (`*` stands for codings it does not
/// name; identity, unless named or excluded, is acceptable after every
/// coding the client names), brotli before gzip before identity on a tie. When the client excludes everything, identity anyway
/// (RFC 9110 allows it, and an answer beats a 406).
pub(crate) fn negotiate(headers: &HeaderMap, available: &[Coding]) -> Coding {
    let mut named: Vec<(&str, f32)> = Vec::new();
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            if name.is_empty() {
                continue;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            named.push((name, q));
        }
    }
    let q_of = |coding: Coding| -> f32 {
        let token = coding.token().unwrap_or("identity");
        if let Some((_, q)) = named.iter().find(|(n, _)| n.eq_ignore_ascii_case(token)) {
            return *q;
        }
        if let Some((_, q)) = named.iter().find(|(n, _)| *n == "*") {
            return *q;
        }
        // Unnamed identity stays acceptable, but after anything named.
        if coding == Coding::Identity {
            0.001
        } else {
            0.0
        }
    };
    [
        Coding::Brotli,
        Coding::Gzip,
        Coding::Deflate,
        Coding::Identity,
    ]
    .into_iter()
    .filter(|c| *c == Coding::Identity || available.contains(c))
    .map(|c| (c, q_of(c)))
    .filter(|(_, q)| *q > 0.0)
    .fold(None, |best: Option<(Coding, f32)>, (c, q)| match best {
        Some((_, best_q)) if best_q >= q => best,
        _ => Some((c, q)),
    })
    .map_or(Coding::Identity, |(c, _)| c)
}

/// The weak form of an entity tag (`W/"..."`), as a coded body carries it:
/// other bytes than the strong tag names (RFC 9110 8.8.3).
pub fn weak(etag: &str) -> String {
    if etag.starts_with("W/") {
        etag.to_owned()
    } else {
        format!("W/{etag}")
    }
}

/// Whether the client's copy is current: `If-None-Match` (compared weakly)
/// when the request has one, otherwise `If-Modified-Since` against
/// `last_modified` (Unix seconds), as RFC 9110 13.2.2 orders them.
pub(crate) fn still_fresh(
    headers: &HeaderMap,
    etag: Option<&str>,
    last_modified: Option<i64>,
) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        let Some(etag) = etag else { return false };
        let ours = etag.strip_prefix("W/").unwrap_or(etag);
        return headers
            .get_all(header::IF_NONE_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours);
    }
    let Some(modified) = last_modified else {
        return false;
    };
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .is_some_and(|since| modified <= since.timestamp())
}

/// The instant of a `Last-Modified` value, in Unix seconds.
pub(crate) fn parse_http_date(value: &str) -> Option<i64> {
    DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|at| at.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    const ALL: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    #[test]
    fn browsers_get_brotli_and_q_values_are_honoured() {
        let pick = |value| negotiate(&headers(&[("accept-encoding", value)]), &ALL);
        assert_eq!(pick("gzip, deflate, br"), Coding::Brotli);
        assert_eq!(pick("gzip"), Coding::Gzip);
        assert_eq!(pick("br;q=0.5, gzip;q=0.8"), Coding::Gzip);
        assert_eq!(pick("br;q=0, gzip"), Coding::Gzip);
        assert_eq!(pick("identity"), Coding::Identity);
        assert_eq!(pick("deflate"), Coding::Identity);
        assert_eq!(pick("*"), Coding::Brotli);
        assert_eq!(pick("*;q=0.1, identity;q=0.5"), Coding::Identity);
        assert_eq!(pick("identity;q=0, gzip;q=0.1"), Coding::Gzip);
        assert_eq!(pick("GZIP;Q=1"), Coding::Gzip);
        assert_eq!(
            pick("*;q=0"),
            Coding::Identity,
            "nothing acceptable: identity"
        );
        assert_eq!(pick("br;q=nonsense"), Coding::Brotli, "a bad q is 1");
        assert_eq!(negotiate(&HeaderMap::new(), &ALL), Coding::Identity);
        assert_eq!(
            negotiate(&headers(&[("accept-encoding", "br")]), &[Coding::Gzip]),
            Coding::Identity,
            "only what we have"
        );
        let two_lines = headers(&[
            ("accept-encoding", "gzip;q=0.4"),
            ("accept-encoding", "br;q=0.9"),
        ]);
        assert_eq!(negotiate(&two_lines, &ALL), Coding::Brotli);
    }

    #[test]
    fn validators_follow_rfc_9110_precedence() {
        let etag = Some("\"abc\"");
        let modified = parse_http_date("Sun, 29 Nov 2026 10:00:00 GMT");
        assert!(still_fresh(
            &headers(&[("if-none-match", "W/\"abc\"")]),
            etag,
            modified
        ));
        assert!(still_fresh(
            &headers(&[("if-none-match", "\"x\", \"abc\"")]),
            Some("W/\"abc\""),
            None
        ));
        assert!(!still_fresh(
            &headers(&[("if-none-match", "\"x\"")]),
            etag,
            modified
        ));
        let later = headers(&[("if-modified-since", "Mon, 30 Nov 2026 10:00:00 GMT")]);
        assert!(still_fresh(&later, etag, modified));
        let earlier = headers(&[("if-modified-since", "Sat, 28 Nov 2026 10:00:00 GMT")]);
        assert!(!still_fresh(&earlier, etag, modified));
        let both = headers(&[
            ("if-none-match", "\"x\""),
            ("if-modified-since", "Mon, 30 Nov 2026 10:00:00 GMT"),
        ]);
        assert!(!still_fresh(&both, etag, modified), "If-None-Match decides");
        assert!(!still_fresh(&later, etag, None), "no date, no 304 by date");
    }
}
