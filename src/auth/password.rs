//! Password hashing with argon2id (the argon2 crate's defaults: 19 MiB, t=2, p=1).
//!
//! Hashing is deliberately slow: call these from blocking threads only.
//!
//! Each thread reuses one block buffer for all its hashes instead of
//! allocating 19 MiB per hash: freed blocks that size made glibc raise its
//! mmap threshold and keep them in per-thread arenas, and a burst of logins
//! left the process holding hundreds of megabytes.

use std::cell::RefCell;
use std::sync::OnceLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// A password could not be hashed (the system's randomness failed).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Largest buffer a thread keeps between hashes (blocks of 1 KiB): enough
/// for our parameters; a stored hash asking for more gets a buffer of its own.
const KEPT_BLOCKS: usize = 64 * 1024;

thread_local! {
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2 into `out` on this thread's block buffer.
fn compute(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    let needed = argon.params().block_count();
    if needed > KEPT_BLOCKS {
        return argon.hash_password_into(password, salt, out);
    }
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
    })
}

/// Hashes a password into a PHC string with a fresh random salt.
pub fn hash(password: &str) -> Result<String, HashError> {
    let fail = |e: &dyn std::fmt::Display| HashError(e.to_string());
    let params = Params::default();
    let salt = Salt::generate();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon, password.as_bytes(), salt.as_ref(), &mut out).map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC string (compared in constant time).
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    compute(&argon, password.as_bytes(), salt.as_ref(), &mut out).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

/// Spends the same time as a real verification, for logins with an unknown
/// email, so that timing does not reveal which emails have accounts.
pub(crate) fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(dummy) = DUMMY.get_or_init(|| hash("an unguessable dummy password").ok()) {
        let _ = verify(password, dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_own_password() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
        assert!(!verify("correct horse battery", "not a hash"));
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_itself_still_verify() {
        use argon2::password_hash::PasswordHasher;
        let theirs = Argon2::default()
            .hash_password(b"an older account")
            .unwrap()
            .to_string();
        assert!(verify("an older account", &theirs));
        assert!(!verify("an older accounT", &theirs));
        let ours = hash("an older account").unwrap();
        assert!(
            argon2::password_hash::PasswordVerifier::verify_password(
                &Argon2::default(),
                b"an older account",
                &PasswordHash::new(&ours).unwrap()
            )
            .is_ok(),
            "and the crate verifies ours"
        );
    }

    #[test]
    fn hashes_with_other_parameters_verify_on_a_reused_buffer() {
        use argon2::password_hash::CustomizedPasswordHasher;
        let small = Params::new(64, 1, 1, Some(16)).unwrap();
        let other = Argon2::default()
            .hash_password_customized(b"tiny params", b"saltsaltsalt", None, None, small)
            .unwrap()
            .to_string();
        // The thread's buffer is already as large as the defaults need.
        let _ = hash("warm the buffer").unwrap();
        assert!(verify("tiny params", &other));
        assert!(!verify("tiny param", &other));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        assert_ne!(
            hash("same password!").unwrap(),
            hash("same password!").unwrap()
        );
    }
}
