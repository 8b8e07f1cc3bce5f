//! Key pairs for test clients of service apps: deterministic per seed and
//! made once per process (see [`super::keys`]), so tests and demos can
//! register a public JWK and sign assertions without a key store.

use std::sync::Arc;

use serde_json::Value;
use sha2::Sha256;

use super::jwt::b64url;
use super::keys::{SigningKey, key, key_seed};

/// An RSA key pair a test client signs client assertions or DPoP proofs with.
#[derive(Clone)]
pub struct ClientKey(Arc<SigningKey>);

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("kid", &self.0.kid)
            .finish()
    }
}

impl ClientKey {
    /// The key for `seed` (the same seed, the same key). May block for
    /// about a second the first time.
    pub fn for_seed(seed: u64) -> ClientKey {
        ClientKey(key(&key_seed(seed, "client", 0)))
    }

    /// Its `kid` (the RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.0.kid
    }

    /// The public JWK (`kty`, `alg`, `kid`, `use`, `n`, `e`).
    pub fn public_jwk(&self) -> Value {
        self.0.jwk.clone()
    }

    /// The RS256 signature of `input`.
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        self.0
            .private
            .pkcs1v15_sign::<Sha256>(input)
            .unwrap_or_default()
    }

    /// A compact RS256 JWS of `claims` under `header` (used as given).
    pub fn sign_jwt(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let sig = self.sign(input.as_bytes());
        format!("{input}.{}", b64url(&sig))
    }
}
