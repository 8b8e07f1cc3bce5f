//! Random values for a login (`state`, `nonce`, PKCE verifier) and the PKCE
//! S256 challenge (RFC 7636).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::SsoError;

/// 32 random bytes are 43 base64url characters: RFC 7636's minimum
/// verifier length, and 256 bits no one can guess.
const RANDOM_BYTES: usize = 32;

/// base64url without padding, as JWTs and PKCE use it.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh random value of 43 base64url characters, from the host's
/// cryptographic randomness (`wasi:random` in the component).
pub fn random_token() -> Result<String, SsoError> {
    let mut bytes = [0u8; RANDOM_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| SsoError::Other(format!("no secure randomness available: {e}")))?;
    Ok(b64url(&bytes))
}

/// The S256 code challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

/// Whether `s` could be a `state` this plugin issued: the callback's value
/// becomes part of a storage key, so nothing else is looked up.
pub fn is_token_shaped(s: &str) -> bool {
    (16..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_verifier_shaped_and_distinct() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), 43);
        assert!(is_token_shaped(&a));
        assert_ne!(a, b);
        assert!(!is_token_shaped("../config/x"));
    }
}
