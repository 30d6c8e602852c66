//! API key secrets: made here, shown once, stored only as a hash.

use super::tokens;

/// What every secret starts with, so leaked keys are easy to scan for.
pub(crate) const PREFIX: &str = "nd_";

/// Longest `X-API-Key` value considered.
pub(crate) const MAX_SECRET_LEN: usize = 100;

/// A new secret: `nd_` and 256 random bits.
pub(crate) fn generate() -> Result<String, getrandom::Error> {
    let (random, _) = tokens::generate()?;
    Ok(format!("{PREFIX}{random}"))
}

/// What is stored of a secret: SHA-256, hex, as for refresh tokens.
pub fn hash(secret: &str) -> String {
    tokens::hash(secret)
}

/// The part of a secret shown in lists, to tell keys apart.
pub(crate) fn display_prefix(secret: &str) -> String {
    secret.chars().take(PREFIX.len() + 6).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_hashed() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("nd_") && a.len() == 46, "{a}");
        assert_eq!(hash(&a).len(), 64);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(display_prefix(&a).len(), 9);
    }
}
