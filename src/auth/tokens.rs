//! Refresh tokens: random, shown to the client once, stored only as a hash.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Bytes of randomness in a refresh token.
const TOKEN_BYTES: usize = 32;

/// A new random refresh token and the hash to store for it.
pub(crate) fn generate() -> Result<(String, String), getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hashed = hash(&token);
    Ok((token, hashed))
}

/// The stored form of a token: SHA-256, hex. A fast hash is right here: the
/// token has 256 bits of entropy, so there is nothing to brute-force.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_as_hashes() {
        let (a, a_hash) = generate().unwrap();
        let (b, _) = generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(a_hash, hash(&a));
        assert_eq!(a_hash.len(), 64);
        assert!(!a_hash.contains(&a));
    }
}
