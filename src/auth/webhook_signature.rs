//! Signatures on the payment processor's webhooks.
//!
//! The processor sends `Webhook-Signature: t=<unix seconds>,v1=<hex>`, where
//! the hex is HMAC-SHA256 of `"<t>.<raw body>"` under the shared secret. A
//! header may carry several `v1` values (the processor signs with the old and
//! the new secret while one is being rotated); one matching is enough. The
//! timestamp must be within [`TOLERANCE_SECS`] of our clock, so a captured
//! request cannot be replayed later; replays within the window are caught by
//! event id.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far the signed timestamp may be from our clock, either way.
pub(crate) const TOLERANCE_SECS: i64 = 300;

/// Longest header considered; anything longer is malformed.
const MAX_HEADER_LEN: usize = 1024;

/// Why a webhook's signature is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Webhook-Signature` header.
    #[error("the Webhook-Signature header is missing")]
    Missing,
    /// The header is not `t=<seconds>,v1=<hex>[,v1=<hex>...]`.
    #[error("the Webhook-Signature header is malformed")]
    Malformed,
    /// The timestamp is outside the tolerance.
    #[error("the signature's timestamp is more than five minutes from now")]
    Stale,
    /// No `v1` value matches the body.
    #[error("no signature matches the body")]
    Mismatch,
}

/// A parsed header: the timestamp and the candidate signatures.
#[derive(Debug, PartialEq, Eq)]
pub struct SignatureHeader {
    /// The signed timestamp, in Unix seconds.
    pub timestamp: i64,
    /// Every `v1` signature, decoded.
    pub signatures: Vec<[u8; 32]>,
}

/// Parses `t=...,v1=...`; unknown keys (future schemes) are skipped.
pub fn parse(header: &str) -> Result<SignatureHeader, SignatureError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::Malformed);
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match key {
            "t" if timestamp.is_none() => {
                let ok = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
                timestamp = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|_| ok)
                        .ok_or(SignatureError::Malformed)?,
                );
            }
            "t" => return Err(SignatureError::Malformed),
            "v1" => signatures.push(decode_hex(value).ok_or(SignatureError::Malformed)?),
            _ => {}
        }
    }
    match timestamp {
        Some(timestamp) if !signatures.is_empty() => Ok(SignatureHeader {
            timestamp,
            signatures,
        }),
        _ => Err(SignatureError::Malformed),
    }
}

fn decode_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let digit = |b: u8| char::from(b).to_digit(16);
        *slot = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks `header` against `body` under `secret` at Unix time `now`.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let parsed = parse(header.ok_or(SignatureError::Missing)?)?;
    if (now - parsed.timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, parsed.timestamp, body);
    // Each comparison is constant-time; trying every candidate leaks only
    // how many there are, which the sender chose.
    let matched = parsed.signatures.iter().fold(false, |found, candidate| {
        expected.clone().verify_slice(candidate).is_ok() | found
    });
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The header a processor would send: for clients and tests.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-test-0123456789abcdef";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment.succeeded"}"#;
    const NOW: i64 = 1_796_000_000;

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let header = sign(SECRET, NOW, BODY);
        assert_eq!(verify(SECRET, Some(&header), BODY, NOW), Ok(()));
        assert_eq!(verify(SECRET, Some(&header), BODY, NOW + 299), Ok(()));
        assert_eq!(verify(SECRET, Some(&header), BODY, NOW - 299), Ok(()));
    }

    #[test]
    fn a_tampered_body_or_timestamp_or_secret_fails() {
        let header = sign(SECRET, NOW, BODY);
        let tampered = br#"{"id":"evt_1","type":"payment.succeedeD"}"#;
        assert_eq!(
            verify(SECRET, Some(&header), tampered, NOW),
            Err(SignatureError::Mismatch)
        );
        let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
        assert_eq!(
            verify(SECRET, Some(&moved), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"another secret", Some(&header), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn old_and_future_timestamps_are_stale() {
        for t in [NOW - 301, NOW + 301, 0] {
            let header = sign(SECRET, t, BODY);
            assert_eq!(
                verify(SECRET, Some(&header), BODY, NOW),
                Err(SignatureError::Stale)
            );
        }
    }

    #[test]
    fn any_one_of_several_signatures_may_match() {
        let old = sign(b"the previous secret", NOW, BODY);
        let new = sign(SECRET, NOW, BODY);
        let old_v1 = old.split_once(",").unwrap().1;
        let new_v1 = new.split_once(",").unwrap().1;
        for header in [
            format!("t={NOW},{old_v1},{new_v1}"),
            format!("t={NOW},{new_v1},{old_v1}"),
            format!("t={NOW}, {new_v1}, v0=ignored"),
        ] {
            assert_eq!(verify(SECRET, Some(&header), BODY, NOW), Ok(()), "{header}");
        }
        assert_eq!(
            verify(SECRET, Some(&format!("t={NOW},{old_v1}")), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_are_refused_without_panicking() {
        let v1 = sign(SECRET, NOW, BODY);
        let v1 = v1.split_once(",").unwrap().1;
        for header in [
            "",
            "t=",
            &format!("t={NOW}"),
            v1,
            &format!("t=-5,{v1}"),
            &format!("t=+5,{v1}"),
            &format!("t=99999999999999999999999,{v1}"),
            &format!("t={NOW},t={NOW},{v1}"),
            &format!("t={NOW},v1=abc"),
            &format!("t={NOW},v1={}", "zz".repeat(32)),
            &format!("t={NOW},v1={}", "é".repeat(32)),
            &format!("t={NOW};{v1}"),
            &format!("t={NOW},{v1},{}", "x".repeat(2000)),
        ] {
            assert_eq!(
                verify(SECRET, Some(header), BODY, NOW),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
        assert_eq!(
            verify(SECRET, None, BODY, NOW),
            Err(SignatureError::Missing)
        );
    }
}
