//! Anonymous meter tokens: an opaque id the API signs, so that a reader
//! without an account carries a meter that cannot be forged. Clearing the
//! token starts a new meter, but only a few times per client address and
//! month (see `metering::Count::run`): then the address's
//! readers share one meter.

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, FieldError};

/// The longest meter token a client may send; ours are shorter.
pub(crate) const MAX_TOKEN_LEN: usize = 100;

const PREFIX: &str = "m1";
const ID_BYTES: usize = 16;
const TAG_BYTES: usize = 16;

/// Signs and checks meter tokens.
#[derive(Clone)]
pub struct MeterKeys {
    key: [u8; 32],
}

impl MeterKeys {
    /// Keys derived from the service secret (distinct from the JWT key).
    pub fn new(secret: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"newsdesk meter token v1\0");
        hasher.update(secret);
        Self {
            key: hasher.finalize().into(),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!())
    }

    /// A new token and the meter id inside it.
    pub(crate) fn mint(&self) -> Result<(String, String), getrandom::Error> {
        let mut raw = [0u8; ID_BYTES];
        getrandom::fill(&mut raw)?;
        let id = URL_SAFE_NO_PAD.encode(raw);
        Ok((self.token_for(&id), id))
    }

    /// The signed token carrying meter `id`.
    pub(crate) fn token_for(&self, id: &str) -> String {
        let mut mac = self.mac();
        mac.update(format!("{PREFIX}.{id}").as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..TAG_BYTES]);
        format!("{PREFIX}.{id}.{tag}")
    }

    /// The id of the meter that readers from one client address share once
    /// the address has started too many meters: derived from the address
    /// with the key, so it is the same on every node and nobody can name
    /// another address's meter without a token we signed.
    pub(crate) fn shared_id(&self, address: &str) -> String {
        let mut mac = self.mac();
        mac.update(b"shared meter\0");
        mac.update(address.as_bytes());
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..ID_BYTES])
    }

    /// The meter id of a token this service signed; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<String> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let (prefix, id, tag) = (parts.next()?, parts.next()?, parts.next()?);
        if prefix != PREFIX || parts.next().is_some() {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_BYTES || URL_SAFE_NO_PAD.decode(id).ok()?.len() != ID_BYTES {
            return None;
        }
        let mut mac = self.mac();
        mac.update(format!("{PREFIX}.{id}").as_bytes());
        mac.verify_truncated_left(&tag).ok()?;
        Some(id.to_owned())
    }
}

/// The header that carries an anonymous reader's meter token, both ways.
pub(crate) static METER_TOKEN: HeaderName = HeaderName::from_static("x-meter-token");

/// The meter token the request presents, if any. One that is not ours reads
/// as none (a new meter starts), but one longer than any token could be is
/// a client's mistake worth saying so.
pub(crate) fn presented(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(&METER_TOKEN) else {
        return Ok(None);
    };
    if value.len() > MAX_TOKEN_LEN {
        return Err(ApiError::Validation(vec![FieldError::new(
            "X-Meter-Token",
            format!("must be at most {} characters", MAX_TOKEN_LEN),
        )]));
    }
    Ok(value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_forgeries_do_not() {
        let keys = MeterKeys::new(b"a secret of thirty-two bytes or so");
        let (token, id) = keys.mint().unwrap();
        assert_eq!(keys.verify(&token).as_deref(), Some(id.as_str()));

        let other = MeterKeys::new(b"another secret entirely, also long");
        assert_eq!(other.verify(&token), None, "signed with another secret");
        let (_, other_id) = keys.mint().unwrap();
        let swapped = token.replace(&id, &other_id);
        assert_eq!(
            keys.verify(&swapped),
            None,
            "another id under this signature"
        );
        let shared = keys.shared_id("192.0.2.1");
        assert_eq!(
            shared,
            keys.shared_id("192.0.2.1"),
            "the same on every node"
        );
        assert_ne!(shared, keys.shared_id("192.0.2.2"));
        assert_eq!(
            keys.verify(&keys.token_for(&shared)).as_deref(),
            Some(shared.as_str())
        );
        for junk in [
            "",
            "m1",
            "m1.abc",
            "m2.x.y",
            &format!("{token}.extra"),
            &"m1.".repeat(50),
        ] {
            assert_eq!(keys.verify(junk), None, "{junk}");
        }
    }
}
